/* SPDX-License-Identifier: MIT */
/*
 * The fixtures of the migration state machine's tests (test_migration.c,
 * test_migration_vm.c): a migration of port web from node-1 to node-2, its
 * port, the nodes' reports, the clock of an evaluation.
 */
#ifndef GODWIT_TESTS_MIGFIXTURE_H
#define GODWIT_TESTS_MIGFIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "migration.h"

#define T0	1764000000000LL /* creation time (unix ms) */
#define CREATED 10		/* revision of the creation */
#define R	12		/* replication revision */

/* A node "name" whose last report is age_ms old (-1: never reported), with
 * its applied revision and ports. */
static inline json_t *node(const char *name, int64_t age_ms, int64_t applied,
			   const char *ports_json)
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
static inline const struct migration_clock *at2(int64_t ms, int64_t in_phase)
{
	static struct migration_clock c;

	c = (struct migration_clock){.unix_ms = T0 + ms,
				     .t = {.in_phase_ms = in_phase,
					   .since_progress_ms = in_phase,
					   .in_transfer_ms = in_phase}};
	return &c;
}

/* An evaluation at T0 + ms with the phase (and the transfer) ms old. */
static inline const struct migration_clock *at(int64_t ms)
{
	static struct migration_clock c;

	c = (struct migration_clock){
	    .unix_ms = T0 + ms,
	    .t = {.in_phase_ms = ms, .since_progress_ms = ms, .in_transfer_ms = ms}};
	return &c;
}

/* A migration of port web node-1 -> node-2 in phase, entered at T0 + offsets. */
static inline json_t *migration(enum migration_phase phase, int timeout_s)
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

static inline json_t *port(const char *l1, const char *l2)
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

static inline void request(json_t *m, const char *action, int64_t at)
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

static inline json_t *nodes_of(const struct row *row)
{
	static const char *const names[] = {"node-1", "node-2", "node-3"};
	json_t *nodes = json_array();

	for (int i = 0; i < 3; i++)
		json_array_append_new(nodes,
				      node(names[i], row->hb[i] < 0 ? -1 : row->now - row->hb[i],
					   row->applied[i], i == 1 ? row->target_ports : "{}"));
	return nodes;
}

static inline const char *loc(const json_t *p, size_t i)
{
	return json_string_value(
	    json_array_get(json_object_get(json_object_get(p, "spec"), "locations"), i));
}

static inline size_t nlocs(const json_t *p)
{
	return json_array_size(json_object_get(json_object_get(p, "spec"), "locations"));
}

/* Sets node i's report of VM web (JSON text) in nodes. */
static inline void vm_report(json_t *nodes, size_t i, const char *json)
{
	json_t *st = json_object_get(json_array_get(nodes, i), "status");
	json_t *rep = json_loads(json, 0, NULL);

	assert_non_null(st);
	assert_non_null(rep);
	json_object_set_new(st, "vms", json_pack("{s:o}", "web", rep));
}

#endif
