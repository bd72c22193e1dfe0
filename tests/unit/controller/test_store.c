/* SPDX-License-Identifier: MIT */
/* Store and registry: revisions, events, compaction, rollback, nothing half-stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "bpf/abi.h"
#include "registry.h"
#include "tmpstore.h"

static int setup(void **state)
{
	return tmpstore_setup_with(state, 3); /* keep 3 events: compaction is easy to reach */
}

static void test_revision_and_events(void **state)
{
	struct tmpstore *t = *state;
	struct store *s = t->s;
	json_t *events = NULL, *obj = NULL;
	int64_t rev, oldest;

	assert_int_equal(tmpstore_revision(s), 0);
	tmpstore_put_thing(s, "a");
	tmpstore_put_thing(s, "b");
	assert_int_equal(tmpstore_revision(s), 2);
	assert_int_equal(s->ops->events(s, 0, 10, &events, &oldest), 0);
	assert_int_equal(json_array_size(events), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 1), "revision")),
			 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 1), "type")),
			    "ADDED");
	json_decref(events);
	assert_int_equal(s->ops->events(s, 1, 10, &events, &oldest), 0);
	assert_int_equal(json_array_size(events), 1);
	json_decref(events);

	/* A transaction that writes nothing does not bump the revision. */
	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(rev, 3);
	assert_int_equal(s->ops->commit(s), 0);
	assert_int_equal(tmpstore_revision(s), 2);

	assert_int_equal(s->ops->get(s, "Thing", "a", &obj), 0);
	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(s->ops->del(s, "Thing", "a", obj), 0);
	assert_int_equal(s->ops->commit(s), 0);
	json_decref(obj);
	assert_int_equal(s->ops->get(s, "Thing", "a", &obj), -ENOENT);
	assert_int_equal(s->ops->events(s, 2, 10, &events, &oldest), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "type")),
			    "DELETED");
	json_decref(events);
}

static void test_compaction(void **state)
{
	struct tmpstore *t = *state;
	struct store *s = t->s;
	json_t *events = NULL;
	int64_t oldest = 0;

	for (int i = 0; i < 6; i++) {
		char name[8];

		snprintf(name, sizeof(name), "t%d", i);
		tmpstore_put_thing(s, name);
	}
	/* Retention 3: revisions 4..6 kept. */
	assert_int_equal(s->ops->events(s, 2, 10, &events, &oldest), -ESTALE);
	assert_int_equal(oldest, 4);
	assert_int_equal(s->ops->events(s, 3, 10, &events, &oldest), 0);
	assert_int_equal(json_array_size(events), 3);
	json_decref(events);
	/* Compaction survives a reopen. */
	tmpstore_close(t);
	assert_int_equal(tmpstore_open(t, 3), 0);
	s = t->s;
	assert_int_equal(s->ops->events(s, 0, 10, &events, &oldest), -ESTALE);
	assert_int_equal(tmpstore_revision(s), 6);
}

