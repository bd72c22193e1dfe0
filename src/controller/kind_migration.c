/* SPDX-License-Identifier: MIT */
/*
 * The Migration kind (docs/MIGRATION.md): its spec, its creation, which
 * starts it (the state machine is migration.h; its actions and evaluation
 * migration_api.h), and its deletion once finished. A migration is never
 * PUT (405).
 */
#include "auth.h"
#include "kind.h"
#include "kind_node.h"
#include "kind_port.h"
#include "kind_vm.h"
#include "lib/clock.h"
#include "lib/migtls.h"
#include "migration.h"
#include "migration_vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int migration_validate(const json_t *spec, const char *name, json_t *out,
			      struct api_error *err)
{
	(void)name;
	static const char *const allowed[] = {"port",
					      "vm",
					      "target",
					      "strategy",
					      "timeout_s",
					      "downtime_ms",
					      "max_bandwidth_mib",
					      "replicate",
					      "tls",
					      "progress_timeout_s",
					      "completion_timeout_per_gib_s",
					      NULL};
	/* The knobs of a VM migration: the hypervisor's (read by the source
	 * agent) and the transfer's bounds (migration_vm.h). */
	static const struct {
		const char *key, *field;
		json_int_t max;
	} knobs[] = {{"downtime_ms", "spec.downtime_ms", 60000},
		     {"max_bandwidth_mib", "spec.max_bandwidth_mib", 1048576},
		     {"progress_timeout_s", "spec.progress_timeout_s", 86400},
		     {"completion_timeout_per_gib_s", "spec.completion_timeout_per_gib_s", 86400}};
	/* absent: left out (replicate: the strategy's; tls: the controller's default) */
	static const char *const flags[] = {"spec.replicate", "spec.tls"};
	const char *port, *vm;
	json_int_t timeout = MIGRATION_TIMEOUT_DEFAULT_S;
	json_t *j;
	int r;

	r = api_check_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	/*
	 * The subject: a port, or a VM (whose port the migration moves). For a
	 * VM the controller fills spec.port with the VM's port; a normalised VM
	 * migration therefore carries both, and must have both equal.
	 */
	r = api_get_name(spec, "port", "spec.port", "a valid name", &port, err);
	if (r < 0)
		return r;
	r = api_get_name(spec, "vm", "spec.vm", "a valid name", &vm, err);
	if (r < 0)
		return r;
	if (!port && !vm)
		return api_error_set(err, 400, "spec.port",
				     "spec.port or spec.vm is required (what to migrate)");
	if (port && vm && strcmp(port, vm) != 0)
		return api_error_set(err, 400, "spec.vm",
				     "spec.vm: \"%s\" and spec.port \"%s\" differ (a VM's port "
				     "has the VM's name); give one of them",
				     vm, port);
	if (!vm && json_object_get(spec, "tls"))
		return api_error_set(err, 400, "spec.tls",
				     "spec.tls: a port's migration has no stream to encrypt (spec.tls "
				     "is for a VM's)");
	if (port)
		json_object_set_new(out, "port", json_string(port));
	if (vm)
		json_object_set_new(out, "vm", json_string(vm));

	r = api_copy_name(spec, "target", "spec.target", "a node name", out, err);
	if (r < 0)
		return r;

	/* Absent: the port's own strategy (filled in at creation). */
	r = api_get_strategy(spec, false, out, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		j = json_object_get(spec, flags[i] + strlen("spec."));
		if (j && !json_is_boolean(j))
			return api_error_set(err, 400, flags[i], "%s: must be true or false",
					     flags[i]);
		if (j)
			json_object_set(out, flags[i] + strlen("spec."), j);
	}
	j = json_object_get(spec, "timeout_s");
	if (j) {
		r = api_expect_type(j, JSON_INTEGER, "spec.timeout_s", err);
		if (r < 0)
			return r;
		timeout = json_integer_value(j);
		if (timeout < 1 || timeout > MIGRATION_TIMEOUT_MAX_S)
			return api_error_set(err, 400, "spec.timeout_s",
					     "spec.timeout_s: %lld is out of range 1..%d",
					     (long long)timeout, MIGRATION_TIMEOUT_MAX_S);
	}
	json_object_set_new(out, "timeout_s", json_integer(timeout));
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		j = json_object_get(spec, knobs[i].key);
		if (!j)
			continue;
		r = api_expect_type(j, JSON_INTEGER, knobs[i].field, err);
		if (r < 0)
			return r;
		if (json_integer_value(j) < 1 || json_integer_value(j) > knobs[i].max)
			return api_error_set(err, 400, knobs[i].field,
					     "%s: %lld is out of range 1..%lld", knobs[i].field,
					     (long long)json_integer_value(j),
					     (long long)knobs[i].max);
		json_object_set(out, knobs[i].key, j);
	}
	return 0;
}

