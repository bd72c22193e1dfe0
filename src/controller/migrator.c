/* SPDX-License-Identifier: MIT */
#include "migrator.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "migration_api.h"
#include "migration_gc.h"

#include <errno.h>
#include <string.h>

int migrator_round(struct registry *reg)
{
	struct store *s = reg->store;
	json_t *items = NULL, *m;
	enum migration_phase p, from, to;
	int64_t rev;
	size_t i;
	int r, first = 0;

	if (reg->obs) {
		int64_t stall = observer_tick(reg->obs);

		if (stall)
			log_warn("the controller was stalled for %lld ms: not counted against the "
				 "nodes and the migrations",
				 (long long)stall);
	}
	r = s->ops->list(s, kind_str(KIND_MIGRATION), &items, &rev);
	if (r < 0)
		return r;
	json_array_foreach(items, i, m)
	{
		const char *name =
		    json_string_value(json_object_get(json_object_get(m, "metadata"), "name"));

		if (migration_phase_of(m, &p) < 0 || migration_phase_finished(p))
			continue;
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
	r = migration_gc(reg, items,
			 reg->keep_finished_migrations > 0 ? reg->keep_finished_migrations
							   : MIGRATION_GC_KEEP);
	if (r < 0) {
		log_error_errno(r, "cannot delete the oldest finished migrations");
		if (!first)
			first = r;
	}
	json_decref(items);
	return first;
}

/* One round of the worker; the next one comes a period later (or at a wake). */
static int64_t round_of(void *arg)
{
	struct migrator *m = arg;

	migrator_round(m->reg); /* errors are logged there */
	m->rounds++;
	return MIGRATOR_PERIOD_MS;
}

int migrator_start(struct migrator *m, struct registry *reg)
{
	memset(m, 0, sizeof(*m));
	m->reg = reg;
	return worker_start_periodic(&m->worker, MIGRATOR_PERIOD_MS, round_of, m);
}

void migrator_wake(struct migrator *m)
{
	if (m)
		worker_kick(&m->worker);
}

void migrator_stop(struct migrator *m)
{
	worker_stop(&m->worker);
}
