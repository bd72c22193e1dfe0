/* SPDX-License-Identifier: MIT */
/*
 * heartbeat: registers the node (PUT /v1/nodes/NAME, retried with backoff
 * while the controller is unreachable, logged once) and then reports every
 * 2 s: PUT /v1/nodes/NAME/status {"applied_revision": R, "counters": {...}}
 * with the datapath counters by their GW_COUNTER_NAMES. A 404 (the node was
 * deleted) registers again. Own thread, own API client.
 */
#ifndef GODWIT_AGENT_HEARTBEAT_H
#define GODWIT_AGENT_HEARTBEAT_H

#include <jansson.h>
#include <stdint.h>

#include "agent/datapath.h"

#define HEARTBEAT_INTERVAL_MS 2000

struct heartbeat;

struct heartbeat_config {
	const char *server;
	const char *token;
	const char *node;
	const char *underlay_ip; /* dotted quad */
	const struct datapath *dp; /* NULL: report no counters */
};

int heartbeat_start(const struct heartbeat_config *cfg, struct heartbeat **out);
void heartbeat_stop(struct heartbeat *hb); /* accepts NULL */
void heartbeat_set_applied(struct heartbeat *hb, uint64_t revision);

/* The bodies, exposed for the tests. */
json_t *heartbeat_node_body(const char *node, const char *underlay_ip);
json_t *heartbeat_status_body(uint64_t applied, const uint64_t counters[GW_CNT__MAX]);

#endif
