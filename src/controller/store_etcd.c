/* SPDX-License-Identifier: MIT */
/*
 * The etcd backend of store.h. Keys under the prefix P:
 *   P meta/revision        the store's revision (decimal)
 *   P meta/compacted       events at or before it are gone (decimal)
 *   P meta/cluster         the cluster id, made once
 *   P obj/KIND/NAME        an object (JSON)
 *   P event/REVISION       the events of one revision (a JSON array), 20 digits
 *   P alloc/POOL#VALUE     {"owner", "held"}, VALUE in 20 digits (numeric order)
 *   P held/POOL#VALUE      the owner of a held value: the index of the held ones
 *   P cursor/POOL, P flag/KEY   decimal
 *   P cred/KEY             {"node", "rec"}
 *   P status/NAME          a node's status (JSON), written at once, no revision
 * A commit is one etcd transaction: its compare is that P meta/revision was
 * not written since the transaction began (mod_revision unchanged), so
 * transactions are serialised across every controller on the cluster, and
 * the revision promised at begin is the one the change gets. The store keeps
 * its own revision rather than etcd's: etcd's also counts writes that are no
 * change of the store (node status, lease expiries, other clients of a shared
 * cluster), while store.h promises the next revision before the write.
 * A commit whose compare failed wrote nothing: -EAGAIN.
 */
#include "store.h"
#include "etcd.h"
#include "lib/log.h"
#include "store_etcd_kv.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define KEY_MAX 512

struct etcd_store {
	struct store base;
	pthread_mutex_t lock;
	struct kvtxn kv;
	char *prefix;
	bool in_txn;
	int64_t revision, compacted; /* as read at begin */
	int64_t revision_mod;	     /* mod_revision of meta/revision at begin */
	json_t *events;		     /* of the open transaction */
	int retention;
	char cluster_id[STORE_CLUSTER_ID_LEN + 1];
};

static struct etcd_store *to_es(struct store *s)
{
	return (struct etcd_store *)s;
}

static void lock(struct etcd_store *es)
{
	pthread_mutex_lock(&es->lock);
}

static void unlock(struct etcd_store *es)
{
	pthread_mutex_unlock(&es->lock);
}

/* P + the parts, into key (KEY_MAX); -ENAMETOOLONG when it does not fit. */
static int key_of(const struct etcd_store *es, char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int key_of(const struct etcd_store *es, char *key, const char *fmt, ...)
{
	size_t n = strlen(es->prefix);
	va_list ap;
	int len;

	if (n >= KEY_MAX)
		return -ENAMETOOLONG;
	memcpy(key, es->prefix, n);
	va_start(ap, fmt);
	len = vsnprintf(key + n, KEY_MAX - n, fmt, ap);
	va_end(ap);
	return len < 0 || (size_t)len >= KEY_MAX - n ? -ENAMETOOLONG : 0;
}

/* [start, end) of the keys P + part. */
static int range_of(const struct etcd_store *es, char *start, char *end, const char *part)
{
	int r = key_of(es, start, "%s", part);

	if (r == 0) {
		strcpy(end, start);
		end[strlen(end) - 1]++;
	}
	return r;
}

static int parse_int(const char *key, const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0) {
		log_error("store: etcd key %s: \"%s\" is not a number", key, text);
		return -EPROTO;
	}
	*out = v;
	return 0;
}

static int parse_json(const char *key, const char *text, json_t **out)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);

	if (!v) {
		log_error("store: etcd key %s is not JSON: %s", key, e.text);
		return -EPROTO;
	}
	*out = v;
	return 0;
}

/* The number at P + part; 0 when the key is missing. */
static int get_int(struct etcd_store *es, const char *part, int64_t *value, bool *found)
{
	char key[KEY_MAX], *text = NULL;
	int r = key_of(es, key, "%s", part);

	if (r == 0)
		r = kvt_get(&es->kv, key, &text, NULL);
	if (found)
		*found = r == 0;
	if (r == -ENOENT) {
		*value = 0;
		return 0;
	}
	if (r == 0)
		r = parse_int(key, text, value);
	free(text);
	return r;
}

