/* SPDX-License-Identifier: MIT */
/*
 * The migration state machine as a pure function: (migration, port, nodes,
 * now) -> next phase, reason, port change; and the actions' phase rules.
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

static const struct row rows[] = {
    {"pending waits for standby",
     MIGRATION_PENDING,
     60,
     1000,
     {0, 0, 0},
     {CREATED, CREATED, CREATED},
     "{}",
     NULL,
     MIGRATION_PENDING,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"pending: stale standby report (before spec.target)",
     MIGRATION_PENDING,
     60,
     1000,
     {0, 0, 0},
     {CREATED, CREATED - 1, CREATED},
     STANDBY,
     NULL,
     MIGRATION_PENDING,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"pending -> target ready",
     MIGRATION_PENDING,
     60,
     1000,
     {0, 0, 0},
     {CREATED, CREATED, CREATED},
     STANDBY,
     NULL,
     MIGRATION_TARGET_READY,
     MIGRATION_PORT_REPLICATE,
     NULL,
     NULL},
    {"target ready waits for node-3",
     MIGRATION_TARGET_READY,
     60,
     1000,
     {0, 0, 0},
     {R, R, R - 1},
     STANDBY,
     NULL,
     MIGRATION_TARGET_READY,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"target ready -> replicating",
     MIGRATION_TARGET_READY,
     60,
     1000,
     {0, 0, 0},
     {R, R + 3, R},
     STANDBY,
     NULL,
     MIGRATION_REPLICATING,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"a not-ready node does not count (noted)",
     MIGRATION_TARGET_READY,
     60,
     9000,
     {8000, 8000, 0},
     {R, R, R - 1},
     STANDBY,
     NULL,
     MIGRATION_REPLICATING,
     MIGRATION_PORT_KEEP,
     NULL,
     "node node-3 is not ready: not counted for replication"},
    {"replicating waits for running",
     MIGRATION_REPLICATING,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     STANDBY,
     NULL,
     MIGRATION_REPLICATING,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"replicating -> running",
     MIGRATION_REPLICATING,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     STANDBY,
     "running",
     MIGRATION_RUNNING,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"running early is remembered",
     MIGRATION_TARGET_READY,
     60,
     1000,
     {0, 0, 0},
     {R - 1, R, R},
     STANDBY,
     "running",
     MIGRATION_TARGET_READY,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"running waits for activation",
     MIGRATION_RUNNING,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     STANDBY,
     NULL,
     MIGRATION_RUNNING,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"running -> switched (active)",
     MIGRATION_RUNNING,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     ACTIVE,
     NULL,
     MIGRATION_SWITCHED,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"running: an active report older than the migration (a restart's stored copy)",
     MIGRATION_RUNNING,
     60,
     1000,
     {0, 0, 0},
     {R, CREATED - 1, R},
     ACTIVE,
     NULL,
     MIGRATION_RUNNING,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"running -> switched (complete)",
     MIGRATION_RUNNING,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     STANDBY,
     "complete",
     MIGRATION_SWITCHED,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"switched -> succeeded",
     MIGRATION_SWITCHED,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     ACTIVE,
     "complete",
     MIGRATION_SUCCEEDED,
     MIGRATION_PORT_MOVE,
     NULL,
     NULL},
    {"switched: no timeout, target not ready is fine",
     MIGRATION_SWITCHED,
     1,
     99000,
     {0, -1, 0},
     {R, R, R},
     ACTIVE,
     NULL,
     MIGRATION_SWITCHED,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
    {"abort",
     MIGRATION_REPLICATING,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     STANDBY,
     "abort",
     MIGRATION_ABORTED,
     MIGRATION_PORT_ROLLBACK,
     "aborted on request in phase Replicating",
     NULL},
    {"fail reported",
     MIGRATION_RUNNING,
     60,
     1000,
     {0, 0, 0},
     {R, R, R},
     STANDBY,
     "fail",
     MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK,
     "reported by hypervisor: qemu died",
     NULL},
    {"target not ready",
     MIGRATION_REPLICATING,
     60,
     20000,
     {19000, 8000, 19000},
     {R, R, R},
     STANDBY,
     NULL,
     MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK,
     "target node node-2 is not ready (last report 12 s ago)",
     NULL},
    {"target never reported",
     MIGRATION_PENDING,
     60,
     1000,
     {0, -1, 0},
     {0, 0, 0},
     "{}",
     NULL,
     MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK,
     "target node node-2 is not ready (no status report yet)",
     NULL},
    {"timeout in pending",
     MIGRATION_PENDING,
     2,
     2000,
     {0, 1500, 0},
     {CREATED, CREATED, CREATED},
     "{}",
     NULL,
     MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK,
     "timeout after 2 s in phase Pending: target node node-2 has not reported port web in "
     "standby",
     NULL},
    {"timeout names the lagging node",
     MIGRATION_TARGET_READY,
     120,
     120000,
     {119000, 119000, 119000},
     {R, R, R - 5},
     STANDBY,
     NULL,
     MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK,
     "timeout after 120 s in phase TargetReady: node node-3 has applied revision 7 < 12",
     NULL},
    {"timeout in replicating",
     MIGRATION_REPLICATING,
     5,
     5000,
     {4000, 4000, 4000},
     {R, R, R},
     STANDBY,
     NULL,
     MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK,
     "timeout after 5 s in phase Replicating: the transfer was not started",
     NULL},
    {"timeout in running",
     MIGRATION_RUNNING,
     5,
     5001,
     {4000, 4000, 4000},
     {R, R, R},
     STANDBY,
     NULL,
     MIGRATION_FAILED,
     MIGRATION_PORT_ROLLBACK,
     "timeout after 5 s in phase Running: target node node-2 has not reported port web "
     "active",
     NULL},
    {"finished stays",
     MIGRATION_SUCCEEDED,
     1,
     99000,
     {0, -1, 0},
     {R, R, R},
     "{}",
     NULL,
     MIGRATION_SUCCEEDED,
     MIGRATION_PORT_KEEP,
     NULL,
     NULL},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		json_t *m = migration(row->phase, row->timeout_s), *p = port("node-1", NULL);
		json_t *nodes = nodes_of(row);
		struct migration_decision d, again;

		if (row->action)
			request(m, row->action, T0 + 500);
		assert_int_equal(migration_decide(m, p, nodes, at(row->now), &d), 0);
		if (d.next != row->want || d.port != row->want_port ||
		    (row->want_reason && !strstr(d.reason, row->want_reason)) ||
		    (row->want_note && strcmp(d.note, row->want_note) != 0)) {
			fail_msg("%s: got %s port %d reason \"%s\" note \"%s\"", row->what,
				 migration_phase_name(d.next), d.port, d.reason, d.note);
		}
		/* Restart resumption: the same inputs give the same decision; and a
		 * step of the wall clock (±30 s) changes nothing but what is recorded. */
		struct migration_clock stepped = *at(row->now);

		stepped.unix_ms += i % 2 ? 30000 : -30000;
		assert_int_equal(migration_decide(m, p, nodes, &stepped, &again), 0);
		assert_int_equal(again.next, d.next);
		assert_int_equal(again.port, d.port);
		assert_string_equal(again.reason, d.reason);
		if (!json_object_get(d.figures, "total_ms"))
			assert_true(json_equal(again.figures, d.figures));
		migration_decision_release(&d);
		migration_decision_release(&again);
		json_decref(m);
		json_decref(p);
		json_decref(nodes);
	}
}

