/* SPDX-License-Identifier: MIT */
/* The kind table: one complete row per kind, each at its own index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kind.h"

static void test_every_kind_has_its_row(void **state)
{
	(void)state;
	for (int k = 0; k < KIND__COUNT; k++) {
		const struct kind_ops *ops = kind_ops_table[k];

		assert_non_null(ops);
		assert_int_equal(ops->kind, k);
		assert_non_null(ops->validate);
		/* An object that cannot be PUT has no update step. */
		assert_true(!ops->refuse_update || !ops->update);
	}
}

/* A Node's status is its report, computed at read; every other kind stores one. */
static void test_stored_status(void **state)
{
	(void)state;
	for (int k = 0; k < KIND__COUNT; k++)
		assert_int_equal(kind_ops_table[k]->stored_status, k != KIND_NODE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_has_its_row),
	    cmocka_unit_test(test_stored_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