static int put_int(struct etcd_store *es, const char *part, int64_t value)
{
	char key[KEY_MAX], text[24];
	int r = key_of(es, key, "%s", part);

	snprintf(text, sizeof(text), "%" PRId64, value);
	return r < 0 ? r : kvt_put(&es->kv, key, text);
}

static int get_json(struct etcd_store *es, const char *key, json_t **obj)
{
	char *text = NULL;
	int r = kvt_get(&es->kv, key, &text, NULL);

	if (r == 0)
		r = parse_json(key, text, obj);
	free(text);
	return r;
}

static int put_json(struct etcd_store *es, const char *key, const json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	int r = text ? kvt_put(&es->kv, key, text) : -ENOMEM;

	free(text);
	return r;
}

/* meta/revision, its mod_revision and meta/compacted, read together. */
static int read_meta(struct etcd_store *es, int64_t *revision, int64_t *mod, int64_t *compacted)
{
	char start[KEY_MAX], end[KEY_MAX];
	struct etcd_range res = {0};
	int64_t rev = 0, rmod = 0, comp = 0;
	int r = range_of(es, start, end, "meta/");

	if (r == 0)
		r = etcd_range(es->kv.etcd,
			       &(struct etcd_range_req){.key = start, .range_end = end}, &res);
	for (size_t i = 0; r == 0 && i < res.n; i++) {
		const char *name = res.kvs[i].key + strlen(es->prefix);

		if (strcmp(name, "meta/revision") == 0) {
			r = parse_int(res.kvs[i].key, res.kvs[i].value, &rev);
			rmod = res.kvs[i].mod_revision;
		} else if (strcmp(name, "meta/compacted") == 0) {
			r = parse_int(res.kvs[i].key, res.kvs[i].value, &comp);
		}
	}
	etcd_range_free(&res);
	if (r < 0)
		return r;
	*revision = rev;
	if (mod)
		*mod = rmod;
	if (compacted)
		*compacted = comp;
	return 0;
}

static void es_close(struct store *s)
{
	struct etcd_store *es = to_es(s);

	etcd_close(es->kv.etcd);
	kvt_reset(&es->kv);
	json_decref(es->events);
	pthread_mutex_destroy(&es->lock);
	free(es->prefix);
	free(es);
}

static int es_begin(struct store *s, int64_t *next_revision)
{
	struct etcd_store *es = to_es(s);
	int r;

	lock(es);
	if (es->in_txn) {
		unlock(es);
		return -EBUSY;
	}
	r = read_meta(es, &es->revision, &es->revision_mod, &es->compacted);
	if (r == 0)
		es->events = json_array();
	if (r == 0 && !es->events)
		r = -ENOMEM;
	if (r < 0) {
		unlock(es);
		return r;
	}
	es->in_txn = true;
	*next_revision = es->revision + 1;
	return 0; /* the lock stays held until commit or rollback */
}

static void es_rollback(struct store *s)
{
	struct etcd_store *es = to_es(s);

	if (!es->in_txn)
		return;
	kvt_reset(&es->kv);
	json_decref(es->events);
	es->events = NULL;
	es->in_txn = false;
	unlock(es);
}

/* The writes of the revision's bookkeeping: the revision itself, its events
 * and the compaction of the events beyond the retention. */
static int add_bookkeeping(struct etcd_store *es)
{
	int64_t next = es->revision + 1, compacted = next - es->retention;
	char key[KEY_MAX], end[KEY_MAX];
	bool dirty = json_array_size(es->events) > 0;
	int r = put_int(es, "meta/revision", dirty ? next : es->revision);

	if (r < 0 || !dirty)
		return r;
	r = key_of(es, key, "event/%020" PRId64, next);
	if (r == 0)
		r = put_json(es, key, es->events);
	if (r < 0 || compacted <= es->compacted)
		return r;
	r = key_of(es, key, "event/");
	if (r == 0)
		r = key_of(es, end, "event/%020" PRId64, compacted + 1);
	if (r == 0)
		r = kvt_drop(&es->kv, key, end);
	if (r == 0)
		r = put_int(es, "meta/compacted", compacted);
	return r;
}

