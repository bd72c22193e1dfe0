/* SPDX-License-Identifier: MIT */
/*
 * heartbeat: registers the node (PUT /v1/nodes/NAME, retried with backoff
 * while the controller is unreachable, logged once) and then reports every
 * 2 s: PUT /v1/nodes/NAME/status {"applied_revision": R, "counters": {...},
 * "drops_standby": N, "ports": {...}, "vms": {...}} with the datapath
 * counters by their GW_COUNTER_NAMES, the local ports (portreport.h) and the
 * VMs (vm.h, when a vms_report is configured). A report also goes out
 * at once when kicked (a new applied revision, an activation); kicks during a
 * report in flight coalesce into one more report. A controller that answers
 * 400 to this body gets the basic one (no "ports") right after. A 404 (the node was
 * deleted) registers again. Own thread, own API client.
 */
#ifndef GODWIT_AGENT_HEARTBEAT_H
#define GODWIT_AGENT_HEARTBEAT_H

#include <jansson.h>
#include <stdint.h>

#include "agent/datapath.h"
#include "agent/portreport.h"

#define HEARTBEAT_INTERVAL_MS 2000

struct heartbeat;

struct heartbeat_config {
	const char *server;
	const char *token;
	const char *ca_file; /* NULL: the system's CAs (apiclient.h) */
	const char *node;
	const char *underlay_ip;   /* dotted quad */
	const struct datapath *dp; /* NULL: report no counters */
	/* The "vms" object (docs/VM.md), a new reference; NULL: none. */
	json_t *(*vms_report)(void *ctx);
	void *vms_ctx;
};

int heartbeat_start(const struct heartbeat_config *cfg, struct heartbeat **out);
/* The last full report built (a new reference), NULL before the first; any thread. */
json_t *heartbeat_last_report(struct heartbeat *hb);
void heartbeat_stop(struct heartbeat *hb); /* accepts NULL */
/* Kicks a report when the revision differs from the last one set. */
void heartbeat_set_applied(struct heartbeat *hb, uint64_t revision);
/* The local ports to report (copied). */
int heartbeat_set_ports(struct heartbeat *hb, const struct port_ref *refs, size_t n);
/* An activation event seen by the agent; kicks a report. */
void heartbeat_note_activation(struct heartbeat *hb, const struct port_activation *act);
void heartbeat_kick(struct heartbeat *hb);

/* The bodies, exposed for the tests; ports (may be NULL) is stolen. */
json_t *heartbeat_node_body(const char *node, const char *underlay_ip);
json_t *heartbeat_status_body(uint64_t applied, const uint64_t counters[GW_CNT__MAX],
			      json_t *ports);
/* Without the docs/MIGRATION.md fields, for a controller that refuses them (400). */
json_t *heartbeat_basic_body(uint64_t applied, const uint64_t counters[GW_CNT__MAX]);

#endif
