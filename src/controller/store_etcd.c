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
#include "store_etcd.h"
#include "etcd.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int es_key_of(const struct etcd_store *es, char *key, const char *fmt, ...)
{
	size_t n = strlen(es->prefix);
	va_list ap;
	int len;

	if (n >= ETCD_KEY_MAX)
		return -ENAMETOOLONG;
	memcpy(key, es->prefix, n);
	va_start(ap, fmt);
	len = vsnprintf(key + n, ETCD_KEY_MAX - n, fmt, ap);
	va_end(ap);
	return len < 0 || (size_t)len >= ETCD_KEY_MAX - n ? -ENAMETOOLONG : 0;
}

/* [start, end) of the keys P + part. */
int es_range_of(const struct etcd_store *es, char *start, char *end, const char *part)
{
	int r = es_key_of(es, start, "%s", part);

	if (r == 0) {
		strcpy(end, start);
		end[strlen(end) - 1]++;
	}
	return r;
}

int es_parse_int(const char *key, const char *text, int64_t *out)
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

int es_parse_json(const char *key, const char *text, json_t **out)
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
int es_get_int(struct etcd_store *es, const char *part, int64_t *value, bool *found)
{
	char key[ETCD_KEY_MAX], *text = NULL;
	int r = es_key_of(es, key, "%s", part);

	if (r == 0)
		r = kvt_get(&es->kv, key, &text, NULL);
	if (found)
		*found = r == 0;
	if (r == -ENOENT) {
		*value = 0;
		return 0;
	}
	if (r == 0)
		r = es_parse_int(key, text, value);
	free(text);
	return r;
}

int es_put_int(struct etcd_store *es, const char *part, int64_t value)
{
	char key[ETCD_KEY_MAX], text[24];
	int r = es_key_of(es, key, "%s", part);

	snprintf(text, sizeof(text), "%" PRId64, value);
	return r < 0 ? r : kvt_put(&es->kv, key, text);
}

int es_get_json(struct etcd_store *es, const char *key, json_t **obj)
{
	char *text = NULL;
	int r = kvt_get(&es->kv, key, &text, NULL);

	if (r == 0)
		r = es_parse_json(key, text, obj);
	free(text);
	return r;
}

int es_put_json(struct etcd_store *es, const char *key, const json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	int r = text ? kvt_put(&es->kv, key, text) : -ENOMEM;

	free(text);
	return r;
}

/* meta/revision, its mod_revision and meta/compacted, read together (at
 * etcd's revision *etcd_rev, when asked). */