static int es_commit(struct store *s)
{
	struct etcd_store *es = to_es(s);
	json_t *cmp = NULL, *ops = NULL;
	char key[KEY_MAX];
	bool ok = false;
	int64_t etcd_rev;
	int r;

	if (!es->in_txn)
		return -EINVAL;
	if (!kvt_wrote(&es->kv) && !json_array_size(es->events)) {
		es_rollback(s); /* nothing to write: nothing changes */
		return 0;
	}
	r = add_bookkeeping(es);
	if (r == 0)
		r = key_of(es, key, "meta/revision");
	if (r == 0) {
		cmp = json_pack("[o]", etcd_cmp_mod(key, es->revision_mod));
		ops = json_array();
		r = cmp && ops ? kvt_ops(&es->kv, ops) : -ENOMEM;
	}
	if (r == 0)
		r = etcd_txn(es->kv.etcd, cmp, ops, &ok, &etcd_rev);
	if (r == 0 && !ok) {
		log_warn("store: revision %" PRId64 " was written by another controller "
			 "meanwhile: this change is not",
			 es->revision + 1);
		r = -EAGAIN;
	}
	json_decref(cmp);
	json_decref(ops);
	es_rollback(s); /* the writes are etcd's now, or nowhere */
	return r;
}

static int es_revision(struct store *s, int64_t *revision)
{
	struct etcd_store *es = to_es(s);
	int64_t rev;
	int r;

	lock(es);
	r = es->in_txn ? 0 : read_meta(es, &rev, NULL, NULL);
	if (r == 0)
		*revision = es->in_txn ? es->revision : rev;
	unlock(es);
	return r;
}

static int es_get(struct store *s, const char *kind, const char *name, json_t **obj)
{
	struct etcd_store *es = to_es(s);
	char key[KEY_MAX];
	int r;

	lock(es);
	r = key_of(es, key, "obj/%s/%s", kind, name);
	if (r == 0)
		r = get_json(es, key, obj);
	unlock(es);
	return r;
}

/* The values of the range as JSON, into a new array *items. */
static int range_json(struct etcd_store *es, const char *start, const char *end, int64_t limit,
		      json_t **items, int64_t *etcd_rev)
{
	struct etcd_range res = {0};
	json_t *arr = json_array(), *v;
	int r = arr ? kvt_range(&es->kv, start, end, limit, &res) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < res.n; i++) {
		r = parse_json(res.kvs[i].key, res.kvs[i].value, &v);
		if (r == 0)
			json_array_append_new(arr, v);
	}
	if (r == 0 && etcd_rev)
		*etcd_rev = res.revision;
	etcd_range_free(&res);
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*items = arr;
	return 0;
}

static int es_list(struct store *s, const char *kind, json_t **items, int64_t *revision)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX], start[KEY_MAX], end[KEY_MAX];
	int64_t rev = 0, before = 0;
	json_t *arr = NULL;
	int r;

	lock(es);
	snprintf(part, sizeof(part), "obj/%s/", kind);
	r = range_of(es, start, end, part);
	/* The revision read before and after the list: equal, the list is that
	 * revision's (another controller may write in between). */
	for (int tries = 0; r == 0 && tries < 5; tries++) {
		json_decref(arr);
		arr = NULL;
		r = es->in_txn ? 0 : read_meta(es, &before, NULL, NULL);
		if (r == 0)
			r = range_json(es, start, end, 0, &arr, NULL);
		if (r == 0)
			r = es->in_txn ? 0 : read_meta(es, &rev, NULL, NULL);
		if (r < 0 || es->in_txn || rev == before)
			break;
	}
	if (r == 0 && !es->in_txn && rev != before)
		r = -EAGAIN;
	if (r == 0) {
		*items = arr;
		*revision = es->in_txn ? es->revision : rev;
	} else {
		json_decref(arr);
	}
	unlock(es);
	return r;
}

static int es_count(struct store *s, const char *kind, int64_t *n)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX], start[KEY_MAX], end[KEY_MAX];
	int r;

	lock(es);
	snprintf(part, sizeof(part), "obj/%s/", kind);
	r = range_of(es, start, end, part);
	if (r == 0)
		r = kvt_count(&es->kv, start, end, n);
	unlock(es);
	return r;
}

static int add_event(struct etcd_store *es, const char *type, const json_t *obj)
{
	json_t *ev = json_pack("{s:s, s:I, s:O}", "type", type, "revision",
			       (json_int_t)(es->revision + 1), "object", (json_t *)obj);

	return ev && json_array_append_new(es->events, ev) == 0 ? 0 : -ENOMEM;
}

