/* SPDX-License-Identifier: MIT */
#include "migrator.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "migration_api.h"

#include <errno.h>
#include <string.h>
#include <time.h>

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
	r = s->ops->list(s, "Migration", &items, &rev);
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
	json_decref(items);
	return first;
}

static void *loop(void *arg)
{
	struct migrator *m = arg;
	struct timespec deadline;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		deadline = clock_mono_after(MIGRATOR_PERIOD_MS);
		while (!m->wake && !m->stop &&
		       pthread_cond_timedwait(&m->cond, &m->lock, &deadline) == 0)
			;
		if (m->stop)
			break;
		m->wake = false;
		pthread_mutex_unlock(&m->lock);
		migrator_round(m->reg); /* errors are logged there */
		pthread_mutex_lock(&m->lock);
		m->rounds++;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int migrator_start(struct migrator *m, struct registry *reg)
{
	pthread_condattr_t attr;
	int r;

	memset(m, 0, sizeof(*m));
	m->reg = reg;
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &attr);
	pthread_condattr_destroy(&attr);
	r = -pthread_create(&m->thread, NULL, loop, m);
	if (r < 0) {
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
		return r;
	}
	m->running = true;
	return 0;
}

void migrator_wake(struct migrator *m)
{
	if (!m || !m->running)
		return;
	pthread_mutex_lock(&m->lock);
	m->wake = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

void migrator_stop(struct migrator *m)
{
	if (!m->running)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	m->running = false;
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
}
