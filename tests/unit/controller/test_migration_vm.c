/* SPDX-License-Identifier: MIT */
/*
 * The migration state machine of a VM migration (migration_vm.h): the
 * handover protocol as a table, a walk through every phase on the agents'
 * reports, and the VM's actions. The fixtures are migfixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migfixture.h"
#include "migration_vm.h"
#include "registry.h"

static json_t *vm_migration(enum migration_phase phase)
{
	json_t *m = migration(phase, 60);

	json_object_set_new(json_object_get(m, "spec"), "vm", json_string("web"));
	return m;
}

static const json_t *status_at(const json_t *m, const char *key)
{
	return json_object_get(json_object_get(m, "status"), key);
}

static const json_t *figure_at(const json_t *m, const char *key)
{
	return json_object_get(status_at(m, "figures"), key);
}

#define NS(ms) ((T0 + (ms)) * 1000000LL)

/* The source's transfer record of m1 in a report of VM web. */
#define SRC(status)                                                                                \
	"{\"phase\":\"running\",\"migration\":{\"name\":\"m1\",\"status\":\"" status "\"}}"
#define TGT(state, ran)                                                                            \
	"{\"phase\":\"incoming\",\"incoming\":{\"migration\":\"m1\",\"state\":\"" state            \
	"\",\"ran\":" ran "}}"
#define CANCEL "{\"phase\":\"Aborted\",\"reason\":\"aborted on request in phase Running\"}"

/* The handover protocol (migration_vm.h) as a table: evidence -> outcome. */
struct vm_row {
	const char *what;
	enum migration_phase phase;
	int64_t in_phase_ms, since_progress_ms;
	const char *cancel; /* a stored status.cancel (JSON) */
	const char *action; /* requested before deciding */
	const char *source_vm, *target_vm, *target_ports;
	int64_t target_age;
	enum migration_phase want;
	enum migration_port_change want_port;
	bool want_cancel, want_resume;
	const char *want_reason; /* in the reason, or in the cancel's reason */
};

