/* SPDX-License-Identifier: MIT */
#include "migration.h"
#include "migration_vm.h"
#include "registry.h"
#include "lib/kinds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int migration_phase_of(const json_t *mig, enum migration_phase *p)
{
	return migration_phase_parse(obj_str(mig, "status", "phase"), p);
}

static int64_t started_ms(const json_t *mig)
{
	json_t *phases = json_object_get(obj_status(mig), "phases");

	return json_integer_value(json_object_get(json_array_get(phases, 0), "unix_ms"));
}

static json_t *requested(const json_t *mig, enum migration_action a)
{
	return json_object_get(json_object_get(obj_status(mig), "requested"),
			       migration_action_name(a));
}

/*
 * The first ready node (by name) that has not applied revision, or NULL.
 * Not-ready nodes do not count; the first such one that lags is noted.
 */
static const json_t *lagging_node(const json_t *nodes, int64_t revision,
				  struct migration_decision *d)
{
	const json_t *node, *lag = NULL;
	size_t i;

	json_array_foreach(nodes, i, node)
	{
		if (migration_applied_revision(node) >= revision)
			continue;
		if (!migration_node_ready(node)) {
			if (d)
				migration_note(d,
					       "node %s is not ready: not counted for replication",
					       obj_name(node));
			continue;
		}
		if (!lag || strcmp(obj_name(node), obj_name(lag)) < 0)
			lag = node;
	}
	return lag;
}

/* What the phase waits for, for a timeout message. */
static void waiting_for(const json_t *mig, enum migration_phase p, const json_t *nodes, char *buf,
			size_t size)
{
	const char *port = obj_str(mig, "spec", "port"), *tname = obj_str(mig, "spec", "target");
	int64_t rev = json_integer_value(json_object_get(obj_status(mig), "replication_revision"));
	const json_t *lag;

	switch (p) {
	case MIGRATION_PENDING:
		snprintf(buf, size, "target node %s has not reported port %s in standby", tname,
			 port);
		break;
	case MIGRATION_TARGET_READY:
		lag = lagging_node(nodes, rev, NULL);
		if (lag)
			snprintf(buf, size, "node %s has applied revision %lld < %lld",
				 obj_name(lag), (long long)migration_applied_revision(lag),
				 (long long)rev);
		else
			snprintf(buf, size, "replication of revision %lld not confirmed",
				 (long long)rev);
		break;
	case MIGRATION_REPLICATING:
		snprintf(buf, size, "the transfer was not started (no POST running)");
		break;
	default:
		snprintf(buf, size,
			 "target node %s has not reported port %s active and no POST complete "
			 "came",
			 tname, port);
		break;
	}
}

/* The figures of a success: the whole time, and the standby drops after the switch. */
static void success_figures(const json_t *mig, const json_t *target,
			    const struct migration_clock *c, struct migration_decision *d)
{
	json_t *drops = json_object_get(obj_status(target), "drops_standby");
	json_t *at_switch = json_object_get(d->figures, "drops_standby_at_switch")
				?: json_object_get(json_object_get(obj_status(mig), "figures"),
						   "drops_standby_at_switch");

	d->port = MIGRATION_PORT_MOVE;
	json_object_set_new(d->figures, "total_ms", json_integer(c->unix_ms - started_ms(mig)));
	if (json_is_integer(drops) && json_is_integer(at_switch))
		json_object_set_new(
		    d->figures, "standby_drops_after_switch",
		    json_integer(json_integer_value(drops) - json_integer_value(at_switch)));
}

/* Pending and TargetReady (every migration): preparing the target. */
static void decide_prepare(const json_t *mig, enum migration_phase cur, const json_t *nodes,
			   const json_t *target, const struct migration_clock *c,
			   struct migration_decision *d)
{
	const char *state = migration_port_state(target, obj_str(mig, "spec", "port"));
	int64_t rev = json_integer_value(json_object_get(obj_status(mig), "replication_revision"));

	if (cur == MIGRATION_PENDING) {
		/* A report after the agent saw spec.target (not a stale one). */
		if ((port_state_is(state, PORT_STATE_STANDBY) ||
		     port_state_is(state, PORT_STATE_ACTIVE)) &&
		    migration_report_fresh(mig, target)) {
			d->next = MIGRATION_TARGET_READY;
			d->port = MIGRATION_PORT_REPLICATE;
		}
		return;
	}
	if (lagging_node(nodes, rev, d))
		return;
	d->next = MIGRATION_REPLICATING;
	json_object_set_new(d->figures, "replication_confirm_ms", json_integer(c->t.in_phase_ms));
}

