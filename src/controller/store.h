/* SPDX-License-Identifier: MIT */
/*
 * store: the controller's persistent state behind a small interface, so that
 * a distributed backend (etcd) can replace the embedded SQLite one.
 *
 * Design
 * - One global revision. A change is one transaction: store_begin() takes the
 *   store's lock and tells the revision the change will get (current + 1);
 *   objects written in it carry that revision; every put/delete appends one
 *   watch event at that revision; store_commit() makes it durable (and bumps
 *   the revision) or store_rollback() leaves nothing behind. A transaction
 *   that wrote nothing does not bump the revision.
 * - Objects are JSON keyed by (kind, name). Events keep the whole object; only
 *   the last `event_retention` are kept; reading from before the oldest kept
 *   one fails with -ESTALE (the watcher must list again).
 * - Allocations (IPAM and other unique numbers) live in pools: a pool maps a
 *   value (u64) to its owner and whether it is held; released values keep
 *   their last owner so that an owner can get its value back. Each pool also
 *   has a persisted cursor for round-robin hand-out. The policy is in ipam.c.
 * - Node status is kept apart: writing it neither bumps the revision nor makes
 *   an event. The SQLite backend keeps it in memory and writes it behind
 *   (store_sqlite_status.h): a durable write per report would cost an fsync
 *   per heartbeat.
 * - Thread-safe: every call takes the store's (recursive) lock; a transaction
 *   holds it from begin to commit/rollback, so changes are serialised.
 * Functions return 0 or -errno; -ENOENT for a missing key.
 */
#ifndef GODWIT_CONTROLLER_STORE_H
#define GODWIT_CONTROLLER_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define STORE_EVENT_RETENTION 10000
#define STORE_CLUSTER_ID_LEN  32 /* hex digits */

struct store;

struct store_ops {
	void (*close)(struct store *s);
	int (*begin)(struct store *s, int64_t *next_revision);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);
	int (*revision)(struct store *s, int64_t *revision);

	int (*get)(struct store *s, const char *kind, const char *name, json_t **obj);
	/* Sorted by name; *revision is the revision the list was read at. */
	int (*list)(struct store *s, const char *kind, json_t **items, int64_t *revision);
	int (*count)(struct store *s, const char *kind, int64_t *n);
	/* In a transaction; type is "ADDED"/"MODIFIED"; obj is stored as given. */
	int (*put)(struct store *s, const char *kind, const char *name, const char *type,
		   const json_t *obj);
	/* In a transaction; obj is the object as it was (for the DELETED event). */
	int (*del)(struct store *s, const char *kind, const char *name, const json_t *obj);

	/*
	 * Events with revision > since, at most max, as an array of
	 * {"type","revision","object"}. -ESTALE when since is older than the
	 * oldest kept event (*oldest then says which one is).
	 */
	int (*events)(struct store *s, int64_t since, int max, json_t **events, int64_t *oldest);

	int (*node_status_put)(struct store *s, const char *name, const json_t *status);
	int (*node_status_get)(struct store *s, const char *name, json_t **status);
	int (*node_status_del)(struct store *s, const char *name);

	/* Allocation pools (in a transaction for writes). */
	int (*alloc_get)(struct store *s, const char *pool, uint64_t value, char **owner,
			 bool *held);
	/* The value last given to owner (a held one first). */
	int (*alloc_find_owner)(struct store *s, const char *pool, const char *owner,
				uint64_t *value, bool *held);
	int (*alloc_set)(struct store *s, const char *pool, uint64_t value, const char *owner,
			 bool held);
	/* The smallest held value >= from; -ENOENT if none. */
	int (*alloc_next_held)(struct store *s, const char *pool, uint64_t from, uint64_t *value);
	int (*alloc_count_held)(struct store *s, const char *pool, int64_t *n);
	int (*alloc_drop_pool)(struct store *s, const char *pool);
	int (*cursor_get)(struct store *s, const char *pool, uint64_t *value); /* 0 if unset */
	int (*cursor_set)(struct store *s, const char *pool, uint64_t value);

	/*
	 * Named integers the controller remembers (e.g. that it created the
	 * default network once), apart from the store's own bookkeeping.
	 * -ENOENT when unset; set in a transaction.
	 */
	int (*flag_get)(struct store *s, const char *key, int64_t *value);
	int (*flag_set)(struct store *s, const char *key, int64_t value);

	/*
	 * Credentials (auth.h): records keyed by the SHA-256 of their secret
	 * (or a name of the controller's), each for one node, apart from the
	 * objects: never in a list, a watch or an event. Writes join the
	 * transaction when one is open. -ENOENT for a missing key.
	 */
	int (*cred_put)(struct store *s, const char *key, const char *node, const json_t *rec);
	int (*cred_get)(struct store *s, const char *key, json_t **rec);
	int (*cred_del_node)(struct store *s, const char *node, int64_t *n);

	/* The cluster this store belongs to (store_sqlite_file.h): made with
	 * the store, never changed; agents pin it. */
	const char *(*cluster_id)(struct store *s);
};

struct store {
	const struct store_ops *ops;
};

/* The cluster id (store_id.c): made once with a store, 32 random hex digits;
 * a store holding anything else is not a godwit store. */
bool store_cluster_id_valid(const char *id);
int store_cluster_id_make(char id[STORE_CLUSTER_ID_LEN + 1]);

struct store_sqlite_options {
	int event_retention; /* 0: STORE_EVENT_RETENTION */
};

/* Opens (creating if needed) the SQLite store at path. */
int store_sqlite_open(const char *path, const struct store_sqlite_options *opts,
		      struct store **out);

struct store_etcd_options {
	const char *endpoints; /* "http://HOST:PORT[,...]": members of one etcd cluster */
	const char *prefix;    /* of every key; NULL: "/godwit/" */
	int event_retention;   /* 0: STORE_EVENT_RETENTION */
};

/*
 * Opens the store kept in etcd (store_etcd.c), making it when the prefix
 * holds no key; -EMEDIUMTYPE when the prefix holds keys that are not a
 * godwit store's.
 */
int store_etcd_open(const struct store_etcd_options *opts, struct store **out);

/* fn for each stored object of kind, in the store's order, until it returns
 * non-zero (then returned); the list's revision into *revision on success. */
static inline int store_each(struct store *s, const char *kind,
			     int (*fn)(const json_t *obj, void *ctx), void *ctx, int64_t *revision)
{
	json_t *items = NULL, *obj;
	int64_t rev;
	size_t i;
	int r = s->ops->list(s, kind, &items, &rev);

	if (r < 0)
		return r;
	json_array_foreach(items, i, obj)
	{
		r = fn(obj, ctx);
		if (r)
			break;
	}
	json_decref(items);
	if (r == 0)
		*revision = rev;
	return r;
}

static inline void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

#endif