static const struct vm_row vm_rows[] = {
    {"replicating: the source reports the transfer", MIGRATION_REPLICATING, 100, 100, NULL, NULL,
     SRC("active"), NULL, STANDBY, 0, MIGRATION_RUNNING, MIGRATION_PORT_KEEP, false, false, NULL},
    {"replicating: another migration's transfer does not count", MIGRATION_REPLICATING, 100, 100,
     NULL, NULL, "{\"migration\":{\"name\":\"m0\",\"status\":\"completed\"}}", NULL, STANDBY, 0,
     MIGRATION_REPLICATING, MIGRATION_PORT_KEEP, false, false, NULL},
    {"replicating: not started in time asks to cancel", MIGRATION_REPLICATING, 60000, 60000, NULL,
     NULL, NULL, NULL, STANDBY, 0, MIGRATION_REPLICATING, MIGRATION_PORT_KEEP, true, false,
     "node node-1 did not start the transfer"},
    {"replicating: a silent target asks to cancel (its listener is its agent's)",
     MIGRATION_REPLICATING, 100, 100, NULL, NULL, NULL, NULL, STANDBY, 7000, MIGRATION_REPLICATING,
     MIGRATION_PORT_KEEP, true, false, "target node node-2 is not ready"},
    {"running: completed -> Switched", MIGRATION_RUNNING, 100, 100, NULL, NULL, SRC("completed"),
     NULL, STANDBY, 0, MIGRATION_SWITCHED, MIGRATION_PORT_KEEP, false, false, NULL},
    {"running: completed beats an abort", MIGRATION_RUNNING, 100, 100, NULL, "abort",
     SRC("completed"), NULL, STANDBY, 0, MIGRATION_SWITCHED, MIGRATION_PORT_KEEP, false, false,
     NULL},
    {"running: completed beats a stall and a silent target", MIGRATION_RUNNING, 999000, 999000,
     NULL, NULL, SRC("completed"), NULL, STANDBY, 60000, MIGRATION_SWITCHED, MIGRATION_PORT_KEEP,
     false, false, NULL},
    {"running: the target ran the guest", MIGRATION_RUNNING, 100, 100, NULL, NULL, SRC("active"),
     TGT("completed", "true"), STANDBY, 0, MIGRATION_SWITCHED, MIGRATION_PORT_KEEP, false, false,
     NULL},
    {"running: the guest speaks from the target", MIGRATION_RUNNING, 100, 100, NULL, NULL, NULL,
     NULL, ACTIVE, 0, MIGRATION_SWITCHED, MIGRATION_PORT_KEEP, false, false, NULL},
    {"running: another migration's incoming side does not count", MIGRATION_RUNNING, 100, 100, NULL,
     NULL, SRC("active"),
     "{\"incoming\":{\"migration\":\"m0\",\"state\":\"completed\",\"ran\":true}}", STANDBY, 0,
     MIGRATION_RUNNING, MIGRATION_PORT_KEEP, false, false, NULL},
    {"running: an abort asks first", MIGRATION_RUNNING, 100, 100, NULL, "abort", SRC("active"),
     TGT("receiving", "false"), STANDBY, 0, MIGRATION_RUNNING, MIGRATION_PORT_KEEP, true, false,
     "aborted on request in phase Running"},
    {"running: a stalled transfer asks to cancel", MIGRATION_RUNNING, 200000, 150000, NULL, NULL,
     SRC("active"), NULL, STANDBY, 0, MIGRATION_RUNNING, MIGRATION_PORT_KEEP, true, false,
     "made no progress for 150 s"},
    {"running: a silent target is no reason to end", MIGRATION_RUNNING, 30000, 100, NULL, NULL,
     SRC("active"), NULL, STANDBY, 30000, MIGRATION_RUNNING, MIGRATION_PORT_KEEP, false, false,
     NULL},
    {"running: cancel, the transfer failed -> Aborted", MIGRATION_RUNNING, 100, 100, CANCEL, NULL,
     SRC("failed"), NULL, STANDBY, 0, MIGRATION_ABORTED, MIGRATION_PORT_ROLLBACK, false, false,
     "aborted on request"},
    {"running: cancel, the source declined -> Aborted", MIGRATION_RUNNING, 100, 100, CANCEL, NULL,
     "{\"phase\":\"running\",\"declined\":\"m1\"}", NULL, STANDBY, 0, MIGRATION_ABORTED,
     MIGRATION_PORT_ROLLBACK, false, false, "aborted on request"},
    {"running: cancel, the target aborted its side -> Aborted, the source may resume",
     MIGRATION_RUNNING, 100, 100, CANCEL, NULL, NULL, TGT("aborted", "false"), STANDBY, 0,
     MIGRATION_ABORTED, MIGRATION_PORT_ROLLBACK, false, true, "aborted on request"},
    {"running: cancel, but the transfer had completed -> Switched", MIGRATION_RUNNING, 100, 100,
     CANCEL, NULL, SRC("completed"), NULL, STANDBY, 0, MIGRATION_SWITCHED, MIGRATION_PORT_KEEP,
     false, false, NULL},
    {"running: cancel waits for a side to confirm", MIGRATION_RUNNING, 100, 100, CANCEL, NULL,
     SRC("active"), TGT("receiving", "false"), STANDBY, 0, MIGRATION_RUNNING, MIGRATION_PORT_KEEP,
     false, false, NULL},
    {"running: the transfer failed -> Failed", MIGRATION_RUNNING, 100, 100, NULL, NULL,
     "{\"migration\":{\"name\":\"m1\",\"status\":\"failed\",\"error\":\"Unable to write to "
     "socket: Broken pipe\"}}",
     NULL, STANDBY, 0, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK, false, false,
     "QEMU migration failed: Unable to write to socket: Broken pipe"},
    {"running: the target's QEMU ended before it ran -> Failed, the source may resume",
     MIGRATION_RUNNING, 100, 100, NULL, NULL, SRC("active"),
     "{\"incoming\":{\"migration\":\"m1\",\"state\":\"failed\",\"ran\":false,\"error\":\"qemu "
     "exited with status 1\"}}",
     STANDBY, 0, MIGRATION_FAILED, MIGRATION_PORT_ROLLBACK, false, true,
     "target QEMU ended before it ran the guest: qemu exited with status 1"},
    {"switched: waits for the target's word", MIGRATION_SWITCHED, 5000, 5000, NULL, NULL,
     SRC("completed"), NULL, STANDBY, 0, MIGRATION_SWITCHED, MIGRATION_PORT_KEEP, false, false,
     NULL},
    {"switched: the target runs it -> Succeeded", MIGRATION_SWITCHED, 2000, 2000, NULL, NULL,
     SRC("completed"), TGT("completed", "true"), STANDBY, 0, MIGRATION_SUCCEEDED,
     MIGRATION_PORT_MOVE, false, false, NULL},
    {"switched: unconfirmed for 60 s -> Succeeded", MIGRATION_SWITCHED, 60000, 60000, NULL, NULL,
     SRC("completed"), NULL, STANDBY, 60000, MIGRATION_SUCCEEDED, MIGRATION_PORT_MOVE, false, false,
     NULL},
    {"switched: the target could not run it -> Failed, the source resumes", MIGRATION_SWITCHED, 100,
     100, NULL, NULL, SRC("completed"), TGT("failed", "false"), STANDBY, 0, MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK, false, true, "it runs on at the source"},
    {"pending: an abort ends at once", MIGRATION_PENDING, 100, 100, NULL, "abort", NULL, NULL, "{}",
     0, MIGRATION_ABORTED, MIGRATION_PORT_ROLLBACK, false, false, "aborted on request"},
};

