/* SPDX-License-Identifier: MIT */
/* The controller's monotonic observer: node ages, migration timers, stalls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "observer.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static struct observer *make(void)
{
	struct observer *o = NULL;

	assert_int_equal(observer_new(&o), 0);
	observer_set_clock(o, fake_clock);
	fake_now = 1000000;
	return o;
}

/* A node's age runs from the last change of its report's stamp as seen
 * here; a node never seen before counts as just heard. */
static void test_node_age(void **state)
{
	struct observer *o = make();

	(void)state;
	assert_int_equal(observer_node_age(o, "node-1", 111), 0);
	fake_now += 5000;
	assert_int_equal(observer_node_age(o, "node-1", 111), 5000);
	assert_int_equal(observer_node_age(o, "node-1", 112), 0); /* a new report */
	fake_now += 7000;
	assert_int_equal(observer_node_age(o, "node-1", 112), 7000);
	/* a stamp that goes back (the wall clock stepped) is a new report too */
	assert_int_equal(observer_node_age(o, "node-1", 50), 0);
	assert_int_equal(observer_node_age(o, "node-2", 112), 0);
	observer_free(o);
}

/* Phase time from the first sight of the phase; progress from a new low of
 * the remaining bytes; the transfer from Running. */
static void test_migration_times(void **state)
{
	struct observer *o = make();
	struct migration_times t;

	(void)state;
	observer_migration(o, "m1", "Replicating", -1, &t);
	assert_int_equal(t.in_phase_ms, 0);
	fake_now += 300;
	observer_migration(o, "m1", "Replicating", -1, &t);
	assert_int_equal(t.in_phase_ms, 300);
	assert_int_equal(t.in_transfer_ms, 0);
	observer_migration(o, "m1", "Running", 1000, &t);
	assert_int_equal(t.in_phase_ms, 0);
	fake_now += 4000;
	observer_migration(o, "m1", "Running", 1000, &t); /* no new low */
	assert_int_equal(t.since_progress_ms, 4000);
	assert_int_equal(t.in_transfer_ms, 4000);
	observer_migration(o, "m1", "Running", 1200, &t); /* worse: not progress */
	assert_int_equal(t.since_progress_ms, 4000);
	observer_migration(o, "m1", "Running", 900, &t);
	assert_int_equal(t.since_progress_ms, 0);
	assert_int_equal(t.in_phase_ms, 4000);
	observer_forget_migration(o, "m1");
	observer_migration(o, "m1", "Running", 900, &t); /* as after a restart */
	assert_int_equal(t.in_phase_ms, 0);
	observer_free(o);
}

/* A gap between ticks beyond OBSERVER_STALL_MS is the controller's own stall:
 * it counts for neither the nodes nor the migrations. */
static void test_stall_is_not_counted(void **state)
{
	struct observer *o = make();
	struct migration_times t;

	(void)state;
	assert_int_equal(observer_tick(o), 0);
	observer_node_age(o, "node-1", 1);
	observer_migration(o, "m1", "Running", 10, &t);
	fake_now += 50;
	assert_int_equal(observer_tick(o), 0);
	fake_now += 10000; /* SIGSTOP for 10 s */
	assert_int_equal(observer_tick(o), 10000);
	assert_int_equal(observer_node_age(o, "node-1", 1), 50);
	observer_migration(o, "m1", "Running", 10, &t);
	assert_int_equal(t.since_progress_ms, 50);
	observer_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_age),
	    cmocka_unit_test(test_migration_times),
	    cmocka_unit_test(test_stall_is_not_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
