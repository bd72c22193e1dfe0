/* SPDX-License-Identifier: MIT */
/*
 * migrator: the controller thread that drives every unfinished migration.
 *
 * Design
 * - Level-triggered: each round evaluates every unfinished migration with
 *   migration_advance() (one store transaction each: decide from the stored
 *   migration, its port and the nodes' status reports, write the phase and
 *   the port together, commit only when something changed). Which ones are
 *   unfinished it learns from the store's events (migration_index.h), so
 *   that finished migrations, however many, cost a round nothing. No other
 *   state: after a crash and a restart the first round lists them and
 *   resumes every migration where the store says it is.
 * - A round runs every MIGRATOR_PERIOD_MS (timeouts, nodes going not ready)
 *   and at once when woken: after every commit and every node status report
 *   (migrator_wake(), a kick of its lib/worker.h thread), so that a report of "standby",
 *   "active" or a new applied revision moves a migration on without delay.
 * - Each round ticks the observer (observer.h): a round that comes far
 *   later than its period means the controller was stalled, and that time
 *   is not counted against the nodes and the migrations.
 * - After a round in which a migration finished, the finished ones beyond
 *   the newest few of each port are deleted (migration_gc.h).
 * - Errors of a round are logged and the next round tries again.
 */
#ifndef GODWIT_CONTROLLER_MIGRATOR_H
#define GODWIT_CONTROLLER_MIGRATOR_H

#include "migration_index.h"
#include "registry.h"

#include <stdint.h>

#include "lib/worker.h"

#define MIGRATOR_PERIOD_MS 50

struct migrator {
	struct registry *reg;
	struct worker worker;
	struct migration_index index; /* by the worker's thread */
	uint64_t rounds;	      /* by the worker's thread */
};

int migrator_start(struct migrator *m, struct registry *reg);
/* Wakes the thread for a round now (callable from any thread; m may be NULL). */
void migrator_wake(struct migrator *m);
/* Stops and joins the thread; accepts a migrator never started. */
void migrator_stop(struct migrator *m);

/* One round: evaluates every unfinished migration that ix knows after a sync
 * (for tests too; ix from migration_index_init). */
int migrator_round(struct registry *reg, struct migration_index *ix);

#endif
