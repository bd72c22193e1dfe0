/* SPDX-License-Identifier: MIT */
#include "migration_vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)

bool migration_is_vm(const json_t *mig)
{
	const char *vm = obj_str(mig, "spec", "vm");

	return vm && *vm;
}

/* The node's report of the VM (status.vms[VM]), or NULL. */
static const json_t *vm_report(const json_t *node, const char *vm)
{
	return json_object_get(json_object_get(obj_status(node), "vms"), vm);
}

/* The part of node's report of the VM (source: "migration", target:
 * "incoming") when its key names this migration, or NULL. */
static const json_t *vm_record(const json_t *mig, const json_t *node, const char *part,
			       const char *key)
{
	const json_t *rec = json_object_get(vm_report(node, obj_spec_str(mig, "vm")), part);

	return strcmp(json_string_value(json_object_get(rec, key)) ?: "", obj_name(mig)) == 0
		   ? rec
		   : NULL;
}

/* The source's record of its transfer for this migration, or NULL. */
static const json_t *source_transfer(const json_t *mig, const json_t *source)
{
	return vm_record(mig, source, "migration", "name");
}

/* The target's record of its incoming side for this migration, or NULL. */
static const json_t *target_incoming(const json_t *mig, const json_t *target)
{
	return vm_record(mig, target, "incoming", "migration");
}

/* A figure as it will be after d: d's value, else the stored one. */
static const json_t *figure(const json_t *mig, const struct migration_decision *d, const char *key)
{
	const json_t *v = json_object_get(d->figures, key);

	return v ? v
		 : json_object_get(json_object_get(json_object_get(mig, "status"), "figures"), key);
}

static int set_new(json_t *obj, const char *key, json_t *value)
{
	return json_object_set_new(obj, key, value) < 0 ? -ENOMEM : 0;
}

/* figures[key] = rec[from] (a positive integer), once. */
static int copy_figure(const json_t *mig, struct migration_decision *d, const char *key,
		       const json_t *rec, const char *from)
{
	const json_t *v = json_object_get(rec, from);

	if (!json_is_integer(v) || json_integer_value(v) <= 0 || figure(mig, d, key))
		return 0;
	return set_new(d->figures, key, json_integer(json_integer_value(v)));
}

/* status.progress from the source's transfer record. */
static int observe_progress(const json_t *mig, const json_t *t, struct migration_decision *d)
{
	static const char *const keys[] = {"transferred", "remaining", "total", "dirty_rate",
					   "total_ms"};
	const char *status = json_string_value(json_object_get(t, "status"));
	json_t *progress;
	int r = 0;

	if (!status)
		return 0;
	progress = json_pack("{s:s}", "status", status);
	if (!progress)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_is_integer(json_object_get(t, keys[i])))
			json_object_set(progress, keys[i], json_object_get(t, keys[i]));
	if (json_is_string(json_object_get(t, "error")))
		json_object_set(progress, "error", json_object_get(t, "error"));
	if (!json_equal(progress, json_object_get(json_object_get(mig, "status"), "progress")))
		r = set_new(d->status, "progress", json_incref(progress));
	if (r == 0 && strcmp(status, "completed") == 0 &&
	    json_is_integer(json_object_get(t, "downtime_ms")) &&
	    !figure(mig, d, "qemu_downtime_ms"))
		r = set_new(d->figures, "qemu_downtime_ms",
			    json_integer(json_integer_value(json_object_get(t, "downtime_ms"))));
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
	const json_t *st = json_object_get(mig, "status");
	const json_t *t = source_transfer(mig, source), *in = target_incoming(mig, target);
	const char *uri = json_string_value(json_object_get(in, "uri"));
	const char *state = json_string_value(json_object_get(in, "state"));
	int r = 0;

	if (migration_phase_finished(cur))
		return 0;
	if (!d->status && !(d->status = json_object()))
		return -ENOMEM;
	if (cur < MIGRATION_SWITCHED && uri && vm_incoming_state_is(state, VM_IN_LISTENING) &&
	    strcmp(json_string_value(json_object_get(st, "incoming_uri")) ?: "", uri) != 0)
		r = set_new(d->status, "incoming_uri", json_string(uri));
	if (r == 0 && t && cur >= MIGRATION_REPLICATING)
		r = observe_progress(mig, t, d);
	if (r == 0)
		r = copy_figure(mig, d, "stop_unix_ns", t, "stop_unix_ns");
	if (r == 0)
		r = copy_figure(mig, d, "handoff_unix_ns", t, "handoff_unix_ns");
	if (r == 0 && json_object_get(t, "handoff_unix_ns") &&
	    json_is_integer(json_object_get(t, "handoff_drained")) &&
	    !figure(mig, d, "handoff_tap_frames"))
		r = set_new(
		    d->figures, "handoff_tap_frames",
		    json_integer(json_integer_value(json_object_get(t, "handoff_drained"))));
	if (r == 0)
		r = copy_figure(mig, d, "resume_unix_ns", in, "resume_unix_ns");
	return r;
}

