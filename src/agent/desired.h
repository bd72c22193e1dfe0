/* SPDX-License-Identifier: MIT */
/*
 * desired: what this node's devices and datapath maps must hold, computed
 * from the cache alone (a pure function: no kernel, no network; unit tested).
 *
 * - Local ports: Ports whose spec.locations names this node, or whose
 *   spec.target is this node (a migration target is prepared before it
 *   becomes a location). Each becomes a device: a veth (host end
 *   spec.ifname, peer in spec.netns) or a persistent tap spec.ifname.
 * - Maps (bpf/abi.h): ports (ifindex -> gw_port), fdb ((vni, mac) -> the
 *   port's locations in spec.locations order: a local ifindex or the other
 *   node's underlay IPv4), neigh ((vni, ipv4) -> mac), flood (vni -> local
 *   ports + underlay IPs of the other nodes holding ports of the network).
 *   fdb and flood follow spec.locations only, never spec.target. nodes: the
 *   underlay address of every Node but this one (the datapath takes VXLAN
 *   from those only).
 *   Local ifindexes come from a lookup callback (the reconciler's link dump);
 *   a local port without a device yet is left out and counted as missing.
 * - Port state (docs/MIGRATION.md): on spec.target a new entry starts
 *   GW_PORT_STANDBY, elsewhere GW_PORT_ACTIVE; an existing entry keeps the
 *   state the datapath gave it (the reconciler merges it, see reconcile.h),
 *   except that force_active (this node is the only location and there is
 *   no spec.target: the migration completed) activates a standby entry, and
 *   an entry in GW_PORT_HANDOFF (set by the vm module at the source's STOP)
 *   keeps it only while this node is a source of a migration (handoff_ok):
 *   after a rollback it is active again.
 * - DHCP (dhcp.h): a port whose Network has spec.dhcp true, an ipv4 and a
 *   gateway gets GW_PORT_F_DHCP (the datapath keeps its DHCP requests for
 *   this node's agent); such a Network's gateway gets a neigh entry with
 *   its virtual MAC (dhcp_gateway_mac), so ARP for the DHCP server id is
 *   answered and unicast renewals reach the agent.
 * - Gateways (gateway.h): a Network with spec.gatewayNode gets that neigh
 *   entry too, and an fdb entry for the gateway's MAC: the local gateway
 *   port on the gateway node (whose ports map entry is added here; the port
 *   itself comes from gateway_local_ports), the gateway node's underlay
 *   address elsewhere.
 * Objects with unusable fields (unknown network, bad MAC, ...) are skipped.
 */
#ifndef GODWIT_AGENT_DESIRED_H
#define GODWIT_AGENT_DESIRED_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cache.h"
#include "bpf/abi.h"

enum desired_port_type { DESIRED_VETH, DESIRED_TAP };

struct desired_port {
	char name[64];          /* the Port's metadata.name */
	char ifname[IFNAMSIZ];  /* device on the node: gw + 10 hex chars */
	char netns[64];         /* veth: endpoint namespace */
	enum desired_port_type type;
	uint8_t mac[6];
	uint32_t ipv4;          /* network order; 0 when the port has none */
	uint8_t prefixlen;      /* of the network's CIDR */
	uint32_t gateway;       /* network order: the network's spec.gateway, or 0 */
	uint32_t vni;
	uint16_t flags;         /* enum gw_port_flags */
	uint8_t strategy;       /* enum gw_activation */
	bool standby;           /* this node is spec.target: created in standby */
	bool force_active;      /* locations == [node], no spec.target */
	bool handoff_ok;        /* a location, and spec.target is another node */
	bool gateway_port;	/* a network's gateway port (gateway.h), not a Port */
	char network[64];	/* of a gateway port */
};

struct desired_local {
	struct desired_port *ports;
	size_t n;
};

struct desired_port_entry {
	uint32_t ifindex;
	struct gw_port val;  /* state: what a new entry starts with */
	bool force_active;   /* an existing standby entry is activated */
	bool handoff_ok;     /* an existing handoff entry stays so */
};
struct desired_fdb_entry {
	struct gw_fdb_key key;
	struct gw_fdb_entry val;
};
struct desired_neigh_entry {
	struct gw_neigh_key key;
	struct gw_neigh val;
};
struct desired_flood_entry {
	uint32_t vni;
	struct gw_flood val;
};
struct desired_node_entry {
	union gw_addr key;
	struct gw_node val;
};

struct desired_maps {
	struct desired_port_entry *ports;
	size_t n_ports;
	struct desired_fdb_entry *fdb;
	size_t n_fdb;
	struct desired_neigh_entry *neigh;
	size_t n_neigh;
	struct desired_flood_entry *flood;
	size_t n_flood;
	struct desired_node_entry *nodes;
	size_t n_nodes;
	size_t missing_local; /* local ports whose device does not exist (yet) */
};

/* Returns the ifindex of a local device, 0 when there is none. */
typedef int (*desired_ifindex_fn)(const char *ifname, void *ctx);

int desired_local_ports(const struct cache *c, const char *node, struct desired_local *out);
void desired_local_free(struct desired_local *d);

int desired_maps_compute(const struct cache *c, const char *node, desired_ifindex_fn ifindex_of,
			 void *ctx, struct desired_maps *out);
void desired_maps_free(struct desired_maps *d);

/* The value to write over an existing ports map entry old: want keeps old's
 * state/activated_ns (the datapath's), unless force_active finds it in
 * standby: then it becomes active at now_ns; a handoff entry without
 * handoff_ok becomes active. */
void desired_port_merge(struct gw_port *want, const struct gw_port *old, bool force_active,
			bool handoff_ok, uint64_t now_ns);

/* Helpers shared with the tests and the reconciler. */
bool desired_ifname_valid(const char *ifname); /* ^gw[0-9a-f]{10}$ */

#endif