static void test_rollback_leaves_nothing(void **state)
{
	struct tmpstore *t = *state;
	struct store *s = t->s;
	json_t *obj = json_pack("{s:s}", "name", "x"), *got = NULL, *events = NULL;
	uint64_t v;
	bool held;
	int64_t rev, oldest;

	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(s->ops->put(s, "Thing", "x", "ADDED", obj), 0);
	assert_int_equal(s->ops->alloc_set(s, "pool", 5, "x", true), 0);
	assert_int_equal(s->ops->cursor_set(s, "pool", 6), 0);
	s->ops->rollback(s);
	json_decref(obj);

	assert_int_equal(tmpstore_revision(s), 0);
	assert_int_equal(s->ops->get(s, "Thing", "x", &got), -ENOENT);
	assert_int_equal(s->ops->alloc_find_owner(s, "pool", "x", &v, &held), -ENOENT);
	assert_int_equal(s->ops->cursor_get(s, "pool", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(s->ops->events(s, 0, 10, &events, &oldest), 0);
	assert_int_equal(json_array_size(events), 0);
	json_decref(events);
}

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

/* Registry-level failures store nothing: list and revision stay as they were. */
static void test_registry_failures_store_nothing(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	struct api_error err = {0};
	json_t *body, *out = NULL, *list = NULL;
	int64_t rev;
	bool created;

	body = parse("{\"metadata\":{\"name\":\"tiny\"},\"spec\":{\"cidr\":\"10.20.0.0/30\"}}");
	assert_int_equal(registry_create(&reg, KIND_NETWORK, body, &out, &err), 0);
	json_decref(body);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "spec"), "vni")),
			 100);
	json_decref(out);
	body = parse("{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"network\":\"tiny\","
		     "\"locations\":[\"n1\"]}}");
	assert_int_equal(registry_create(&reg, KIND_PORT, body, &out, &err), 0);
	json_decref(body);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "spec"), "ipv4")), "10.20.0.2");
	json_decref(out);
	rev = tmpstore_revision(t->s);

	/* Exhaustion: nothing of the failed port is stored. */
	body = parse("{\"metadata\":{\"name\":\"p2\"},\"spec\":{\"network\":\"tiny\","
		     "\"locations\":[\"n1\"]}}");
	assert_int_not_equal(registry_create(&reg, KIND_PORT, body, &out, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 507);
	/* A duplicate MAC fails after the IPv4 step: that allocation is rolled back. */
	body = parse("{\"metadata\":{\"name\":\"blue\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}");
	assert_int_equal(registry_create(&reg, KIND_NETWORK, body, &out, &err), 0);
	json_decref(body);
	json_decref(out);
	rev = tmpstore_revision(t->s);
	body = parse("{\"metadata\":{\"name\":\"p3\"},\"spec\":{\"network\":\"blue\","
		     "\"locations\":[\"n1\"],\"mac\":\"0a:58:00:00:00:01\"}}");
	assert_int_not_equal(registry_create(&reg, KIND_PORT, body, &out, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 409);
	assert_int_equal(tmpstore_revision(t->s), rev);
	/* Duplicate name, delete of a network in use, missing network. */
	body = parse("{\"metadata\":{\"name\":\"blue\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"}}");
	assert_int_not_equal(registry_create(&reg, KIND_NETWORK, body, &out, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 409);
	assert_int_not_equal(registry_delete(&reg, KIND_NETWORK, "tiny", &out, &err), 0);
	assert_int_equal(err.status, 409);
	body = parse("{\"metadata\":{\"name\":\"p4\"},\"spec\":{\"network\":\"nope\","
		     "\"locations\":[\"n1\"]}}");
	assert_int_not_equal(registry_create(&reg, KIND_PORT, body, &out, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 404);
	assert_int_equal(tmpstore_revision(t->s), rev);

	/* The next port in blue gets .2: the failed p3 did not consume it. */
	body = parse("{\"metadata\":{\"name\":\"p5\"},\"spec\":{\"network\":\"blue\","
		     "\"locations\":[\"n1\"]}}");
	assert_int_equal(registry_create(&reg, KIND_PORT, body, &out, &err), 0);
	json_decref(body);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "spec"), "ipv4")), "10.0.0.2");
	json_decref(out);

	assert_int_equal(registry_list(&reg, KIND_PORT, &list, &err), 0);
	assert_int_equal(json_array_size(json_object_get(list, "items")), 2);
	json_decref(list);

	/* Updates: immutable fields, stale revision, no-op keeps the revision. */
	rev = tmpstore_revision(t->s);
	body = parse("{\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"]}}");
	assert_int_equal(registry_update(&reg, KIND_PORT, "p5", body, &out, &created, &err), 0);
	json_decref(body);
	json_decref(out);
	assert_int_equal(tmpstore_revision(t->s), rev);
	body = parse("{\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\",\"n2\"]}}");
	assert_int_equal(registry_update(&reg, KIND_PORT, "p5", body, &out, &created, &err), 0);
	json_decref(body);
	assert_int_equal(tmpstore_revision(t->s), rev + 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "spec"), "ipv4")), "10.0.0.2");
	json_decref(out);
	body = parse("{\"metadata\":{\"revision\":1},\"spec\":{\"network\":\"blue\","
		     "\"locations\":[\"n1\"]}}");
	assert_int_not_equal(registry_update(&reg, KIND_PORT, "p5", body, &out, &created, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 409);
	body = parse("{\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"],"
		     "\"ipv4\":\"10.0.0.9\"}}");
	assert_int_not_equal(registry_update(&reg, KIND_PORT, "p5", body, &out, &created, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 422);
	assert_int_equal(tmpstore_revision(t->s), rev + 1);
}

