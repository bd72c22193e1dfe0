/* SPDX-License-Identifier: MIT */
#include "migration_index.h"
#include "lib/kinds.h"
#include "migration.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int migration_index_init(struct migration_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->revision = -1;
	ix->unfinished = json_object();
	ix->finished = json_object();
	if (!ix->unfinished || !ix->finished) {
		migration_index_destroy(ix);
		return -ENOMEM;
	}
	return 0;
}

void migration_index_destroy(struct migration_index *ix)
{
	json_decref(ix->unfinished);
	json_decref(ix->finished);
	ix->unfinished = ix->finished = NULL;
}

/* What migration_gc_select() reads of a finished Migration, nothing more. */
static json_t *finished_copy(const json_t *m, const char *name)
{
	const json_t *meta = json_object_get(m, "metadata");

	return json_pack("{s:{s:s, s:O?}, s:{s:O?}, s:{s:O?}}", "metadata", "name", name, "created",
			 json_object_get(meta, "created"), "spec", "port",
			 json_object_get(json_object_get(m, "spec"), "port"), "status", "phase",
			 json_object_get(json_object_get(m, "status"), "phase"));
}

int migration_index_apply(struct migration_index *ix, const json_t *obj, bool gone)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	enum migration_phase p;
	json_t *copy;

	if (!kind || strcmp(kind, kind_str(KIND_MIGRATION)) != 0 || !name)
		return 0;
	if (gone) {
		json_object_del(ix->unfinished, name);
		json_object_del(ix->finished, name);
		return 0;
	}
	/* A phase the migrator cannot read is skipped by a round as before: it
	 * counts as finished here, so that it costs nothing either. */
	if (migration_phase_of(obj, &p) == 0 && !migration_phase_finished(p)) {
		json_object_del(ix->finished, name);
		return json_object_set_new(ix->unfinished, name, json_true()) < 0 ? -ENOMEM : 0;
	}
	json_object_del(ix->unfinished, name);
	if (json_object_get(ix->finished, name))
		return 0; /* finished stays finished: its copy is unchanged */
	copy = finished_copy(obj, name);
	if (!copy || json_object_set_new(ix->finished, name, copy) < 0)
		return -ENOMEM;
	ix->gc_due = true;
	return 0;
}

static int apply_listed(const json_t *m, void *ix)
{
	return migration_index_apply(ix, m, false);
}

static int relist(struct migration_index *ix, struct store *s)
{
	int64_t rev = -1;
	int r;

	json_object_clear(ix->unfinished);
	json_object_clear(ix->finished);
	r = store_each(s, kind_str(KIND_MIGRATION), apply_listed, ix, &rev);
	if (r != 0) {
		ix->revision = -1;
		return r;
	}
	ix->revision = rev;
	ix->gc_due = true; /* what was deleted before the list is not known */
	ix->lists++;
	return 0;
}

int migration_index_sync(struct migration_index *ix, struct store *s)
{
	json_t *events = NULL, *ev;
	int64_t oldest, last = ix->revision;
	size_t i;
	int r = 0;

	if (ix->revision < 0)
		return relist(ix, s);
	r = s->ops->events(s, ix->revision, MIGRATION_INDEX_BATCH, &events, &oldest);
	if (r == -ESTALE)
		return relist(ix, s);
	if (r < 0)
		return r;
	if (json_array_size(events) == MIGRATION_INDEX_BATCH) {
		json_decref(events); /* the batch may end inside a revision: list */
		return relist(ix, s);
	}
	json_array_foreach(events, i, ev)
	{
		const char *type = json_string_value(json_object_get(ev, "type"));

		r = migration_index_apply(ix, json_object_get(ev, "object"),
					  type && strcmp(type, "DELETED") == 0);
		if (r < 0)
			break;
		last = json_integer_value(json_object_get(ev, "revision"));
	}
	json_decref(events);
	ix->revision = r < 0 ? -1 : last; /* half applied: list at the next sync */
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int migration_index_unfinished(const struct migration_index *ix, json_t **names)
{
	size_t n = json_object_size(ix->unfinished), i = 0;
	const char **all = calloc(n + 1, sizeof(*all));
	json_t *out = json_array(), *v;
	const char *name;
	int r = 0;

	if (!all || !out) {
		r = -ENOMEM;
		goto cleanup;
	}
	json_object_foreach((json_t *)ix->unfinished, name, v) all[i++] = name;
	qsort(all, n, sizeof(*all), by_name); /* the order of a store list, as before */
	for (i = 0; i < n; i++) {
		if (json_array_append_new(out, json_string(all[i])) < 0) {
			r = -ENOMEM;
			goto cleanup;
		}
	}
	*names = out;
	out = NULL;
cleanup:
	json_decref(out);
	free(all);
	return r;
}

int migration_index_finished(const struct migration_index *ix, json_t **items)
{
	json_t *out = json_array(), *v;
	const char *name;

	if (!out)
		return -ENOMEM;
	json_object_foreach((json_t *)ix->finished, name, v)
	{
		if (json_array_append(out, v) < 0) {
			json_decref(out);
			return -ENOMEM;
		}
	}
	*items = out;
	return 0;
}
