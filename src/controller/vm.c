/* SPDX-License-Identifier: MIT */
#include "vm.h"
#include "migration.h"
#include "lib/kinds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vm_port_name(const json_t *vm)
{
	const char *port = obj_str(vm, "status", "port");

	return port ? port : obj_name(vm);
}

static bool names_equal(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int vm_schedule(const json_t *nodes, const json_t *vms, const char **node)
{
	const char *best = NULL;
	size_t best_count = 0, i, j;
	const json_t *n, *vm;

	json_array_foreach(nodes, i, n)
	{
		const char *name = obj_name(n);
		size_t count = 0;

		if (!name || !migration_node_ready(n))
			continue;
		json_array_foreach(vms, j, vm)
		{
			if (names_equal(obj_str(vm, "spec", "node"), name) ||
			    names_equal(obj_str(vm, "spec", "target"), name))
				count++;
		}
		/* Sorted by name: only strictly fewer replaces, so ties keep the first. */
		if (!best || count < best_count) {
			best = name;
			best_count = count;
		}
	}
	if (!best)
		return -ENOENT;
	*node = best;
	return 0;
}

int vm_merge(json_t *obj, const json_t *old, const json_t *body, struct api_error *err)
{
	static const char *const fixed[] = {
	    "memory_mib",	  "cpus",    "image",	  "user_data",
	    "user_data_encoding", "network", "migratable"};
	static const char *const controller_owned[] = {"node", "target"};
	const json_t *given = obj_spec(body);
	json_t *spec = obj_spec(obj), *had;
	char field[48];

	/* running left out: kept (not the create-time default) */
	if (!json_object_get(given, "running") && json_object_get(obj_spec(old), "running"))
		json_object_set(spec, "running", json_object_get(obj_spec(old), "running"));

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		had = json_object_get(obj_spec(old), fixed[i]);
		if (json_object_get(given, fixed[i]) &&
		    !json_equal(json_object_get(spec, fixed[i]), had)) {
			char *was = had ? json_dumps(had, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
			int r;

			snprintf(field, sizeof(field), "spec.%s", fixed[i]);
			r = api_error_set(err, 422, field,
					  "%s is immutable (vm %s has %.64s); only spec.running "
					  "changes: delete and create the VM to change it",
					  field, obj_name(old), was ? was : "none");
			free(was);
			return r;
		}
		if (had)
			json_object_set(spec, fixed[i], had);
		else
			json_object_del(spec, fixed[i]);
	}
	for (size_t i = 0; i < sizeof(controller_owned) / sizeof(controller_owned[0]); i++) {
		had = json_object_get(obj_spec(old), controller_owned[i]);
		if (json_object_get(given, controller_owned[i]) &&
		    !json_equal(json_object_get(spec, controller_owned[i]), had)) {
			snprintf(field, sizeof(field), "spec.%s", controller_owned[i]);
			return api_error_set(err, 422, field,
					     "%s is set by the controller (scheduler and "
					     "migrations); leave it out (POST /v1/migrations "
					     "{\"spec\": {\"vm\": \"%s\"}} moves a VM)",
					     field, obj_name(old));
		}
		if (had)
			json_object_set(spec, controller_owned[i], had);
		else
			json_object_del(spec, controller_owned[i]);
	}
	return 0;
}

int vm_initial_status(const json_t *vm, const json_t *port, const struct catalog_image *img,
		      json_t **out)
{
	json_int_t want = json_integer_value(json_object_get(obj_spec(vm), "memory_mib"));
	json_int_t memory = catalog_memory_mib(img, want);
	json_t *st, *notes;
	char note[160];

	notes = json_array();
	if (!notes)
		return -ENOMEM;
	if (memory != want) {
		snprintf(note, sizeof(note),
			 "memory raised from %lld MiB to %lld MiB (the guest's minimum)",
			 (long long)want, (long long)memory);
		if (json_array_append_new(notes, json_string(note)) < 0) {
			json_decref(notes);
			return -ENOMEM;
		}
	}
	st = json_pack("{s:s?, s:s?, s:s?, s:I, s:s, s:o}", "port", obj_name(port), "ipv4",
		       obj_str(port, "spec", "ipv4"), "mac", obj_str(port, "spec", "mac"),
		       "memory_mib", memory, "guest", img->guest, "notes", notes);
	if (!st)
		return -ENOMEM;
	*out = st;
	return 0;
}

/* The phase (and reason) from the agent's report of the VM. */
static enum vm_phase phase_from_report(const json_t *rep, const char **reason)
{
	enum vm_state s;

	*reason = json_string_value(json_object_get(rep, "reason"));
	if (!rep || vm_state_parse(json_string_value(json_object_get(rep, "phase")), &s) < 0)
		return VM_PHASE_SCHEDULED;
	switch (s) {
	case VM_RUNNING:
		return json_is_true(json_object_get(rep, "ready")) ? VM_PHASE_RUNNING
								   : VM_PHASE_STARTING;
	case VM_STARTING:
	case VM_INCOMING:
		return VM_PHASE_STARTING;
	case VM_STOPPED:
		return VM_PHASE_STOPPED;
	case VM_FAILED:
		if (!*reason)
			*reason = "the agent reports it failed (no reason given)";
		return VM_PHASE_FAILED;
	default:
		return VM_PHASE_SCHEDULED;
	}
}

/* Copies the report's key into st when it has the given type. */
static int copy_reported(json_t *st, const json_t *rep, const char *key, json_type type)
{
	json_t *v = json_object_get(rep, key);

	if (!v || (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))))
		return 0;
	return json_object_set(st, key, v) < 0 ? -ENOMEM : 0;
}

