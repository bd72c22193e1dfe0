/* SPDX-License-Identifier: MIT */
#include "migration_api.h"
#include "kind_vm.h"

#include <errno.h>
#include <string.h>

#include "lib/clock.h"

#define KIND kind_str(KIND_MIGRATION)

static const char *obj_name(const json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

static const char *spec_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "spec"), key));
}

static void set_revision(json_t *obj, int64_t rev)
{
	json_object_set_new(json_object_get(obj, "metadata"), "revision", json_integer(rev));
}

static int commit(struct registry *reg, int64_t rev)
{
	int r = reg->store->ops->commit(reg->store);

	if (r == 0 && reg->on_commit)
		reg->on_commit(reg->on_commit_ctx, rev);
	return r;
}

int migration_nodes(struct registry *reg, json_t **out)
{
	struct store *s = reg->store;
	json_t *items = NULL, *node, *st;
	int64_t rev;
	size_t i;
	int r;

	r = s->ops->list(s, kind_str(KIND_NODE), &items, &rev);
	if (r < 0)
		return r;
	json_array_foreach(items, i, node)
	{
		st = NULL;
		r = registry_node_status_get(reg, obj_name(node), &st);
		if (r == -ENOENT)
			continue;
		if (r < 0 || json_object_set_new(node, "status", st) < 0) {
			json_decref(items);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*out = items;
	return 0;
}

/* The unfinished migration of port, if any (*name_out borrowed from *list). */
static int find_unfinished(struct store *s, const char *port, json_t **list, const json_t **found)
{
	json_t *items = NULL, *m;
	enum migration_phase p;
	int64_t rev;
	size_t i;
	int r;

	*found = NULL;
	r = s->ops->list(s, KIND, &items, &rev);
	if (r < 0)
		return r;
	json_array_foreach(items, i, m)
	{
		if (strcmp(spec_str(m, "port") ?: "", port) == 0 &&
		    migration_phase_of(m, &p) == 0 && !migration_phase_finished(p)) {
			*found = m;
			break;
		}
	}
	*list = items;
	return 0;
}

/* Checks or picks spec.target (a ready node that is not the source). */
static int choose_target(json_t *mig, const json_t *nodes, const char *source,
			 struct api_error *err)
{
	const char *target = spec_str(mig, "target");
	const json_t *node;
	char live[64];
	size_t i;

	if (target) {
		node = migration_find_node(nodes, target);
		if (!node)
			return api_error_set(err, 404, "spec.target",
					     "spec.target: node \"%s\" does not exist", target);
		if (strcmp(target, source) == 0)
			return api_error_set(err, 422, "spec.target",
					     "spec.target: node %s is the port's current location "
					     "(the source)",
					     target);
		if (!migration_node_ready(node)) {
			migration_node_liveness(node, live, sizeof(live));
			return api_error_set(err, 422, "spec.target",
					     "spec.target: node %s is not ready (%s)", target,
					     live);
		}
		return 0;
	}
	json_array_foreach(nodes, i, node) /* sorted by name: the lowest first */
	{
		if (strcmp(obj_name(node), source) != 0 && migration_node_ready(node))
			return json_object_set_new(json_object_get(mig, "spec"), "target",
						   json_string(obj_name(node))) < 0
				   ? -ENOMEM
				   : 0;
	}
	return api_error_set(err, 422, "spec.target",
			     "spec.target: no ready node other than the source %s to migrate to",
			     source);
}

static int do_create(struct registry *reg, json_t *mig, int64_t rev, int64_t now_ms,
		     json_t **port_out, struct api_error *err)
{
	struct store *s = reg->store;
	const char *name = obj_name(mig), *pname, *source;
	json_t *existing = NULL, *port = NULL, *nodes = NULL, *list = NULL, *locs;
	const json_t *other;
	int64_t n, limit = reg->max_objects > 0 ? reg->max_objects : REGISTRY_MAX_OBJECTS;
	enum migration_phase p;
	int r;

	r = s->ops->get(s, KIND, name, &existing);
	json_decref(existing);
	if (r == 0)
		return api_error_set(err, 409, "metadata.name", "migrations \"%s\" already exists",
				     name);
	if (r != -ENOENT)
		return r;
	r = s->ops->count(s, KIND, &n);
	if (r < 0)
		return r;
	if (n >= limit)
		return api_error_set(err, 507, NULL, "too many migrations (limit %lld)",
				     (long long)limit);
	r = vm_migration_subject(reg, mig, err); /* a VM's migration moves its port */
	if (r < 0)
		return r;
	pname = spec_str(mig, "port");
	r = s->ops->get(s, kind_str(KIND_PORT), pname, &port);
	if (r == -ENOENT)
		return api_error_set(err, 404, "spec.port", "spec.port: port \"%s\" does not exist",
				     pname);
	if (r < 0)
		return r;
	r = find_unfinished(s, pname, &list, &other);
	if (r < 0)
		goto cleanup;
	if (other) {
		migration_phase_of(other, &p);
		r = api_error_set(err, 409, "spec.port",
				  "spec.port: port %s already has an unfinished migration %s "
				  "(phase %s)",
				  pname, obj_name(other), migration_phase_name(p));
		goto cleanup;
	}
	locs = json_object_get(json_object_get(port, "spec"), "locations");
	if (json_array_size(locs) != 1) {
		r = api_error_set(err, 409, "spec.port",
				  "spec.port: port %s has %zu locations; a migration starts from "
				  "exactly one",
				  pname, json_array_size(locs));
		goto cleanup;
	}
	source = json_string_value(json_array_get(locs, 0));
	r = migration_nodes(reg, &nodes);
	if (r < 0)
		goto cleanup;
	r = choose_target(mig, nodes, source, err);
	if (r < 0)
		goto cleanup;
	if (!spec_str(mig, "strategy"))
		json_object_set(json_object_get(mig, "spec"), "strategy",
				json_object_get(json_object_get(port, "spec"), "strategy"));
	json_object_set_new(json_object_get(mig, "metadata"), "created", json_integer(rev));
	set_revision(mig, rev);
	set_revision(port, rev);
	r = migration_start(mig, port, source, now_ms);
	if (r < 0)
		goto cleanup;
	r = migration_evaluate(mig, port, nodes, &(struct migration_clock){.unix_ms = now_ms}, rev);
	if (r < 0)
		goto cleanup;
	r = s->ops->put(s, KIND, name, "ADDED", mig);
	if (r < 0)
		goto cleanup;
	r = s->ops->put(s, kind_str(KIND_PORT), pname, "MODIFIED", port);
	if (r < 0)
		goto cleanup;
	r = vm_follow_migration(reg, mig, port, rev);
	if (r < 0)
		goto cleanup;
	*port_out = port;
	port = NULL;
cleanup:
	json_decref(port);
	json_decref(nodes);
	json_decref(list);
	return r;
}

int migration_create(struct registry *reg, const json_t *body, json_t **out, struct api_error *err)
{
	struct store *s = reg->store;
	json_t *mig = NULL, *port = NULL;
	int64_t rev;
	int r;

	r = api_object_validate(KIND_MIGRATION, body, NULL, &mig, err);
	if (r < 0)
		return r;
	json_object_del(json_object_get(mig, "metadata"), "revision"); /* server-set */
	r = s->ops->begin(s, &rev);
	if (r < 0)
		goto cleanup;
	r = do_create(reg, mig, rev, clock_unix_ms(), &port, err);
	if (r < 0) {
		s->ops->rollback(s);
		goto cleanup;
	}
	r = commit(reg, rev);
	if (r < 0)
		goto cleanup;
	*out = json_incref(mig);
cleanup:
	json_decref(mig);
	json_decref(port);
	return r;
}

int migration_delete(struct registry *reg, const char *name, json_t **out, struct api_error *err)
{
	struct store *s = reg->store;
	enum migration_phase p;
	json_t *old = NULL;
	int64_t rev;
	int r;

	r = s->ops->begin(s, &rev);
	if (r < 0)
		return r;
	r = s->ops->get(s, KIND, name, &old);
	if (r == -ENOENT)
		r = api_error_set(err, 404, NULL, "migrations \"%s\" not found", name);
	if (r < 0)
		goto fail;
	r = migration_phase_of(old, &p);
	if (r < 0)
		goto fail;
	if (!migration_phase_finished(p)) {
		r = api_error_set(err, 409, NULL,
				  "migration %s is unfinished (phase %s); abort it first", name,
				  migration_phase_name(p));
		goto fail;
	}
	r = s->ops->del(s, KIND, name, old);
	if (r < 0)
		goto fail;
	r = commit(reg, rev);
	if (r < 0)
		goto cleanup;
	*out = json_incref(old);
	goto cleanup;
fail:
	s->ops->rollback(s);
cleanup:
	json_decref(old);
	return r;
}

/* The ages migration_decide decides on, from this controller's observer. */
static void clock_of(struct registry *reg, const json_t *mig, int64_t now_ms,
		     struct migration_clock *c)
{
	const json_t *remaining = json_object_get(
	    json_object_get(json_object_get(mig, "status"), "progress"), "remaining");

	memset(c, 0, sizeof(*c));
	c->unix_ms = now_ms;
	if (reg->obs)
		observer_migration(
		    reg->obs, obj_name(mig),
		    json_string_value(json_object_get(json_object_get(mig, "status"), "phase"))
			?: "",
		    json_is_integer(remaining) ? json_integer_value(remaining) : -1, &c->t);
}

/*
 * In a transaction: records the action (when given), evaluates the migration
 * and writes what changed. *mig_out: the migration as it is now.
 */
static int evaluate_locked(struct registry *reg, const char *name, const char *action,
			   const char *reason, int64_t now_ms, int64_t rev, json_t **mig_out,
			   bool *changed, enum migration_phase *from, enum migration_phase *to,
			   struct api_error *err)
{
	struct store *s = reg->store;
	json_t *mig = NULL, *port = NULL, *nodes = NULL, *mig0 = NULL, *port0 = NULL;
	struct migration_clock clock;
	const char *pname;
	bool recorded = false;
	int r;

	r = s->ops->get(s, KIND, name, &mig);
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
	pname = spec_str(mig, "port");
	r = s->ops->get(s, kind_str(KIND_PORT), pname, &port);
	if (r < 0 && r != -ENOENT)
		goto cleanup;
	r = migration_nodes(reg, &nodes);
	if (r < 0)
		goto cleanup;
	clock_of(reg, mig, now_ms, &clock);
	mig0 = json_deep_copy(mig);
	port0 = port ? json_deep_copy(port) : NULL;
	if (!mig0 || (port && !port0)) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = migration_evaluate(mig, port, nodes, &clock, rev);
	if (r < 0)
		goto cleanup;
	migration_phase_of(mig, to);
	if (migration_phase_finished(*to) && reg->obs)
		observer_forget_migration(reg->obs, name);
	if (recorded || !json_equal(mig, mig0)) {
		set_revision(mig, rev);
		r = s->ops->put(s, KIND, name, "MODIFIED", mig);
		if (r < 0)
			goto cleanup;
		*changed = true;
	}
	if (port && !json_equal(port, port0)) {
		set_revision(port, rev);
		r = s->ops->put(s, kind_str(KIND_PORT), pname, "MODIFIED", port);
		if (r < 0)
			goto cleanup;
		r = vm_follow_migration(reg, mig, port, rev);
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
	return r;
}

static int run(struct registry *reg, const char *name, const char *action, const char *reason,
	       int64_t now_ms, json_t **out, enum migration_phase *from, enum migration_phase *to,
	       struct api_error *err)
{
	struct store *s = reg->store;
	json_t *mig = NULL;
	bool changed = false;
	int64_t rev;
	int r;

	r = s->ops->begin(s, &rev);
	if (r < 0)
		return r;
	r = evaluate_locked(reg, name, action, reason, now_ms, rev, &mig, &changed, from, to, err);
	if (r < 0 || !changed) {
		s->ops->rollback(s); /* nothing changed: no revision, no event */
		goto cleanup;
	}
	r = commit(reg, rev);
cleanup:
	if (r == 0 && out)
		*out = json_incref(mig);
	json_decref(mig);
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
