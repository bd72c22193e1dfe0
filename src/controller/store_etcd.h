/* SPDX-License-Identifier: MIT */
/*
 * store_etcd: the etcd backend of store.h, in two files: store_etcd.c (the
 * transactions, objects, events and the store's identity; its key layout
 * and design at its top) and store_etcd_keys.c (node status, allocation
 * pools, cursors, flags and credentials). What both share is here.
 */
#ifndef GODWIT_CONTROLLER_STORE_ETCD_H
#define GODWIT_CONTROLLER_STORE_ETCD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "store_etcd_kv.h"

#define ETCD_KEY_MAX 512

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

static inline struct etcd_store *to_es(struct store *s)
{
	return (struct etcd_store *)s;
}

static inline void es_lock(struct etcd_store *es)
{
	pthread_mutex_lock(&es->lock);
}

static inline void es_unlock(struct etcd_store *es)
{
	pthread_mutex_unlock(&es->lock);
}

/* P + the parts, into key (ETCD_KEY_MAX); -ENAMETOOLONG when it does not fit. */
int es_key_of(const struct etcd_store *es, char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* [start, end) of the keys P + part. */
int es_range_of(const struct etcd_store *es, char *start, char *end, const char *part);
/* A stored value as a number or JSON; -EPROTO (logged, naming key) if not. */
int es_parse_int(const char *key, const char *text, int64_t *out);
int es_parse_json(const char *key, const char *text, json_t **out);
/* The number at P + part (0 and !*found when missing); a put of one. */
int es_get_int(struct etcd_store *es, const char *part, int64_t *value, bool *found);
int es_put_int(struct etcd_store *es, const char *part, int64_t value);
/* The JSON value at key, in the transaction's view; a put of one. */
int es_get_json(struct etcd_store *es, const char *key, json_t **obj);
int es_put_json(struct etcd_store *es, const char *key, const json_t *obj);
/* ops (RequestOps, taken) as one etcd transaction of their own. */
int es_write_now(struct etcd_store *es, json_t *ops);

/* store_etcd_keys.c: the ops that are not objects. */
int es_node_status_put(struct store *s, const char *name, const json_t *status);
int es_node_status_get(struct store *s, const char *name, json_t **status);
int es_node_status_del(struct store *s, const char *name);
int es_alloc_get(struct store *s, const char *pool, uint64_t value, char **owner, bool *held);
int es_alloc_find_owner(struct store *s, const char *pool, const char *owner, uint64_t *value,
			bool *held);
int es_alloc_set(struct store *s, const char *pool, uint64_t value, const char *owner, bool held);
int es_alloc_next_held(struct store *s, const char *pool, uint64_t from, uint64_t *value);
int es_alloc_count_held(struct store *s, const char *pool, int64_t *n);
int es_alloc_drop_pool(struct store *s, const char *pool);
int es_cursor_get(struct store *s, const char *pool, uint64_t *value);
int es_cursor_set(struct store *s, const char *pool, uint64_t value);
int es_flag_get(struct store *s, const char *key, int64_t *value);
int es_flag_set(struct store *s, const char *key, int64_t value);
int es_cred_put(struct store *s, const char *key, const char *node, const json_t *rec);
int es_cred_get(struct store *s, const char *key, json_t **rec);
int es_cred_del_node(struct store *s, const char *node, int64_t *n);

#endif
