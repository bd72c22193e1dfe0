/* SPDX-License-Identifier: MIT */
/*
 * reconcile: makes the node equal to the desired state of a cache snapshot,
 * the way ovn-controller syncs the kernel: compute desired (desired.h), dump
 * what the kernel has, add what is missing, delete what is stale — touching
 * only what the agent owns (gw* devices, the godwit maps).
 *
 * Ports map entries keep the state/activated_ns the datapath wrote: an entry
 * is rewritten only when its identity (vni, mac, ipv4, flags, strategy)
 * changes, so the reconciler never races an activation. One exception: a port
 * still in standby whose migration has completed (this node is now its only
 * location) is activated here.
 */
#ifndef GODWIT_AGENT_RECONCILE_H
#define GODWIT_AGENT_RECONCILE_H

#include <stdint.h>

#include "agent/cache.h"
#include "agent/datapath.h"
#include "agent/desired.h"
#include "lib/nl.h"

struct reconciler;

int reconciler_new(struct datapath *dp, struct nl_sock *nl, const char *node, uint32_t mtu,
		   struct reconciler **out);
void reconciler_free(struct reconciler *rc); /* accepts NULL */

/* 0 when everything desired is in place; -EAGAIN when some part must be
 * retried (e.g. an endpoint netns missing); other -errno on failure. */
int reconcile_run(struct reconciler *rc, const struct cache *snapshot);

#endif
