/* SPDX-License-Identifier: MIT */
#include "migrator.h"
#include "lib/log.h"
#include "migration_api.h"
#include "migration_gc.h"

#include <errno.h>
#include <string.h>

/* The clean-up of migration_gc.h, over the index's copies of the finished. */
static int collect(struct registry *reg, struct migration_index *ix)
{
	json_t *items = NULL;
	int r;

	r = migration_index_finished(ix, &items);
	if (r < 0)
		return r;
	r = migration_gc(reg, items,
			 reg->keep_finished_migrations > 0 ? reg->keep_finished_migrations
							   : MIGRATION_GC_KEEP);
	json_decref(items);
	if (r >= 0)
		ix->gc_due = false; /* the deletions come back as events */
	return r < 0 ? r : 0;
}

int migrator_round(struct registry *reg, struct migration_index *ix)
{
	enum migration_phase from, to;
	json_t *names = NULL, *jn;
	size_t i;
	int r, first = 0;

	if (reg->obs) {
		int64_t stall = observer_tick(reg->obs);

		if (stall)
			log_warn("the controller was stalled for %lld ms: not counted against the "
				 "nodes and the migrations",
				 (long long)stall);
	}
	r = migration_index_sync(ix, reg->store);
	if (r < 0 || !registry_leads(reg)) /* the index follows: a new leader resumes */
		return r;
	r = migration_index_unfinished(ix, &names);
	if (r < 0)
		return r;
	json_array_foreach(names, i, jn)
	{
		const char *name = json_string_value(jn);

		r = migration_advance(reg, name, &from, &to);
		if (r < 0 && r != -ENOENT) { /* deleted meanwhile: fine */
			log_error_errno(r, "migration %s: cannot evaluate", name);
			if (!first)
				first = r;
			continue;
		}
		if (r == 0 && from != to)
			log_info("migration %s: %s -> %s", name, migration_phase_name(from),
				 migration_phase_name(to));
	}
	json_decref(names);
	/* the phases just written, so that one finished now is collected now */
	r = migration_index_sync(ix, reg->store);
	if (r == 0 && ix->gc_due)
		r = collect(reg, ix);
	if (r < 0) {
		log_error_errno(r, "cannot delete the oldest finished migrations");
		if (!first)
			first = r;
	}
	return first;
}

/* One round of the worker; the next one comes a period later (or at a wake). */
static int64_t round_of(void *arg)
{
	struct migrator *m = arg;

	migrator_round(m->reg, &m->index); /* errors are logged there */
	m->rounds++;
	return MIGRATOR_PERIOD_MS;
}

int migrator_start(struct migrator *m, struct registry *reg)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->reg = reg;
	r = migration_index_init(&m->index);
	if (r < 0)
		return r;
	r = worker_start_periodic(&m->worker, MIGRATOR_PERIOD_MS, round_of, m);
	if (r < 0)
		migration_index_destroy(&m->index);
	return r;
}

void migrator_wake(struct migrator *m)
{
	if (m)
		worker_kick(&m->worker);
}

void migrator_stop(struct migrator *m)
{
	worker_stop(&m->worker);
	migration_index_destroy(&m->index);
}
