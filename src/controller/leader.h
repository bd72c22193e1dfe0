/* SPDX-License-Identifier: MIT */
/*
 * leader: which one of several godwitd on one etcd store drives the
 * migrations and records the events (the migrator and the recorder run
 * their rounds only while it leads); every one of them serves the API.
 *
 * Design
 * - Kubernetes' leader election on etcd: a lease of LEADER_TTL_S seconds,
 *   and the key PREFIX meta/leader, bound to it, created only when absent
 *   (one etcd transaction comparing its mod_revision with 0). The holder
 *   keeps its lease alive every LEADER_PERIOD_MS; the others try to take the
 *   key each period, so that after the leader dies (its lease expires) one
 *   of them leads within the TTL and a period.
 * - A leader that cannot keep its lease alive (etcd unreachable, the lease
 *   gone) stops leading at once: better no leader for a moment than two.
 *   A stopped controller revokes its lease: the next one leads at once.
 * - The new leader's migrator resumes every unfinished migration from the
 *   store: its index follows the store's events while it does not lead.
 * - With the SQLite store there is no election: the one controller leads.
 * Functions return 0 or -errno.
 */
#ifndef GODWIT_CONTROLLER_LEADER_H
#define GODWIT_CONTROLLER_LEADER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "etcd.h"
#include "lib/worker.h"

#define LEADER_TTL_S	 1 /* etcd raises it to its minimum (1.5 s with its default timing) */
#define LEADER_PERIOD_MS 250
#define LEADER_ID_MAX	 128

struct leader {
	struct etcd *etcd; /* its own connection: the store's is under the store's lock */
	char *endpoints;
	char key[512];
	char id[LEADER_ID_MAX];
	int64_t lease;
	atomic_bool leading;
	struct worker worker;
	void (*on_change)(void *ctx, bool leading); /* from the worker's thread */
	void *ctx;
};

/* Campaigns as id on the etcd store at endpoints/prefix (etcd.h). */
int leader_start(struct leader *l, const char *endpoints, const char *prefix, const char *id,
		 void (*on_change)(void *ctx, bool leading), void *ctx);
/* Stops campaigning and gives the lead up (revokes the lease). */
void leader_stop(struct leader *l);

/* Who leads now (read from etcd) into holder (LEADER_ID_MAX); "" when
 * nobody does. */
int leader_holder(struct leader *l, char *holder);

#endif
