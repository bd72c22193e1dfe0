/* SPDX-License-Identifier: MIT */
/*
 * num: whole decimal numbers from text (flags, manifests' strings), in a
 * range, with one wording of the error for every program's flags.
 */
#ifndef GODWIT_LIB_NUM_H
#define GODWIT_LIB_NUM_H

/* A whole decimal number in min..max (no sign but '-', no spaces, no
 * suffix): 0 and *out, -EINVAL when s is not a number, -ERANGE when it is
 * outside min..max. */
int num_parse_long(const char *s, long min, long max, long *out);

/* num_parse_long for a flag: on failure prints
 * "PROG: FLAG: 'TEXT' is not a number in MIN..MAX" to stderr. */
int num_parse_flag(const char *prog, const char *flag, const char *text, long min, long max,
		   long *out);

#endif
