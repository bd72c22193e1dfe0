/* SPDX-License-Identifier: MIT */
#include "migration_vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(obj, a), b));
}

bool migration_is_vm(const json_t *mig)
{
	const char *vm = str_at(mig, "spec", "vm");

	return vm && *vm;
}

/* The node's report of the VM (status.vms[VM]), or NULL. */
static const json_t *vm_report(const json_t *node, const char *vm)
{
	return json_object_get(json_object_get(json_object_get(node, "status"), "vms"), vm);
}

/* A report made after the node applied the migration's creation. */
static bool fresh(const json_t *mig, const json_t *node)
{
	json_int_t applied = json_integer_value(
	    json_object_get(json_object_get(node, "status"), "applied_revision"));
	json_int_t created =
	    json_integer_value(json_object_get(json_object_get(mig, "metadata"), "created"));

	return node && applied >= created;
}

static int64_t created_ns(const json_t *mig)
{
	const json_t *phases = json_object_get(json_object_get(mig, "status"), "phases");

	return json_integer_value(json_object_get(json_array_get(phases, 0), "unix_ms")) *
	       1000000LL;
}

/* A figure as it will be after d: d's value, else the stored one. */
static const json_t *figure(const json_t *mig, const struct migration_decision *d,
			    const char *key)
{
	const json_t *v = json_object_get(d->figures, key);

	return v ? v : json_object_get(json_object_get(json_object_get(mig, "status"), "figures"),
				       key);
}

/* events.NAME of a report, when it happened after the migration was created. */
static int64_t event_ns(const json_t *mig, const json_t *rep, const char *name)
{
	const json_t *v = json_object_get(json_object_get(rep, "events"), name);

	if (!json_is_integer(v) || json_integer_value(v) < created_ns(mig))
		return 0;
	return json_integer_value(v);
}

static int set_new(json_t *obj, const char *key, json_t *value)
{
	return json_object_set_new(obj, key, value) < 0 ? -ENOMEM : 0;
}

/* status.progress from the source's query-migrate figures. */
static int observe_progress(const json_t *mig, const json_t *srep, struct migration_decision *d)
{
	static const char *const keys[] = {"transferred", "remaining", "dirty_rate", "total_ms"};
	const json_t *m = json_object_get(srep, "migration");
	const char *status = json_string_value(json_object_get(m, "status"));
	json_t *progress;
	int r = 0;

	if (!status)
		return 0;
	progress = json_pack("{s:s}", "status", status);
	if (!progress)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_is_integer(json_object_get(m, keys[i])))
			json_object_set(progress, keys[i], json_object_get(m, keys[i]));
	if (json_is_string(json_object_get(m, "error")))
		json_object_set(progress, "error", json_object_get(m, "error"));
	if (!json_equal(progress, json_object_get(json_object_get(mig, "status"), "progress")))
		r = set_new(d->status, "progress", json_incref(progress));
	if (r == 0 && strcmp(status, "completed") == 0 &&
	    json_is_integer(json_object_get(m, "downtime_ms")) &&
	    !figure(mig, d, "qemu_downtime_ms"))
		r = set_new(d->figures, "qemu_downtime_ms",
			    json_integer(json_integer_value(json_object_get(m, "downtime_ms"))));
	json_decref(progress);
	return r;
}

/* Figure key = (to - from) / 1e6 ms, from two *_unix_ns figures, once both
 * are known and key is not. */
static int derive_ms(const json_t *mig, struct migration_decision *d, const char *key,
		     const char *from, const char *to)
{
	const json_t *a = figure(mig, d, from), *b = figure(mig, d, to);

	if (!json_is_integer(a) || !json_is_integer(b) || figure(mig, d, key))
		return 0;
	return set_new(d->figures, key,
		       json_real((double)(json_integer_value(b) - json_integer_value(a)) / 1e6));
}

