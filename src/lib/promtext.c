/* SPDX-License-Identifier: MIT */
#include "lib/promtext.h"

#include <errno.h>
#include <stdlib.h>

int promtext_open(struct promtext *p)
{
	p->buf = NULL;
	p->len = 0;
	p->f = open_memstream(&p->buf, &p->len);
	return p->f ? 0 : -errno;
}

int promtext_close(struct promtext *p, int r, char **text, size_t *len)
{
	if (fclose(p->f) != 0 && r == 0)
		r = -EIO;
	p->f = NULL;
	if (r < 0) {
		free(p->buf);
		p->buf = NULL;
		return r;
	}
	*text = p->buf;
	*len = p->len;
	p->buf = NULL;
	return 0;
}

void promtext_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}
