/* SPDX-License-Identifier: MIT */
/* lib/kinds: every row complete, every word back to its own kind, the name rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/kinds.h"

static void test_table_complete(void **state)
{
	(void)state;
	for (int k = 0; k < KIND__COUNT; k++) {
		const struct kind_info *ki = &kind_table[k];
		enum kind back = KIND__COUNT;

		assert_non_null(ki->name);
		assert_non_null(ki->plural);
		assert_non_null(ki->singular);
		assert_non_null(ki->aliases[0]);
		assert_int_equal(kind_of(ki), k);
		assert_string_equal(kind_str((enum kind)k), ki->name);
		assert_string_equal(kind_plural((enum kind)k), ki->plural);
		assert_int_equal(kind_from_str(ki->name, &back), 0);
		assert_int_equal(back, k);
		back = KIND__COUNT;
		assert_int_equal(kind_from_plural(ki->plural, &back), 0);
		assert_int_equal(back, k);
		assert_ptr_equal(kind_lookup(ki->name), ki);
		assert_ptr_equal(kind_lookup(ki->plural), ki);
		assert_ptr_equal(kind_lookup(ki->singular), ki);
		for (int a = 0; a < KIND_ALIASES_MAX && ki->aliases[a]; a++)
			assert_ptr_equal(kind_lookup(ki->aliases[a]), ki);
		/* no two kinds share a word */
		for (int o = 0; o < k; o++) {
			assert_string_not_equal(kind_table[o].name, ki->name);
			assert_string_not_equal(kind_table[o].plural, ki->plural);
		}
	}
}

static void test_known_words(void **state)
{
	enum kind k = KIND__COUNT;

	(void)state;
	assert_string_equal(kind_str(KIND_VM), "VM");
	assert_string_equal(kind_plural(KIND_MIGRATION), "migrations");
	assert_ptr_equal(kind_lookup("net"), &kind_table[KIND_NETWORK]);
	assert_ptr_equal(kind_lookup("virtualmachines"), &kind_table[KIND_VM]);
	assert_null(kind_lookup("vmi"));
	assert_null(kind_lookup(""));
	assert_null(kind_lookup(NULL));
	assert_int_equal(kind_from_str("network", &k), -EINVAL); /* the body's name only */
	assert_int_equal(kind_from_str("Token", &k), -EINVAL);
	assert_int_equal(kind_from_str(NULL, &k), -EINVAL);
	assert_int_equal(kind_from_plural("port", &k), -EINVAL);
	assert_int_equal(kind_from_plural(NULL, &k), -EINVAL);
	assert_int_equal(k, KIND__COUNT); /* untouched on failure */
}

static void test_object_name(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} rows[] = {
	    {"a", true},    {"node-1", true}, {"0a-b", true}, {"x--y", true}, {"", false},
	    {"-a", false},  {"a-", false},    {"A", false},   {"a_b", false}, {"a.b", false},
	    {"a b", false}, {"a/b", false},   {"é", false},
	};
	char longest[OBJECT_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (object_name_valid(rows[i].name) != rows[i].valid)
			fail_msg("object_name_valid(\"%s\") is not %d", rows[i].name,
				 rows[i].valid);
	assert_false(object_name_valid(NULL));
	memset(longest, 'a', OBJECT_NAME_MAX);
	longest[OBJECT_NAME_MAX] = '\0';
	assert_true(object_name_valid(longest));
	longest[OBJECT_NAME_MAX] = 'a';
	longest[OBJECT_NAME_MAX + 1] = '\0';
	assert_false(object_name_valid(longest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_complete),
	    cmocka_unit_test(test_known_words),
	    cmocka_unit_test(test_object_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
