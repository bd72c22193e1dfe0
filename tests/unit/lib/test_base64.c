/* SPDX-License-Identifier: MIT */
/* base64_encode / base64_decode / base64_valid (src/lib/base64.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lib/base64.h"

/* RFC 4648's test vectors, both ways. */
static void test_vectors(void **state)
{
	static const char *const pairs[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	    {"/godwit/obj/Port/p1", "L2dvZHdpdC9vYmovUG9ydC9wMQ=="},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char *enc = base64_encode(pairs[i][0]), *dec = NULL;

		assert_non_null(enc);
		assert_string_equal(enc, pairs[i][1]);
		assert_true(base64_valid(enc));
		assert_int_equal(base64_decode(enc, &dec), 0);
		assert_string_equal(dec, pairs[i][0]);
		free(enc);
		free(dec);
	}
}

/* What is refused leaves *out as it was. */
static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "Zg=", "Zg", "Z===", "Zm9v!A==", "Zg==Zg==", "AA==", "=AAA"};
	char *out = (char *)"untouched";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(base64_decode(bad[i], &out), -EINVAL);
		assert_string_equal(out, "untouched");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
