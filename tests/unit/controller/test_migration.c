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

#include "migration.h"
#include "migration_vm.h"
#include "registry.h"

#define T0	1764000000000LL /* creation time (unix ms) */
#define CREATED 10		/* revision of the creation */
#define R	12		/* replication revision */

/* A node "name" whose last report is age_ms old (-1: never reported), with
 * its applied revision and ports. */
static json_t *node(const char *name, int64_t age_ms, int64_t applied, const char *ports_json)
{
	json_t *n = json_pack("{s:s, s:{s:s}}", "kind", "Node", "metadata", "name", name);
	json_t *ports = json_loads(ports_json ? ports_json : "{}", 0, NULL);

	assert_non_null(n);
	assert_non_null(ports);
	if (age_ms >= 0)
		json_object_set_new(n, "status",
				    json_pack("{s:I, s:I, s:o, s:I}", "age_ms", (json_int_t)age_ms,
					      "applied_revision", (json_int_t)applied, "ports",
					      ports, "drops_standby", (json_int_t)4));
	else
		json_decref(ports);
	return n;
}

/* An evaluation at T0 + ms with the phase in_phase ms old. */
static const struct migration_clock *at2(int64_t ms, int64_t in_phase)
{
	static struct migration_clock c;

	c = (struct migration_clock){.unix_ms = T0 + ms,
				     .t = {.in_phase_ms = in_phase,
					   .since_progress_ms = in_phase,
					   .in_transfer_ms = in_phase}};
	return &c;
}

/* An evaluation at T0 + ms with the phase (and the transfer) ms old. */
static const struct migration_clock *at(int64_t ms)
{
	static struct migration_clock c;

	c = (struct migration_clock){
	    .unix_ms = T0 + ms,
	    .t = {.in_phase_ms = ms, .since_progress_ms = ms, .in_transfer_ms = ms}};
	return &c;
}

/* A migration of port web node-1 -> node-2 in phase, entered at T0 + offsets. */
static json_t *migration(enum migration_phase phase, int timeout_s)
{
	json_t *m =
	    json_pack("{s:s, s:{s:s, s:I}, s:{s:s, s:s, s:I}, s:{s:s, s:[], s:{}, s:{}}}", "kind",
		      "Migration", "metadata", "name", "m1", "created", (json_int_t)CREATED, "spec",
		      "port", "web", "target", "node-2", "timeout_s", (json_int_t)timeout_s,
		      "status", "source", "node-1", "phases", "figures", "requested");
	json_t *st = json_object_get(m, "status"), *phases = json_object_get(st, "phases");

	for (int p = 0; p <= (int)phase && p <= MIGRATION_SWITCHED; p++)
		json_array_append_new(phases,
				      json_pack("{s:s, s:I}", "name", migration_phase_name(p),
						"unix_ms", (json_int_t)(T0 + p * 100)));
	if (migration_phase_finished(phase))
		json_array_append_new(phases,
				      json_pack("{s:s, s:I}", "name", migration_phase_name(phase),
						"unix_ms", (json_int_t)(T0 + 900)));
	json_object_set_new(st, "phase", json_string(migration_phase_name(phase)));
	if (phase >= MIGRATION_TARGET_READY)
		json_object_set_new(st, "replication_revision", json_integer(R));
	return m;
}

static json_t *port(const char *l1, const char *l2)
{
	json_t *p = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:[s], s:s}, s:{s:s}}", "kind", "Port",
			      "metadata", "name", "web", "spec", "network", "blue", "strategy",
			      "first-frame", "locations", l1, "target", "node-2", "status",
			      "migration", "m1");

	if (l2)
		json_array_append_new(json_object_get(json_object_get(p, "spec"), "locations"),
				      json_string(l2));
	return p;
}

static void request(json_t *m, const char *action, int64_t at)
{
	json_object_set_new(
	    json_object_get(json_object_get(m, "status"), "requested"), action,
	    strcmp(action, "fail") == 0
		? json_pack("{s:s, s:I}", "reason", "qemu died", "unix_ms", (json_int_t)at)
		: json_integer(at));
}

struct row {
	const char *what;
	enum migration_phase phase;
	int timeout_s;
	int64_t now; /* offset from T0; also how long the phase has lasted */
	/* node-1 (source), node-2 (target), node-3: last report at (-1: never), applied */
	int64_t hb[3], applied[3];
	const char *target_ports;
	const char *action; /* requested before deciding */
	enum migration_phase want;
	enum migration_port_change want_port;
	const char *want_reason; /* substring; NULL: no check */
	const char *want_note;
};

#define STANDBY "{\"web\":{\"state\":\"standby\"}}"
#define ACTIVE	"{\"web\":{\"state\":\"active\",\"activated_unix_ns\":77}}"

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

static json_t *nodes_of(const struct row *row)
{
	static const char *const names[] = {"node-1", "node-2", "node-3"};
	json_t *nodes = json_array();

	for (int i = 0; i < 3; i++)
		json_array_append_new(nodes,
				      node(names[i], row->hb[i] < 0 ? -1 : row->now - row->hb[i],
					   row->applied[i], i == 1 ? row->target_ports : "{}"));
	return nodes;
}

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

static const char *loc(const json_t *p, size_t i)
{
	return json_string_value(
	    json_array_get(json_object_get(json_object_get(p, "spec"), "locations"), i));
}

static size_t nlocs(const json_t *p)
{
	return json_array_size(json_object_get(json_object_get(p, "spec"), "locations"));
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

/* Sets node i's report of VM web (JSON text) in nodes. */
static void vm_report(json_t *nodes, size_t i, const char *json)
{
	json_t *st = json_object_get(json_array_get(nodes, i), "status");
	json_t *rep = json_loads(json, 0, NULL);

	assert_non_null(st);
	assert_non_null(rep);
	json_object_set_new(st, "vms", json_pack("{s:o}", "web", rep));
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
	    cmocka_unit_test(test_vm_handover_table),
	    cmocka_unit_test(test_vm_walk),
	    cmocka_unit_test(test_vm_incoming_uri),
	    cmocka_unit_test(test_vm_completion_bound),
	    cmocka_unit_test(test_vm_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