/* The unfinished migration of port, if any (*name_out borrowed from *list). */
static int find_unfinished(struct txn *t, const char *port, json_t **list, const json_t **found)
{
	json_t *items = NULL, *m;
	enum migration_phase p;
	size_t i;
	int r;

	*found = NULL;
	r = txn_list(t, KIND_MIGRATION, &items);
	if (r < 0)
		return r;
	json_array_foreach(items, i, m)
	{
		if (strcmp(obj_spec_str(m, "port") ?: "", port) == 0 &&
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
	const char *target = obj_spec_str(mig, "target");
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

/* A VM migration's TLS key, wrapped for its two nodes (lib/migtls.h), when
 * spec.tls (absent: the controller's --migration-tls) asks for it; a port
 * migration has no stream. */
static int add_transport(struct txn *t, json_t *mig, const char *source)
{
	const json_t *tls = json_object_get(json_object_get(mig, "spec"), "tls");
	char *src = NULL, *tgt = NULL;
	json_t *transport = NULL;
	int r;

	if (!migration_is_vm(mig))
		return 0; /* no stream (spec.tls refused at validation) */
	if (!tls)
		json_object_set_new(json_object_get(mig, "spec"), "tls",
				    json_boolean(t->reg->migration_tls));
	if (!json_is_true(json_object_get(json_object_get(mig, "spec"), "tls")))
		return 0;
	r = auth_stream_secret(t->store, source, t->reg->admin_token ?: "", &src);
	if (r == 0)
		r = auth_stream_secret(t->store, obj_spec_str(mig, "target"),
				       t->reg->admin_token ?: "", &tgt);
	if (r == 0)
		r = migtls_transport_new(src, tgt, &transport);
	if (r == 0 && json_object_set_new(obj_status(mig), "transport", transport) < 0)
		r = -ENOMEM;
	if (src)
		memset(src, 0, strlen(src));
	if (tgt)
		memset(tgt, 0, strlen(tgt));
	free(src);
	free(tgt);
	return r;
}

/*
 * In the create transaction of a validated migration (metadata set): its
 * subject (a port, or a VM's port), no other unfinished migration of it, the
 * source and the target; then it starts and is evaluated at once. The port
 * and the VM that follows it are written after the migration.
 */
static int migration_create(struct txn *t, json_t *mig, struct api_error *err)
{
	const char *pname, *source;
	json_t *port = NULL, *nodes = NULL, *list = NULL, *vm = NULL, *both = NULL, *locs;
	int64_t now_ms = clock_unix_ms();
	const json_t *other;
	enum migration_phase p;
	int r;

	r = vm_migration_subject(t, mig, err); /* a VM's migration moves its port */
	if (r < 0)
		return r;
	pname = obj_spec_str(mig, "port");
	r = txn_get_ref(t, KIND_PORT, pname, "spec.port", &port, err);
	if (r < 0)
		return r;
	r = find_unfinished(t, pname, &list, &other);
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
	r = node_list(t->reg, &nodes);
	if (r < 0)
		goto cleanup;
	r = choose_target(mig, nodes, source, err);
	if (r < 0)
		goto cleanup;
	/* during the handoff the port is at both ends */
	both = json_pack("[ss]", source, obj_spec_str(mig, "target"));
	r = both ? port_flood_check(t, obj_spec_str(port, "network"), pname, both, err) : -ENOMEM;
	if (r < 0)
		goto cleanup;
	if (!obj_spec_str(mig, "strategy"))
		json_object_set(json_object_get(mig, "spec"), "strategy",
				json_object_get(json_object_get(port, "spec"), "strategy"));
	txn_stamp(t, port);
	r = migration_start(mig, port, source, now_ms);
	if (r == 0)
		r = add_transport(t, mig, source);
	if (r < 0)
		goto cleanup;
	r = migration_evaluate(mig, port, nodes, &(struct migration_clock){.unix_ms = now_ms},
			       t->rev);
	if (r < 0)
		goto cleanup;
	r = txn_put_after(t, KIND_PORT, port);
	if (r < 0)
		goto cleanup;
	r = vm_follow_migration(t, mig, port, &vm);
	if (r == 0 && vm)
		r = txn_put_after(t, KIND_VM, vm);
cleanup:
	json_decref(port);
	json_decref(nodes);
	json_decref(list);
	json_decref(vm);
	json_decref(both);
	return r;
}

static int migration_refuse_update(const char *name, struct api_error *err)
{
	return api_error_set(err, 405, NULL,
			     "a migration changes only through its actions (POST "
			     "/v1/migrations/%s/{abort,running,complete,fail})",
			     name);
}

/* Only a finished migration is deleted (an unfinished one is aborted first). */
static int migration_release(struct txn *t, const json_t *old, struct api_error *err)
{
	enum migration_phase p;
	int r;

	(void)t;
	r = migration_phase_of(old, &p);
	if (r < 0)
		return r;
	if (!migration_phase_finished(p))
		return api_error_set(err, 409, NULL,
				     "migration %s is unfinished (phase %s); abort it first",
				     obj_name(old), migration_phase_name(p));
	return 0;
}

const struct kind_ops kind_migration = {
    .kind = KIND_MIGRATION,
    .stored_status = true,
    .validate = migration_validate,
    .refuse_update = migration_refuse_update,
    .create = migration_create,
    .release = migration_release,
};
