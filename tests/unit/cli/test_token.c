/* SPDX-License-Identifier: MIT */
/* `godwit token create --ttl`: durations, and the refusals of bad ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli.h"

static void test_ttl(void **state)
{
	static const struct {
		const char *text;
		long seconds; /* 0: refused */
	} cases[] = {
	    {"90", 90},	      {"90s", 90}, {"30m", 1800}, {"1h", 3600}, {"7d", 604800},
	    {"30d", 2592000}, {"31d", 0},  {"0", 0},	  {"", 0},	{"h", 0},
	    {"1x", 0},	      {"-5m", 0},  {"1h30m", 0},  {"5ms", 0},	{"99999999999999999999", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long v = -1;
		int r = token_parse_ttl(cases[i].text, &v);

		if (cases[i].seconds ? (r != 0 || v != cases[i].seconds) : (r == 0 || v != -1))
			fail_msg("--ttl '%s': r %d, %ld s", cases[i].text, r, v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_ttl)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
