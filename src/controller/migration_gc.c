/* SPDX-License-Identifier: MIT */
#include "migration_gc.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "migration.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct finished {
	const char *subject, *name;
	json_int_t created;
};

/* By subject, then newest first (the name breaks a tie, for a stable order). */
static int by_subject_newest(const void *pa, const void *pb)
{
	const struct finished *a = pa, *b = pb;
	int c = strcmp(a->subject, b->subject);

	if (c)
		return c;
	if (a->created != b->created)
		return a->created > b->created ? -1 : 1;
	return strcmp(b->name, a->name);
}

static bool finished_of(const json_t *m, struct finished *f)
{
	const json_t *meta = json_object_get(m, "metadata");
	enum migration_phase p;

	f->name = json_string_value(json_object_get(meta, "name"));
	f->subject = json_string_value(json_object_get(json_object_get(m, "spec"), "port"));
	f->created = json_integer_value(json_object_get(meta, "created"));
	return f->name && f->subject && migration_phase_of(m, &p) == 0 &&
	       migration_phase_finished(p);
}

int migration_gc_select(const json_t *items, int keep, json_t **names)
{
	size_t n = 0, i, run = 0;
	struct finished *all;
	const json_t *m;
	json_t *out;
	int r = 0;

	if (keep < 1)
		return -EINVAL;
	all = calloc(json_array_size(items) + 1, sizeof(*all));
	out = json_array();
	if (!all || !out) {
		r = -ENOMEM;
		goto cleanup;
	}
	json_array_foreach(items, i, m)
	{
		if (finished_of(m, &all[n]))
			n++;
	}
	qsort(all, n, sizeof(*all), by_subject_newest);
	for (i = 0; i < n; i++) {
		run = i > 0 && strcmp(all[i].subject, all[i - 1].subject) == 0 ? run + 1 : 0;
		if (run >= (size_t)keep &&
		    json_array_append_new(out, json_string(all[i].name)) < 0) {
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

int migration_gc(struct registry *reg, const json_t *items, int keep)
{
	json_t *names = NULL, *name;
	int r, first = 0, deleted = 0;
	size_t i;

	r = migration_gc_select(items, keep, &names);
	if (r < 0)
		return r;
	json_array_foreach(names, i, name)
	{
		struct api_error err = {0};
		json_t *gone = NULL;

		r = registry_delete(reg, KIND_MIGRATION, json_string_value(name), &gone, &err);
		json_decref(gone);
		if (r == 0)
			deleted++;
		else if (err.status != 404 && !first) /* 404: deleted meanwhile */
			first = r;
	}
	if (deleted)
		log_info("%d finished migrations deleted (the newest %d of each port are kept)",
			 deleted, keep);
	json_decref(names);
	return first ? first : deleted;
}