static int es_put(struct store *s, const char *kind, const char *name, const char *type,
		  const json_t *obj)
{
	struct etcd_store *es = to_es(s);
	char key[KEY_MAX];
	int r;

	if (!es->in_txn)
		return -EINVAL;
	r = key_of(es, key, "obj/%s/%s", kind, name);
	if (r == 0)
		r = put_json(es, key, obj);
	if (r == 0)
		r = add_event(es, type, obj);
	return r;
}

static int es_del(struct store *s, const char *kind, const char *name, const json_t *obj)
{
	struct etcd_store *es = to_es(s);
	char key[KEY_MAX];
	int r;

	if (!es->in_txn)
		return -EINVAL;
	r = key_of(es, key, "obj/%s/%s", kind, name);
	if (r == 0)
		r = kvt_get(&es->kv, key, NULL, NULL);
	if (r == 0)
		r = kvt_del(&es->kv, key);
	if (r == 0)
		r = add_event(es, "DELETED", obj);
	return r;
}

static int es_events(struct store *s, int64_t since, int max, json_t **events, int64_t *oldest)
{
	struct etcd_store *es = to_es(s);
	char start[KEY_MAX], end[KEY_MAX];
	json_t *revs = NULL, *all = NULL, *rev, *ev;
	int64_t revision, compacted;
	size_t i, j;
	int r;

	lock(es);
	r = read_meta(es, &revision, NULL, &compacted);
	if (r == 0 && since < compacted) {
		*oldest = compacted + 1;
		r = -ESTALE;
	}
	if (r == 0)
		r = key_of(es, start, "event/%020" PRId64, since + 1);
	if (r == 0)
		r = key_of(es, end, "event0");
	if (r == 0)
		r = range_json(es, start, end, max, &revs, NULL);
	if (r == 0)
		all = json_array();
	if (r == 0 && !all)
		r = -ENOMEM;
	json_array_foreach(revs, i, rev)
	{
		json_array_foreach(rev, j, ev)
		{
			if ((int)json_array_size(all) < max)
				json_array_append(all, ev);
		}
	}
	json_decref(revs);
	if (r == 0)
		*events = all;
	else
		json_decref(all);
	unlock(es);
	return r;
}

/* ---- node status: its own keys, written at once ---- */

static int es_node_status_put(struct store *s, const char *name, const json_t *status)
{
	struct etcd_store *es = to_es(s);
	char key[KEY_MAX], *text = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS);
	int r = text ? 0 : -ENOMEM;

	lock(es);
	if (r == 0)
		r = key_of(es, key, "status/%s", name);
	if (r == 0)
		r = etcd_put(es->kv.etcd, key, text);
	unlock(es);
	free(text);
	return r;
}

static int es_node_status_get(struct store *s, const char *name, json_t **status)
{
	struct etcd_store *es = to_es(s);
	struct kvtxn direct = {.etcd = es->kv.etcd};
	char key[KEY_MAX], *text = NULL;
	int r;

	lock(es);
	r = key_of(es, key, "status/%s", name);
	if (r == 0)
		r = kvt_get(&direct, key, &text, NULL);
	if (r == 0)
		r = parse_json(key, text, status);
	unlock(es);
	free(text);
	return r;
}

/* ops (JSON RequestOps) as one transaction of their own, outside the store's. */
static int write_now(struct etcd_store *es, json_t *ops)
{
	json_t *cmp = json_array();
	int64_t rev;
	bool ok;
	int r = cmp && ops ? etcd_txn(es->kv.etcd, cmp, ops, &ok, &rev) : -ENOMEM;

	json_decref(cmp);
	json_decref(ops);
	return r;
}

static int es_node_status_del(struct store *s, const char *name)
{
	struct etcd_store *es = to_es(s);
	char key[KEY_MAX];
	int r;

	lock(es);
	r = key_of(es, key, "status/%s", name);
	if (r == 0)
		r = write_now(es, json_pack("[o]", etcd_op_delete(key, NULL)));
	unlock(es);
	return r;
}

/* ---- allocation pools ---- */

