/* SPDX-License-Identifier: MIT */
/*
 * ports: the devices of local ports, over rtnetlink. Devices the agent owns
 * are named ^gw[0-9a-f]{10}$ (spec.ifname) in the node netns; no other is
 * touched there.
 *
 * veth: a pair whose host end carries from_port and whose peer lives in the
 * endpoint netns spec.netns. The peer is found again through the host end's
 * IFLA_LINK (its ifindex in that netns), so its name does not matter after
 * creation. At creation only:
 * - IPv6 is switched off in the endpoint netns (default and all): DAD/RS
 *   frames would activate a standby port early, and the fabric is IPv4;
 * - an active port's peer is "eth0", with the port's MAC, the MTU, the IPv4,
 *   up (and "lo" up), and a default route via the network's gateway (the
 *   gateway port itself has none: gateway.h);
 * - a standby port's peer (this node is the migration target) is "eth0", or
 *   "eth1" when eth0 exists already (the source's link in a drill), with MAC
 *   and MTU but DOWN and without address: whoever switches over (hypervisor
 *   or drill) brings it up.
 * Afterwards only MAC and MTU of the peer are corrected, never its up/down
 * state or addresses (during a migration the drill owns them). A pair whose
 * peer left the endpoint netns is made again.
 *
 * tap: a persistent tap spec.ifname (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR) in the
 * node netns, MTU, up, IPv6 off; QEMU opens it by name later.
 */
#ifndef GODWIT_AGENT_PORTS_H
#define GODWIT_AGENT_PORTS_H

#include <stdint.h>

#include "agent/desired.h"
#include "lib/nl.h"

#define PORTS_PEER_NAME "eth0"
#define PORTS_PEER_NAME_ALT "eth1"

/* Makes/corrects the veth of p; *ifindex gets the host end's ifindex.
 * -ENOENT: the endpoint netns does not exist (yet). */
int ports_plumb_veth(struct nl_sock *nl, const struct desired_port *p, uint32_t mtu, int *ifindex);

/* Makes/corrects the tap of p; *ifindex gets its ifindex. */
int ports_plumb_tap(struct nl_sock *nl, const struct desired_port *p, uint32_t mtu, int *ifindex);

/* Deletes every gw* device of the node netns that no port of want names;
 * deleting the host end removes the peer. Returns how many were deleted. */
int ports_delete_stale(struct nl_sock *nl, const struct desired_local *want);

/* Writes "1" to net.ipv6.conf.{default,all}.disable_ipv6 inside the netns
 * /run/netns/<netns> (a kernel without IPv6 is fine). */
int ports_ipv6_off(const char *netns);

#endif
