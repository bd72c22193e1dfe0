/* SPDX-License-Identifier: MIT */
/* The etcd store's keys that are not objects (store_etcd.h): node status,
 * allocation pools, cursors, flags and credentials. */
#include "etcd.h"
#include "lib/log.h"
#include "store_etcd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- node status: its own keys, written at once ---- */

int es_node_status_put(struct store *s, const char *name, const json_t *status)
{
	struct etcd_store *es = to_es(s);
	char key[ETCD_KEY_MAX], *text = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS);
	int r = text ? 0 : -ENOMEM;

	es_lock(es);
	if (r == 0)
		r = es_key_of(es, key, "status/%s", name);
	if (r == 0)
		r = etcd_put(es->kv.etcd, key, text);
	es_unlock(es);
	free(text);
	return r;
}

int es_node_status_get(struct store *s, const char *name, json_t **status)
{
	struct etcd_store *es = to_es(s);
	struct kvtxn direct = {.etcd = es->kv.etcd};
	char key[ETCD_KEY_MAX], *text = NULL;
	int r;

	es_lock(es);
	r = es_key_of(es, key, "status/%s", name);
	if (r == 0)
		r = kvt_get(&direct, key, &text, NULL);
	if (r == 0)
		r = es_parse_json(key, text, status);
	es_unlock(es);
	free(text);
	return r;
}

/* ops (JSON RequestOps) as one transaction of their own, outside the store's. */
int es_write_now(struct etcd_store *es, json_t *ops)
{
	json_t *cmp = json_array();
	int64_t rev;
	bool ok;
	int r = cmp && ops ? etcd_txn(es->kv.etcd, cmp, ops, &ok, &rev) : -ENOMEM;

	json_decref(cmp);
	json_decref(ops);
	return r;
}

int es_node_status_del(struct store *s, const char *name)
{
	struct etcd_store *es = to_es(s);
	char key[ETCD_KEY_MAX];
	int r;

	es_lock(es);
	r = es_key_of(es, key, "status/%s", name);
	if (r == 0)
		r = es_write_now(es, json_pack("[o]", etcd_op_delete(key, NULL)));
	es_unlock(es);
	return r;
}

/* ---- allocation pools ---- */

static int alloc_key(const struct etcd_store *es, char *key, const char *index, const char *pool,
		     uint64_t value)
{
	return es_key_of(es, key, "%s/%s#%020" PRIu64, index, pool, value);
}

int es_alloc_get(struct store *s, const char *pool, uint64_t value, char **owner, bool *held)
{
	struct etcd_store *es = to_es(s);
	char key[ETCD_KEY_MAX];
	json_t *rec = NULL;
	const char *o;
	int r;

	es_lock(es);
	r = alloc_key(es, key, "alloc", pool, value);
	if (r == 0)
		r = es_get_json(es, key, &rec);
	o = json_string_value(json_object_get(rec, "owner"));
	if (r == 0 && (!o || !json_is_boolean(json_object_get(rec, "held")))) {
		log_error("store: etcd key %s is not an allocation", key);
		r = -EPROTO;
	}
	if (r == 0 && owner) {
		*owner = strdup(o);
		r = *owner ? 0 : -ENOMEM;
	}
	if (r == 0)
		*held = json_is_true(json_object_get(rec, "held"));
	json_decref(rec);
	es_unlock(es);
	return r;
}

int es_alloc_find_owner(struct store *s, const char *pool, const char *owner, uint64_t *value,
			bool *held)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX], start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	struct etcd_range res = {0};
	int64_t best = -1;
	bool best_held = false;
	int r;

	es_lock(es);
	snprintf(part, sizeof(part), "alloc/%s#", pool);
	r = es_range_of(es, start, end, part);
	if (r == 0)
		r = kvt_range(&es->kv, start, end, 0, &res);
	/* In value order: the first held one, else the first one. */
	for (size_t i = 0; r == 0 && i < res.n && !best_held; i++) {
		json_t *rec = NULL;
		int64_t v;

		r = es_parse_json(res.kvs[i].key, res.kvs[i].value, &rec);
		if (r == 0)
			r = es_parse_int(res.kvs[i].key, res.kvs[i].key + strlen(start), &v);
		if (r == 0 &&
		    strcmp(json_string_value(json_object_get(rec, "owner")) ?: "", owner) == 0) {
			if (best < 0 || json_is_true(json_object_get(rec, "held")))
				best = v;
			best_held = json_is_true(json_object_get(rec, "held"));
		}
		json_decref(rec);
	}
	etcd_range_free(&res);
	if (r == 0 && best < 0)
		r = -ENOENT;
	if (r == 0) {
		*value = (uint64_t)best;
		*held = best_held;
	}
	es_unlock(es);
	return r;
}

int es_alloc_set(struct store *s, const char *pool, uint64_t value, const char *owner, bool held)
{
	struct etcd_store *es = to_es(s);
	char key[ETCD_KEY_MAX];
	json_t *rec;
	int r;

	if (!es->in_txn)
		return -EINVAL;
	rec = json_pack("{s:s, s:b}", "owner", owner, "held", held);
	r = rec ? alloc_key(es, key, "alloc", pool, value) : -ENOMEM;
	if (r == 0)
		r = es_put_json(es, key, rec);
	json_decref(rec);
	if (r == 0)
		r = alloc_key(es, key, "held", pool, value);
	if (r == 0)
		r = held ? kvt_put(&es->kv, key, owner) : kvt_del(&es->kv, key);
	return r;
}

