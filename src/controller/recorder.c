/* SPDX-License-Identifier: MIT */
#include "recorder.h"
#include "api_objects.h"
#include "kind.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/phases.h"
#include "lib/worker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGES_BATCH 1000 /* changes read from the store per step */

struct recorder {
	struct registry *reg;
	struct worker worker;
	bool learned;	    /* the first round is over */
	int64_t since;	    /* the change log's position (store revision) */
	json_t *migrations; /* name -> the phase seen */
	json_t *vms;	    /* name -> seen */
	json_t *nodes;	    /* name -> seen */
};

static int add_event(json_t *events, enum kind kind, const char *name, bool warning,
		     const char *reason, const char *node, const char *fmt, ...)
{
	char message[512];
	json_t *ev;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	ev = json_pack("{s:{s:s, s:s}, s:s, s:s, s:s}", "object", "kind", kind_str(kind), "name",
		       name, "type", warning ? "Warning" : "Normal", "reason", reason, "message",
		       message);
	if (ev && node && json_object_set_new(ev, "node", json_string(node)) < 0) {
		json_decref(ev);
		ev = NULL;
	}
	return ev ? json_array_append_new(events, ev) == 0 ? 0 : -ENOMEM : -ENOMEM;
}

static int remember(json_t **seen, json_t *now)
{
	if (!now)
		return -ENOMEM;
	json_decref(*seen);
	*seen = now;
	return 0;
}

int recorder_diff_vm(const json_t *item, json_t **seen, bool learn, json_t *events)
{
	const char *name = obj_str(item, "metadata", "name");
	const char *phase = obj_str(item, "status", "phase") ?: "";
	const char *node = obj_str(item, "status", "node") ?: obj_str(item, "spec", "node");
	const char *why = obj_str(item, "status", "reason");
	json_int_t resets =
	    json_integer_value(json_object_get(json_object_get(item, "status"), "guest_resets"));
	const char *was = json_string_value(json_object_get(*seen, "phase"));
	json_int_t had = json_integer_value(json_object_get(*seen, "resets"));
	int r = 0;

	if (!name)
		return -EINVAL;
	if (!learn && *seen && strcmp(was ?: "", phase) != 0 && *phase)
		r = add_event(events, KIND_VM, name, strcmp(phase, "Failed") == 0, phase, node,
			      "vm %s is %s%s%s%s%s", name, phase, node ? " on " : "", node ?: "",
			      why ? ": " : "", why ?: "");
	if (r == 0 && !learn && *seen && resets > had)
		r = add_event(events, KIND_VM, name, true, "GuestReset", node,
			      "the guest of vm %s reset (%lld resets so far)", name,
			      (long long)resets);
	if (r < 0)
		return r;
	return remember(seen, json_pack("{s:s, s:I}", "phase", phase, "resets", resets));
}

int recorder_diff_node(const json_t *item, json_t **seen, bool learn, json_t *events)
{
	const char *name = obj_str(item, "metadata", "name");
	bool ready = json_is_true(json_object_get(json_object_get(item, "status"), "ready"));
	int r = 0;

	if (!name)
		return -EINVAL;
	if (!learn && *seen && json_is_true(*seen) != ready)
		r = add_event(
		    events, KIND_NODE, name, !ready, ready ? "NodeReady" : "NodeNotReady", name,
		    ready ? "node %s is ready" : "node %s is not ready: no report for %d s", name,
		    NODE_READY_MS / 1000);
	if (r < 0)
		return r;
	return remember(seen, json_boolean(ready));
}