static void test_missing_port_and_target(void **state)
{
	struct row row = {.hb = {0, 0, 0}, .applied = {R, R, R}, .target_ports = "{}"};
	json_t *m = migration(MIGRATION_RUNNING, 60), *p = port("node-1", "node-2");
	json_t *nodes = nodes_of(&row);
	struct migration_decision d;

	(void)state;
	assert_int_equal(migration_decide(m, NULL, nodes, at(1000), &d), 0);
	assert_int_equal(d.next, MIGRATION_FAILED);
	assert_string_equal(d.reason, "port web no longer exists");
	migration_decision_release(&d);

	json_array_remove(nodes, 1);
	assert_int_equal(migration_decide(m, p, nodes, at(1000), &d), 0);
	assert_int_equal(d.next, MIGRATION_FAILED);
	assert_string_equal(d.reason, "target node node-2 no longer exists");
	migration_decision_release(&d);
	json_decref(m);
	json_decref(p);
	json_decref(nodes);
}

/* start, evaluate through every phase: the port follows the table. */
static void test_walk_through(void **state)
{
	json_t *m =
	    json_pack("{s:s, s:{s:s, s:I}, s:{s:s, s:s, s:s, s:I}}", "kind", "Migration",
		      "metadata", "name", "m1", "created", (json_int_t)CREATED, "spec", "port",
		      "web", "target", "node-2", "strategy", "rarp", "timeout_s", (json_int_t)60);
	json_t *p = json_pack("{s:{s:s}, s:{s:s, s:[s]}, s:{}}", "metadata", "name", "web", "spec",
			      "strategy", "first-frame", "locations", "node-1", "status");
	struct row row = {
	    .hb = {0, 0, 0}, .applied = {CREATED, CREATED, CREATED}, .target_ports = STANDBY};
	json_t *nodes = nodes_of(&row), *st, *f;
	struct api_error err = {0};
	enum migration_phase ph;
	bool rec;

	(void)state;
	assert_int_equal(migration_start(m, p, "node-1", T0), 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(p, "spec"), "target")), "node-2");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(p, "spec"), "strategy")), "rarp");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(p, "status"), "migration")), "m1");

	/* complete is refused before Running; running is remembered. */
	assert_int_equal(migration_request(m, "complete", NULL, T0 + 1, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "phase Pending"));
	assert_int_equal(migration_request(m, "running", NULL, T0 + 1, &rec, &err), 0);
	assert_true(rec);

	assert_int_equal(migration_evaluate(m, p, nodes, at2(100, 100), R), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_TARGET_READY);
	assert_int_equal(nlocs(p), 2);
	assert_string_equal(loc(p, 0), "node-1");
	assert_string_equal(loc(p, 1), "node-2");
	st = json_object_get(m, "status");
	assert_int_equal(json_integer_value(json_object_get(st, "replication_revision")), R);

	json_decref(nodes);
	row.applied[0] = row.applied[1] = row.applied[2] = R;
	nodes = nodes_of(&row);
	assert_int_equal(migration_evaluate(m, p, nodes, at2(130, 30), R + 1), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_RUNNING); /* via Replicating, running remembered */
	f = json_object_get(st, "figures");
	assert_int_equal(json_integer_value(json_object_get(f, "replication_confirm_ms")), 30);

	assert_int_equal(migration_request(m, "complete", NULL, T0 + 200, &rec, &err), 0);
	assert_int_equal(migration_evaluate(m, p, nodes, at2(250, 0), R + 2), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_SUCCEEDED);
	assert_int_equal(json_array_size(json_object_get(st, "phases")), 6);
	assert_int_equal(json_integer_value(json_object_get(f, "total_ms")), 250);
	assert_int_equal(nlocs(p), 1);
	assert_string_equal(loc(p, 0), "node-2");
	assert_null(json_object_get(json_object_get(p, "spec"), "target"));
	assert_null(json_object_get(json_object_get(p, "status"), "migration"));

	assert_int_equal(migration_request(m, "abort", NULL, T0 + 300, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "already finished (phase Succeeded)"));
	json_decref(m);
	json_decref(p);
	json_decref(nodes);
}