/* ---- evidence: where the guest is, as the two sides report it ---- */

enum source_says {
	SOURCE_UNKNOWN,
	SOURCE_DECLINED,     /* it will never start this migration */
	SOURCE_TRANSFERRING, /* QEMU is sending it */
	SOURCE_COMPLETED,    /* QEMU sent it all: the guest is on the target */
	SOURCE_FAILED,	     /* the transfer ended before completing: the guest is here */
};

enum target_says {
	TARGET_UNKNOWN,
	TARGET_WAITING,	  /* listening or receiving */
	TARGET_RAN,	  /* the guest ran there */
	TARGET_NEVER_RAN, /* its incoming QEMU ended (or was aborted) before running it */
};

struct evidence {
	enum source_says source;
	enum target_says target;
	const char *source_error, *target_reason;
};

static bool is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

static void gather(const json_t *mig, const json_t *source, const json_t *target,
		   struct evidence *ev)
{
	const json_t *t = source_transfer(mig, source), *in = target_incoming(mig, target);
	const char *ts = json_string_value(json_object_get(t, "status"));
	const char *is_state = json_string_value(json_object_get(in, "state"));
	const char *declined = json_string_value(
	    json_object_get(vm_report(source, obj_str(mig, "spec", "vm")), "declined"));

	memset(ev, 0, sizeof(*ev));
	if (is(ts, "completed"))
		ev->source = SOURCE_COMPLETED;
	else if (is(ts, "failed") || is(ts, "cancelled"))
		ev->source = SOURCE_FAILED;
	else if (ts && !is(ts, "none"))
		ev->source = SOURCE_TRANSFERRING;
	else if (is(declined, obj_name(mig)))
		ev->source = SOURCE_DECLINED;
	ev->source_error = json_string_value(json_object_get(t, "error"));

	if (json_is_true(json_object_get(in, "ran")) ||
	    vm_incoming_state_is(is_state, VM_IN_COMPLETED) ||
	    (migration_report_fresh(mig, target) &&
	     port_state_is(migration_port_state(target, obj_str(mig, "spec", "port")),
			   PORT_STATE_ACTIVE)))
		ev->target = TARGET_RAN;
	else if (vm_incoming_state_is(is_state, VM_IN_FAILED) ||
		 vm_incoming_state_is(is_state, VM_IN_ABORTED))
		ev->target = TARGET_NEVER_RAN;
	else if (vm_incoming_state_is(is_state, VM_IN_LISTENING) ||
		 vm_incoming_state_is(is_state, VM_IN_RECEIVING))
		ev->target = TARGET_WAITING;
	ev->target_reason = json_string_value(json_object_get(in, "error"));
}

bool migration_vm_target_failed(const json_t *mig, const json_t *target, char *reason, size_t size)
{
	const json_t *rep = vm_report(target, obj_str(mig, "spec", "vm"));
	struct evidence ev;

	gather(mig, NULL, target, &ev);
	if (ev.target == TARGET_NEVER_RAN) {
		snprintf(reason, size, "target QEMU ended before it ran the guest: %s",
			 ev.target_reason ?: "no reason reported");
		return true;
	}
	if (!vm_state_is(json_string_value(json_object_get(rep, "phase")), VM_FAILED) ||
	    !migration_report_fresh(mig, target))
		return false;
	snprintf(reason, size, "target QEMU exited: %s",
		 json_string_value(json_object_get(rep, "reason")) ?: "no reason reported");
	return true;
}

/* ---- the transfer phases ---- */

static const json_t *cancel_of(const json_t *mig)
{
	return json_object_get(json_object_get(mig, "status"), "cancel");
}

/* The phase a cancel ends in (Aborted on request, else Failed). */
static enum migration_phase cancel_phase(const json_t *cancel)
{
	return migration_phase_is(json_string_value(json_object_get(cancel, "phase")),
				  MIGRATION_ABORTED)
		   ? MIGRATION_ABORTED
		   : MIGRATION_FAILED;
}

static const char *cancel_reason(const json_t *cancel)
{
	return json_string_value(json_object_get(cancel, "reason")) ?: "cancelled";
}

