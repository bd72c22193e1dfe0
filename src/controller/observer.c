/* SPDX-License-Identifier: MIT */
#include "observer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/phases.h"

#define BUCKETS 1024

struct seen {
	struct seen *next;
	char *name;
	/* a node */
	int64_t stamp, stamp_at;
	/* a migration */
	char phase[24];
	int64_t phase_at, best_remaining, progress_at, transfer_at;
};

struct table {
	struct seen *bucket[BUCKETS];
};

struct observer {
	pthread_mutex_t lock;
	int64_t (*mono_ms)(void);
	int64_t stalled_ms; /* taken out of CLOCK_MONOTONIC */
	int64_t last_tick;  /* raw monotonic ms of the last tick (0: none yet) */
	struct table nodes, migrations;
};

static unsigned int hash(const char *s)
{
	unsigned int h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % BUCKETS;
}

/* The entry of name, created when missing (NULL only without memory). */
static struct seen *lookup(struct table *t, const char *name, bool *created)
{
	struct seen **head = &t->bucket[hash(name)], *e;

	*created = false;
	for (e = *head; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		return NULL;
	}
	e->next = *head;
	*head = e;
	*created = true;
	return e;
}

static void table_clear(struct table *t)
{
	for (int i = 0; i < BUCKETS; i++)
		while (t->bucket[i]) {
			struct seen *e = t->bucket[i];

			t->bucket[i] = e->next;
			free(e->name);
			free(e);
		}
}

int observer_new(struct observer **out)
{
	struct observer *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	o->mono_ms = clock_mono_ms;
	*out = o;
	return 0;
}

void observer_set_clock(struct observer *o, int64_t (*mono_ms)(void))
{
	o->mono_ms = mono_ms;
}

void observer_free(struct observer *o)
{
	if (!o)
		return;
	table_clear(&o->nodes);
	table_clear(&o->migrations);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

static int64_t now_locked(const struct observer *o)
{
	return o->mono_ms() - o->stalled_ms;
}

int64_t observer_now(struct observer *o)
{
	int64_t t;

	pthread_mutex_lock(&o->lock);
	t = now_locked(o);
	pthread_mutex_unlock(&o->lock);
	return t;
}

int64_t observer_tick(struct observer *o)
{
	int64_t raw, stall = 0;

	pthread_mutex_lock(&o->lock);
	raw = o->mono_ms();
	if (o->last_tick && raw - o->last_tick > OBSERVER_STALL_MS)
		stall = raw - o->last_tick;
	o->stalled_ms += stall;
	o->last_tick = raw;
	pthread_mutex_unlock(&o->lock);
	return stall;
}

int64_t observer_node_age(struct observer *o, const char *node, int64_t stamp)
{
	struct seen *e;
	int64_t now, age = 0;
	bool created;

	pthread_mutex_lock(&o->lock);
	now = now_locked(o);
	e = lookup(&o->nodes, node, &created);
	if (e && (created || e->stamp != stamp)) {
		e->stamp = stamp;
		e->stamp_at = now;
	}
	if (e)
		age = now - e->stamp_at;
	pthread_mutex_unlock(&o->lock);
	return age;
}

void observer_migration(struct observer *o, const char *name, const char *phase, int64_t remaining,
			struct migration_times *out)
{
	struct seen *e;
	int64_t now;
	bool created;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&o->lock);
	now = now_locked(o);
	e = lookup(&o->migrations, name, &created);
	if (!e)
		goto done;
	if (created || strcmp(e->phase, phase) != 0) {
		snprintf(e->phase, sizeof(e->phase), "%s", phase);
		e->phase_at = e->progress_at = now;
		e->best_remaining = -1;
		if (migration_phase_is(phase, MIGRATION_RUNNING))
			e->transfer_at = now;
	}
	if (remaining >= 0 && (e->best_remaining < 0 || remaining < e->best_remaining)) {
		e->best_remaining = remaining;
		e->progress_at = now;
	}
	out->in_phase_ms = now - e->phase_at;
	out->since_progress_ms = now - e->progress_at;
	out->in_transfer_ms =
	    migration_phase_is(phase, MIGRATION_RUNNING) ? now - e->transfer_at : 0;
done:
	pthread_mutex_unlock(&o->lock);
}

void observer_forget_migration(struct observer *o, const char *name)
{
	struct seen **pe;

	pthread_mutex_lock(&o->lock);
	for (pe = &o->migrations.bucket[hash(name)]; *pe; pe = &(*pe)->next) {
		if (strcmp((*pe)->name, name) == 0) {
			struct seen *e = *pe;

			*pe = e->next;
			free(e->name);
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&o->lock);
}
