/* SPDX-License-Identifier: MIT */
/*
 * The etcd store against a real etcd (with-etcd.sh): what only it has —
 * two controllers on one cluster, a prefix that is not a godwit store,
 * a value that is not the store's, an endpoint that is down. store.h's
 * common behaviour runs in the other *_etcd tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "store.h"

static const char *endpoint(void)
{
	const char *e = getenv("GODWIT_TEST_ETCD");

	if (!e || !*e)
		fail_msg("GODWIT_TEST_ETCD unset: run through with-etcd.sh");
	return e;
}

static struct store *open_at(const char *endpoints, const char *prefix)
{
	struct store_etcd_options o = {.endpoints = endpoints, .prefix = prefix};
	struct store *s = NULL;

	assert_int_equal(store_etcd_open(&o, &s), 0);
	return s;
}

static void put_thing(struct store *s, const char *name, int expect)
{
	json_t *obj = json_pack("{s:s}", "name", name);
	int64_t rev;

	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(s->ops->put(s, "Thing", name, "ADDED", obj), 0);
	assert_int_equal(s->ops->commit(s), expect);
	json_decref(obj);
}

static int64_t revision(struct store *s)
{
	int64_t rev = -1;

	assert_int_equal(s->ops->revision(s, &rev), 0);
	return rev;
}

/* Raw access to etcd, as another client of the cluster would write. */
static void raw_put(const char *key, const char *value)
{
	struct etcd *e = NULL;

	assert_int_equal(etcd_open(endpoint(), &e), 0);
	assert_int_equal(etcd_put(e, key, value), 0);
	etcd_close(e);
}

/* Two controllers on one prefix: one store (one cluster id, each sees the
 * other's writes); a transaction reads a snapshot; of two transactions begun
 * at the same revision the second to commit writes nothing. */
static void test_two_controllers(void **state)
{
	struct store *a = open_at(endpoint(), "/two/"), *b = open_at(endpoint(), "/two/");
	json_t *obj = json_pack("{s:s}", "name", "late"), *got = NULL, *items = NULL,
	       *events = NULL;
	int64_t rev_a, rev_b, oldest;

	(void)state;
	assert_string_equal(a->ops->cluster_id(a), b->ops->cluster_id(b));
	put_thing(a, "first", 0);
	assert_int_equal(b->ops->get(b, "Thing", "first", &got), 0);
	json_decref(got);
	assert_int_equal(revision(b), 1);

	assert_int_equal(a->ops->begin(a, &rev_a), 0);
	assert_int_equal(b->ops->begin(b, &rev_b), 0);
	assert_int_equal(rev_a, 2);
	assert_int_equal(rev_b, 2);
	assert_int_equal(b->ops->put(b, "Thing", "late", "ADDED", obj), 0);
	assert_int_equal(b->ops->alloc_set(b, "vni", 7, "late", true), 0);
	json_object_set_new(obj, "name", json_string("second"));
	assert_int_equal(a->ops->put(a, "Thing", "second", "ADDED", obj), 0);
	assert_int_equal(a->ops->commit(a), 0);
	/* b reads the store as it was when b began: a's commit is not in it. */
	assert_int_equal(b->ops->get(b, "Thing", "second", &got), -ENOENT);
	assert_int_equal(b->ops->commit(b), -EAGAIN);
	json_decref(obj);

	/* Nothing of b's: no object, no allocation, no event; revision 2 is a's. */
	assert_int_equal(a->ops->get(a, "Thing", "late", &got), -ENOENT);
	assert_int_equal(a->ops->alloc_count_held(a, "vni", &oldest), 0);
	assert_int_equal(oldest, 0);
	assert_int_equal(b->ops->list(b, "Thing", &items, &rev_b), 0);
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(rev_b, 2);
	json_decref(items);
	assert_int_equal(b->ops->events(b, 0, 10, &events, &oldest), 0);
	assert_int_equal(json_array_size(events), 2);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(events, 1), "object"), "name")),
			    "second");
	json_decref(events);
	store_close(a);
	store_close(b);
}

/* A prefix with keys of someone else's is refused, and left as it was. */
static void test_foreign_prefix(void **state)
{
	struct store_etcd_options o = {.endpoints = endpoint(), .prefix = "/foreign/"};
	struct etcd_range res = {0};
	struct store *s = NULL;
	struct etcd *e = NULL;

	(void)state;
	raw_put("/foreign/config", "theirs");
	assert_int_equal(store_etcd_open(&o, &s), -EMEDIUMTYPE);
	assert_null(s);
	assert_int_equal(etcd_open(endpoint(), &e), 0);
	assert_int_equal(
	    etcd_range(e, &(struct etcd_range_req){.key = "/foreign/", .range_end = "/foreign0"},
		       &res),
	    0);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.kvs[0].value, "theirs");
	etcd_range_free(&res);
	etcd_close(e);

	o.prefix = "no-slash";
	assert_int_equal(store_etcd_open(&o, &s), -EINVAL);
}

