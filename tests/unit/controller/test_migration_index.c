/* SPDX-License-Identifier: MIT */
/*
 * The migrator's index (migration_index.h): after one list it follows the
 * store's events, so unfinished Migrations are evaluated and finished ones
 * cost nothing; a Migration that finishes moves across and makes a clean-up
 * due; a deleted one leaves; compacted events send it back to a list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "migration_index.h"
#include "tmpstore.h"

static void put(struct store *s, const char *kind, const char *name, const char *phase, bool gone)
{
	json_t *obj =
	    json_pack("{s:s, s:{s:s, s:i}, s:{s:s}, s:{s:s}}", "kind", kind, "metadata", "name",
		      name, "created", 1, "spec", "port", "p1", "status", "phase", phase);
	int64_t rev;

	assert_non_null(obj);
	assert_int_equal(s->ops->begin(s, &rev), 0);
	if (gone)
		assert_int_equal(s->ops->del(s, kind, name, obj), 0);
	else
		assert_int_equal(s->ops->put(s, kind, name, "MODIFIED", obj), 0);
	assert_int_equal(s->ops->commit(s), 0);
	json_decref(obj);
}

static char *unfinished(const struct migration_index *ix)
{
	json_t *names = NULL;
	char *text;

	assert_int_equal(migration_index_unfinished(ix, &names), 0);
	text = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	return text;
}

static void assert_unfinished(const struct migration_index *ix, const char *want)
{
	char *got = unfinished(ix);

	assert_string_equal(got, want);
	free(got);
}

static void test_follows_the_events_after_one_list(void **state)
{
	struct tmpstore *t = *state;
	struct store *s = t->s;
	struct migration_index ix;
	json_t *items = NULL;

	put(s, "Migration", "m2", "Pending", false);
	put(s, "Migration", "m1", "Succeeded", false);
	put(s, "Migration", "m0", "Switched", false);
	assert_int_equal(migration_index_init(&ix), 0);
	assert_int_equal(migration_index_sync(&ix, s), 0);
	assert_int_equal(ix.lists, 1);
	assert_unfinished(&ix, "[\"m0\",\"m2\"]");
	ix.gc_due = false;

	/* nothing new: no list, nothing due */
	assert_int_equal(migration_index_sync(&ix, s), 0);
	assert_int_equal(ix.lists, 1);
	assert_false(ix.gc_due);

	put(s, "Migration", "m3", "Pending", false);
	put(s, "Port", "p1", "Pending", false); /* another kind: ignored */
	put(s, "Migration", "m0", "Succeeded", false);
	assert_int_equal(migration_index_sync(&ix, s), 0);
	assert_int_equal(ix.lists, 1);
	assert_unfinished(&ix, "[\"m2\",\"m3\"]");
	assert_true(ix.gc_due);

	/* the finished, as migration_gc_select reads them */
	assert_int_equal(migration_index_finished(&ix, &items), 0);
	assert_int_equal(json_array_size(items), 2);
	json_decref(items);

	ix.gc_due = false;
	put(s, "Migration", "m2", "Pending", true);
	put(s, "Migration", "m1", "Succeeded", true);
	assert_int_equal(migration_index_sync(&ix, s), 0);
	assert_unfinished(&ix, "[\"m3\"]");
	assert_false(ix.gc_due); /* a deletion makes no clean-up due */
	assert_int_equal(migration_index_finished(&ix, &items), 0);
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
	assert_int_equal(ix.lists, 1);
	migration_index_destroy(&ix);
}

static void test_lists_again_when_the_events_are_compacted(void **state)
{
	struct tmpstore t = {0};
	struct migration_index ix;
	char name[16];

	(void)state;
	assert_int_equal(tmpstore_open(&t, 4), 0); /* 4 events kept */
	assert_int_equal(migration_index_init(&ix), 0);
	put(t.s, "Migration", "m0", "Pending", false);
	assert_int_equal(migration_index_sync(&ix, t.s), 0);
	assert_int_equal(ix.lists, 1);
	for (int i = 1; i <= 8; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		put(t.s, "Migration", name, i == 8 ? "Pending" : "Failed", false);
	}
	assert_int_equal(migration_index_sync(&ix, t.s), 0);
	assert_int_equal(ix.lists, 2);
	assert_unfinished(&ix, "[\"m0\",\"m8\"]");
	migration_index_destroy(&ix);
	tmpstore_remove(&t);
}

static void test_an_unknown_object_is_ignored(void **state)
{
	struct migration_index ix;
	json_t *odd = json_pack("{s:s}", "kind", "Migration"); /* no name */

	(void)state;
	assert_int_equal(migration_index_init(&ix), 0);
	assert_int_equal(migration_index_apply(&ix, odd, false), 0);
	assert_int_equal(migration_index_apply(&ix, NULL, false), 0);
	assert_int_equal(json_object_size(ix.unfinished) + json_object_size(ix.finished), 0);
	json_decref(odd);
	migration_index_destroy(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_follows_the_events_after_one_list, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test(test_lists_again_when_the_events_are_compacted),
	    cmocka_unit_test(test_an_unknown_object_is_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