/* replicate: false (the benchmarks' naive baseline): the fabric keeps pointing at the
 * source while the target is prepared, and moves to the target only at completion. */
static void test_naive_keeps_source_until_completion(void **state)
{
	json_t *m = json_pack("{s:s, s:{s:s, s:I}, s:{s:s, s:s, s:s, s:I, s:b}}", "kind",
			      "Migration", "metadata", "name", "m1", "created", (json_int_t)CREATED,
			      "spec", "port", "web", "target", "node-2", "strategy", "first-frame",
			      "timeout_s", (json_int_t)60, "replicate", 0);
	json_t *p = json_pack("{s:{s:s}, s:{s:s, s:[s]}, s:{}}", "metadata", "name", "web", "spec",
			      "strategy", "first-frame", "locations", "node-1", "status");
	struct row row = {
	    .hb = {0, 0, 0}, .applied = {CREATED, CREATED, CREATED}, .target_ports = STANDBY};
	json_t *nodes = nodes_of(&row);
	struct api_error err = {0};
	enum migration_phase ph;
	bool rec;

	(void)state;
	assert_int_equal(migration_start(m, p, "node-1", T0), 0);
	assert_int_equal(migration_evaluate(m, p, nodes, at2(100, 100), R), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_TARGET_READY);
	assert_int_equal(nlocs(p), 1); /* no replication */
	assert_string_equal(loc(p, 0), "node-1");

	json_decref(nodes);
	row.applied[0] = row.applied[1] = row.applied[2] = R;
	nodes = nodes_of(&row);
	assert_int_equal(migration_request(m, "running", NULL, T0 + 110, &rec, &err), 0);
	assert_int_equal(migration_evaluate(m, p, nodes, at2(130, 30), R + 1), 0);
	assert_int_equal(migration_request(m, "complete", NULL, T0 + 200, &rec, &err), 0);
	assert_int_equal(migration_evaluate(m, p, nodes, at2(250, 0), R + 2), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_SUCCEEDED);
	assert_int_equal(nlocs(p), 1);
	assert_string_equal(loc(p, 0), "node-2");
	json_decref(nodes);
	json_decref(m);
	json_decref(p);
}

