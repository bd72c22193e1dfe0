/* SPDX-License-Identifier: MIT */
/*
 * migration_index: the migrator's view of the Migrations, kept from the
 * store's event log, so that a round costs the unfinished ones only.
 *
 * Finished Migrations are most of them in a store that has run a while
 * (--keep-finished-migrations 5 over 4,000 ports is 20,000). The migrator
 * used to list and parse them all at every round, 20 times a second, each
 * list holding the store's lock that every heartbeat also takes. The index
 * holds instead:
 * - the names of the unfinished Migrations: what a round evaluates;
 * - for each finished one a small copy (name, created, port, phase): what
 *   the clean-up of migration_gc.h sorts, only after one more finished;
 * - the revision it has applied the events up to.
 * A sync reads the events after that revision (none when nothing changed:
 * one indexed query) and applies those of Migrations. At the first sync,
 * when the events it needs are compacted (-ESTALE) or after a burst larger
 * than a batch, it lists the Migrations once instead. Nothing survives a
 * restart: the first round lists, as before, so a crash loses nothing.
 */
#ifndef GODWIT_CONTROLLER_MIGRATION_INDEX_H
#define GODWIT_CONTROLLER_MIGRATION_INDEX_H

#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define MIGRATION_INDEX_BATCH 1024 /* events per read; a fuller burst relists */

struct migration_index {
	json_t *unfinished; /* name -> true */
	json_t *finished;   /* name -> {metadata: {name, created}, spec: {port}, status: {phase}} */
	int64_t revision;   /* events up to it are applied; < 0: list first */
	bool gc_due;	    /* a finished one came: the migrator runs the clean-up, clears it */
	uint64_t lists;	    /* full lists made (for tests and logs) */
};

int migration_index_init(struct migration_index *ix);
void migration_index_destroy(struct migration_index *ix);

/* Applies one Migration as stored (gone: it was deleted). Other kinds are
 * ignored. */
int migration_index_apply(struct migration_index *ix, const json_t *obj, bool gone);

/* Brings the index up to the store's revision (see above). */
int migration_index_sync(struct migration_index *ix, struct store *s);

/* The unfinished names, sorted (a new array). */
int migration_index_unfinished(const struct migration_index *ix, json_t **names);

/* The finished ones as items for migration_gc_select() (a new array). */
int migration_index_finished(const struct migration_index *ix, json_t **items);

#endif
