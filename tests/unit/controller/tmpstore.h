/* SPDX-License-Identifier: MIT */
/* A store in a fresh temporary directory, for the controller's unit tests. */
#ifndef GODWIT_TESTS_TMPSTORE_H
#define GODWIT_TESTS_TMPSTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"

struct tmpstore {
	char dir[64];
	char path[96];
	struct store *s;
};

static inline int tmpstore_open(struct tmpstore *t, int retention)
{
	struct store_sqlite_options o = {.event_retention = retention};

	if (!t->dir[0]) {
		snprintf(t->dir, sizeof(t->dir), "/tmp/godwit-unit-XXXXXX");
		if (!mkdtemp(t->dir))
			return -1;
		snprintf(t->path, sizeof(t->path), "%s/godwit.db", t->dir);
	}
	return store_sqlite_open(t->path, &o, &t->s);
}

static inline void tmpstore_close(struct tmpstore *t)
{
	store_close(t->s);
	t->s = NULL;
}

static inline void tmpstore_remove(struct tmpstore *t)
{
	char cmd[128];

	tmpstore_close(t);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
}

#endif