static void test_rollback_and_actions(void **state)
{
	json_t *m = migration(MIGRATION_SWITCHED, 60), *p = port("node-1", "node-2");
	struct row row = {.hb = {0, 0, 0}, .applied = {R, R, R}, .target_ports = ACTIVE};
	json_t *nodes = nodes_of(&row);
	struct api_error err = {0};
	enum migration_phase ph;
	bool rec;

	(void)state;
	assert_int_equal(migration_request(m, "abort", NULL, T0, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "the VM already runs on the target"));
	assert_int_equal(migration_request(m, "fail", "x", T0, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 409);
	json_decref(m);

	m = migration(MIGRATION_TARGET_READY, 60);
	assert_int_equal(migration_request(m, "fail", "", T0, &rec, &err), -EINVAL);
	assert_int_equal(err.status, 400);
	assert_int_equal(migration_request(m, "abort", NULL, T0, &rec, &err), 0);
	assert_int_equal(migration_evaluate(m, p, nodes, at(1000), R + 1), 0);
	assert_int_equal(migration_phase_of(m, &ph), 0);
	assert_int_equal(ph, MIGRATION_ABORTED);
	assert_int_equal(nlocs(p), 1);
	assert_string_equal(loc(p, 0), "node-1");
	assert_null(json_object_get(json_object_get(p, "spec"), "target"));
	assert_null(json_object_get(json_object_get(p, "status"), "migration"));
	assert_non_null(strstr(
	    json_string_value(json_object_get(json_object_get(m, "status"), "reason")), "aborted"));
	json_decref(m);
	json_decref(p);
	json_decref(nodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_missing_port_and_target),
	    cmocka_unit_test(test_walk_through),
	    cmocka_unit_test(test_naive_keeps_source_until_completion),
	    cmocka_unit_test(test_rollback_and_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