static int alloc_key(const struct etcd_store *es, char *key, const char *index, const char *pool,
		     uint64_t value)
{
	return key_of(es, key, "%s/%s#%020" PRIu64, index, pool, value);
}

static int es_alloc_get(struct store *s, const char *pool, uint64_t value, char **owner, bool *held)
{
	struct etcd_store *es = to_es(s);
	char key[KEY_MAX];
	json_t *rec = NULL;
	const char *o;
	int r;

	lock(es);
	r = alloc_key(es, key, "alloc", pool, value);
	if (r == 0)
		r = get_json(es, key, &rec);
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
	unlock(es);
	return r;
}

static int es_alloc_find_owner(struct store *s, const char *pool, const char *owner,
			       uint64_t *value, bool *held)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX], start[KEY_MAX], end[KEY_MAX];
	struct etcd_range res = {0};
	int64_t best = -1;
	bool best_held = false;
	int r;

	lock(es);
	snprintf(part, sizeof(part), "alloc/%s#", pool);
	r = range_of(es, start, end, part);
	if (r == 0)
		r = kvt_range(&es->kv, start, end, 0, &res);
	/* In value order: the first held one, else the first one. */
	for (size_t i = 0; r == 0 && i < res.n && !best_held; i++) {
		json_t *rec = NULL;
		int64_t v;

		r = parse_json(res.kvs[i].key, res.kvs[i].value, &rec);
		if (r == 0)
			r = parse_int(res.kvs[i].key, res.kvs[i].key + strlen(start), &v);
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
	unlock(es);
	return r;
}

static int es_alloc_set(struct store *s, const char *pool, uint64_t value, const char *owner,
			bool held)
{
	struct etcd_store *es = to_es(s);
	char key[KEY_MAX];
	json_t *rec;
	int r;

	if (!es->in_txn)
		return -EINVAL;
	rec = json_pack("{s:s, s:b}", "owner", owner, "held", held);
	r = rec ? alloc_key(es, key, "alloc", pool, value) : -ENOMEM;
	if (r == 0)
		r = put_json(es, key, rec);
	json_decref(rec);
	if (r == 0)
		r = alloc_key(es, key, "held", pool, value);
	if (r == 0)
		r = held ? kvt_put(&es->kv, key, owner) : kvt_del(&es->kv, key);
	return r;
}

static int es_alloc_next_held(struct store *s, const char *pool, uint64_t from, uint64_t *value)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX], pool_start[KEY_MAX], start[KEY_MAX], end[KEY_MAX];
	struct etcd_range res = {0};
	int64_t v;
	int r;

	lock(es);
	snprintf(part, sizeof(part), "held/%s#", pool);
	r = range_of(es, pool_start, end, part);
	if (r == 0)
		r = alloc_key(es, start, "held", pool, from);
	if (r == 0)
		r = kvt_range(&es->kv, start, end, 1, &res);
	if (r == 0 && res.n == 0)
		r = -ENOENT;
	if (r == 0)
		r = parse_int(res.kvs[0].key, res.kvs[0].key + strlen(pool_start), &v);
	if (r == 0)
		*value = (uint64_t)v;
	etcd_range_free(&res);
	unlock(es);
	return r;
}

static int es_alloc_count_held(struct store *s, const char *pool, int64_t *n)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX], start[KEY_MAX], end[KEY_MAX];
	int r;

	lock(es);
	snprintf(part, sizeof(part), "held/%s#", pool);
	r = range_of(es, start, end, part);
	if (r == 0)
		r = kvt_count(&es->kv, start, end, n);
	unlock(es);
	return r;
}

static int es_alloc_drop_pool(struct store *s, const char *pool)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX], start[KEY_MAX], end[KEY_MAX];
	int r = 0;

	if (!es->in_txn)
		return -EINVAL;
	for (int i = 0; i < 2 && r == 0; i++) {
		snprintf(part, sizeof(part), "%s/%s#", i ? "held" : "alloc", pool);
		r = range_of(es, start, end, part);
		if (r == 0)
			r = kvt_drop(&es->kv, start, end);
	}
	if (r == 0)
		r = key_of(es, start, "cursor/%s", pool);
	return r == 0 ? kvt_del(&es->kv, start) : r;
}

