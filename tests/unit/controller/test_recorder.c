/* SPDX-License-Identifier: MIT */
/*
 * The recorder's comparisons: which changes become Events, of what type,
 * and that the first round (learn) and an unchanged object tell nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "recorder.h"

static json_t *vm(const char *phase, const char *node, int resets)
{
	json_t *v =
	    json_pack("{s:{s:s}, s:{s:s}, s:{s:s, s:s, s:i}}", "metadata", "name", "web", "spec",
		      "node", node, "status", "phase", phase, "node", node, "guest_resets", resets);

	assert_non_null(v);
	return v;
}

static json_t *mig(const char *phase, const char *reason)
{
	json_t *m = json_pack("{s:{s:s}, s:{s:s, s:s}, s:{s:s}}", "metadata", "name", "m1", "spec",
			      "vm", "web", "target", "node-2", "status", "phase", phase);

	assert_non_null(m);
	if (reason)
		json_object_set_new(json_object_get(m, "status"), "reason", json_string(reason));
	return m;
}

static json_t *node(bool ready)
{
	json_t *n =
	    json_pack("{s:{s:s}, s:{s:b}}", "metadata", "name", "node-3", "status", "ready", ready);

	assert_non_null(n);
	return n;
}

static const char *field(json_t *events, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(events, i), key));
}

/* Feeds item through diff and frees it; returns the events' count. */
#define STEP(diff, item, seen, learn, events)                                                      \
	do {                                                                                       \
		json_t *it_ = (item);                                                              \
		assert_int_equal(diff(it_, seen, learn, events), 0);                               \
		json_decref(it_);                                                                  \
	} while (0)

static void test_vm_phases_and_resets(void **state)
{
	json_t *events = json_array(), *seen = NULL;

	(void)state;
	STEP(recorder_diff_vm, vm("Running", "node-1", 0), &seen, true, events);
	assert_int_equal(json_array_size(events), 0); /* learning */
	STEP(recorder_diff_vm, vm("Running", "node-1", 0), &seen, false, events);
	assert_int_equal(json_array_size(events), 0); /* unchanged */
	STEP(recorder_diff_vm, vm("Migrating", "node-1", 0), &seen, false, events);
	STEP(recorder_diff_vm, vm("Running", "node-2", 1), &seen, false, events);
	assert_int_equal(json_array_size(events), 3);
	assert_string_equal(field(events, 0, "reason"), "Migrating");
	assert_string_equal(field(events, 1, "reason"), "Running");
	assert_string_equal(field(events, 1, "node"), "node-2");
	assert_string_equal(field(events, 1, "message"), "vm web is Running on node-2");
	assert_string_equal(field(events, 2, "reason"), "GuestReset");
	assert_string_equal(field(events, 2, "type"), "Warning");
	STEP(recorder_diff_vm, vm("Failed", "node-2", 1), &seen, false, events);
	assert_string_equal(field(events, 3, "type"), "Warning");
	json_decref(seen);
	json_decref(events);
}

static void test_a_new_vm_tells_nothing_until_it_changes(void **state)
{
	json_t *events = json_array(), *seen = NULL;

	(void)state;
	STEP(recorder_diff_vm, vm("Scheduled", "node-1", 0), &seen, false, events);
	assert_int_equal(json_array_size(events), 0);
	STEP(recorder_diff_vm, vm("Starting", "node-1", 0), &seen, false, events);
	assert_int_equal(json_array_size(events), 1);
	json_decref(seen);
	json_decref(events);
}

static void test_node_readiness(void **state)
{
	json_t *events = json_array(), *seen = NULL;

	(void)state;
	STEP(recorder_diff_node, node(true), &seen, true, events);
	STEP(recorder_diff_node, node(true), &seen, false, events);
	STEP(recorder_diff_node, node(false), &seen, false, events);
	STEP(recorder_diff_node, node(true), &seen, false, events);
	assert_int_equal(json_array_size(events), 2);
	assert_string_equal(field(events, 0, "reason"), "NodeNotReady");
	assert_string_equal(field(events, 0, "type"), "Warning");
	assert_string_equal(field(events, 1, "reason"), "NodeReady");
	assert_string_equal(field(events, 1, "type"), "Normal");
	json_decref(seen);
	json_decref(events);
}

static void test_migration_phases(void **state)
{
	json_t *events = json_array(), *seen = NULL, *m;

	(void)state;
	STEP(recorder_diff_migration, mig("Pending", NULL), &seen, false, events);
	STEP(recorder_diff_migration, mig("Pending", NULL), &seen, false, events); /* figures */
	STEP(recorder_diff_migration, mig("Failed", "timeout after 1 s"), &seen, false, events);
	STEP(recorder_diff_migration, mig("Failed", "timeout after 1 s"), &seen, false, events);
	assert_int_equal(json_array_size(events), 2);
	assert_string_equal(field(events, 0, "reason"), "MigrationPending");
	assert_string_equal(field(events, 0, "message"), "migration m1 of web to node-2: created");
	assert_string_equal(field(events, 1, "reason"), "MigrationFailed");
	assert_string_equal(field(events, 1, "type"), "Warning");
	assert_string_equal(field(events, 1, "message"),
			    "migration m1 of web to node-2: failed: timeout after 1 s");
	/* A phase this controller does not know is refused, nothing remembered. */
	m = mig("Teleported", NULL);
	assert_int_equal(recorder_diff_migration(m, &seen, false, events), -EINVAL);
	assert_string_equal(json_string_value(seen), "Failed");
	json_decref(m);
	json_decref(seen);
	json_decref(events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vm_phases_and_resets),
	    cmocka_unit_test(test_a_new_vm_tells_nothing_until_it_changes),
	    cmocka_unit_test(test_node_readiness),
	    cmocka_unit_test(test_migration_phases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
