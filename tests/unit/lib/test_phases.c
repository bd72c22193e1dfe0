/* SPDX-License-Identifier: MIT */
/* lib/phases: every table complete and distinct, names round-trip, bad words -EINVAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/phases.h"

/* Every value has a name that parses back to it; no two share a name. */
#define CHECK_TABLE(prefix, type, count)                                                           \
	do {                                                                                       \
		for (int i = 0; i < (count); i++) {                                                \
			const char *n = prefix##_name((type)i);                                    \
			type back = (type)(count);                                                 \
                                                                                                   \
			assert_non_null(n);                                                        \
			assert_string_not_equal(n, "?");                                           \
			assert_int_equal(prefix##_parse(n, &back), 0);                             \
			assert_int_equal(back, i);                                                 \
			for (int j = 0; j < i; j++)                                                \
				assert_string_not_equal(prefix##_name((type)j), n);                \
		}                                                                                  \
		assert_string_equal(prefix##_name((type)(count)), "?");                            \
	} while (0)

static void test_tables_complete(void **state)
{
	(void)state;
	CHECK_TABLE(migration_phase, enum migration_phase, MIGRATION_PHASE_COUNT);
	CHECK_TABLE(migration_action, enum migration_action, MIGRATION_ACTION_COUNT);
	CHECK_TABLE(vm_phase, enum vm_phase, VM_PHASE_COUNT);
	CHECK_TABLE(vm_state, enum vm_state, VM_STATE_COUNT);
	CHECK_TABLE(vm_incoming_state, enum vm_incoming_state, VM_IN_STATE_COUNT);
	CHECK_TABLE(port_state, enum port_state, PORT_STATE_COUNT);
	CHECK_TABLE(strategy, enum strategy, STRATEGY_COUNT);
	for (int i = 0; i < STRATEGY_COUNT; i++)
		assert_string_equal(strategy_names[i], strategy_name((enum strategy)i));
	assert_null(strategy_names[STRATEGY_COUNT]);
	for (int i = 0; i < MIGRATION_PHASE_COUNT; i++)
		assert_non_null(migration_phase_label((enum migration_phase)i));
}

/* The JSON names are the API's (docs/API.md): a rename breaks clients. */
static void test_json_names(void **state)
{
	(void)state;
	assert_string_equal(migration_phase_name(MIGRATION_PENDING), "Pending");
	assert_string_equal(migration_phase_name(MIGRATION_TARGET_READY), "TargetReady");
	assert_string_equal(migration_phase_name(MIGRATION_REPLICATING), "Replicating");
	assert_string_equal(migration_phase_name(MIGRATION_RUNNING), "Running");
	assert_string_equal(migration_phase_name(MIGRATION_SWITCHED), "Switched");
	assert_string_equal(migration_phase_name(MIGRATION_SUCCEEDED), "Succeeded");
	assert_string_equal(migration_phase_name(MIGRATION_FAILED), "Failed");
	assert_string_equal(migration_phase_name(MIGRATION_ABORTED), "Aborted");
	assert_string_equal(migration_action_name(MIGRATION_ACTION_ABORT), "abort");
	assert_string_equal(migration_action_name(MIGRATION_ACTION_RUNNING), "running");
	assert_string_equal(migration_action_name(MIGRATION_ACTION_COMPLETE), "complete");
	assert_string_equal(migration_action_name(MIGRATION_ACTION_FAIL), "fail");
	assert_string_equal(vm_phase_name(VM_PHASE_SCHEDULED), "Scheduled");
	assert_string_equal(vm_phase_name(VM_PHASE_MIGRATING), "Migrating");
	assert_string_equal(vm_state_name(VM_INCOMING), "incoming");
	assert_string_equal(vm_state_name(VM_FAILED), "failed");
	assert_string_equal(vm_incoming_state_name(VM_IN_LISTENING), "listening");
	assert_string_equal(vm_incoming_state_name(VM_IN_LOST), "lost");
	assert_string_equal(port_state_name(PORT_STATE_STANDBY), "standby");
	assert_string_equal(port_state_name(PORT_STATE_ACTIVE), "active");
	assert_string_equal(strategy_name(STRATEGY_FIRST_FRAME), "first-frame");
	assert_string_equal(strategy_name(STRATEGY_RARP), "rarp");
	/* every name, no leading or trailing '|' (usages and errors print it) */
	assert_string_equal(strategy_choices, "first-frame|rarp");
	assert_string_equal(migration_phase_label(MIGRATION_TARGET_READY), "target ready");
	assert_string_equal(migration_phase_label(MIGRATION_ABORTED), "Aborted");
}

static void test_bad_words(void **state)
{
	enum migration_phase mp = MIGRATION_SWITCHED;
	enum vm_phase vp = VM_PHASE_STOPPED;
	enum vm_state vs = VM_STOPPED;
	enum port_state ps = PORT_STATE_STANDBY;
	enum strategy st = STRATEGY_RARP;

	(void)state;
	assert_int_equal(migration_phase_parse("running", &mp), -EINVAL); /* case matters */
	assert_int_equal(migration_phase_parse("", &mp), -EINVAL);
	assert_int_equal(migration_phase_parse(NULL, &mp), -EINVAL);
	assert_int_equal(vm_phase_parse("running", &vp), -EINVAL);
	assert_int_equal(vm_state_parse("Running", &vs), -EINVAL);
	assert_int_equal(port_state_parse("handoff", &ps), -EINVAL);
	assert_int_equal(strategy_parse("first_frame", &st), -EINVAL);
	assert_int_equal(strategy_parse(NULL, &st), -EINVAL);
	/* untouched on failure */
	assert_int_equal(mp, MIGRATION_SWITCHED);
	assert_int_equal(vp, VM_PHASE_STOPPED);
	assert_int_equal(vs, VM_STOPPED);
	assert_int_equal(ps, PORT_STATE_STANDBY);
	assert_int_equal(st, STRATEGY_RARP);
}

static void test_predicates(void **state)
{
	(void)state;
	assert_false(migration_phase_finished(MIGRATION_SWITCHED));
	assert_true(migration_phase_finished(MIGRATION_SUCCEEDED));
	assert_true(migration_phase_finished(MIGRATION_ABORTED));
	assert_true(migration_phase_failed(MIGRATION_FAILED));
	assert_true(migration_phase_failed(MIGRATION_ABORTED));
	assert_false(migration_phase_failed(MIGRATION_SUCCEEDED));
	assert_true(migration_phase_name_finished("Succeeded"));
	assert_true(migration_phase_name_finished("Failed"));
	assert_false(migration_phase_name_finished("Switched"));
	assert_false(migration_phase_name_finished("Done"));
	assert_false(migration_phase_name_finished(NULL));
	assert_true(migration_phase_is("Running", MIGRATION_RUNNING));
	assert_false(migration_phase_is("Running", MIGRATION_REPLICATING));
	assert_false(migration_phase_is(NULL, MIGRATION_PENDING));
	assert_true(vm_phase_is("Running", VM_PHASE_RUNNING));
	assert_true(vm_state_is("running", VM_RUNNING));
	assert_false(vm_state_is(NULL, VM_STARTING));
	assert_true(port_state_is("active", PORT_STATE_ACTIVE));
	assert_false(port_state_is(NULL, PORT_STATE_ACTIVE));
	assert_true(strategy_is("rarp", STRATEGY_RARP));
	assert_false(strategy_is("rarp", STRATEGY_FIRST_FRAME));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables_complete),
	    cmocka_unit_test(test_json_names),
	    cmocka_unit_test(test_bad_words),
	    cmocka_unit_test(test_predicates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