static int es_cursor_get(struct store *s, const char *pool, uint64_t *value)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX];
	int64_t v;
	int r;

	lock(es);
	snprintf(part, sizeof(part), "cursor/%s", pool);
	r = get_int(es, part, &v, NULL);
	if (r == 0)
		*value = (uint64_t)v;
	unlock(es);
	return r;
}

static int es_cursor_set(struct store *s, const char *pool, uint64_t value)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX];

	if (!es->in_txn)
		return -EINVAL;
	snprintf(part, sizeof(part), "cursor/%s", pool);
	return put_int(es, part, (int64_t)value);
}

static int es_flag_get(struct store *s, const char *key, int64_t *value)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX];
	bool found;
	int64_t v;
	int r;

	lock(es);
	snprintf(part, sizeof(part), "flag/%s", key);
	r = get_int(es, part, &v, &found);
	if (r == 0 && !found)
		r = -ENOENT;
	if (r == 0)
		*value = v;
	unlock(es);
	return r;
}

static int es_flag_set(struct store *s, const char *key, int64_t value)
{
	struct etcd_store *es = to_es(s);
	char part[KEY_MAX];

	if (!es->in_txn)
		return -EINVAL;
	snprintf(part, sizeof(part), "flag/%s", key);
	return put_int(es, part, value);
}

/* ---- credentials: their own keys, in the open transaction if any ---- */

static int es_cred_put(struct store *s, const char *key, const char *node, const json_t *rec)
{
	struct etcd_store *es = to_es(s);
	json_t *doc = json_pack("{s:s, s:O}", "node", node, "rec", (json_t *)rec);
	char k[KEY_MAX], *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r = text ? 0 : -ENOMEM;

	lock(es);
	if (r == 0)
		r = key_of(es, k, "cred/%s", key);
	if (r == 0)
		r = es->in_txn ? kvt_put(&es->kv, k, text)
			       : write_now(es, json_pack("[o]", etcd_op_put(k, text)));
	unlock(es);
	free(text);
	json_decref(doc);
	return r;
}

static int es_cred_get(struct store *s, const char *key, json_t **rec)
{
	struct etcd_store *es = to_es(s);
	json_t *doc = NULL, *inner;
	char k[KEY_MAX];
	int r;

	lock(es);
	r = key_of(es, k, "cred/%s", key);
	if (r == 0)
		r = get_json(es, k, &doc);
	inner = json_object_get(doc, "rec");
	if (r == 0 && !json_is_object(inner)) {
		log_error("store: etcd key %s is not a credential", k);
		r = -EPROTO;
	}
	if (r == 0)
		*rec = json_incref(inner);
	json_decref(doc);
	unlock(es);
	return r;
}

static int es_cred_del_node(struct store *s, const char *node, int64_t *n)
{
	struct etcd_store *es = to_es(s);
	char start[KEY_MAX], end[KEY_MAX];
	struct etcd_range res = {0};
	json_t *ops = json_array();
	int64_t gone = 0;
	int r = ops ? 0 : -ENOMEM;

	lock(es);
	if (r == 0)
		r = range_of(es, start, end, "cred/");
	if (r == 0)
		r = kvt_range(&es->kv, start, end, 0, &res);
	for (size_t i = 0; r == 0 && i < res.n; i++) {
		json_t *doc = NULL;

		r = parse_json(res.kvs[i].key, res.kvs[i].value, &doc);
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
		r = write_now(es, ops);
		ops = NULL;
	}
	json_decref(ops);
	if (r == 0 && n)
		*n = gone;
	unlock(es);
	return r;
}

static const char *es_cluster_id(struct store *s)
{
	return to_es(s)->cluster_id;
}

static const struct store_ops etcd_ops = {
    .close = es_close,
    .begin = es_begin,
    .commit = es_commit,
    .rollback = es_rollback,
    .revision = es_revision,
    .get = es_get,
    .list = es_list,
    .count = es_count,
    .put = es_put,
    .del = es_del,
    .events = es_events,
    .node_status_put = es_node_status_put,
    .node_status_get = es_node_status_get,
    .node_status_del = es_node_status_del,
    .alloc_get = es_alloc_get,
    .alloc_find_owner = es_alloc_find_owner,
    .alloc_set = es_alloc_set,
    .alloc_next_held = es_alloc_next_held,
    .alloc_count_held = es_alloc_count_held,
    .alloc_drop_pool = es_alloc_drop_pool,
    .cursor_get = es_cursor_get,
    .cursor_set = es_cursor_set,
    .flag_get = es_flag_get,
    .flag_set = es_flag_set,
    .cred_put = es_cred_put,
    .cred_get = es_cred_get,
    .cred_del_node = es_cred_del_node,
    .cluster_id = es_cluster_id,
};