int recorder_diff_migration(const json_t *item, json_t **seen, bool learn, json_t *events)
{
	const char *name = obj_str(item, "metadata", "name");
	const char *phase = obj_str(item, "status", "phase");
	const char *subject = obj_str(item, "spec", "vm") ?: obj_str(item, "spec", "port");
	const char *why = obj_str(item, "status", "reason");
	const char *target = obj_str(item, "spec", "target");
	const char *was = json_string_value(*seen);
	enum migration_phase p;
	char reason[48];
	int r = 0;

	if (!name || !phase || migration_phase_parse(phase, &p) < 0)
		return -EINVAL;
	if (!learn && (!was || strcmp(was, phase) != 0)) {
		bool bad = p == MIGRATION_FAILED || p == MIGRATION_ABORTED;

		snprintf(reason, sizeof(reason), "Migration%s", phase);
		r = add_event(
		    events, KIND_MIGRATION, name, bad, reason, target,
		    "migration %s of %s to %s: %s%s%s", name, subject ?: "?", target ?: "?",
		    bad ? (p == MIGRATION_FAILED ? "failed" : "aborted") : migration_phase_label(p),
		    why && bad ? ": " : "", why && bad ? why : "");
	}
	if (r < 0)
		return r;
	return remember(seen, json_string(phase));
}

/* ---- the round ------------------------------------------------------------ */

/* Every listed object of kind through diff; the ones gone are forgotten. */
static int diff_listed(struct recorder *rec, enum kind kind, json_t *memory, json_t *events,
		       int (*diff)(const json_t *, json_t **, bool, json_t *))
{
	struct api_error err = {0};
	json_t *list = NULL, *item, *keep = json_object(), *seen;
	size_t i;
	int r;

	if (!keep)
		return -ENOMEM;
	r = registry_list(rec->reg, kind, &list, &err);
	if (r < 0)
		goto cleanup;
	json_array_foreach(json_object_get(list, "items"), i, item)
	{
		const char *name = obj_str(item, "metadata", "name");

		if (!name)
			continue;
		seen = json_incref(json_object_get(memory, name));
		r = diff(item, &seen, !rec->learned, events);
		if (r == 0 && json_object_set_new(keep, name, seen) < 0)
			r = -ENOMEM;
		if (r < 0)
			goto cleanup;
	}
	r = json_object_clear(memory) == 0 && json_object_update(memory, keep) == 0 ? 0 : -ENOMEM;
cleanup:
	json_decref(list);
	json_decref(keep);
	return r;
}

/* Finished migrations stay remembered until deleted: a late write of their
 * figures is no new phase. */
static int diff_migration_object(struct recorder *rec, const json_t *obj, bool learn,
				 json_t *events)
{
	const char *name = obj_str(obj, "metadata", "name");
	json_t *seen;
	int r;

	if (!name)
		return 0;
	seen = json_incref(json_object_get(rec->migrations, name));
	r = recorder_diff_migration(obj, &seen, learn, events);
	if (r == -EINVAL) { /* a phase this controller does not know: skip it */
		json_decref(seen);
		return 0;
	}
	if (r < 0)
		return r;
	return json_object_set_new(rec->migrations, name, seen) == 0 ? 0 : -ENOMEM;
}

/* From a list, silently: where the change log starts (the first round, or
 * after -ESTALE). */
static int learn_one(const json_t *m, void *rec)
{
	return diff_migration_object(rec, m, true, NULL);
}

static int learn_migrations(struct recorder *rec)
{
	json_object_clear(rec->migrations);
	return store_each(rec->reg->store, kind_str(KIND_MIGRATION), learn_one, rec, &rec->since);
}

static int follow_migrations(struct recorder *rec, json_t *events)
{
	struct store *s = rec->reg->store;
	const char *mig = kind_str(KIND_MIGRATION);
	json_t *changes = NULL, *ch;
	int64_t oldest;
	size_t i, n;
	int r;

	do {
		r = s->ops->events(s, rec->since, CHANGES_BATCH, &changes, &oldest);
		if (r == -ESTALE)
			return learn_migrations(rec);
		if (r < 0)
			return r;
		n = json_array_size(changes);
		json_array_foreach(changes, i, ch)
		{
			const json_t *obj = json_object_get(ch, "object");
			const char *type = json_string_value(json_object_get(ch, "type"));
			json_int_t rev = json_integer_value(json_object_get(ch, "revision"));

			if (rev > rec->since)
				rec->since = rev;
			if (!type ||
			    strcmp(json_string_value(json_object_get(obj, "kind")) ?: "", mig) != 0)
				continue;
			if (strcmp(type, "DELETED") == 0) {
				json_object_del(rec->migrations,
						obj_str(obj, "metadata", "name") ?: "");
				continue;
			}
			r = diff_migration_object(rec, obj, false, events);
			if (r < 0)
				break;
		}
		json_decref(changes);
	} while (r == 0 && n == CHANGES_BATCH);
	return r;
}