static json_int_t spec_int(const json_t *mig, const char *key, json_int_t def)
{
	const json_t *v = json_object_get(json_object_get(mig, "spec"), key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : def;
}

/* The transfer's bound by the guest's size: per GiB, at least the minimum. */
static int64_t completion_bound_s(const json_t *mig)
{
	const json_t *total =
	    json_object_get(json_object_get(json_object_get(mig, "status"), "progress"), "total");
	double gib = json_is_integer(total) ? (double)json_integer_value(total) / GIB : 1.0;
	int64_t s = (int64_t)(gib * (double)spec_int(mig, "completion_timeout_per_gib_s",
						     MIGRATION_COMPLETION_PER_GIB_DEFAULT_S));

	return s < MIGRATION_COMPLETION_MIN_S ? MIGRATION_COMPLETION_MIN_S : s;
}

/*
 * Why the migration must end now, as a cancel (phase and reason), or false.
 * In order: a request, the target node gone, the bounds.
 */
static bool must_end(const json_t *mig, enum migration_phase cur, const json_t *nodes,
		     const struct migration_clock *c, enum migration_phase *phase, char *why,
		     size_t size)
{
	const json_t *req = json_object_get(json_object_get(mig, "status"), "requested");
	const json_t *progress = json_object_get(json_object_get(mig, "status"), "progress");
	const char *tname = obj_str(mig, "spec", "target"),
		   *sname = obj_str(mig, "status", "source");
	const json_t *target = migration_find_node(nodes, tname);
	json_int_t timeout = spec_int(mig, "timeout_s", MIGRATION_TIMEOUT_DEFAULT_S);
	char live[64];
	json_int_t stall =
	    spec_int(mig, "progress_timeout_s", MIGRATION_PROGRESS_TIMEOUT_DEFAULT_S);
	int64_t bound = completion_bound_s(mig);

	*phase = MIGRATION_FAILED;
	if (json_object_get(req, migration_action_name(MIGRATION_ACTION_ABORT))) {
		*phase = MIGRATION_ABORTED;
		snprintf(why, size, "aborted on request in phase %s", migration_phase_name(cur));
	} else if (json_object_get(req, migration_action_name(MIGRATION_ACTION_FAIL))) {
		snprintf(why, size, "reported by hypervisor: %s",
			 json_string_value(json_object_get(
			     json_object_get(req, migration_action_name(MIGRATION_ACTION_FAIL)),
			     "reason"))
			     ?: "");
	} else if (!target) {
		snprintf(why, size, "target node %s no longer exists", tname);
	} else if (cur == MIGRATION_REPLICATING && !migration_node_ready(target)) {
		/* before the transfer its listener is the agent's: nothing to migrate to */
		migration_node_liveness(target, live, sizeof(live));
		snprintf(why, size, "target node %s is not ready (%s)", tname, live);
	} else if (cur == MIGRATION_REPLICATING && c->t.in_phase_ms >= timeout * 1000) {
		snprintf(why, size,
			 "timeout after %lld s in phase Replicating: node %s did not start the "
			 "transfer",
			 (long long)timeout, sname);
	} else if (cur == MIGRATION_RUNNING && c->t.since_progress_ms >= stall * 1000) {
		snprintf(why, size,
			 "the transfer made no progress for %lld s (%.1f MiB still to send)",
			 (long long)stall,
			 (double)json_integer_value(json_object_get(progress, "remaining")) / MIB);
	} else if (cur == MIGRATION_RUNNING && c->t.in_transfer_ms >= bound * 1000) {
		snprintf(why, size, "the transfer did not complete in %lld s", (long long)bound);
	} else {
		return false;
	}
	return true;
}

static int request_cancel(const json_t *mig, enum migration_phase phase, const char *why,
			  const struct migration_clock *c, struct migration_decision *d)
{
	json_t *cancel = json_pack("{s:s, s:s, s:I}", "phase", migration_phase_name(phase),
				   "reason", why, "unix_ms", (json_int_t)c->unix_ms);

	if (!cancel || json_object_set_new(d->status, "cancel", cancel) < 0)
		return -ENOMEM;
	migration_note(d,
		       "cancelling (%s): waiting for node %s or %s to confirm where the guest "
		       "runs",
		       why, obj_str(mig, "status", "source"), obj_str(mig, "spec", "target"));
	return 0;
}

static int resume_source(struct migration_decision *d)
{
	return set_new(d->status, "resume_source", json_true());
}

/* The transfer ended before the switchover: the port goes back to the source,
 * with the reason of the cancel asked for, if any, else why. */
static void roll_back(struct migration_decision *d, enum migration_phase end, const json_t *cancel,
		      const char *why)
{
	migration_finish(d, end, MIGRATION_PORT_ROLLBACK, "%s",
			 cancel ? cancel_reason(cancel) : why);
}

/* Replicating and Running: the transfer may be on. */
static int decide_transfer(const json_t *mig, enum migration_phase cur, const json_t *nodes,
			   const struct migration_clock *c, const struct evidence *ev,
			   struct migration_decision *d)
{
	const json_t *cancel = cancel_of(mig);
	enum migration_phase end = cancel ? cancel_phase(cancel) : MIGRATION_FAILED;
	char why[320];

	/* Any word of the transfer starts Running (the phases keep their order). */
	if (cur == MIGRATION_REPLICATING &&
	    (ev->source >= SOURCE_TRANSFERRING || ev->target == TARGET_RAN)) {
		d->next = MIGRATION_RUNNING;
		return 0;
	}
	if (ev->source == SOURCE_COMPLETED || ev->target == TARGET_RAN) {
		d->next = MIGRATION_SWITCHED;
		if (cancel)
			migration_note(d, "%s came after the switchover: the VM runs on the target",
				       cancel_reason(cancel));
		return 0;
	}
	if (ev->source == SOURCE_FAILED) {
		snprintf(why, sizeof(why), "QEMU migration failed: %s",
			 ev->source_error ?: "no error text");
		roll_back(d, end, cancel, why);
		return 0;
	}
	if (ev->target == TARGET_NEVER_RAN) {
		snprintf(why, sizeof(why), "target QEMU ended before it ran the guest: %s",
			 ev->target_reason ?: "no reason reported");
		roll_back(d, end, cancel, why);
		return resume_source(d);
	}
	if (cancel && ev->source == SOURCE_DECLINED) {
		roll_back(d, end, cancel, NULL);
		return 0;
	}
	if (cancel) {
		if (c->t.in_phase_ms >= MIGRATION_VM_CANCEL_NOTE_MS)
			migration_note(
			    d, "%s: neither node %s nor %s has confirmed where the guest runs",
			    cancel_reason(cancel), obj_str(mig, "status", "source"),
			    obj_str(mig, "spec", "target"));
		return 0;
	}
	if (must_end(mig, cur, nodes, c, &end, why, sizeof(why)))
		return request_cancel(mig, end, why, c, d);
	return 0;
}

/* Whether every figure is known, or MIGRATION_VM_FIGURES_WAIT_MS have passed
 * in Switched (then a note names what is missing). */
static bool figures_ready(const json_t *mig, const struct migration_clock *c,
			  struct migration_decision *d)
{
	static const char *const need[] = {"stop_unix_ns", "resume_unix_ns", "qemu_downtime_ms",
					   "activation_unix_ns"};
	char missing[160] = "";
	size_t len = 0;

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!figure(mig, d, need[i]) && len < sizeof(missing))
			len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%s",
						len ? ", " : "", need[i]);
	if (!missing[0])
		return true;
	if (c->t.in_phase_ms < MIGRATION_VM_FIGURES_WAIT_MS)
		return false;
	migration_note(d, "figures incomplete %d ms after the switchover: no %s",
		       MIGRATION_VM_FIGURES_WAIT_MS, missing);
	return true;
}

