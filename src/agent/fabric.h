/* SPDX-License-Identifier: MIT */
/* fabric: the node's VXLAN device gw-vxlan (external/collect_md, UDP 4789,
 * no learning, MTU 1500 on a 1500 underlay, local = the underlay address,
 * which must be on one of the node's devices), created or adopted, with
 * from_fabric attached and gw_config written (the datapath then takes VXLAN
 * only at that address: GW_CNT_DROP_NOT_UNDERLAY). */
#ifndef GODWIT_AGENT_FABRIC_H
#define GODWIT_AGENT_FABRIC_H

#include <stdint.h>

#include "agent/datapath.h"
#include "lib/nl.h"

#define FABRIC_IFNAME "gw-vxlan"
#define FABRIC_MTU 1500

/* underlay_ip in network order; *ifindex gets the device's ifindex. */
int fabric_setup(struct nl_sock *nl, struct datapath *dp, uint32_t underlay_ip, int *ifindex);

#endif