/* spec.gatewayNode moves with a PUT and goes with a PUT that leaves it out. */
static void test_gateway_node_moves(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	struct api_error err = {0};
	json_t *body, *out = NULL;
	bool created;

	body = parse("{\"metadata\":{\"name\":\"blue\"},\"spec\":{\"cidr\":\"10.0.0.0/24\","
		     "\"gatewayNode\":\"node-1\"}}");
	assert_int_equal(registry_create(&reg, KIND_NETWORK, body, &out, &err), 0);
	json_decref(body);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "spec"), "gatewayNode")),
	    "node-1");
	json_decref(out);
	body = parse("{\"spec\":{\"cidr\":\"10.0.0.0/24\",\"gatewayNode\":\"node-2\"}}");
	assert_int_equal(registry_update(&reg, KIND_NETWORK, "blue", body, &out, &created, &err),
			 0);
	json_decref(body);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "spec"), "gatewayNode")),
	    "node-2");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "spec"), "gateway")),
	    "10.0.0.1");
	json_decref(out);
	body = parse("{\"spec\":{\"cidr\":\"10.0.0.0/24\"}}");
	assert_int_equal(registry_update(&reg, KIND_NETWORK, "blue", body, &out, &created, &err),
			 0);
	json_decref(body);
	assert_null(json_object_get(json_object_get(out, "spec"), "gatewayNode"));
	json_decref(out);
	body = parse("{\"spec\":{\"cidr\":\"10.0.0.0/24\",\"gatewayNode\":\"-x\"}}");
	assert_int_not_equal(
	    registry_update(&reg, KIND_NETWORK, "blue", body, &out, &created, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.field, "spec.gatewayNode");
}

static void test_object_limit(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s, .max_objects = 2};
	struct api_error err = {0};
	const char *names[] = {"n1", "n2", "n3"};
	json_t *body, *out = NULL;

	for (int i = 0; i < 3; i++) {
		body = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", names[i], "spec",
				 "underlay_ip", "192.168.0.1");
		int r = registry_create(&reg, KIND_NODE, body, &out, &err);

		json_decref(body);
		if (i < 2) {
			assert_int_equal(r, 0);
			json_decref(out);
		} else {
			assert_int_not_equal(r, 0);
			assert_int_equal(err.status, 507);
			assert_string_equal(err.message, "too many nodes (limit 2)");
		}
	}
	assert_int_equal(tmpstore_revision(t->s), 2);
}

/* The datapath's tables bound a kind below the registry's limit (kind.h). */
static void test_datapath_limit(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	struct api_error err = {0};
	json_t *body, *out = NULL;
	char name[16];
	int64_t rev;

	/* as many networks as the datapath holds, written straight into the store */
	assert_int_equal(t->s->ops->begin(t->s, &rev), 0);
	for (int i = 0; i < GW_MAX_VNIS; i++) {
		snprintf(name, sizeof(name), "net-%d", i);
		body = json_pack("{s:s, s:{s:s}}", "kind", "Network", "metadata", "name", name);
		assert_int_equal(t->s->ops->put(t->s, "Network", name, "ADDED", body), 0);
		json_decref(body);
	}
	assert_int_equal(t->s->ops->commit(t->s), 0);
	rev = tmpstore_revision(t->s);
	body = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", "one-more", "spec", "cidr",
			 "10.99.0.0/24");
	assert_int_not_equal(registry_create(&reg, KIND_NETWORK, body, &out, &err), 0);
	json_decref(body);
	assert_int_equal(err.status, 507);
	assert_non_null(strstr(err.message, "every node's datapath holds 1024"));
	assert_int_equal(tmpstore_revision(t->s), rev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_revision_and_events, setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_compaction, setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_object_limit, setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_gateway_node_moves, setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_datapath_limit, setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_registry_failures_store_nothing, setup,
					    tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
