/* SPDX-License-Identifier: MIT */
/*
 * gwns: the kernel side of the gateways this node serves (design in
 * gateway.h): gateway namespaces, their links to the node's namespace,
 * routes, forwarding and the two masquerades (nftables, through
 * libnftables). Runs in the agent's main loop, in the node's namespace.
 */
#ifndef GODWIT_AGENT_GWNS_H
#define GODWIT_AGENT_GWNS_H

#include "agent/desired.h"
#include "lib/nl.h"

struct gwns;

/* prefix: of the gateway namespaces' names; uplink: the node's interface
 * towards the outside (NULL: this node serves no gateway). */
int gwns_new(const char *prefix, const char *uplink, struct gwns **out);
void gwns_free(struct gwns *g); /* accepts NULL; leaves everything in place */

/* Makes what the gateway ports of local (desired_port.gateway_port) need
 * before they are plumbed, and removes the gateway namespaces, links and
 * rules nothing wants any more. -EAGAIN when a part must be retried. */
int gwns_sync(struct gwns *g, struct nl_sock *nl, const struct desired_local *local);

#endif
