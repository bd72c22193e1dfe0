/* SPDX-License-Identifier: MIT */
/*
 * godwit datapath ABI: the one definition of every map key, value and event,
 * included by the BPF programs (bpf/godwit.bpf.c) and by user space (agent, tests).
 * Never copy these structs elsewhere.
 *
 * Design notes
 * ------------
 * - Byte order: MAC addresses are raw bytes; IP addresses are stored in
 *   network byte order (as they appear in frames), VNIs in host order.
 * - Addresses: every IP address field is a union gw_addr (16 bytes, as
 *   katran lays them out): an IPv4 address in .v4 with the other words zero,
 *   or an IPv6 address. Which family a field holds is said next to it: a
 *   port's flags, a neighbour key's family, the underlay's in gw_config (one
 *   family per node). Only IPv4 is programmed today; the layout does not
 *   change when IPv6 comes.
 * - Upgrades: maps are pinned by name. A pinned map whose key, value or size
 *   differs from this ABI is removed when the agent loads the programs
 *   (src/agent/datapath.c) and refilled by its reconciler.
 * - Ports: one entry per local tap/veth (key = ifindex in the node's netns).
 *   A port in GW_PORT_STANDBY accepts nothing from the fabric and, under the
 *   rarp strategy, forwards nothing from the VM until activated.
 * - FDB: (vni, mac) -> up to GW_FDB_MAX_LOC locations. A location is a local
 *   ifindex (ifindex != 0) or a remote node's underlay IPv4 (node_ip != 0).
 *   Two locations are how a migrating MAC is replicated to source and target.
 * - Flood lists: per VNI, the local ports and the remote nodes that hold ports
 *   of the network; broadcast is head-end replicated to every entry.
 * - Nodes: the underlay addresses of the cluster's nodes, kept by the agent
 *   from the Node objects. The datapath takes VXLAN only from them
 *   (GW_CNT_DROP_UNKNOWN_NODE), and a handed-off frame only from the other
 *   location of the port it is for (GW_CNT_DROP_HANDOFF_FOREIGN): a host on
 *   the underlay that is no node can neither inject frames into a network
 *   nor into a standby tap. VXLAN is taken only at the node's own underlay
 *   address (gw_config.local_ip, GW_CNT_DROP_NOT_UNDERLAY): the kernel's
 *   VXLAN socket listens on every address of the host.
 * - Counters: a per-CPU array indexed by enum gw_counter; drops carry a
 *   reason so an operator can always ask why a frame was dropped.
 * - Zero-loss handoff: when the hypervisor stops the VM on the source (QMP
 *   STOP), the source agent puts the source port in GW_PORT_HANDOFF. From then
 *   on every frame the source node would deliver to that port goes to the
 *   target node instead (the remote location of the port's own fdb entry),
 *   VXLAN-encapsulated with the outer DSCP GW_HANDOFF_DSCP. The target
 *   delivers marked frames into its standby tap, which the incoming QEMU does
 *   not read until it resumes: the guest finds there exactly the frames it
 *   missed. Copies sent to the target directly (replication) stay dropped
 *   while standby, so no frame arrives twice; once the port is active the
 *   direct copies are delivered and marked ones dropped (GW_CNT_DROP_HANDOFF).
 *   (A frame whose direct copy met the standby port and whose marked copy,
 *   one hop longer, arrives after the activation is lost: the cut-over is
 *   the activation instant, and only frames in flight across it can be hit.)
 *   A RESUME on the source (the migration failed late) sets it back to ACTIVE.
 *   Before STOP, while the transfer runs, the source port is GW_PORT_PRIMED
 *   (primers, below), so that QEMU's last reads take no real frame.
 */