static void decide_switched(const json_t *mig, const struct migration_clock *c,
			    const struct evidence *ev, struct migration_decision *d)
{
	if (ev->target == TARGET_NEVER_RAN) {
		migration_finish(
		    d, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK,
		    "the target could not run the guest (%s): it runs on at the source",
		    ev->target_reason ?: "its QEMU ended");
		resume_source(d);
		return;
	}
	if (ev->target == TARGET_RAN) {
		if (figures_ready(mig, c, d))
			d->next = MIGRATION_SUCCEEDED;
		return;
	}
	if (c->t.in_phase_ms >= MIGRATION_VM_CONFIRM_MS) {
		d->next = MIGRATION_SUCCEEDED;
		migration_note(d,
			       "node %s did not confirm within %d s that it runs the guest; the "
			       "source completed the transfer",
			       obj_str(mig, "spec", "target"), MIGRATION_VM_CONFIRM_MS / 1000);
	}
}

int migration_vm_decide_transfer(const json_t *mig, enum migration_phase cur, const json_t *nodes,
				 const struct migration_clock *c, struct migration_decision *d)
{
	const json_t *source = migration_find_node(nodes, obj_str(mig, "status", "source"));
	const json_t *target = migration_find_node(nodes, obj_str(mig, "spec", "target"));
	struct evidence ev;
	int r;

	r = migration_vm_observe(mig, cur, source, target, d);
	if (r < 0)
		return r;
	gather(mig, source, target, &ev);
	migration_port_figures(mig, target, d);
	if (cur == MIGRATION_SWITCHED)
		decide_switched(mig, c, &ev, d);
	else
		r = decide_transfer(mig, cur, nodes, c, &ev, d);
	return r < 0 ? r : migration_vm_derive(mig, d);
}
