/* SPDX-License-Identifier: MIT */
/*
 * metrics: the agent's GET /metrics for Prometheus (--metrics-listen
 * ADDR:PORT; docs/API.md "Metrics").
 *
 * Design
 * - What a node knows first-hand and the controller only hears every 2 s:
 *   its datapath's counters read at the scrape (frames by counter, drops by
 *   reason apart, activations and handoffs among them), its ports by state
 *   and each port's state, its VMs by phase and their guest resets, the
 *   revision its datapath applied (from the heartbeat's last report), and
 *   what its DHCP server answered.
 * - Own HTTP server (libmicrohttpd, one thread, select), GET /metrics only,
 *   no credential: it tells what a capture of the node's traffic would and
 *   writes nothing (open it to the Prometheus server only; README).
 * - The sources are read through the config's callbacks, which take their
 *   owners' locks: the scrape never touches the main loop's data directly.
 */
#ifndef GODWIT_AGENT_METRICS_H
#define GODWIT_AGENT_METRICS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/datapath.h"
#include "agent/dhcp.h"
#include "bpf/abi.h"

struct agent_metrics;

struct agent_metrics_config {
	const char *listen; /* IPV4:PORT */
	const struct datapath *dp;
	/* The heartbeat's last status report (a new reference), or NULL. */
	json_t *(*last_report)(void *ctx);
	/* The DHCP server's counts: 0, or -ENOENT while there is no server. */
	int (*dhcp_stats)(void *ctx, struct dhcp_stats *out);
	void *ctx;
};

int agent_metrics_start(const struct agent_metrics_config *cfg, struct agent_metrics **out);
void agent_metrics_stop(struct agent_metrics *m); /* accepts NULL */

/* The exposition text of these figures (counters, report, dhcp may each be NULL). */
void agent_metrics_write(FILE *f, const uint64_t *counters, const json_t *report,
			 const struct dhcp_stats *dhcp);

#endif
