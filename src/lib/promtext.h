/* SPDX-License-Identifier: MIT */
/*
 * promtext: the Prometheus text exposition format (0.0.4) written into a
 * memory stream, for the controller's and the agents' GET /metrics. Label
 * values are object names, counter names and phases (DNS labels and fixed
 * words): none needs escaping.
 */
#ifndef GODWIT_LIB_PROMTEXT_H
#define GODWIT_LIB_PROMTEXT_H

#include <stddef.h>
#include <stdio.h>

#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct promtext {
	FILE *f;
	char *buf;
	size_t len;
};

int promtext_open(struct promtext *p);
/*
 * Ends p. With r == 0: 0 and the text (malloc'd, NUL-terminated) in *text and
 * its length in *len, or -EIO when the stream failed. With r < 0: frees what
 * was written and returns r, writing nothing to the outputs.
 */
int promtext_close(struct promtext *p, int r, char **text, size_t *len);

/* The "# HELP" and "# TYPE" lines of a family. */
void promtext_header(FILE *f, const char *name, const char *type, const char *help);

#endif
