/* SPDX-License-Identifier: MIT */
/* A transaction's writes over etcd's keys (store_etcd_kv.h). */
#include "store_etcd_kv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool in_range(const char *key, const char *start, const char *end)
{
	return strcmp(key, start) >= 0 && strcmp(key, end) < 0;
}

static bool dropped(const struct kvtxn *t, const char *key)
{
	const json_t *d;
	size_t i;

	json_array_foreach(t->dropped, i, d)
	{
		if (in_range(key, json_string_value(json_array_get(d, 0)),
			     json_string_value(json_array_get(d, 1))))
			return true;
	}
	return false;
}

/* Whether the writes held touch [start, end): then etcd's keys alone are not
 * the answer. */
static bool touched(const struct kvtxn *t, const char *start, const char *end)
{
	const char *key;
	const json_t *v, *d;
	size_t i;

	json_object_foreach((json_t *)t->writes, key, v)
	{
		if (in_range(key, start, end))
			return true;
	}
	json_array_foreach(t->dropped, i, d)
	{
		const char *s = json_string_value(json_array_get(d, 0)),
			   *e = json_string_value(json_array_get(d, 1));

		if (strcmp(s, end) < 0 && strcmp(start, e) < 0)
			return true;
	}
	return false;
}

int kvt_get(struct kvtxn *t, const char *key, char **value, int64_t *create_rev)
{
	const json_t *w = json_object_get(t->writes, key);
	struct etcd_range res = {0};
	char *v;
	int r;

	if (w || (t->dropped && dropped(t, key))) {
		if (!json_is_string(w))
			return -ENOENT;
		v = strdup(json_string_value(w));
		if (!v)
			return -ENOMEM;
		if (value)
			*value = v;
		else
			free(v);
		if (create_rev)
			*create_rev = 0;
		return 0;
	}
	r = etcd_range(t->etcd, &(struct etcd_range_req){.key = key, .at_revision = t->at_revision},
		       &res);
	if (r == 0 && res.n == 0)
		r = -ENOENT;
	if (r == 0) {
		if (create_rev)
			*create_rev = res.kvs[0].create_revision;
		if (value) {
			*value = res.kvs[0].value;
			res.kvs[0].value = NULL;
		}
	}
	etcd_range_free(&res);
	return r;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct etcd_kv *)a)->key, ((const struct etcd_kv *)b)->key);
}

/* etcd's keys in the range with the writes laid over them, into *out. */
static int merge(struct kvtxn *t, struct etcd_range *got, const char *start, const char *end,
		 int64_t limit, struct etcd_range *out)
{
	size_t cap = got->n + json_object_size(t->writes), n = 0;
	struct etcd_kv *kvs = calloc(cap ? cap : 1, sizeof(*kvs));
	const char *key;
	const json_t *v;

	if (!kvs)
		return -ENOMEM;
	for (size_t i = 0; i < got->n; i++) {
		if (json_object_get(t->writes, got->kvs[i].key) || dropped(t, got->kvs[i].key))
			continue;
		kvs[n++] = got->kvs[i];
		got->kvs[i] = (struct etcd_kv){0};
	}
	json_object_foreach((json_t *)t->writes, key, v)
	{
		if (!json_is_string(v) || !in_range(key, start, end))
			continue;
		kvs[n].key = strdup(key);
		kvs[n].value = strdup(json_string_value(v));
		if (!kvs[n].key || !kvs[n].value) {
			n++;
			etcd_range_free(&(struct etcd_range){.kvs = kvs, .n = n});
			return -ENOMEM;
		}
		n++;
	}
	qsort(kvs, n, sizeof(*kvs), by_key);
	*out =
	    (struct etcd_range){.kvs = kvs, .n = n, .count = (int64_t)n, .revision = got->revision};
	while (limit > 0 && (int64_t)out->n > limit) {
		out->n--;
		free(kvs[out->n].key);
		free(kvs[out->n].value);
	}
	return 0;
}

int kvt_range(struct kvtxn *t, const char *start, const char *end, int64_t limit,
	      struct etcd_range *out)
{
	struct etcd_range got = {0};
	int r;

	if (!t->writes || !touched(t, start, end))
		return etcd_range(
		    t->etcd,
		    &(struct etcd_range_req){.key = start, .range_end = end, .limit = limit}, out);
	r = etcd_range(t->etcd, &(struct etcd_range_req){.key = start, .range_end = end}, &got);
	if (r == 0)
		r = merge(t, &got, start, end, limit, out);
	etcd_range_free(&got);
	return r;
}

int kvt_count(struct kvtxn *t, const char *start, const char *end, int64_t *n)
{
	struct etcd_range res = {0};
	int r;

	if (!t->writes || !touched(t, start, end))
		r = etcd_range(
		    t->etcd,
		    &(struct etcd_range_req){.key = start, .range_end = end, .count_only = true},
		    &res);
	else
		r = kvt_range(t, start, end, 0, &res);
	if (r == 0)
		*n = res.count;
	etcd_range_free(&res);
	return r;
}

static int start_writing(struct kvtxn *t)
{
	if (t->writes)
		return 0;
	t->writes = json_object();
	t->dropped = json_array();
	if (!t->writes || !t->dropped) {
		kvt_reset(t);
		return -ENOMEM;
	}
	return 0;
}

static int hold(struct kvtxn *t, const char *key, json_t *value)
{
	int r = value ? start_writing(t) : -ENOMEM;

	if (r < 0) {
		json_decref(value);
		return r;
	}
	return json_object_set_new(t->writes, key, value) == 0 ? 0 : -ENOMEM;
}

int kvt_put(struct kvtxn *t, const char *key, const char *value)
{
	return hold(t, key, json_string(value));
}

int kvt_del(struct kvtxn *t, const char *key)
{
	if (t->dropped && dropped(t, key)) {
		json_object_del(t->writes, key); /* gone with its range */
		return 0;
	}
	return hold(t, key, json_null());
}

int kvt_drop(struct kvtxn *t, const char *start, const char *end)
{
	const char *key;
	json_t *v, *tmp;
	int r = start_writing(t);

	if (r < 0)
		return r;
	json_object_foreach_safe(t->writes, tmp, key, v)
	{
		if (in_range(key, start, end))
			json_object_del(t->writes, key);
	}
	return json_array_append_new(t->dropped, json_pack("[s, s]", start, end)) == 0 ? 0
										       : -ENOMEM;
}

bool kvt_wrote(const struct kvtxn *t)
{
	return json_object_size(t->writes) || json_array_size(t->dropped);
}

int kvt_ops(const struct kvtxn *t, json_t *ops)
{
	const char *key;
	const json_t *v, *d;
	size_t i;
	int r = 0;

	json_array_foreach(t->dropped, i, d)
	{
		r |= json_array_append_new(ops,
					   etcd_op_delete(json_string_value(json_array_get(d, 0)),
							  json_string_value(json_array_get(d, 1))));
	}
	json_object_foreach((json_t *)t->writes, key, v)
	{
		r |= json_array_append_new(ops, json_is_string(v)
						    ? etcd_op_put(key, json_string_value(v))
						    : etcd_op_delete(key, NULL));
	}
	return r ? -ENOMEM : 0;
}

void kvt_reset(struct kvtxn *t)
{
	json_decref(t->writes);
	json_decref(t->dropped);
	t->writes = NULL;
	t->dropped = NULL;
	t->at_revision = 0;
}
