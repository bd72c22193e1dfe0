/* SPDX-License-Identifier: MIT */
/*
 * The Node kind: a registered node (spec.underlay_ip; a PUT registers it) and
 * its status reports, kept apart from the object (store.h) and shown as its
 * status with the age and readiness computed at every read.
 */
#include "kind_node.h"
#include "lib/addr.h"
#include "lib/clock.h"

#include <errno.h>
#include <string.h>

#define COUNTERS_MAX	 256
#define COUNTER_NAME_MAX 64

static int node_validate(const json_t *spec, const char *name, json_t *out, struct api_error *err)
{
	(void)name;
	static const char *const allowed[] = {"underlay_ip", NULL};
	const char *ip;
	uint32_t addr;
	int r;

	r = api_check_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = api_require(spec, "underlay_ip", "spec.underlay_ip", err);
	if (r == 0)
		r = api_get_ipv4(spec, "underlay_ip", "spec.underlay_ip", &ip, &addr, err);
	if (r < 0)
		return r;
	json_object_set_new(out, "underlay_ip", json_string(ip));
	return 0;
}

int api_node_status_validate(const json_t *in, json_t **out, struct api_error *err)
{
	static const char *const allowed[] = {"applied_revision", "counters", "ports",
					      "drops_standby",	  "vms",      NULL};
	static const char *const maps[] = {"ports", "vms"};
	const json_t *rev;
	json_t *counters, *map, *drops, *res, *copy;
	const char *key;
	json_t *value;
	int r;

	r = api_check_object(in, NULL, allowed, err);
	if (r < 0)
		return r;
	r = api_get_nonnegative(in, "applied_revision", "applied_revision", &rev, err);
	if (r < 0)
		return r;
	counters = json_object_get(in, "counters");
	if (counters) {
		r = api_expect_type(counters, JSON_OBJECT, "counters", err);
		if (r < 0)
			return r;
		if (json_object_size(counters) > COUNTERS_MAX)
			return api_error_set(err, 400, "counters", "counters: more than %d entries",
					     COUNTERS_MAX);
		json_object_foreach(counters, key, value)
		{
			if (strlen(key) == 0 || strlen(key) > COUNTER_NAME_MAX)
				return api_error_set(
				    err, 400, "counters",
				    "counters: name \"%.64s\" is empty or too long", key);
			if (!json_is_integer(value))
				return api_error_set(err, 400, "counters",
						     "counters.%s: expected an integer, got %s",
						     key, api_type_name(value));
		}
	}
	/* Maps of reports by name: {NAME: {...}}. */
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		map = json_object_get(in, maps[i]);
		if (!map)
			continue;
		r = api_expect_type(map, JSON_OBJECT, maps[i], err);
		if (r < 0)
			return r;
		json_object_foreach(map, key, value)
		{
			if (!json_is_object(value))
				return api_error_set(err, 400, maps[i],
						     "%s.%.64s: expected an object, got %s",
						     maps[i], key, api_type_name(value));
		}
	}
	drops = json_object_get(in, "drops_standby");
	if (drops && (r = api_expect_type(drops, JSON_INTEGER, "drops_standby", err)) < 0)
		return r;
	copy = counters ? json_deep_copy(counters) : json_object();
	res = json_pack("{s:I, s:o}", "applied_revision",
			(json_int_t)(rev ? json_integer_value(rev) : 0), "counters", copy);
	if (!res)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		map = json_object_get(in, maps[i]);
		if (map && json_object_set_new(res, maps[i], json_deep_copy(map)) < 0) {
			json_decref(res);
			return -ENOMEM;
		}
	}
	if ((drops && json_object_set_new(res, "drops_standby",
					  json_integer(json_integer_value(drops))) < 0)) {
		json_decref(res);
		return -ENOMEM;
	}
	*out = res;
	return 0;
}

int node_status_get(struct registry *reg, const char *name, json_t **out)
{
	struct store *s = reg->store;
	json_t *st = NULL;
	int64_t age = 0;
	int r;

	r = s->ops->node_status_get(s, name, &st);
	if (r < 0)
		return r;
	if (reg->obs)
		age = observer_node_age(reg->obs, name,
					json_integer_value(json_object_get(st, "heartbeat_ms")));
	if (json_object_set_new(st, "age_ms", json_integer(age)) < 0 ||
	    json_object_set_new(st, "ready", json_boolean(age < NODE_READY_MS)) < 0) {
		json_decref(st);
		return -ENOMEM;
	}
	*out = st;
	return 0;
}

/* Adds the computed node status (liveness is computed at read time). */
static int node_decorate(struct registry *reg, json_t *node)
{
	json_t *st = NULL, *status;
	int r;

	r = node_status_get(reg, obj_name(node), &st);
	if (r < 0 && r != -ENOENT)
		return r;
	if (st)
		status = st;
	else
		status = json_pack("{s:b}", "ready", 0);
	if (!status)
		return -ENOMEM;
	return json_object_set_new(node, "status", status) < 0 ? -ENOMEM : 0;
}

/* What a reader sees of obj beyond what is stored (nodes and VMs). */
static int node_release(struct txn *t, const json_t *old, struct api_error *err)
{
	int r;

	(void)err;
	/* A deleted node's credentials go with it (auth.h): it must join again. */
	r = t->store->ops->cred_del_node(t->store, obj_name(old), NULL);
	if (r < 0)
		return r;
	return t->store->ops->node_status_del(t->store, obj_name(old));
}

int node_list(struct registry *reg, json_t **out)
{
	struct store *s = reg->store;
	json_t *items = NULL, *node, *st;
	int64_t rev;
	size_t i;
	int r;

	r = s->ops->list(s, kind_str(KIND_NODE), &items, &rev);
	if (r < 0)
		return r;
	json_array_foreach(items, i, node)
	{
		st = NULL;
		r = node_status_get(reg, obj_name(node), &st);
		if (r == -ENOENT)
			continue;
		if (r < 0 || json_object_set_new(node, "status", st) < 0) {
			json_decref(items);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*out = items;
	return 0;
}

int node_status_report(struct registry *reg, const char *name, const json_t *body, json_t **out,
		       struct api_error *err)
{
	struct store *s = reg->store;
	json_t *status = NULL, *node = NULL;
	int r;

	r = api_node_status_validate(body, &status, err);
	if (r < 0)
		return r;
	r = s->ops->get(s, kind_str(KIND_NODE), name, &node);
	if (r == -ENOENT)
		r = api_error_set(err, 404, NULL, "nodes \"%s\" not found (register it first)",
				  name);
	if (r < 0)
		goto cleanup;
	json_object_set_new(status, "heartbeat_ms", json_integer(clock_unix_ms()));
	r = s->ops->node_status_put(s, name, status);
	if (r < 0)
		goto cleanup;
	if (reg->obs) /* heard now, not at the next reader */
		observer_node_age(reg->obs, name,
				  json_integer_value(json_object_get(status, "heartbeat_ms")));
	if (reg->on_status)
		reg->on_status(reg->on_status_ctx, name);
	r = node_decorate(reg, node);
	if (r < 0)
		goto cleanup;
	*out = node;
	node = NULL;
cleanup:
	json_decref(status);
	json_decref(node);
	return r;
}

const struct kind_ops kind_node = {
    .kind = KIND_NODE,
    .put_creates = true,
    .validate = node_validate,
    .release = node_release,
    .decorate = node_decorate,
};