static int read_meta_at(struct etcd_store *es, int64_t *revision, int64_t *mod, int64_t *compacted,
			int64_t *etcd_rev)
{
	char start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	struct etcd_range res = {0};
	int64_t rev = 0, rmod = 0, comp = 0;
	int r = es_range_of(es, start, end, "meta/");

	if (r == 0)
		r = etcd_range(es->kv.etcd,
			       &(struct etcd_range_req){.key = start, .range_end = end}, &res);
	for (size_t i = 0; r == 0 && i < res.n; i++) {
		const char *name = res.kvs[i].key + strlen(es->prefix);

		if (strcmp(name, "meta/revision") == 0) {
			r = es_parse_int(res.kvs[i].key, res.kvs[i].value, &rev);
			rmod = res.kvs[i].mod_revision;
		} else if (strcmp(name, "meta/compacted") == 0) {
			r = es_parse_int(res.kvs[i].key, res.kvs[i].value, &comp);
		}
	}
	if (r == 0 && etcd_rev)
		*etcd_rev = res.revision;
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

static int read_meta(struct etcd_store *es, int64_t *revision, int64_t *mod, int64_t *compacted)
{
	return read_meta_at(es, revision, mod, compacted, NULL);
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

	es_lock(es);
	if (es->in_txn) {
		es_unlock(es);
		return -EBUSY;
	}
	r = read_meta_at(es, &es->revision, &es->revision_mod, &es->compacted,
			 &es->kv.at_revision); /* the transaction's snapshot */
	if (r == 0)
		es->events = json_array();
	if (r == 0 && !es->events)
		r = -ENOMEM;
	if (r < 0) {
		es_unlock(es);
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
	es_unlock(es);
}

/* The writes of the revision's bookkeeping: the revision itself, its events
 * and the compaction of the events beyond the retention. */
static int add_bookkeeping(struct etcd_store *es)
{
	int64_t next = es->revision + 1, compacted = next - es->retention;
	char key[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	bool dirty = json_array_size(es->events) > 0;
	int r = es_put_int(es, "meta/revision", dirty ? next : es->revision);

	if (r < 0 || !dirty)
		return r;
	r = es_key_of(es, key, "event/%020" PRId64, next);
	if (r == 0)
		r = es_put_json(es, key, es->events);
	if (r < 0 || compacted <= es->compacted)
		return r;
	r = es_key_of(es, key, "event/");
	if (r == 0)
		r = es_key_of(es, end, "event/%020" PRId64, compacted + 1);
	if (r == 0)
		r = kvt_drop(&es->kv, key, end);
	if (r == 0)
		r = es_put_int(es, "meta/compacted", compacted);
	return r;
}

static int es_commit(struct store *s)
{
	struct etcd_store *es = to_es(s);
	json_t *cmp = NULL, *ops = NULL;
	char key[ETCD_KEY_MAX];
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
		r = es_key_of(es, key, "meta/revision");
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

	es_lock(es);
	r = es->in_txn ? 0 : read_meta(es, &rev, NULL, NULL);
	if (r == 0)
		*revision = es->in_txn ? es->revision : rev;
	es_unlock(es);
	return r;
}

static int es_get(struct store *s, const char *kind, const char *name, json_t **obj)
{
	struct etcd_store *es = to_es(s);
	char key[ETCD_KEY_MAX];
	int r;

	es_lock(es);
	r = es_key_of(es, key, "obj/%s/%s", kind, name);
	if (r == 0)
		r = es_get_json(es, key, obj);
	es_unlock(es);
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
		r = es_parse_json(res.kvs[i].key, res.kvs[i].value, &v);
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

/* Outside a transaction: reads from here on see etcd as it was when the
 * store's revision was *revision (one snapshot for what follows). */
static int snapshot(struct etcd_store *es, int64_t *revision, int64_t *compacted)
{
	int64_t etcd_rev = 0;
	int r = read_meta_at(es, revision, NULL, compacted, &etcd_rev);

	if (r == 0)
		es->kv.at_revision = etcd_rev;
	return r;
}

static int es_list(struct store *s, const char *kind, json_t **items, int64_t *revision)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX], start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	int64_t rev = 0;
	json_t *arr = NULL;
	int r;

	es_lock(es);
	snprintf(part, sizeof(part), "obj/%s/", kind);
	r = es_range_of(es, start, end, part);
	if (r == 0 && !es->in_txn)
		r = snapshot(es, &rev, NULL); /* the list is that revision's, exactly */
	if (r == 0)
		r = range_json(es, start, end, 0, &arr, NULL);
	if (!es->in_txn)
		es->kv.at_revision = 0;
	if (r == 0) {
		*items = arr;
		*revision = es->in_txn ? es->revision : rev;
	}
	es_unlock(es);
	return r;
}

static int es_count(struct store *s, const char *kind, int64_t *n)
{
	struct etcd_store *es = to_es(s);
	char part[ETCD_KEY_MAX], start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	int r;

	es_lock(es);
	snprintf(part, sizeof(part), "obj/%s/", kind);
	r = es_range_of(es, start, end, part);
	if (r == 0)
		r = kvt_count(&es->kv, start, end, n);
	es_unlock(es);
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
	char key[ETCD_KEY_MAX];
	int r;

	if (!es->in_txn)
		return -EINVAL;
	r = es_key_of(es, key, "obj/%s/%s", kind, name);
	if (r == 0)
		r = es_put_json(es, key, obj);
	if (r == 0)
		r = add_event(es, type, obj);
	return r;
}

static int es_del(struct store *s, const char *kind, const char *name, const json_t *obj)
{
	struct etcd_store *es = to_es(s);
	char key[ETCD_KEY_MAX];
	int r;

	if (!es->in_txn)
		return -EINVAL;
	r = es_key_of(es, key, "obj/%s/%s", kind, name);
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
	char start[ETCD_KEY_MAX], end[ETCD_KEY_MAX];
	json_t *revs = NULL, *all = NULL, *rev, *ev;
	int64_t revision, compacted;
	size_t i, j;
	int r;

	es_lock(es);
	/* A snapshot: no compaction between the check and the read. */
	r = es->in_txn ? read_meta(es, &revision, NULL, &compacted)
		       : snapshot(es, &revision, &compacted);
	if (r == 0 && since < compacted) {
		*oldest = compacted + 1;
		r = -ESTALE;
	}
	if (r == 0)
		r = es_key_of(es, start, "event/%020" PRId64, since + 1);
	if (r == 0)
		r = es_key_of(es, end, "event0");
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
	if (!es->in_txn)
		es->kv.at_revision = 0;
	if (r == 0)
		*events = all;
	else
		json_decref(all);
	es_unlock(es);
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

/*
 * The prefix's cluster id: made (with a compare that no other controller made
 * one first) when the prefix holds no key at all; -EMEDIUMTYPE when it holds
 * keys but no id of godwit's.
 */
static int cluster_id(struct etcd_store *es)
{
	char key[ETCD_KEY_MAX], start[ETCD_KEY_MAX], end[ETCD_KEY_MAX],
	    id[STORE_CLUSTER_ID_LEN + 1], *text = NULL;
	int64_t keys = 0, rev;
	bool ok;
	int r = es_key_of(es, key, "meta/cluster");

	if (r == 0)
		r = kvt_get(&es->kv, key, &text, NULL);
	if (r == -ENOENT) {
		r = es_key_of(es, start, "%s", "");
		if (r == 0) {
			strcpy(end, start);
			end[strlen(end) - 1]++;
			r = kvt_count(&es->kv, start, end, &keys);
		}
		/* Keys, but no id: maybe another controller made the store since. */
		if (r == 0 && keys && kvt_get(&es->kv, key, &text, NULL) == 0)
			goto check;
		if (r == 0 && keys) {
			log_error("store: etcd %s holds %" PRId64 " keys under %s but no godwit "
				  "store (no %s): not a godwit store",
				  etcd_endpoint(es->kv.etcd), keys, es->prefix, key);
			return -EMEDIUMTYPE;
		}
		if (r == 0)
			r = store_cluster_id_make(id);
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
check:
	if (r == 0 && !store_cluster_id_valid(text)) {
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
	if (!*prefix || prefix[strlen(prefix) - 1] != '/' || strlen(prefix) > ETCD_KEY_MAX / 2) {
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