/* Replicating, Running, Switched of a port migration: the drill's (or a
 * hypervisor's) POST running and complete, and the target's report. */
static void decide_port(const json_t *mig, enum migration_phase cur, const json_t *target,
			struct migration_decision *d)
{
	const char *state = migration_port_state(target, obj_str(mig, "spec", "port"));

	switch (cur) {
	case MIGRATION_REPLICATING:
		if (requested(mig, MIGRATION_ACTION_RUNNING))
			d->next = MIGRATION_RUNNING;
		break;
	case MIGRATION_RUNNING:
		/* the activation on the target, in a report of this migration */
		if ((port_state_is(state, PORT_STATE_ACTIVE) && migration_report_fresh(mig, target)) ||
		    requested(mig, MIGRATION_ACTION_COMPLETE)) {
			d->next = MIGRATION_SWITCHED;
			migration_port_figures(mig, target, d);
		}
		break;
	case MIGRATION_SWITCHED:
		migration_port_figures(mig, target, d);
		if (requested(mig, MIGRATION_ACTION_COMPLETE))
			d->next = MIGRATION_SUCCEEDED;
		break;
	default:
		break;
	}
}

/*
 * Why a migration must end before its transfer (every migration before
 * Replicating, port migrations before Switched): false when it need not.
 * These end at once: nothing of the guest has moved yet.
 */
static bool must_fail_early(const json_t *mig, enum migration_phase cur, const json_t *nodes,
			    const json_t *target, const struct migration_clock *c,
			    struct migration_decision *d)
{
	const char *tname = obj_str(mig, "spec", "target");
	json_int_t timeout_s =
	    json_integer_value(json_object_get(json_object_get(mig, "spec"), "timeout_s"));
	int64_t bound = (timeout_s > 0 ? timeout_s : MIGRATION_TIMEOUT_DEFAULT_S) * 1000;
	json_t *fail = requested(mig, MIGRATION_ACTION_FAIL);
	char what[300];

	if (requested(mig, MIGRATION_ACTION_ABORT))
		migration_finish(d, MIGRATION_ABORTED, MIGRATION_PORT_ROLLBACK,
				 "aborted on request in phase %s", migration_phase_name(cur));
	else if (fail)
		migration_finish(d, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK,
				 "reported by hypervisor: %s",
				 json_string_value(json_object_get(fail, "reason")) ?: "");
	else if (migration_is_vm(mig) &&
		 migration_vm_target_failed(mig, target, what, sizeof(what)))
		migration_finish(d, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK, "%s", what);
	else if (!target)
		migration_finish(d, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK,
				 "target node %s no longer exists", tname);
	else if (!migration_node_ready(target)) {
		migration_node_liveness(target, what, sizeof(what));
		migration_finish(d, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK,
				 "target node %s is not ready (%s)", tname, what);
	} else if (c->t.in_phase_ms >= bound) {
		waiting_for(mig, cur, nodes, what, sizeof(what));
		migration_finish(d, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK,
				 "timeout after %lld s in phase %s: %s", (long long)(bound / 1000),
				 migration_phase_name(cur), what);
	} else {
		return false;
	}
	return true;
}

int migration_decide(const json_t *mig, const json_t *port, const json_t *nodes,
		     const struct migration_clock *c, struct migration_decision *d)
{
	const json_t *target = migration_find_node(nodes, obj_str(mig, "spec", "target"));
	bool vm = migration_is_vm(mig);
	enum migration_phase cur;
	int r = 0;

	memset(d, 0, sizeof(*d));
	r = migration_phase_of(mig, &cur);
	if (r < 0)
		return r;
	d->next = cur;
	d->figures = json_object();
	if (!d->figures)
		return -ENOMEM;
	if (migration_phase_finished(cur))
		return 0;
	if (!port) {
		migration_finish(d, MIGRATION_FAILED, MIGRATION_PORT_KEEP,
				 "port %s no longer exists", obj_str(mig, "spec", "port"));
		return 0;
	}
	if (vm && cur >= MIGRATION_REPLICATING) {
		r = migration_vm_decide_transfer(mig, cur, nodes, c, d);
	} else if (cur < MIGRATION_SWITCHED && must_fail_early(mig, cur, nodes, target, c, d)) {
		return 0;
	} else if (cur < MIGRATION_REPLICATING) {
		if (vm)
			r = migration_vm_observe(mig, cur, NULL, target, d);
		decide_prepare(mig, cur, nodes, target, c, d);
	} else {
		decide_port(mig, cur, target, d);
	}
	if (r == 0 && d->next == MIGRATION_SUCCEEDED)
		success_figures(mig, target, c, d);
	return r;
}