static void test_vm_handover_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vm_rows) / sizeof(vm_rows[0]); i++) {
		const struct vm_row *row = &vm_rows[i];
		struct row nr = {.now = 0,
				 .hb = {0, -row->target_age, 0},
				 .applied = {R, R, R},
				 .target_ports = row->target_ports};
		json_t *m = vm_migration(row->phase), *p = port("node-1", "node-2");
		json_t *nodes = nodes_of(&nr), *cancel;
		struct migration_clock c = {
		    .unix_ms = T0 + 1000,
		    .t = {row->in_phase_ms, row->since_progress_ms, row->in_phase_ms}};
		struct migration_decision d;
		const char *reason;

		if (row->cancel)
			json_object_set_new(json_object_get(m, "status"), "cancel",
					    json_loads(row->cancel, 0, NULL));
		if (row->action)
			request(m, row->action, T0 + 500);
		if (row->source_vm)
			vm_report(nodes, 0, row->source_vm);
		if (row->target_vm)
			vm_report(nodes, 1, row->target_vm);
		assert_int_equal(migration_decide(m, p, nodes, &c, &d), 0);
		cancel = json_object_get(d.status, "cancel");
		reason = cancel ? json_string_value(json_object_get(cancel, "reason")) : d.reason;
		if (d.next != row->want || d.port != row->want_port ||
		    !!cancel != row->want_cancel ||
		    json_is_true(json_object_get(d.status, "resume_source")) != row->want_resume ||
		    (row->want_reason && !strstr(reason ?: "", row->want_reason)))
			fail_msg("%s: got %s port %d cancel %d resume %d reason \"%s\" note \"%s\"",
				 row->what, migration_phase_name(d.next), d.port, !!cancel,
				 json_is_true(json_object_get(d.status, "resume_source")),
				 reason ?: "", d.note);
		migration_decision_release(&d);
		json_decref(m);
		json_decref(p);
		json_decref(nodes);
	}
}

/* Through every phase on the agents' reports: progress, figures, the port
 * moves only once the target runs the guest. */
static void test_vm_walk(void **state)
{
	struct row nr = {.hb = {0, 0, 0}, .applied = {R, R, R}, .target_ports = STANDBY};
	json_t *m = vm_migration(MIGRATION_REPLICATING), *p = port("node-1", "node-2");
	json_t *nodes = nodes_of(&nr);
	enum migration_phase ph;
	char rep[512];

	(void)state;
	vm_report(nodes, 0,
		  "{\"phase\":\"running\",\"migration\":{\"name\":\"m1\",\"status\":\"active\","
		  "\"transferred\":100,\"remaining\":50,\"total\":150,\"dirty_rate\":3,"
		  "\"total_ms\":9}}");
	assert_int_equal(migration_evaluate(m, p, nodes, at2(400, 100), R + 1), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_RUNNING);
	assert_int_equal(json_integer_value(json_object_get(status_at(m, "progress"), "remaining")),
			 50);
	json_decref(nodes);

	/* completed, STOP at +500, handoff 0.25 ms later: Switched; the port stays */
	nodes = nodes_of(&nr);
	snprintf(rep, sizeof(rep),
		 "{\"phase\":\"stopped\",\"migration\":{\"name\":\"m1\",\"status\":\"completed\","
		 "\"transferred\":150,\"remaining\":0,\"downtime_ms\":7,\"stop_unix_ns\":%lld,"
		 "\"handoff_unix_ns\":%lld,\"handoff_drained\":3}}",
		 NS(500), NS(500) + 250000);
	vm_report(nodes, 0, rep);
	assert_int_equal(migration_evaluate(m, p, nodes, at2(610, 100), R + 2), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_SWITCHED);
	assert_int_equal(nlocs(p), 2);
	assert_int_equal(json_integer_value(figure_at(m, "stop_unix_ns")), NS(500));
	assert_int_equal(json_integer_value(figure_at(m, "qemu_downtime_ms")), 7);

	/* the target: RESUME at +520, the port active at +521: Succeeded */
	json_decref(nodes);
	snprintf(rep, sizeof(rep), "{\"web\":{\"state\":\"active\",\"activated_unix_ns\":%lld}}",
		 NS(521));
	nr.target_ports = rep;
	nodes = nodes_of(&nr);
	snprintf(rep, sizeof(rep),
		 "{\"phase\":\"running\",\"incoming\":{\"migration\":\"m1\",\"state\":"
		 "\"completed\",\"ran\":true,\"resume_unix_ns\":%lld}}",
		 NS(520));
	vm_report(nodes, 1, rep);
	vm_report(nodes, 0,
		  "{\"phase\":\"stopped\",\"migration\":{\"name\":\"m1\",\"status\":"
		  "\"completed\"}}");
	assert_int_equal(migration_evaluate(m, p, nodes, at2(620, 10), R + 3), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_SUCCEEDED);
	assert_float_equal(json_number_value(figure_at(m, "vm_blackout_ms")), 20.0, 1e-9);
	assert_float_equal(json_number_value(figure_at(m, "first_frame_to_activation_ms")), 1.0,
			   1e-9);
	assert_float_equal(json_number_value(figure_at(m, "stop_to_handoff_ms")), 0.25, 1e-9);
	assert_int_equal(json_integer_value(figure_at(m, "handoff_tap_frames")), 3);
	assert_int_equal(nlocs(p), 1);
	assert_string_equal(loc(p, 0), "node-2");
	json_decref(nodes);
	json_decref(m);
	json_decref(p);
}

