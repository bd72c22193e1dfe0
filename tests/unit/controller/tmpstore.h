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

/*
 * With GODWIT_TEST_ETCD set (an etcd endpoint: tests/unit/controller/
 * with-etcd.sh starts one), the store is the etcd backend under a prefix of
 * its own instead; reopening it opens the same prefix.
 */
static inline int tmpstore_open_etcd(struct tmpstore *t, const char *endpoint, int retention)
{
	static int made;
	struct store_etcd_options o = {
	    .endpoints = endpoint, .prefix = t->path, .event_retention = retention};

	if (!t->path[0])
		snprintf(t->path, sizeof(t->path), "/unit-%d-%d/", (int)getpid(), made++);
	return store_etcd_open(&o, &t->s);
}

static inline int tmpstore_open(struct tmpstore *t, int retention)
{
	struct store_sqlite_options o = {.event_retention = retention};
	const char *etcd = getenv("GODWIT_TEST_ETCD");

	if (etcd && *etcd)
		return tmpstore_open_etcd(t, etcd, retention);
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
	if (!t->dir[0]) /* etcd: with-etcd.sh removes its data */
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
}

/* cmocka fixtures and steps, for the tests that include cmocka.h first. */
#ifdef assert_int_equal
static inline int tmpstore_setup_with(void **state, int retention)
{
	struct tmpstore *t = calloc(1, sizeof(*t));

	if (!t || tmpstore_open(t, retention) < 0)
		return -1;
	*state = t;
	return 0;
}

static inline int tmpstore_setup(void **state)
{
	return tmpstore_setup_with(state, 0);
}

static inline int tmpstore_teardown(void **state)
{
	struct tmpstore *t = *state;

	tmpstore_remove(t);
	free(t);
	return 0;
}

static inline int64_t tmpstore_revision(struct store *s)
{
	int64_t rev = -1;

	assert_int_equal(s->ops->revision(s, &rev), 0);
	return rev;
}

/* One object {"name": name} of kind "Thing", in its own transaction. */
static inline void tmpstore_put_thing(struct store *s, const char *name)
{
	json_t *obj = json_pack("{s:s}", "name", name);
	int64_t rev;

	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(s->ops->put(s, "Thing", name, "ADDED", obj), 0);
	assert_int_equal(s->ops->commit(s), 0);
	json_decref(obj);
}
#endif

#endif