int vm_status_derive(const json_t *vm, const json_t *node, json_t **out)
{
	const json_t *spec = obj_spec(vm), *nst = json_object_get(node, "status");
	const json_t *rep = json_object_get(json_object_get(nst, "vms"), obj_name(vm));
	const char *node_name = json_string_value(json_object_get(spec, "node"));
	const char *target = json_string_value(json_object_get(spec, "target"));
	const char *reason = NULL, *rphase = json_string_value(json_object_get(rep, "phase"));
	enum vm_phase phase;
	json_t *st = json_deep_copy(json_object_get(vm, "status"));
	char buf[160], live[64];
	int r = -ENOMEM;

	if (!st)
		st = json_object();
	if (!st)
		return -ENOMEM;
	phase = phase_from_report(rep, &reason);
	if (!json_is_true(json_object_get(spec, "running"))) {
		phase = VM_PHASE_STOPPED;
		reason = NULL;
		if (vm_state_is(rphase, VM_RUNNING) || vm_state_is(rphase, VM_STARTING))
			reason = "stopping (spec.running is false; the node still runs it)";
	} else if (target) {
		phase = VM_PHASE_MIGRATING;
		reason = NULL;
	}
	if (!reason && node_name && !node) {
		snprintf(buf, sizeof(buf), "node %s does not exist", node_name);
		reason = buf;
	} else if (!reason && node && !migration_node_ready(node)) {
		migration_node_liveness(node, live, sizeof(live));
		snprintf(buf, sizeof(buf), "node %s is not ready (%s)", node_name, live);
		reason = buf;
	}
	if (json_object_set_new(st, "phase", json_string(vm_phase_name(phase))) < 0 ||
	    (node_name && json_object_set_new(st, "node", json_string(node_name)) < 0) ||
	    (target && json_object_set_new(st, "target", json_string(target)) < 0) ||
	    (reason && json_object_set_new(st, "reason", json_string(reason)) < 0))
		goto cleanup;
	if ((r = copy_reported(st, rep, "ready", JSON_TRUE)) < 0 ||
	    (r = copy_reported(st, rep, "pid", JSON_INTEGER)) < 0 ||
	    (r = copy_reported(st, rep, "console", JSON_STRING)) < 0 ||
	    (r = copy_reported(st, rep, "memory_mib", JSON_INTEGER)) < 0 ||
	    (r = copy_reported(st, rep, "guest_resets", JSON_INTEGER)) < 0)
		goto cleanup;
	/* Resets of the QEMU that runs it now: a new one (after a migration)
	 * starts from none. */
	if (rep && !json_is_integer(json_object_get(rep, "guest_resets")))
		json_object_del(st, "guest_resets");
	*out = st;
	return 0;
cleanup:
	json_decref(st);
	return r;
}

bool vm_follow_port(json_t *vm, const json_t *port)
{
	json_t *spec = obj_spec(vm), *pspec = obj_spec(port);
	json_t *target = json_object_get(pspec, "target"),
	       *locs = json_object_get(pspec, "locations");
	bool changed = false;

	if (target && !json_equal(target, json_object_get(spec, "target"))) {
		json_object_set(spec, "target", target);
		changed = true;
	} else if (!target && json_object_get(spec, "target")) {
		json_object_del(spec, "target");
		changed = true;
	}
	if (!target && json_array_size(locs) == 1 &&
	    !json_equal(json_array_get(locs, 0), json_object_get(spec, "node"))) {
		json_object_set(spec, "node", json_array_get(locs, 0));
		changed = true;
	}
	return changed;
}