/* The oldest events beyond RECORDER_KEEP, once there are RECORDER_SLACK too many. */
static int trim(struct txn *t)
{
	struct store *s = t->store;
	const char *kind = kind_str(KIND_EVENT);
	struct api_error err = {0};
	json_t *items = NULL, *item;
	int64_t n, rev;
	size_t i;
	int r;

	r = s->ops->count(s, kind, &n);
	if (r < 0 || n <= RECORDER_KEEP + RECORDER_SLACK)
		return r;
	r = s->ops->list(s, kind, &items, &rev); /* by name: oldest first */
	if (r < 0)
		return r;
	json_array_foreach(items, i, item)
	{
		if ((int64_t)i >= n - RECORDER_KEEP)
			break;
		r = txn_delete(t, KIND_EVENT, item, &err);
		if (r < 0)
			break;
	}
	json_decref(items);
	return r;
}

static int write_events(struct recorder *rec, const json_t *events)
{
	struct api_error err = {0};
	json_t *ev, *obj;
	char name[48];
	struct txn t;
	size_t i;
	int r;

	r = txn_begin(&t, rec->reg, kind_ops_table);
	if (r < 0)
		return r;
	json_array_foreach(events, i, ev)
	{
		snprintf(name, sizeof(name), "ev-%012lld-%zu", (long long)t.rev, i);
		obj = json_pack("{s:s, s:s, s:{s:s}, s:O}", "apiVersion", API_VERSION, "kind",
				kind_str(KIND_EVENT), "metadata", "name", name, "spec", ev);
		if (!obj || json_object_set_new(json_object_get(obj, "spec"), "time_ms",
						json_integer(clock_unix_ms())) < 0) {
			json_decref(obj);
			r = -ENOMEM;
			break;
		}
		r = txn_create(&t, KIND_EVENT, obj, &err);
		json_decref(obj);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = trim(&t);
	if (r < 0) {
		txn_rollback(&t);
		return r;
	}
	return txn_commit(&t);
}

static int64_t round_once(void *ctx)
{
	struct recorder *rec = ctx;
	json_t *events = json_array();
	int r;

	if (!events || !registry_leads(rec->reg)) {
		rec->learned = false; /* the leader records; learn again on leading */
		json_decref(events);
		return RECORDER_PERIOD_MS;
	}
	r = rec->learned ? follow_migrations(rec, events) : learn_migrations(rec);
	if (r == 0)
		r = diff_listed(rec, KIND_NODE, rec->nodes, events, recorder_diff_node);
	if (r == 0)
		r = diff_listed(rec, KIND_VM, rec->vms, events, recorder_diff_vm);
	if (r == 0 && json_array_size(events) > 0)
		r = write_events(rec, events);
	if (r < 0)
		log_warn_errno(r, "events: cannot record %zu event(s) this round",
			       json_array_size(events));
	else
		rec->learned = true;
	json_decref(events);
	return RECORDER_PERIOD_MS;
}

int recorder_start(struct registry *reg, struct recorder **out)
{
	struct recorder *rec = calloc(1, sizeof(*rec));
	int r = -ENOMEM;

	if (!rec)
		return -ENOMEM;
	rec->reg = reg;
	rec->migrations = json_object();
	rec->vms = json_object();
	rec->nodes = json_object();
	if (rec->migrations && rec->vms && rec->nodes)
		r = worker_start_periodic(&rec->worker, 0, round_once, rec);
	if (r < 0) {
		json_decref(rec->migrations);
		json_decref(rec->vms);
		json_decref(rec->nodes);
		free(rec);
		return r;
	}
	*out = rec;
	return 0;
}

void recorder_stop(struct recorder *rec)
{
	if (!rec)
		return;
	worker_stop(&rec->worker);
	json_decref(rec->migrations);
	json_decref(rec->vms);
	json_decref(rec->nodes);
	free(rec);
}