/* A stored value that is not the store's is an error naming the key, and
 * does not stop the rest. */
static void test_damaged_value(void **state)
{
	struct store *s = open_at(endpoint(), "/damaged/");
	json_t *obj = NULL;

	(void)state;
	put_thing(s, "good", 0);
	raw_put("/damaged/obj/Thing/bad", "{not json");
	raw_put("/damaged/flag/broken", "12x");
	assert_int_equal(s->ops->get(s, "Thing", "bad", &obj), -EPROTO);
	assert_int_equal(s->ops->flag_get(s, "broken", &(int64_t){0}), -EPROTO);
	assert_int_equal(s->ops->get(s, "Thing", "good", &obj), 0);
	json_decref(obj);
	store_close(s);
}

/* An endpoint that does not answer is skipped for the next one. */
static void test_endpoint_failover(void **state)
{
	char endpoints[256];
	struct store *s;
	json_t *obj = NULL;

	(void)state;
	snprintf(endpoints, sizeof(endpoints), "http://127.0.0.1:1,%s", endpoint());
	s = open_at(endpoints, "/failover/");
	put_thing(s, "x", 0);
	assert_int_equal(s->ops->get(s, "Thing", "x", &obj), 0);
	json_decref(obj);
	store_close(s);

	assert_int_equal(
	    store_etcd_open(&(struct store_etcd_options){.endpoints = "http://127.0.0.1:1"}, &s),
	    -ECONNREFUSED);
	assert_int_equal(
	    store_etcd_open(&(struct store_etcd_options){.endpoints = "https://x:1"}, &s), -EINVAL);
}

/* Node status is written at once and makes no revision. */
static void test_node_status(void **state)
{
	struct store *s = open_at(endpoint(), "/status/");
	json_t *st = json_pack("{s:i}", "ports", 3), *got = NULL;

	(void)state;
	assert_int_equal(s->ops->node_status_put(s, "node-1", st), 0);
	assert_int_equal(s->ops->node_status_get(s, "node-1", &got), 0);
	assert_true(json_equal(st, got));
	json_decref(got);
	assert_int_equal(revision(s), 0);
	assert_int_equal(s->ops->node_status_del(s, "node-1"), 0);
	assert_int_equal(s->ops->node_status_get(s, "node-1", &got), -ENOENT);
	json_decref(st);
	store_close(s);
}

/* godwitd's --store etcd://...: endpoints and prefix, or a refusal that
 * leaves the outputs alone. */
static void test_store_url(void **state)
{
	static const char *const bad[] = {
	    "etcd://",	       "etcd:///godwit/",
	    "etcd://h",	       "etcd://h:0",
	    "etcd://h:2379,",  "etcd://,h:2379",
	    "etcd://h:1,,h:2", "etcd://h:2379/p",
	    "etcd://h:2379//", "http://h:2379",
	    "etcd://h:99999",  "sqlite",
	    "etcd://[h]:2379", "etcd://1:1,2:2,3:3,4:4,5:5,6:6,7:7,8:8,9:9"};
	char *eps = (char *)"untouched", *prefix = (char *)"untouched";

	(void)state;
	assert_int_equal(etcd_parse_url("etcd://10.0.0.1:2379,[fd00::2]:2379", &eps, &prefix), 0);
	assert_string_equal(eps, "http://10.0.0.1:2379,http://[fd00::2]:2379");
	assert_string_equal(prefix, "/godwit/");
	free(eps);
	free(prefix);
	assert_int_equal(etcd_parse_url("etcd://e1:2379/fabric/a/", &eps, &prefix), 0);
	assert_string_equal(eps, "http://e1:2379");
	assert_string_equal(prefix, "/fabric/a/");
	free(eps);
	free(prefix);
	eps = prefix = (char *)"untouched";
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(etcd_parse_url(bad[i], &eps, &prefix) < 0);
		assert_string_equal(eps, "untouched");
		assert_string_equal(prefix, "untouched");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_controllers), cmocka_unit_test(test_foreign_prefix),
	    cmocka_unit_test(test_damaged_value),   cmocka_unit_test(test_endpoint_failover),
	    cmocka_unit_test(test_node_status),	    cmocka_unit_test(test_store_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