#ifndef GODWIT_BPF_ABI_H
#define GODWIT_BPF_ABI_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <assert.h>
#define GW_STATIC_ASSERT(c, m) static_assert(c, m)
#endif
#ifdef __BPF__
#define GW_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#define GW_VXLAN_PORT 4789
#define GW_FDB_MAX_LOC 2
#define GW_FLOOD_MAX_LOCAL 32
#define GW_FLOOD_MAX_REMOTE 32
#define GW_MAX_PORTS 4096
#define GW_MAX_FDB 65536
#define GW_MAX_NEIGH 65536
#define GW_MAX_VNIS 1024
#define GW_MAX_NODES	    4096
#define GW_VNI_MAX 0xffffffU

/* Map names; pinned as <pin_dir>/<name>. */
#define GW_MAP_PORTS "gw_ports"
#define GW_MAP_FDB "gw_fdb"
#define GW_MAP_NEIGH "gw_neigh"
#define GW_MAP_FLOOD "gw_flood"
#define GW_MAP_NODES	"gw_nodes"
#define GW_MAP_COUNTERS "gw_counters"
#define GW_MAP_CONFIG "gw_config"
#define GW_MAP_EVENTS "gw_events"

/* The family of an address (values as the IP version field). */
enum gw_family {
	GW_FAMILY_NONE = 0,
	GW_FAMILY_IPV4 = 4,
	GW_FAMILY_IPV6 = 6,
};

/* The 16-byte member first: zero-initialising a key zeroes all of it. */
union gw_addr {
	__u32 v6[4]; /* network order, word by word */
	__u32 v4;    /* network order; v6[1..3] zero */
	__u8 bytes[16];
};
GW_STATIC_ASSERT(sizeof(union gw_addr) == 16, "gw_addr layout");

/* An IPv4 address (network order) as a gw_addr with the other words zero.
 * Use it in initialisers: `.ip.v4 = a` in one leaves those words undefined
 * (clang does not zero what the named member does not cover). */
#define GW_ADDR_V4(a) ((union gw_addr){.v6 = {(a), 0, 0, 0}})

enum gw_port_flags {
	GW_PORT_F_SECURITY = 1U << 0, /* enforce source MAC / IPv4 / ARP sender */
	GW_PORT_F_HAS_IPV4 = 1U << 1, /* ipv4 is known and enforced */
	GW_PORT_F_DHCP = 1U << 2,     /* DHCP is served by this node's agent */
	GW_PORT_F_VETH = 1U << 3,     /* a veth: frames go straight into its peer */
};

enum gw_port_state {
	GW_PORT_ACTIVE = 0,
	GW_PORT_STANDBY = 1, /* migration target, held back until activation */
	GW_PORT_HANDOFF = 2, /* migration source after STOP: frames go to the target */
	GW_PORT_PRIMED = 3,  /* migration source during its transfer: active, primers first */
};

/*
 * Primers. A stopped QEMU still takes a frame or two from its tap: one read
 * in the instant it stops (purged from its queue as the VM stops) and one
 * after that purge re-enables its reads; neither reaches the guest, and on a
 * source that never resumes they are lost. So while its transfer runs, a
 * source port is GW_PORT_PRIMED: every frame the datapath delivers into its
 * tap is preceded by GW_PRIMERS copies of itself with the ethertype
 * GW_PRIMER_ETHERTYPE, which a guest drops unread. QEMU reads the tap in
 * whole groups while the VM runs, so what it takes when it stops are
 * primers; the real frame stays in the tap and the handoff drains it (not
 * the primers) to the target. The target's incoming QEMU eats one frame the
 * same way: its agent writes one primer there (src/agent/handoff.h).
 */
#define GW_PRIMER_ETHERTYPE 0x88b5 /* ETH_P_802_EX1: local experimental */
#define GW_PRIMERS 2

/* Outer IPv4 DSCP of a handed-off frame: 0x0b is in RFC 2474 pool 2
 * (xxxx11: experimental or local use); the ECN bits are left alone. */
#define GW_HANDOFF_DSCP 0x0b
#define GW_TOS_IS_HANDOFF(tos) (((tos) >> 2) == GW_HANDOFF_DSCP)

