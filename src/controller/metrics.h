/* SPDX-License-Identifier: MIT */
/*
 * metrics: the controller's metrics for Prometheus (GET /metrics, the text
 * exposition format 0.0.4; docs/API.md "Metrics").
 *
 * Design
 * - Migrations that finish while this controller runs are counted by outcome
 *   and their figures go into histograms (base unit seconds, as Prometheus
 *   names them; the families mirror KubeVirt's kubevirt_vmi_migration_*):
 *   the VM blackout (QMP STOP to RESUME), QEMU's own downtime, the whole
 *   migration, and the time spent in each phase. They are kept in memory:
 *   a restarted controller starts them at zero, which Prometheus reads as a
 *   counter reset. migration_api.c reports each finish once, after the commit
 *   that made it.
 * - What the store holds is read at each scrape: nodes by readiness and each
 *   node's apply lag (the store's revision minus the revision its datapath
 *   applied), each node's datapath counters as it last reported them, VMs
 *   by phase, unfinished migrations by phase, the revision.
 * - Thread-safe (one mutex); a scrape copies nothing it does not print.
 */
#ifndef GODWIT_CONTROLLER_METRICS_H
#define GODWIT_CONTROLLER_METRICS_H

#include <jansson.h>
#include <stddef.h>

struct registry;
struct metrics;

int metrics_new(struct metrics **out);
void metrics_free(struct metrics *m); /* accepts NULL */

/* A migration reached a final phase (Succeeded, Failed, Aborted); m may be NULL. */
void metrics_migration_finished(struct metrics *m, const json_t *migration);

/* The exposition text (malloc'd) of m and of what reg's store holds now. */
int metrics_render(struct metrics *m, struct registry *reg, char **text, size_t *len);

#endif
