/* SPDX-License-Identifier: MIT */
/*
 * ports: the devices of local ports, over rtnetlink. A veth port is a pair
 * whose host end (spec.ifname, in the node's netns) carries from_port and
 * whose peer is "eth0" inside the endpoint netns spec.netns, with the port's
 * MAC, the MTU, its IPv4 and "lo" up. Everything here is idempotent: an
 * existing pair is adopted and corrected, a missing one created.
 * Devices the agent owns are named ^gw[0-9a-f]{10}$; no other is touched.
 */
#ifndef GODWIT_AGENT_PORTS_H
#define GODWIT_AGENT_PORTS_H

#include <stdint.h>

#include "agent/desired.h"
#include "lib/nl.h"

#define PORTS_PEER_NAME "eth0"

/* Makes/corrects the veth of p; *ifindex gets the host end's ifindex.
 * -ENOENT: the endpoint netns does not exist (yet). */
int ports_plumb_veth(struct nl_sock *nl, const struct desired_port *p, uint32_t mtu, int *ifindex);

/* Deletes every gw* device of the node netns that no port of want names;
 * deleting the host end removes the peer. Returns how many were deleted. */
int ports_delete_stale(struct nl_sock *nl, const struct desired_local *want);

#endif