/*
 * Activation strategies (a port's spec.strategy, docs/API.md "Activation"):
 * one list, X(ID, "json-name"). It gives enum gw_activation here and the
 * API's enum strategy with its names (src/lib/phases.h); the test each one
 * makes of the VM's first frames is in bpf/lib/activation.h. A strategy is
 * added here and there, nowhere else.
 */
#define GW_ACTIVATIONS(X)                                                                          \
	X(FIRST_FRAME, "first-frame") /* any frame from the VM activates (the default) */          \
	X(RARP, "rarp")		      /* only a RARP (0x8035) activates (OVN-compatible) */

enum gw_activation {
#define GW_ACT_ENUM_(id, name) GW_ACT_##id,
	GW_ACTIVATIONS(GW_ACT_ENUM_)
#undef GW_ACT_ENUM_
	    GW_ACT__MAX
};

struct gw_port {
	__u32 vni;
	union gw_addr ip; /* valid when GW_PORT_F_HAS_IPV4 (in .v4) */
	__u8 mac[6];
	__u16 flags;    /* enum gw_port_flags */
	__u32 state;    /* enum gw_port_state; 32-bit so BPF can cmpxchg it */
	__u8 strategy;  /* enum gw_activation */
	__u8 pad[7];
	__u64 activated_ns; /* bpf_ktime_get_ns() of activation, 0 if never */
};
GW_STATIC_ASSERT(sizeof(struct gw_port) == 48, "gw_port layout");

struct gw_fdb_key {
	__u32 vni;
	__u8 mac[6];
	__u8 pad[2]; /* must be zero */
};
GW_STATIC_ASSERT(sizeof(struct gw_fdb_key) == 12, "gw_fdb_key layout");

struct gw_location {
	__u32 ifindex;	       /* local port, or 0 */
	union gw_addr node_ip; /* remote node's underlay address, or all zero */
};

struct gw_fdb_entry {
	__u32 count; /* number of valid locations, 1..GW_FDB_MAX_LOC */
	struct gw_location loc[GW_FDB_MAX_LOC];
};
GW_STATIC_ASSERT(sizeof(struct gw_fdb_entry) == 44, "gw_fdb_entry layout");

struct gw_neigh_key {
	__u32 vni;
	__u8 family; /* enum gw_family of ip */
	__u8 pad[3]; /* must be zero */
	union gw_addr ip;
};
GW_STATIC_ASSERT(sizeof(struct gw_neigh_key) == 24, "gw_neigh_key layout");

struct gw_neigh {
	__u8 mac[6];
	__u8 pad[2];
};

struct gw_flood {
	__u32 n_local;
	__u32 n_remote;
	__u32 local_ifindex[GW_FLOOD_MAX_LOCAL];
	union gw_addr remote_ip[GW_FLOOD_MAX_REMOTE];
};
GW_STATIC_ASSERT(sizeof(struct gw_flood) == 648, "gw_flood layout");

/* gw_nodes: underlay address (in the underlay's family) -> a known node. */
struct gw_node {
	__u32 flags; /* none yet */
};

/* Single-entry array (key 0): node-wide settings written by the agent. */
struct gw_config {
	__u32 vxlan_ifindex;	/* the node's external-mode VXLAN device */
	__u32 underlay_family;	/* enum gw_family of every underlay address */
	union gw_addr local_ip; /* this node's underlay address */
};
GW_STATIC_ASSERT(sizeof(struct gw_config) == 24, "gw_config layout");

/*
 * Counters: per-CPU array of __u64 packets, indexed by enum gw_counter. One
 * list: X(ID, name) gives the enum GW_CNT_ID and the name the agent reports
 * (GW_COUNTER_NAMES, the node status's counters.name); a counter is added
 * here and nowhere else.
 */
