/* SPDX-License-Identifier: MIT */
/*
 * gateway: a network's way out, through its gateway node (Network
 * spec.gatewayNode), as Kube-OVN's centralized gateway and OVN's gateway
 * chassis do it. This header owns the design; gateway.c is the pure part
 * (what each node must hold, from the cache alone, unit tested), gwns.c the
 * kernel part on the gateway node.
 *
 * The gateway port. The network's gateway (spec.gateway, the address DHCP
 * hands out as router) already has a virtual MAC, dhcp_gateway_mac(), that
 * every node's datapath answers ARP with. On the gateway node that address
 * becomes a real port: a veth whose host end (gw + 10 hex digits, from a hash
 * of the network's name, so it is cleaned up like every other port device)
 * is a port of the network in the datapath, and whose peer, eth0 with the
 * gateway's MAC and address, sits in the network's gateway namespace. It is
 * not a Port object: it follows from the Network alone (no IPAM entry, no
 * owner, nothing to delete before the network), and every node computes it
 * the same way: on the gateway node a local port (port security off: it
 * forwards other hosts' addresses), elsewhere an fdb entry (vni, gateway
 * MAC) -> the gateway node's underlay address. So a VM's off-subnet frames
 * (to the router's MAC) go to the gateway node through the ordinary
 * machinery, and replies from the gateway namespace are ordinary frames to
 * the VM's MAC: they follow the VM's fdb entry wherever it is now, to both
 * locations while it migrates. The datapath is unchanged.
 *
 * The gateway namespace (<prefix><network>; the prefix is an agent option,
 * "godwit-gw-" by default, so that labs on one machine never share names)
 * holds eth0 and up0, one end of a second veth whose other end (gwup + 8
 * hex digits) is in the node's own namespace, on a /31 of 169.254.0.0/16
 * chosen by the network's VNI (gateway_link_addrs). The namespace forwards
 * (ip_forward), routes by default to the node's end of that link and
 * masquerades what leaves by up0; the node's namespace masquerades what comes
 * from the gwup* links and leaves by its uplink (agent option
 * --gateway-uplink), to the uplink's address, and lets those links reach
 * nothing else (not the underlay, not the node itself).
 *
 * Why two masquerades: the one in the gateway namespace keeps each network's
 * connections in its own conntrack table, so networks that share a CIDR
 * (allowed: they never exchange a frame) stay apart, and the node's
 * namespace only ever sees one distinct link address per network, which it
 * can route back to without knowing any overlay address. The node's
 * masquerade gives the outside the node's uplink address. Both NAT states
 * live on the gateway node and never move: a VM's migration does not touch
 * them, so its outbound connections survive it (its frames reach the same
 * gateway from any node; the replies find it wherever it is).
 *
 * Ownership: everything here is made from the desired state and removed when
 * it is no longer desired (network deleted, gatewayNode moved or gone): stale
 * <prefix>* namespaces are deleted (their veths go with them), the node's
 * nftables table godwit_gateway is rewritten as a whole (one transaction) or
 * deleted. After an agent restart the same names are found and kept; an
 * nftables rewrite keeps conntrack, so connections through NAT go on.
 * A node without --gateway-uplink serves no gateway (logged once).
 */
#ifndef GODWIT_AGENT_GATEWAY_H
#define GODWIT_AGENT_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/cache.h"
#include "agent/desired.h"

#define GATEWAY_DEFAULT_PREFIX "godwit-gw-"
#define GATEWAY_NS_UPLINK      "up0" /* the link's end inside the gateway namespace */
#define GATEWAY_NFT_TABLE      "godwit_gateway"

/* The network's spec.gatewayNode, or NULL. */
const char *gateway_node_of(const json_t *net);

/* gw + 10 hex digits: the gateway port's host end. */
void gateway_port_ifname(const char *network, char out[IFNAMSIZ]);
/* gwup + 8 hex digits: the node's end of the gateway namespace's link. */
void gateway_link_ifname(const char *network, char out[IFNAMSIZ]);
bool gateway_link_ifname_valid(const char *ifname);
/* prefix + network, or, past 63 characters, cut and ended by 8 hex digits of
 * the network's hash; -EINVAL when the prefix leaves no room. */
int gateway_netns_name(const char *prefix, const char *network, char out[64]);
/* The link's /31 (network order): node's end, the gateway namespace's end. */
void gateway_link_addrs(uint32_t vni, uint32_t *node_end, uint32_t *ns_end);

/* Appends to out the gateway ports of the networks whose gatewayNode is
 * node (desired_port.gateway set, netns = the gateway namespace). Networks
 * whose link would reuse another's /31 are left out (logged). */
int gateway_local_ports(const struct cache *c, const char *node, const char *prefix,
			struct desired_local *out);

/* The gateway port of network name (all but netns), on whatever node;
 * -ENOENT when the network has no gateway node, -EINVAL when unusable. */
int gateway_port_of(const char *name, const json_t *net, struct desired_port *p);

#endif
