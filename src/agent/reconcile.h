/* SPDX-License-Identifier: MIT */
/*
 * reconcile: makes the node equal to the desired state of a cache snapshot,
 * the way ovn-controller syncs the kernel: compute desired (desired.h), dump
 * what the kernel has, add what is missing, delete what is stale — touching
 * only what the agent owns (gw* devices, the godwit maps).
 *
 * Ports map entries keep the state/activated_ns the datapath wrote: an entry
 * is rewritten only when its identity (vni, mac, ipv4, flags, strategy)
 * changes, from a read made right before the write and with that state
 * carried over, so the reconciler does not race an activation. One
 * exception: a port still in standby whose migration has completed (this
 * node is its only location and there is no spec.target) is activated here,
 * with activated_ns = now.
 *
 * Before the devices, the gateways this node serves (gateway.h, gwns.h).
 * After each run the local ports with GW_PORT_F_DHCP and a device are handed
 * to the DHCP server (dhcp.h), started with the first of them.
 */
#ifndef GODWIT_AGENT_RECONCILE_H
#define GODWIT_AGENT_RECONCILE_H

#include <stdint.h>

#include "agent/cache.h"
#include "agent/datapath.h"
#include "agent/desired.h"
#include "agent/dhcp.h"
#include "agent/portreport.h"
#include "lib/nl.h"

struct reconciler;

int reconciler_new(struct datapath *dp, struct nl_sock *nl, const char *node, uint32_t mtu,
		   struct reconciler **out);
void reconciler_free(struct reconciler *rc); /* accepts NULL */
/* Gateways (gateway.h): the gateway namespaces' name prefix (default
 * GATEWAY_DEFAULT_PREFIX) and the uplink (NULL: this node serves none). */
int reconciler_set_gateway(struct reconciler *rc, const char *prefix, const char *uplink);

/* 0 when everything desired is in place; -EAGAIN when some part must be
 * retried (e.g. an endpoint netns missing); other -errno on failure. */
int reconcile_run(struct reconciler *rc, const struct cache *snapshot);

/* The local ports that had a device after the last run (valid until the next). */
void reconciler_ports(const struct reconciler *rc, const struct port_ref **refs, size_t *n);
/* The DHCP server's counts, from any thread: -ENOENT before its first port. */
int reconcile_dhcp_stats(struct reconciler *rc, struct dhcp_stats *out);

#endif