int es_alloc_next_held(struct store *s, const char *pool, uint64_t from, uint64_t *value)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX], pool_start[ETCD_KEY_MAX], start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	struct etcd_range res = {0};
	int64_t v;
	int r;

	es_lock(es);
	snprintf(part, sizeof(part), "held/%s#", pool);
	r = es_range_of(es, pool_start, end, part);
	if (r == 0)
		r = alloc_key(es, start, "held", pool, from);
	if (r == 0)
		r = kvt_range(&es->kv, start, end, 1, &res);
	if (r == 0 && res.n == 0)
		r = -ENOENT;
	if (r == 0)
		r = es_parse_int(res.kvs[0].key, res.kvs[0].key + strlen(pool_start), &v);
	if (r == 0)
		*value = (uint64_t)v;
	etcd_range_free(&res);
	es_unlock(es);
	return r;
}

int es_alloc_count_held(struct store *s, const char *pool, int64_t *n)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX], start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	int r;

	es_lock(es);
	snprintf(part, sizeof(part), "held/%s#", pool);
	r = es_range_of(es, start, end, part);
	if (r == 0)
		r = kvt_count(&es->kv, start, end, n);
	es_unlock(es);
	return r;
}

int es_alloc_drop_pool(struct store *s, const char *pool)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX], start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	int r = 0;

	if (!es->in_txn)
		return -EINVAL;
	for (int i = 0; i < 2 && r == 0; i++) {
		snprintf(part, sizeof(part), "%s/%s#", i ? "held" : "alloc", pool);
		r = es_range_of(es, start, end, part);
		if (r == 0)
			r = kvt_drop(&es->kv, start, end);
	}
	if (r == 0)
		r = es_key_of(es, start, "cursor/%s", pool);
	return r == 0 ? kvt_del(&es->kv, start) : r;
}

int es_cursor_get(struct store *s, const char *pool, uint64_t *value)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX];
	int64_t v;
	int r;

	es_lock(es);
	snprintf(part, sizeof(part), "cursor/%s", pool);
	r = es_get_int(es, part, &v, NULL);
	if (r == 0)
		*value = (uint64_t)v;
	es_unlock(es);
	return r;
}

int es_cursor_set(struct store *s, const char *pool, uint64_t value)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX];

	if (!es->in_txn)
		return -EINVAL;
	snprintf(part, sizeof(part), "cursor/%s", pool);
	return es_put_int(es, part, (int64_t)value);
}

int es_flag_get(struct store *s, const char *key, int64_t *value)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX];
	bool found;
	int64_t v;
	int r;

	es_lock(es);
	snprintf(part, sizeof(part), "flag/%s", key);
	r = es_get_int(es, part, &v, &found);
	if (r == 0 && !found)
		r = -ENOENT;
	if (r == 0)
		*value = v;
	es_unlock(es);
	return r;
}

int es_flag_set(struct store *s, const char *key, int64_t value)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX];

	if (!es->in_txn)
		return -EINVAL;
	snprintf(part, sizeof(part), "flag/%s", key);
	return es_put_int(es, part, value);
}

/* ---- credentials: their own keys, in the open transaction if any ---- */

int es_cred_put(struct store *s, const char *key, const char *node, const json_t *rec)
{
	struct etcd_store *es = to_es(s);
	json_t *doc = json_pack("{s:s, s:O}", "node", node, "rec", (json_t *)rec);
	char k[ETCD_KEY_MAX], *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r = text ? 0 : -ENOMEM;

	es_lock(es);
	if (r == 0)
		r = es_key_of(es, k, "cred/%s", key);
	if (r == 0)
		r = es->in_txn ? kvt_put(&es->kv, k, text)
			       : es_write_now(es, json_pack("[o]", etcd_op_put(k, text)));
	es_unlock(es);
	free(text);
	json_decref(doc);
	return r;
}

int es_cred_get(struct store *s, const char *key, json_t **rec)
{
	struct etcd_store *es = to_es(s);
	json_t *doc = NULL, *inner;
	char k[ETCD_KEY_MAX];
	int r;

	es_lock(es);
	r = es_key_of(es, k, "cred/%s", key);
	if (r == 0)
		r = es_get_json(es, k, &doc);
	inner = json_object_get(doc, "rec");
	if (r == 0 && !json_is_object(inner)) {
		log_error("store: etcd key %s is not a credential", k);
		r = -EPROTO;
	}
	if (r == 0)
		*rec = json_incref(inner);
	json_decref(doc);
	es_unlock(es);
	return r;
}

int es_cred_del_node(struct store *s, const char *node, int64_t *n)
{
	struct etcd_store *es = to_es(s);
	char start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	struct etcd_range res = {0};
	json_t *ops = json_array();
	int64_t gone = 0;
	int r = ops ? 0 : -ENOMEM;

	es_lock(es);
	if (r == 0)
		r = es_range_of(es, start, end, "cred/");
	if (r == 0)
		r = kvt_range(&es->kv, start, end, 0, &res);
	for (size_t i = 0; r == 0 && i < res.n; i++) {
		json_t *doc = NULL;

		r = es_parse_json(res.kvs[i].key, res.kvs[i].value, &doc);
		if (r == 0 &&
		    strcmp(json_string_value(json_object_get(doc, "node")) ?: "", node) == 0) {
			gone++;
			r = es->in_txn
				? kvt_del(&es->kv, res.kvs[i].key)
				: json_array_append_new(ops, etcd_op_delete(res.kvs[i].key, NULL));
		}
		json_decref(doc);
	}
	etcd_range_free(&res);
	if (r == 0 && !es->in_txn && json_array_size(ops)) {
		r = es_write_now(es, ops);
		ops = NULL;
	}
	json_decref(ops);
	if (r == 0 && n)
		*n = gone;
	es_unlock(es);
	return r;
}
