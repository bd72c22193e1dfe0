/* SPDX-License-Identifier: MIT */
/* The informer's event application: cache_apply_line / cache_load_list. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "agent/cache.h"

static int apply(struct cache *c, const char *line)
{
	return cache_apply_line(c, line, strlen(line));
}

static const char *net_cidr(struct cache *c, const char *name)
{
	json_t *n = json_object_get(c->objs[CACHE_NETWORKS], name);

	return json_string_value(json_object_get(json_object_get(n, "spec"), "cidr"));
}

#define NET(type, rev, name, cidr)                                                               \
	"{\"type\":\"" type "\",\"revision\":" #rev ",\"object\":{\"apiVersion\":\"godwit/v1\","  \
	"\"kind\":\"Network\",\"metadata\":{\"name\":\"" name "\",\"revision\":" #rev "},"        \
	"\"spec\":{\"cidr\":\"" cidr "\",\"vni\":100}}}"

static void test_added_modified_deleted(void **state)
{
	struct cache c;

	(void)state;
	assert_int_equal(cache_init(&c), 0);
	assert_int_equal(apply(&c, NET("ADDED", 3, "blue", "10.0.0.0/24")), 1);
	assert_int_equal(c.revision, 3);
	assert_string_equal(net_cidr(&c, "blue"), "10.0.0.0/24");
	assert_int_equal(apply(&c, NET("MODIFIED", 4, "blue", "10.1.0.0/24")), 1);
	assert_string_equal(net_cidr(&c, "blue"), "10.1.0.0/24");
	assert_int_equal(c.revision, 4);
	assert_int_equal(apply(&c, NET("DELETED", 5, "blue", "10.1.0.0/24")), 1);
	assert_null(json_object_get(c.objs[CACHE_NETWORKS], "blue"));
	assert_int_equal(c.revision, 5);
	/* Deleting what is not there changes nothing but the revision. */
	assert_int_equal(apply(&c, NET("DELETED", 6, "blue", "10.1.0.0/24")), 0);
	assert_int_equal(c.revision, 6);
	cache_clear(&c);
}

/* The change counters tell a reader which kinds changed: a Migration's
 * progress leaves the datapath's kinds as they were. */
static void test_change_counters(void **state)
{
	struct cache c, copy;

	(void)state;
	assert_int_equal(cache_init(&c), 0);
	assert_int_equal(apply(&c, NET("ADDED", 3, "blue", "10.0.0.0/24")), 1);
	assert_int_equal(c.changes[CACHE_NETWORKS], 1);
	assert_int_equal(apply(&c, "{\"type\":\"MODIFIED\",\"revision\":4,\"object\":{\"kind\":"
				   "\"Migration\",\"metadata\":{\"name\":\"m1\"},\"status\":{}}}"),
			 1);
	assert_int_equal(c.changes[CACHE_MIGRATIONS], 1);
	assert_int_equal(c.changes[CACHE_NETWORKS], 1);
	assert_int_equal(apply(&c, "{\"type\":\"BOOKMARK\",\"revision\":5}"), 0);
	assert_int_equal(apply(&c, NET("DELETED", 6, "red", "10.0.0.0/24")), 0); /* not there */
	assert_int_equal(c.changes[CACHE_NETWORKS], 1);
	assert_int_equal(cache_copy(&c, &copy), 0);
	assert_int_equal(copy.changes[CACHE_MIGRATIONS], 1);
	assert_int_equal(copy.changes[CACHE_NETWORKS], 1);
	cache_clear(&copy);
	cache_clear(&c);
}