void migration_decision_release(struct migration_decision *d)
{
	json_decref(d->figures);
	json_decref(d->status);
	d->figures = NULL;
	d->status = NULL;
}

/* Returns obj[key], creating it as an empty object or array when absent. */
static json_t *child(json_t *obj, const char *key, bool array)
{
	json_t *c = json_object_get(obj, key);

	if (c)
		return c;
	c = array ? json_array() : json_object();
	if (!c || json_object_set_new(obj, key, c) < 0)
		return NULL;
	return c;
}

static int set_locations(json_t *port, const char *a, const char *b)
{
	json_t *locs = b ? json_pack("[s, s]", a, b) : json_pack("[s]", a);

	if (!locs)
		return -ENOMEM;
	return json_object_set_new(json_object_get(port, "spec"), "locations", locs) < 0 ? -ENOMEM
											 : 0;
}

/* locations = [keep], no spec.target, no status.migration. */
static int port_settle(json_t *port, const char *keep)
{
	int r = set_locations(port, keep, NULL);

	if (r < 0)
		return r;
	json_object_del(json_object_get(port, "spec"), "target");
	json_object_del(obj_status(port), "migration");
	return 0;
}

static int push_phase(json_t *st, enum migration_phase p, int64_t now_ms)
{
	json_t *phases = child(st, "phases", true);

	if (!phases || json_object_set_new(st, "phase", json_string(migration_phase_name(p))) < 0 ||
	    json_array_append_new(phases, json_pack("{s:s, s:I}", "name", migration_phase_name(p),
						    "unix_ms", (json_int_t)now_ms)) < 0)
		return -ENOMEM;
	return 0;
}

int migration_start(json_t *mig, json_t *port, const char *source, int64_t now_ms)
{
	json_t *spec = json_object_get(mig, "spec"), *pspec = json_object_get(port, "spec");
	json_t *st = json_pack("{s:s, s:[], s:{}, s:{}}", "source", source, "phases", "figures",
			       "requested"),
	       *pst;
	int r;

	if (!st)
		return -ENOMEM;
	r = push_phase(st, MIGRATION_PENDING, now_ms);
	if (r < 0 || json_object_set_new(mig, "status", st) < 0) {
		json_decref(st);
		return r < 0 ? r : -ENOMEM;
	}
	pst = child(port, "status", false);
	if (!pst || json_object_set(pspec, "target", json_object_get(spec, "target")) < 0 ||
	    json_object_set(pspec, "strategy", json_object_get(spec, "strategy")) < 0 ||
	    json_object_set(pst, "migration",
			    json_object_get(json_object_get(mig, "metadata"), "name")) < 0)
		return -ENOMEM;
	return 0;
}

int migration_request(json_t *mig, const char *action, const char *reason, int64_t now_ms,
		      bool *recorded, struct api_error *err)
{
	const char *name = obj_name(mig);
	enum migration_phase cur;
	enum migration_action a = MIGRATION_ACTION_COUNT; /* unknown: refused below */
	json_t *req, *value;
	int r;

	migration_action_parse(action, &a);
	r = migration_phase_of(mig, &cur);
	if (r < 0)
		return r;
	if (migration_phase_finished(cur))
		return api_error_set(err, 409, NULL, "migration %s already finished (phase %s)",
				     name, migration_phase_name(cur));
	if (a == MIGRATION_ACTION_ABORT || a == MIGRATION_ACTION_FAIL) {
		if (cur >= MIGRATION_SWITCHED)
			return api_error_set(err, 409, NULL,
					     "migration %s is in phase %s: the VM already runs on "
					     "the target (%s)",
					     name, migration_phase_name(cur),
					     migration_is_vm(mig)
						 ? "it ends Succeeded once the target confirms it"
						 : "POST complete to finish it");
	} else if (migration_is_vm(mig) &&
		   (a == MIGRATION_ACTION_RUNNING || a == MIGRATION_ACTION_COMPLETE)) {
		return api_error_set(err, 409, NULL,
				     "migration %s moves a VM: its transfer follows the agents' "
				     "reports of QEMU (POST %s is for port migrations)",
				     name, action);
	} else if (a == MIGRATION_ACTION_RUNNING) {
		if (cur >= MIGRATION_SWITCHED)
			return api_error_set(err, 409, NULL,
					     "migration %s is in phase %s: running is over", name,
					     migration_phase_name(cur));
	} else if (a == MIGRATION_ACTION_COMPLETE) {
		if (cur < MIGRATION_RUNNING)
			return api_error_set(err, 409, NULL,
					     "migration %s is in phase %s: complete needs phase "
					     "Running or Switched (POST running first)",
					     name, migration_phase_name(cur));
	} else {
		return api_error_set(err, 404, NULL,
				     "unknown action \"%.64s\" (abort, running, complete, fail)",
				     action);
	}
	if (a == MIGRATION_ACTION_FAIL) {
		if (!reason || !reason[0])
			return api_error_set(err, 400, "reason",
					     "reason is required (a string saying what failed)");
		if (strlen(reason) > MIGRATION_REASON_MAX)
			return api_error_set(err, 400, "reason", "reason: longer than %d bytes",
					     MIGRATION_REASON_MAX);
	}
	req = child(json_object_get(mig, "status"), "requested", false);
	if (!req)
		return -ENOMEM;
	*recorded = false;
	if (json_object_get(req, action)) /* repeated: the first one counts */
		return 0;
	if (a == MIGRATION_ACTION_FAIL)
		value = json_pack("{s:s, s:I}", "reason", reason, "unix_ms", (json_int_t)now_ms);
	else
		value = json_integer(now_ms);
	if (!value || json_object_set_new(req, action, value) < 0)
		return -ENOMEM;
	*recorded = true;
	return 0;
}