static bool is_cluster_id(const char *id)
{
	if (strlen(id) != STORE_CLUSTER_ID_LEN)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/*
 * The prefix's cluster id: made (with a compare that no other controller made
 * one first) when the prefix holds no key at all; -EMEDIUMTYPE when it holds
 * keys but no id of godwit's.
 */
static int cluster_id(struct etcd_store *es)
{
	char key[KEY_MAX], start[KEY_MAX], end[KEY_MAX], id[STORE_CLUSTER_ID_LEN + 1], *text = NULL;
	unsigned char raw[STORE_CLUSTER_ID_LEN / 2];
	int64_t keys = 0, rev;
	bool ok;
	int r = key_of(es, key, "meta/cluster");

	if (r == 0)
		r = kvt_get(&es->kv, key, &text, NULL);
	if (r == -ENOENT) {
		r = key_of(es, start, "%s", "");
		if (r == 0) {
			strcpy(end, start);
			end[strlen(end) - 1]++;
			r = kvt_count(&es->kv, start, end, &keys);
		}
		if (r == 0 && keys) {
			log_error("store: etcd %s holds %" PRId64 " keys under %s but no godwit "
				  "store (no %s): not a godwit store",
				  etcd_endpoint(es->kv.etcd), keys, es->prefix, key);
			return -EMEDIUMTYPE;
		}
		if (r == 0 && getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			r = log_error_errno(-errno, "cannot make a cluster id");
		for (size_t i = 0; r == 0 && i < sizeof(raw); i++)
			sprintf(id + 2 * i, "%02x", raw[i]);
		if (r == 0) {
			json_t *cmp = json_pack("[o]", etcd_cmp_mod(key, 0)),
			       *ops = json_pack("[o]", etcd_op_put(key, id));

			r = cmp && ops ? etcd_txn(es->kv.etcd, cmp, ops, &ok, &rev) : -ENOMEM;
			json_decref(cmp);
			json_decref(ops);
		}
		if (r == 0 && ok)
			log_info("store: a new cluster in etcd under %s, id %s", es->prefix, id);
		if (r == 0)
			r = kvt_get(&es->kv, key, &text, NULL);
	}
	if (r == 0 && !is_cluster_id(text)) {
		log_error("store: etcd key %s is not a cluster id: not a godwit store", key);
		r = -EMEDIUMTYPE;
	}
	if (r == 0)
		snprintf(es->cluster_id, sizeof(es->cluster_id), "%s", text);
	free(text);
	return r;
}

int store_etcd_open(const struct store_etcd_options *opts, struct store **out)
{
	const char *prefix = opts->prefix ? opts->prefix : "/godwit/";
	struct etcd_store *es = calloc(1, sizeof(*es));
	pthread_mutexattr_t attr;
	int r = 0;

	if (!es)
		return -ENOMEM;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&es->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	es->base.ops = &etcd_ops;
	es->retention = opts->event_retention > 0 ? opts->event_retention : STORE_EVENT_RETENTION;
	if (!*prefix || prefix[strlen(prefix) - 1] != '/' || strlen(prefix) > KEY_MAX / 2) {
		log_error("store: etcd prefix \"%s\": must end in / (and be short)", prefix);
		r = -EINVAL;
	}
	if (r == 0)
		es->prefix = strdup(prefix);
	if (r == 0 && !es->prefix)
		r = -ENOMEM;
	if (r == 0)
		r = etcd_open(opts->endpoints, &es->kv.etcd);
	if (r == 0)
		r = cluster_id(es);
	if (r < 0) {
		es_close(&es->base);
		return r;
	}
	log_info("store: etcd %s, prefix %s, cluster %s", opts->endpoints, prefix, es->cluster_id);
	*out = &es->base;
	return 0;
}