static void test_bookmark_and_other_kinds(void **state)
{
	struct cache c;

	(void)state;
	assert_int_equal(cache_init(&c), 0);
	assert_int_equal(apply(&c, "{\"type\":\"BOOKMARK\",\"revision\":42}"), 0);
	assert_int_equal(c.revision, 42);
	assert_int_equal(apply(&c, "{\"type\":\"ADDED\",\"revision\":43,\"object\":{\"kind\":\"Token\","
				   "\"metadata\":{\"name\":\"vm1\"}}}"),
			 0);
	assert_int_equal(c.revision, 43);
	for (int k = 0; k < CACHE__KINDS; k++)
		assert_int_equal(json_object_size(c.objs[k]), 0);
	cache_clear(&c);
}

static void test_garbage_lines(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"{\"type\":\"ADDED\"",
		"[1,2,3]",
		"{\"revision\":7}",
		"{\"type\":\"ADDED\",\"revision\":\"7\",\"object\":{}}",
		"{\"type\":\"EXPLODED\",\"revision\":7}",
		"{\"type\":\"ADDED\",\"revision\":7}",
		"{\"type\":\"ADDED\",\"revision\":7,\"object\":{\"kind\":\"Port\"}}",
		"{\"type\":\"ADDED\",\"revision\":7,\"object\":{\"kind\":\"Port\",\"metadata\":{\"name\":\"\"}}}",
		"{\"type\":\"BOOKMARK\",\"revision\":-1}",
	};
	struct cache c;

	(void)state;
	assert_int_equal(cache_init(&c), 0);
	assert_int_equal(apply(&c, NET("ADDED", 3, "blue", "10.0.0.0/24")), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(apply(&c, bad[i]), -EINVAL);
		assert_int_equal(c.revision, 3);
	}
	/* Embedded NUL / truncated length: still rejected, never read past len. */
	assert_int_equal(cache_apply_line(&c, "{\"type\":\"BOOKMARK\",\"revision\":9}", 10), -EINVAL);
	assert_int_equal(json_object_size(c.objs[CACHE_NETWORKS]), 1);
	assert_string_equal(net_cidr(&c, "blue"), "10.0.0.0/24");
	cache_clear(&c);
}

static void test_load_list(void **state)
{
	json_t *good = json_loads("{\"revision\":9,\"items\":[{\"kind\":\"Node\",\"metadata\":"
				  "{\"name\":\"n1\"},\"spec\":{\"underlay_ip\":\"10.9.0.1\"}}]}",
				  0, NULL);
	json_t *bad = json_loads("{\"revision\":9,\"items\":[{\"kind\":\"Node\"}]}", 0, NULL);
	struct cache c, copy;
	uint64_t rev = 0;

	(void)state;
	assert_int_equal(cache_init(&c), 0);
	assert_int_equal(cache_load_list(&c, CACHE_NODES, good, &rev), 0);
	assert_int_equal(rev, 9);
	assert_non_null(json_object_get(c.objs[CACHE_NODES], "n1"));
	rev = 0;
	assert_int_equal(cache_load_list(&c, CACHE_NODES, bad, &rev), -EINVAL);
	assert_int_equal(rev, 0);
	assert_non_null(json_object_get(c.objs[CACHE_NODES], "n1")); /* nothing half-stored */
	c.revision = 9;
	assert_int_equal(cache_copy(&c, &copy), 0);
	assert_int_equal(copy.revision, 9);
	assert_non_null(json_object_get(copy.objs[CACHE_NODES], "n1"));
	assert_int_equal(cache_kind_from_path("ports"), CACHE_PORTS);
	assert_int_equal(cache_kind_from_name("Migration"), CACHE_MIGRATIONS);
	assert_int_equal(cache_kind_from_name("Token"), -1);
	assert_int_equal(cache_kind_from_name("Event"), -1); /* not cached */
	assert_int_equal(cache_kind_from_path("events"), -1);
	cache_clear(&copy);
	cache_clear(&c);
	json_decref(good);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_added_modified_deleted),
		cmocka_unit_test(test_change_counters),
		cmocka_unit_test(test_bookmark_and_other_kinds),
		cmocka_unit_test(test_garbage_lines),
		cmocka_unit_test(test_load_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
