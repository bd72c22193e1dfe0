/* SPDX-License-Identifier: MIT */
#include "migration_api.h"
#include "kind.h"
#include "kind_node.h"
#include "kind_vm.h"
#include "metrics.h"

#include <errno.h>
#include <string.h>

#include "lib/clock.h"

/* The ages migration_decide decides on, from this controller's observer. */
static void clock_of(struct registry *reg, const json_t *mig, int64_t now_ms,
		     struct migration_clock *c)
{
	const json_t *remaining = json_object_get(
	    json_object_get(json_object_get(mig, "status"), "progress"), "remaining");

	memset(c, 0, sizeof(*c));
	c->unix_ms = now_ms;
	if (reg->obs)
		observer_migration(reg->obs, obj_name(mig), obj_str(mig, "status", "phase") ?: "",
				   json_is_integer(remaining) ? json_integer_value(remaining) : -1,
				   &c->t);
}

/*
 * In a transaction: records the action (when given), evaluates the migration
 * and writes what changed. *mig_out: the migration as it is now.
 */
static int evaluate_locked(struct txn *t, const char *name, const char *action, const char *reason,
			   int64_t now_ms, json_t **mig_out, bool *changed,
			   enum migration_phase *from, enum migration_phase *to,
			   struct api_error *err)
{
	struct registry *reg = t->reg;
	json_t *mig = NULL, *port = NULL, *nodes = NULL, *mig0 = NULL, *port0 = NULL, *vm = NULL;
	struct migration_clock clock;
	const char *pname;
	bool recorded = false;
	int r;

	r = txn_get(t, KIND_MIGRATION, name, &mig);
	if (r == -ENOENT && err)
		r = api_error_set(err, 404, NULL, "migrations \"%s\" not found", name);
	if (r < 0)
		return r;
	r = migration_phase_of(mig, from);
	if (r < 0)
		goto cleanup;
	*to = *from;
	*changed = false;
	if (migration_phase_finished(*from) && !action)
		goto done;
	if (action) {
		r = migration_request(mig, action, reason, now_ms, &recorded, err);
		if (r < 0)
			goto cleanup;
	}
	pname = obj_spec_str(mig, "port");
	r = txn_get(t, KIND_PORT, pname, &port);
	if (r < 0 && r != -ENOENT)
		goto cleanup;
	r = node_list(reg, &nodes);
	if (r < 0)
		goto cleanup;
	clock_of(reg, mig, now_ms, &clock);
	mig0 = json_deep_copy(mig);
	port0 = port ? json_deep_copy(port) : NULL;
	if (!mig0 || (port && !port0)) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = migration_evaluate(mig, port, nodes, &clock, t->rev);
	if (r < 0)
		goto cleanup;
	migration_phase_of(mig, to);
	if (migration_phase_finished(*to) && reg->obs)
		observer_forget_migration(reg->obs, name);
	if (recorded || !json_equal(mig, mig0)) {
		txn_stamp(t, mig);
		r = txn_put(t, KIND_MIGRATION, mig, "MODIFIED");
		if (r < 0)
			goto cleanup;
		*changed = true;
	}
	if (port && !json_equal(port, port0)) {
		txn_stamp(t, port);
		r = txn_put(t, KIND_PORT, port, "MODIFIED");
		if (r < 0)
			goto cleanup;
		r = vm_follow_migration(t, mig, port, &vm);
		if (r == 0 && vm)
			r = txn_put(t, KIND_VM, vm, "MODIFIED");
		if (r < 0)
			goto cleanup;
		*changed = true;
	}
done:
	*mig_out = mig;
	mig = NULL;
	r = 0;
cleanup:
	json_decref(mig);
	json_decref(port);
	json_decref(nodes);
	json_decref(mig0);
	json_decref(port0);
	json_decref(vm);
	return r;
}

static int run_once(struct registry *reg, const char *name, const char *action, const char *reason,
		    int64_t now_ms, json_t **out, enum migration_phase *from,
		    enum migration_phase *to, struct api_error *err)
{
	json_t *mig = NULL;
	bool changed = false;
	struct txn t;
	int r;

	r = txn_begin(&t, reg, kind_ops_table);
	if (r < 0)
		return r;
	r = evaluate_locked(&t, name, action, reason, now_ms, &mig, &changed, from, to, err);
	if (r < 0 || !changed) {
		txn_rollback(&t); /* nothing changed: no revision, no event */
		goto cleanup;
	}
	r = txn_commit(&t);
	if (r == 0 && !migration_phase_finished(*from) && migration_phase_finished(*to))
		metrics_migration_finished(reg->metrics, mig);
cleanup:
	if (r == 0 && out)
		*out = json_incref(mig);
	json_decref(mig);
	return r;
}

/* Again while the commit lost to another controller's (registry.c). */
static int run(struct registry *reg, const char *name, const char *action, const char *reason,
	       int64_t now_ms, json_t **out, enum migration_phase *from, enum migration_phase *to,
	       struct api_error *err)
{
	int r, tries = 0;

	do
		r = run_once(reg, name, action, reason, now_ms, out, from, to, err);
	while (txn_retry(r, &tries));
	return r;
}

int migration_action(struct registry *reg, const char *name, const char *action, const json_t *body,
		     json_t **out, struct api_error *err)
{
	enum migration_phase from, to;
	enum migration_action a;
	const char *reason = NULL, *key;
	json_t *j;

	if (migration_action_parse(action, &a) < 0)
		return api_error_set(err, 404, NULL,
				     "unknown action \"%.64s\" (abort, running, complete, fail)",
				     action);
	if (body) {
		json_object_foreach((json_t *)body, key, j)
		{
			if (strcmp(key, "reason") != 0)
				return api_error_set(err, 400, key,
						     "unknown field \"%.64s\" (an action takes "
						     "only \"reason\")",
						     key);
		}
		j = json_object_get(body, "reason");
		if (j && !json_is_string(j))
			return api_error_set(err, 400, "reason", "reason: expected a string");
		reason = json_string_value(j);
	}
	if (a != MIGRATION_ACTION_FAIL && reason)
		return api_error_set(err, 400, "reason", "reason: only \"fail\" takes a reason");
	return run(reg, name, action, reason, clock_unix_ms(), out, &from, &to, err);
}

int migration_advance(struct registry *reg, const char *name, enum migration_phase *from,
		      enum migration_phase *to)
{
	return run(reg, name, NULL, NULL, clock_unix_ms(), NULL, from, to, NULL);
}
