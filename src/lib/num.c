/* SPDX-License-Identifier: MIT */
#include "lib/num.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int num_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int num_parse_flag(const char *prog, const char *flag, const char *text, long min, long max,
		   long *out)
{
	int r = num_parse_long(text, min, max, out);

	if (r < 0)
		fprintf(stderr, "%s: %s: '%s' is not a number in %ld..%ld\n", prog, flag, text, min,
			max);
	return r;
}