/* Figures computed from others, once their inputs are known. */
int migration_vm_derive(const json_t *mig, struct migration_decision *d)
{
	int r = derive_ms(mig, d, "vm_blackout_ms", "stop_unix_ns", "resume_unix_ns");

	if (r == 0)
		r = derive_ms(mig, d, "first_frame_to_activation_ms", "resume_unix_ns",
			      "activation_unix_ns");
	if (r == 0)
		r = derive_ms(mig, d, "stop_to_handoff_ms", "stop_unix_ns", "handoff_unix_ns");
	return r;
}

int migration_vm_observe(const json_t *mig, enum migration_phase cur, const json_t *source,
			 const json_t *target, struct migration_decision *d)
{
	const char *vm = str_at(mig, "spec", "vm");
	const json_t *st = json_object_get(mig, "status");
	const json_t *srep = vm_report(source, vm), *trep = vm_report(target, vm);
	const char *uri = json_string_value(json_object_get(trep, "incoming_uri"));
	const char *tphase = json_string_value(json_object_get(trep, "phase"));
	bool started = json_object_get(json_object_get(st, "requested"), "running") != NULL;
	int64_t ns;
	int r = 0;

	if (!vm || migration_phase_finished(cur))
		return 0;
	if (!d->status && !(d->status = json_object()))
		return -ENOMEM;
	if (cur < MIGRATION_SWITCHED && uri && tphase && strcmp(tphase, "incoming") == 0 &&
	    fresh(mig, target) &&
	    strcmp(json_string_value(json_object_get(st, "incoming_uri")) ?: "", uri) != 0)
		r = set_new(d->status, "incoming_uri", json_string(uri));
	if (r == 0 && started && cur >= MIGRATION_REPLICATING)
		r = observe_progress(mig, srep, d);
	ns = event_ns(mig, srep, "STOP");
	if (r == 0 && ns && started && !figure(mig, d, "stop_unix_ns"))
		r = set_new(d->figures, "stop_unix_ns", json_integer(ns));
	ns = event_ns(mig, srep, "HANDOFF");
	if (r == 0 && ns && started && !figure(mig, d, "handoff_unix_ns"))
		r = set_new(d->figures, "handoff_unix_ns", json_integer(ns));
	if (r == 0 && ns && started && json_is_integer(json_object_get(srep, "handoff_drained")) &&
	    !figure(mig, d, "handoff_tap_frames"))
		r = set_new(
		    d->figures, "handoff_tap_frames",
		    json_integer(json_integer_value(json_object_get(srep, "handoff_drained"))));
	ns = event_ns(mig, trep, "RESUME");
	if (r == 0 && ns && fresh(mig, target) && !figure(mig, d, "resume_unix_ns"))
		r = set_new(d->figures, "resume_unix_ns", json_integer(ns));
	return r;
}

bool migration_vm_target_failed(const json_t *mig, const json_t *target, char *reason,
				size_t size)
{
	const json_t *rep = vm_report(target, str_at(mig, "spec", "vm"));
	const char *phase = json_string_value(json_object_get(rep, "phase"));

	if (!phase || strcmp(phase, "failed") != 0 || !fresh(mig, target))
		return false;
	snprintf(reason, size, "target QEMU exited: %s",
		 json_string_value(json_object_get(rep, "reason")) ?: "no reason reported");
	return true;
}

bool migration_vm_figures_ready(const json_t *mig, int64_t now_ms, struct migration_decision *d)
{
	static const char *const need[] = {"stop_unix_ns", "resume_unix_ns", "qemu_downtime_ms",
					   "activation_unix_ns"};
	const json_t *complete =
	    json_object_get(json_object_get(json_object_get(mig, "status"), "requested"),
			    "complete");
	char missing[160] = "";
	size_t len = 0;

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!figure(mig, d, need[i]) && len < sizeof(missing))
			len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%s",
						len ? ", " : "", need[i]);
	if (!missing[0])
		return true;
	if (now_ms < json_integer_value(complete) + MIGRATION_VM_FIGURES_WAIT_MS)
		return false;
	snprintf(d->note, sizeof(d->note), "figures incomplete %d ms after complete: no %s",
		 MIGRATION_VM_FIGURES_WAIT_MS, missing);
	return true;
}
