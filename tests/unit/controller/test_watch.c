/* SPDX-License-Identifier: MIT */
/* The watch hub's ring (watch.h): one store read per commit whatever the
 * number of watchers, whole revisions in order, the oldest revisions evicted
 * whole, a burst larger than the ring sends the watchers back to the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tmpstore.h"
#include "watch.h"

/* A store that counts the reads of its events. */
struct counting_store {
	struct store base;
	struct store *inner;
	int reads;
};

static struct store_ops counting_ops;

static int counting_events(struct store *s, int64_t since, int max, json_t **events,
			   int64_t *oldest)
{
	struct counting_store *c = (struct counting_store *)s;

	c->reads++;
	return c->inner->ops->events(c->inner, since, max, events, oldest);
}

struct fixture {
	struct tmpstore *t;
	struct counting_store store;
	struct watch_hub hub;
	int64_t revision;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || tmpstore_setup((void **)&f->t) < 0)
		return -1;
	counting_ops = *f->t->s->ops;
	counting_ops.events = counting_events;
	f->store.base.ops = &counting_ops;
	f->store.inner = f->t->s;
	if (watch_hub_init(&f->hub, &f->store.base, 0) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	watch_hub_destroy(&f->hub);
	tmpstore_teardown((void **)&f->t);
	free(f);
	return 0;
}

/* One commit of n objects, then the hub told (as the registry's on_commit). */
static void commit(struct fixture *f, int n)
{
	struct store *s = f->t->s;
	int64_t rev;
	char name[32];

	assert_int_equal(s->ops->begin(s, &rev), 0);
	for (int i = 0; i < n; i++) {
		json_t *obj = json_pack("{s:s, s:I}", "kind", "Thing", "n", (json_int_t)i);

		snprintf(name, sizeof(name), "r%lld-%d", (long long)rev, i);
		assert_int_equal(s->ops->put(s, "Thing", name, "ADDED", obj), 0);
		json_decref(obj);
	}
	assert_int_equal(s->ops->commit(s), 0);
	f->revision = rev;
	watch_hub_notify(&f->hub, rev);
}

/* The revisions of the lines after since; -1 in out[0] when not served. */
static size_t lines_since(struct fixture *f, int64_t since, int64_t *revs, size_t max,
			  int64_t *last)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, n = 0;
	bool served = false;

	*last = since;
	assert_int_equal(watch_hub_lines(&f->hub, since, &buf, &len, last, &served), 0);
	if (!served) {
		revs[0] = -1;
		return 0;
	}
	if (!buf)
		return 0;
	assert_int_equal(buf[len - 1], '\n');
	buf[len - 1] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *ev = json_loads(line, 0, NULL);

		assert_non_null(ev);
		if (n < max)
			revs[n] = json_integer_value(json_object_get(ev, "revision"));
		n++;
		json_decref(ev);
	}
	free(buf);
	return n;
}

static void test_one_read_per_commit(void **state)
{
	struct fixture *f = *state;
	int64_t revs[8], last;

	commit(f, 1);
	commit(f, 2);
	commit(f, 1);
	assert_int_equal(f->store.reads, 3);
	for (int watcher = 0; watcher < 100; watcher++) {
		assert_int_equal(lines_since(f, 0, revs, 8, &last), 4);
		assert_int_equal(last, 3);
	}
	assert_int_equal(f->store.reads, 3); /* the watchers read the ring only */
	assert_int_equal(revs[0], 1);
	assert_int_equal(revs[1], 2);
	assert_int_equal(revs[2], 2);
	assert_int_equal(revs[3], 3);
	assert_int_equal(lines_since(f, 1, revs, 8, &last), 3);
	assert_int_equal(revs[0], 2);
	assert_int_equal(lines_since(f, 3, revs, 8, &last), 0); /* nothing new */
	assert_int_equal(last, 3);
}

static void test_whole_revisions_in_a_batch(void **state)
{
	struct fixture *f = *state;
	static int64_t revs[WATCH_BATCH * 2];
	int64_t last;

	commit(f, WATCH_BATCH - 2);
	commit(f, 10); /* crosses the batch size: sent whole */
	commit(f, 5);
	assert_int_equal(lines_since(f, 0, revs, WATCH_BATCH * 2, &last), WATCH_BATCH + 8);
	assert_int_equal(last, 2);
	assert_int_equal(lines_since(f, last, revs, WATCH_BATCH * 2, &last), 5);
	assert_int_equal(last, 3);
}

static void test_oldest_revisions_evicted_whole(void **state)
{
	struct fixture *f = *state;
	static int64_t revs[WATCH_RING];
	int64_t last;
	size_t n;

	for (int i = 0; i < WATCH_RING / 100 + 2; i++) /* 100 lines a revision */
		commit(f, 100);
	/* 4,200 lines for a ring of 4,096: revision 1 and 2 went, whole */
	assert_int_equal(lines_since(f, 0, revs, WATCH_RING, &last), 0);
	assert_int_equal(revs[0], -1); /* before the ring: the store */
	assert_int_equal(lines_since(f, 1, revs, WATCH_RING, &last), 0);
	assert_int_equal(revs[0], -1);
	n = lines_since(f, 2, revs, WATCH_RING, &last);
	assert_int_equal(n % 100, 0);
	assert_true(n >= WATCH_BATCH);
	assert_int_equal(revs[0], 3);
}

static void test_burst_larger_than_the_ring(void **state)
{
	struct fixture *f = *state;
	int64_t revs[4], last;

	commit(f, 1);
	commit(f, WATCH_RING + 10);
	assert_int_equal(lines_since(f, 0, revs, 4, &last), 0);
	assert_int_equal(revs[0], -1); /* the burst is read from the store */
	assert_int_equal(lines_since(f, 1, revs, 4, &last), 0);
	assert_int_equal(revs[0], -1);
	commit(f, 1);
	assert_int_equal(lines_since(f, 2, revs, 4, &last), 1); /* past it: the ring again */
	assert_int_equal(revs[0], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_read_per_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whole_revisions_in_a_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oldest_revisions_evicted_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_burst_larger_than_the_ring, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
