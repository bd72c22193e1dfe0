/* SPDX-License-Identifier: MIT */
/*
 * store_etcd_kv: the etcd store's reads and writes of keys within one of its
 * transactions (store_etcd.c).
 *
 * Design
 * - A transaction's writes stay here until the store commits them as one
 *   etcd transaction; until then every read of the transaction sees them
 *   over etcd's keys (read your writes), as SQLite's open transaction does.
 * - Writes are puts and deletes of single keys, and drops of whole key ranges
 *   (an allocation pool). etcd refuses a transaction that writes a key twice:
 *   a key put after a drop of its range in the same transaction fails the
 *   commit (-EIO); the store never does that.
 * - A transaction reads etcd as it was when it began (at_revision): a
 *   consistent snapshot, whatever other controllers commit meanwhile; if one
 *   did, the store's compare refuses the commit and the change is decided
 *   again on the new state (kind.h, txn_retry).
 * - Outside a transaction (no writes held) reads go to etcd's latest.
 */
#ifndef GODWIT_CONTROLLER_STORE_ETCD_KV_H
#define GODWIT_CONTROLLER_STORE_ETCD_KV_H

#include "etcd.h"

struct kvtxn {
	struct etcd *etcd;
	json_t *writes;	     /* key -> value (string), or null for a deleted key */
	json_t *dropped;     /* [[start, end], ...] */
	int64_t at_revision; /* etcd's, that reads see; 0: the latest */
};

/* The key's value and revisions (0 for a key written in this transaction):
 * -ENOENT when it does not exist. value/create_rev may be NULL. */
int kvt_get(struct kvtxn *t, const char *key, char **value, int64_t *create_rev);

/* Keys in [start, end), sorted, at most limit (0: all). */
int kvt_range(struct kvtxn *t, const char *start, const char *end, int64_t limit,
	      struct etcd_range *out);
int kvt_count(struct kvtxn *t, const char *start, const char *end, int64_t *n);

int kvt_put(struct kvtxn *t, const char *key, const char *value);
int kvt_del(struct kvtxn *t, const char *key);
int kvt_drop(struct kvtxn *t, const char *start, const char *end);

/* Whether the transaction wrote anything; its writes appended to ops as
 * etcd RequestOps (drops first). */
bool kvt_wrote(const struct kvtxn *t);
int kvt_ops(const struct kvtxn *t, json_t *ops);

/* Forgets the writes and the snapshot (after a commit or a rollback). */
void kvt_reset(struct kvtxn *t);

#endif
