/* SPDX-License-Identifier: MIT */
/* kind_port: the Port kind's row (kind.h) and what a migration asks of it. */
#ifndef GODWIT_CONTROLLER_KIND_PORT_H
#define GODWIT_CONTROLLER_KIND_PORT_H

#include "kind.h"

/*
 * Whether every node's flood list of network can hold port self at
 * locations (the network's other ports as stored): at most
 * GW_FLOOD_MAX_LOCAL ports on one node, ports on at most
 * GW_FLOOD_MAX_REMOTE + 1 nodes (each node floods to all the others). The
 * datapath would cut a longer list, and broadcasts (ARP, DHCP) would miss
 * ports, so it is refused here: 507 naming the network, the node and the
 * limit. Lists every port: a create or a move of a port costs O(ports).
 */
int port_flood_check(struct txn *t, const char *network, const char *self, const json_t *locations,
		     struct api_error *err);

#endif
