/* SPDX-License-Identifier: MIT */
/*
 * portreport: the "ports" object of the node status report
 * (docs/MIGRATION.md, "Agent reports"):
 *   {"NAME": {"state": "standby"|"active", "ifindex": N,
 *             "activated_unix_ns": U, "activated_mono_ns": M}}
 * for every local port that has a ports map entry. State and activation time
 * come from the map (what the datapath wrote); when the agent saw the
 * activation event itself, its CLOCK_REALTIME conversion made at that moment
 * is used (closest to the truth), else the map's bpf_ktime_get_ns() value is
 * converted at report time. The activated_* fields are absent when the port
 * was never activated by the datapath or the agent (a port created active).
 */
#ifndef GODWIT_AGENT_PORTREPORT_H
#define GODWIT_AGENT_PORTREPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/abi.h"

struct port_ref {
	char name[64];    /* the Port's metadata.name */
	uint32_t ifindex; /* its device on this node */
};

struct port_activation {
	uint32_t ifindex;
	uint64_t mono_ns; /* bpf_ktime_get_ns() of the event */
	uint64_t unix_ns; /* the same instant on CLOCK_REALTIME */
};

/* ts (CLOCK_MONOTONIC ns) on CLOCK_REALTIME, given both clocks read now. */
uint64_t port_mono_to_unix(uint64_t ts, uint64_t mono_now, uint64_t real_now);
/* Reads both clocks. */
void port_clocks_now(uint64_t *mono_now, uint64_t *real_now);

/* Returns 0 and fills *out, or -ENOENT when ifindex has no map entry. */
typedef int (*port_lookup_fn)(uint32_t ifindex, struct gw_port *out, void *ctx);

json_t *port_report_json(const struct port_ref *refs, size_t n, port_lookup_fn lookup, void *ctx,
			 const struct port_activation *acts, size_t n_acts, uint64_t mono_now,
			 uint64_t real_now);

#endif
