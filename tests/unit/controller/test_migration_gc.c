/* SPDX-License-Identifier: MIT */
/*
 * Which finished Migrations the controller deletes: beyond the newest `keep`
 * of each port (by metadata.created), never an unfinished one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "migration_gc.h"

/* A migration of port, created at revision created, whose phases walk to phase. */
static json_t *mig(const char *name, const char *port, int created, const char *phase)
{
	json_t *m = json_pack("{s:s, s:{s:s, s:i}, s:{s:s}, s:{s:s, s:[{s:s}]}}", "kind",
			      "Migration", "metadata", "name", name, "created", created, "spec",
			      "port", port, "status", "phase", phase, "phases", "name", phase);

	assert_non_null(m);
	return m;
}

static char *select_names(json_t *items, int keep)
{
	json_t *names = NULL;
	char *text;

	assert_int_equal(migration_gc_select(items, keep, &names), 0);
	text = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	return text;
}

static void test_keeps_the_newest_of_each_port(void **state)
{
	json_t *items = json_array();
	char *got;

	(void)state;
	/* web: 7 finished (created 1..7, listed out of order) and one running */
	json_array_append_new(items, mig("w3", "web", 3, "Failed"));
	json_array_append_new(items, mig("w1", "web", 1, "Succeeded"));
	json_array_append_new(items, mig("w7", "web", 7, "Succeeded"));
	json_array_append_new(items, mig("w2", "web", 2, "Aborted"));
	json_array_append_new(items, mig("w5", "web", 5, "Succeeded"));
	json_array_append_new(items, mig("w4", "web", 4, "Succeeded"));
	json_array_append_new(items, mig("w6", "web", 6, "Succeeded"));
	json_array_append_new(items, mig("w0", "web", 0, "Running")); /* unfinished, oldest */
	/* db: 2 finished, under the bound */
	json_array_append_new(items, mig("d1", "db", 8, "Succeeded"));
	json_array_append_new(items, mig("d2", "db", 9, "Failed"));

	got = select_names(items, 5);
	assert_string_equal(got, "[\"w2\",\"w1\"]");
	free(got);
	got = select_names(items, 1);
	assert_string_equal(got, "[\"d1\",\"w6\",\"w5\",\"w4\",\"w3\",\"w2\",\"w1\"]");
	free(got);
	got = select_names(items, 100);
	assert_string_equal(got, "[]");
	free(got);
	json_decref(items);
}

static void test_ignores_what_it_cannot_read(void **state)
{
	json_t *items = json_array();
	json_t *no_port = mig("x1", "web", 1, "Succeeded");
	json_t *bad_phase = mig("x2", "web", 2, "Done");
	char *got;

	(void)state;
	json_object_del(json_object_get(no_port, "spec"), "port");
	json_array_append_new(items, no_port);
	json_array_append_new(items, bad_phase);
	json_array_append_new(items, json_string("not an object"));
	json_array_append_new(items, mig("x3", "web", 3, "Succeeded"));
	got = select_names(items, 1);
	assert_string_equal(got, "[]");
	free(got);
	json_decref(items);
}

static void test_refuses_keep_below_one(void **state)
{
	json_t *items = json_array(), *names = (json_t *)0x1;

	(void)state;
	assert_int_equal(migration_gc_select(items, 0, &names), -EINVAL);
	assert_ptr_equal(names, (json_t *)0x1); /* untouched on failure */
	json_decref(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keeps_the_newest_of_each_port),
	    cmocka_unit_test(test_ignores_what_it_cannot_read),
	    cmocka_unit_test(test_refuses_keep_below_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