static bool has_note(const json_t *notes, const char *note)
{
	const json_t *n;
	size_t i;

	json_array_foreach(notes, i, n)
	{
		if (strcmp(json_string_value(n) ?: "", note) == 0)
			return true;
	}
	return false;
}

int migration_apply(json_t *mig, json_t *port, const struct migration_decision *d, int64_t now_ms,
		    int64_t revision)
{
	json_t *st = obj_status(mig), *figures, *notes;
	const char *source = json_string_value(json_object_get(st, "source"));
	const char *target = obj_str(mig, "spec", "target");
	enum migration_phase cur;
	int r;

	r = migration_phase_of(mig, &cur);
	if (r < 0)
		return r;
	figures = child(st, "figures", false);
	if (!figures || (d->figures && json_object_update(figures, d->figures) < 0) ||
	    (d->status && json_object_update(st, d->status) < 0))
		return -ENOMEM;
	if (d->note[0]) {
		notes = child(st, "notes", true);
		if (!notes)
			return -ENOMEM;
		if (!has_note(notes, d->note) && json_array_size(notes) < MIGRATION_MAX_NOTES &&
		    json_array_append_new(notes, json_string(d->note)) < 0)
			return -ENOMEM;
	}
	if (d->next == cur)
		return 0;
	r = push_phase(st, d->next, now_ms);
	if (r < 0)
		return r;
	if (d->next == MIGRATION_FAILED || d->next == MIGRATION_ABORTED)
		json_object_set_new(st, "reason", json_string(d->reason));
	if (!port)
		return 0;
	switch (d->port) {
	case MIGRATION_PORT_REPLICATE:
		json_object_set_new(st, "replication_revision", json_integer(revision));
		/* replicate: false is the naive baseline the benchmarks compare against:
		 * the fabric keeps pointing at the source until the migration completes. */
		if (json_is_false(json_object_get(json_object_get(mig, "spec"), "replicate")))
			return 0;
		return set_locations(port, source, target);
	case MIGRATION_PORT_MOVE:
		return port_settle(port, target);
	case MIGRATION_PORT_ROLLBACK:
		return port_settle(port, source);
	default:
		if (migration_phase_finished(d->next))
			json_object_del(obj_status(port), "migration");
		return 0;
	}
}

int migration_evaluate(json_t *mig, json_t *port, const json_t *nodes,
		       const struct migration_clock *c, int64_t revision)
{
	struct migration_clock now = *c;
	struct migration_decision d;
	enum migration_phase cur;
	int r = 0;

	for (int i = 0; i < MIGRATION_MAX_STEPS; i++) {
		r = migration_phase_of(mig, &cur);
		if (r < 0)
			return r;
		r = migration_decide(mig, port, nodes, &now, &d);
		if (r < 0)
			return r;
		r = migration_apply(mig, port, &d, now.unix_ms, revision);
		migration_decision_release(&d);
		if (r < 0 || d.next == cur)
			break;
		/* The phase just entered is new: its bounds start now. */
		now.t.in_phase_ms = now.t.since_progress_ms = 0;
		if (d.next == MIGRATION_RUNNING)
			now.t.in_transfer_ms = 0;
	}
	return r;
}
