/* SPDX-License-Identifier: MIT */
/*
 * observer: how long ago this controller saw what the store holds change,
 * by its own monotonic clock. Every deadline and liveness decision of the
 * controller is an age from here, never a difference of wall-clock times:
 * a step of the wall clock (NTP, an operator) moves none of them, and no
 * clock of another host is compared with ours.
 *
 * Design
 * - The controller clock (observer_now) is CLOCK_MONOTONIC minus the time the
 *   controller itself was stalled: the migrator ticks every 50 ms, and a gap
 *   of more than OBSERVER_STALL_MS between ticks (the process was stopped,
 *   starved, or its disk hung) does not count against the nodes or the
 *   migrations, which went on meanwhile without being heard.
 * - Nodes: a node's age is the time since the stamp of its stored report
 *   (heartbeat_ms, set by whichever controller took the report) last changed
 *   as seen here. What was never seen before counts as seen now, so after a
 *   (re)start every node has NODE_READY_MS to report again.
 * - Migrations: the time since the stored phase was first seen, the time
 *   since the transfer last made progress (the bytes it still has to send
 *   reached a new low, as KubeVirt's progress timeout counts it), and the
 *   time since the transfer began (phase Running). After a restart they count
 *   from the restart: a migration gets its whole bound again, never less.
 * - Memory only, by design: nothing here needs to survive a restart, and a
 *   controller that takes over (a restart, another controller) starts fresh.
 *   Thread-safe (one mutex).
 */
#ifndef GODWIT_CONTROLLER_OBSERVER_H
#define GODWIT_CONTROLLER_OBSERVER_H

#include <stdint.h>

#define OBSERVER_STALL_MS 2000

struct observer;

int observer_new(struct observer **out);
void observer_free(struct observer *o); /* accepts NULL */
/* The raw monotonic clock in ms (tests replace CLOCK_MONOTONIC). */
void observer_set_clock(struct observer *o, int64_t (*mono_ms)(void));

/* The controller clock in ms (monotonic, stalls taken out). */
int64_t observer_now(struct observer *o);
/* Called every round of the migrator; returns the stall taken out (ms, 0 none). */
int64_t observer_tick(struct observer *o);

/* ms since the node's report stamp last changed (0 when it just did). */
int64_t observer_node_age(struct observer *o, const char *node, int64_t stamp);

/* What the decision function needs to know of time (migration.h). */
struct migration_times {
	int64_t in_phase_ms; /* since the current phase was first seen */
	int64_t
	    since_progress_ms;	/* since remaining bytes reached a new low (or the phase began) */
	int64_t in_transfer_ms; /* since phase Running was first seen (0 before) */
};

/* The ages of migration name in phase (remaining: the transfer's remaining
 * bytes as last reported, -1 when unknown). */
void observer_migration(struct observer *o, const char *name, const char *phase, int64_t remaining,
			struct migration_times *out);
/* Forgets a finished or deleted migration. */
void observer_forget_migration(struct observer *o, const char *name);

#endif
