/* SPDX-License-Identifier: MIT */
/* The Migration kind: its spec and its creation (docs/MIGRATION.md). */
#include "kind.h"

#include <errno.h>
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
	const char *port, *vm, *target;
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
	if (port)
		json_object_set_new(out, "port", json_string(port));
	if (vm)
		json_object_set_new(out, "vm", json_string(vm));

	r = api_get_string(spec, "target", "spec.target", &target, err);
	if (r < 0)
		return r;
	if (target) {
		if (!object_name_valid(target))
			return api_error_set(err, 400, "spec.target",
					     "spec.target: \"%.64s\" is not a node name", target);
		json_object_set_new(out, "target", json_string(target));
	}

	/* Absent: the port's own strategy (filled in at creation). */
	r = api_get_strategy(spec, false, out, err);
	if (r < 0)
		return r;

	j = json_object_get(spec, "replicate");
	if (j) {
		if (!json_is_boolean(j))
			return api_error_set(err, 400, "spec.replicate",
					     "spec.replicate: must be true or false");
		json_object_set(out, "replicate", j);
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

const struct kind_ops kind_migration = {
    .kind = KIND_MIGRATION,
    .validate = migration_validate,
};