/* The target's listening record of this migration gives status.incoming_uri
 * (not a record of another migration, not a stale report). */
static void test_vm_incoming_uri(void **state)
{
	struct row nr = {
	    .hb = {0, 0, 0}, .applied = {CREATED, CREATED, CREATED}, .target_ports = "{}"};
	json_t *m = vm_migration(MIGRATION_PENDING), *p = port("node-1", NULL);
	json_t *nodes = nodes_of(&nr);

	(void)state;
	vm_report(nodes, 1,
		  "{\"phase\":\"incoming\",\"incoming\":{\"migration\":\"m0\",\"state\":"
		  "\"listening\",\"uri\":\"tcp:10.0.0.2:1\"}}");
	assert_int_equal(migration_evaluate(m, p, nodes, at(10), CREATED + 1), 0);
	assert_null(status_at(m, "incoming_uri"));
	vm_report(nodes, 1,
		  "{\"phase\":\"incoming\",\"incoming\":{\"migration\":\"m1\",\"state\":"
		  "\"listening\",\"uri\":\"tcp:10.0.0.2:5\"}}");
	assert_int_equal(migration_evaluate(m, p, nodes, at(20), CREATED + 1), 0);
	assert_string_equal(json_string_value(status_at(m, "incoming_uri")), "tcp:10.0.0.2:5");
	json_decref(nodes);
	json_decref(m);
	json_decref(p);
}

/* The transfer's bound scales with the guest: 800 s per GiB, at least 60 s. */
static void test_vm_completion_bound(void **state)
{
	struct row nr = {.hb = {0, 0, 0}, .applied = {R, R, R}, .target_ports = STANDBY};
	json_t *m = vm_migration(MIGRATION_RUNNING), *p = port("node-1", "node-2");
	json_t *nodes = nodes_of(&nr), *cancel;
	struct migration_clock c = {.unix_ms = T0, .t = {99000, 10, 99000}};
	struct migration_decision d;

	(void)state;
	json_object_set_new(json_object_get(m, "status"), "progress",
			    json_pack("{s:s, s:I, s:I}", "status", "active", "remaining",
				      (json_int_t)1000, "total", (json_int_t)(128LL << 20)));
	vm_report(nodes, 0, SRC("active"));
	assert_int_equal(migration_decide(m, p, nodes, &c, &d), 0);
	assert_null(json_object_get(d.status, "cancel")); /* 128 MiB: 100 s */
	migration_decision_release(&d);
	c.t.in_transfer_ms = 100000;
	assert_int_equal(migration_decide(m, p, nodes, &c, &d), 0);
	cancel = json_object_get(d.status, "cancel");
	assert_non_null(cancel);
	assert_non_null(strstr(json_string_value(json_object_get(cancel, "reason")),
			       "did not complete in 100 s"));
	migration_decision_release(&d);
	json_decref(nodes);
	json_decref(m);
	json_decref(p);
}

/* A VM's transfer follows the agents' reports: POST running/complete are
 * refused; abort after the switchover names the VM's way out. */
static void test_vm_actions(void **state)
{
	json_t *m = vm_migration(MIGRATION_RUNNING);
	struct api_error err = {0};
	bool rec;

	(void)state;
	assert_int_equal(migration_request(m, "complete", NULL, T0, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "moves a VM"));
	assert_int_equal(migration_request(m, "running", NULL, T0, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 409);
	assert_int_equal(migration_request(m, "abort", NULL, T0, &rec, &err), 0);
	json_decref(m);
	m = vm_migration(MIGRATION_SWITCHED);
	assert_int_equal(migration_request(m, "abort", NULL, T0, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "once the target confirms"));
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vm_handover_table), cmocka_unit_test(test_vm_walk),
	    cmocka_unit_test(test_vm_incoming_uri),   cmocka_unit_test(test_vm_completion_bound),
	    cmocka_unit_test(test_vm_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