#define GW_COUNTERS(X)                                                                             \
	X(RX_PORT, rx_port)		      /* frames from local ports */                        \
	X(RX_FABRIC, rx_fabric)		      /* frames from the VXLAN device */                   \
	X(FWD_LOCAL, fwd_local)		      /* delivered to a local port */                      \
	X(FWD_REMOTE, fwd_remote)	      /* sent to a remote node (per copy) */               \
	X(FLOOD, flood)			      /* broadcast frames replicated */                    \
	X(ARP_REPLY, arp_reply)		      /* ARP requests answered by the datapath */          \
	X(ACTIVATION, activation)	      /* standby ports activated */                        \
	X(DROP_MALFORMED, drop_malformed)     /* frame too short / bad header */                   \
	X(DROP_NO_PORT, drop_no_port)	      /* ingress device unknown to the ports map */        \
	X(DROP_SRC_MAC, drop_src_mac)	      /* port security: source MAC */                      \
	X(DROP_SRC_IP, drop_src_ip)	      /* port security: source IPv4 */                     \
	X(DROP_ARP_SPOOF, drop_arp_spoof)     /* port security: ARP sender MAC/IPv4 */             \
	X(DROP_UNKNOWN_DST, drop_unknown_dst) /* unknown unicast */                                \
	X(DROP_NO_TUNNEL, drop_no_tunnel)     /* fabric frame without tunnel key / unknown VNI */  \
	X(DROP_STANDBY, drop_standby)	      /* fabric frame for a port in standby */             \
	X(DROP_NOT_ACTIVE, drop_not_active)   /* VM frame on a standby port (rarp strategy) */     \
	X(DROP_REDIRECT, drop_redirect)	      /* helper failed (set_tunnel_key, clone) */          \
	X(DROP_VNI_MISMATCH, drop_vni_mismatch) /* fabric frame for a port of another VNI */       \
	X(DHCP_LOCAL, dhcp_local)		/* DHCP client frames kept for the local agent */  \
	X(HANDOFF_FWD, handoff_fwd)   /* frames for a stopped source sent on to the target */      \
	X(HANDOFF_RX, handoff_rx)     /* handed-off frames delivered into a standby target */      \
	X(DROP_HANDOFF, drop_handoff) /* handed-off frame for a port no longer standby */          \
	X(PRIMER, primer)	      /* primers into a migrating source's tap */                  \
	X(DROP_UNKNOWN_NODE, drop_unknown_node) /* VXLAN from an address that is no node */        \
	X(DROP_HANDOFF_FOREIGN,                                                                    \
	  drop_handoff_foreign) /* handed-off frame not from the port's other location */          \
	X(DROP_NOT_UNDERLAY,                                                                       \
	  drop_not_underlay) /* VXLAN to another of the node's addresses than its underlay one */

enum gw_counter {
#define GW_CNT_ENUM_(id, name) GW_CNT_##id,
	GW_COUNTERS(GW_CNT_ENUM_)
#undef GW_CNT_ENUM_
	GW_CNT__MAX
};

#define GW_CNT_NAME_(id, name) #name,
#define GW_COUNTER_NAMES {GW_COUNTERS(GW_CNT_NAME_)}

enum gw_event_type {
	GW_EV_ACTIVATED = 1, /* a standby port became active */
};

struct gw_event {
	__u64 ts_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u32 type;  /* enum gw_event_type */
	__u32 ifindex;
	__u32 vni;
	__u8 mac[6];
	__u16 ethertype; /* host order: the frame that caused the event */
};
GW_STATIC_ASSERT(sizeof(struct gw_event) == 32, "gw_event layout");

/* The agent's DHCP server (src/agent/dhcp.h) reads what GW_PORT_F_DHCP ports
 * send to UDP 67 from a packet socket, which sees frames before tc ingress;
 * from_port then consumes them (GW_CNT_DHCP_LOCAL), so they never reach the
 * fabric or another port. */

#endif /* GODWIT_BPF_ABI_H */
