/* SPDX-License-Identifier: MIT */
/* num_parse_long / num_parse_flag (src/lib/num.h). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "lib/num.h"

static void test_numbers(void **state)
{
	long v = 7;

	(void)state;
	assert_int_equal(num_parse_long("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(num_parse_long("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(num_parse_long("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(num_parse_long("9223372036854775807", 0, LONG_MAX, &v), 0);
	assert_int_equal(v, LONG_MAX);
}

/* What is refused leaves *out as it was. */
static void test_refused(void **state)
{
	static const char *const not_numbers[] = {"",	  " 1",	 "1 ", "+1",  "1k",
						  "0x10", "--1", "-",  "1.5", "one"};
	long v = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++)
		assert_int_equal(num_parse_long(not_numbers[i], -100, 100, &v), -EINVAL);
	assert_int_equal(num_parse_long(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(num_parse_long("11", 0, 10, &v), -ERANGE);
	assert_int_equal(num_parse_long("0", 1, 10, &v), -ERANGE);
	assert_int_equal(num_parse_long("99999999999999999999", 0, LONG_MAX, &v), -ERANGE);
	assert_int_equal(num_parse_flag("prog", "--n", "x", 1, 2, &v), -EINVAL);
	assert_int_equal(v, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
