/* SPDX-License-Identifier: MIT */
/* The SQLite backend of store.h: one connection, WAL, synchronous=FULL. */
#include "store.h"
#include "lib/log.h"
#include "store_sqlite_cred.h"
#include "store_sqlite_file.h"
#include "store_sqlite_row.h"
#include "store_sqlite_status.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	pthread_mutex_t lock;
	bool in_txn;
	bool dirty;
	int64_t revision;
	int64_t compacted; /* events with revision <= compacted are gone */
	int retention;
	char cluster_id[STORE_CLUSTER_ID_LEN + 1];
	struct status_cache status;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES('revision', 0), ('compacted', 0);"
    "CREATE TABLE IF NOT EXISTS objects(kind TEXT NOT NULL, name TEXT NOT NULL,"
    " body TEXT NOT NULL, PRIMARY KEY(kind, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " revision INTEGER NOT NULL, body TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_revision ON events(revision);"
    "CREATE TABLE IF NOT EXISTS node_status(name TEXT PRIMARY KEY, body TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS allocs(pool TEXT NOT NULL, value INTEGER NOT NULL,"
    " owner TEXT NOT NULL, held INTEGER NOT NULL, PRIMARY KEY(pool, value)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS allocs_owner ON allocs(pool, owner);"
    "CREATE TABLE IF NOT EXISTS cursors(pool TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static struct sqlite_store *to_sq(struct store *s)
{
	return (struct sqlite_store *)s;
}

static int sq_error(struct sqlite_store *sq, int rc, const char *what)
{
	log_error("store: %s: %s", what, sqlite3_errmsg(sq->db));
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/*
 * Prepares sql and binds the arguments described by fmt: 's' text, 'i' int64.
 * Returns the statement or NULL (error logged).
 */
static sqlite3_stmt *prepare(struct sqlite_store *sq, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, i = 1;

	rc = sqlite3_prepare_v2(sq->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sq_error(sq, rc, sql);
		return NULL;
	}
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, i++) {
		if (*f == 's')
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1,
					       SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
		if (rc != SQLITE_OK)
			break;
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		sq_error(sq, rc, "bind");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Runs a statement that returns no rows. */
static int run(struct sqlite_store *sq, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_error(sq, rc, "step");
	return 0;
}

static int exec(struct sqlite_store *sq, const char *sql)
{
	int rc = sqlite3_exec(sq->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_error(sq, rc, sql);
}

static int meta_get(struct sqlite_store *sq, const char *key, int64_t *value)
{
	sqlite3_stmt *st = prepare(sq, "SELECT value FROM meta WHERE key = ?", "s", key);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sq_error(sq, rc, "meta");
}

static int meta_set(struct sqlite_store *sq, const char *key, int64_t value)
{
	return run(sq, prepare(sq, "UPDATE meta SET value = ? WHERE key = ?", "is", value, key));
}

static void lock(struct sqlite_store *sq)
{
	pthread_mutex_lock(&sq->lock);
}

static void unlock(struct sqlite_store *sq)
{
	pthread_mutex_unlock(&sq->lock);
}

static void sq_close(struct store *s)
{
	struct sqlite_store *sq = to_sq(s);

	status_cache_flush(&sq->status, sq->db);
	status_cache_free(&sq->status);
	sqlite3_close(sq->db);
	pthread_mutex_destroy(&sq->lock);
	free(sq);
}

static int sq_begin(struct store *s, int64_t *next_revision)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	lock(sq);
	if (sq->in_txn) {
		unlock(sq);
		return -EBUSY;
	}
	r = exec(sq, "BEGIN IMMEDIATE");
	if (r < 0) {
		unlock(sq);
		return r;
	}
	sq->in_txn = true;
	sq->dirty = false;
	*next_revision = sq->revision + 1;
	return 0; /* the lock stays held until commit or rollback */
}

static void sq_rollback(struct store *s)
{
	struct sqlite_store *sq = to_sq(s);

	if (!sq->in_txn)
		return;
	exec(sq, "ROLLBACK");
	sq->in_txn = false;
	unlock(sq);
}

static int sq_commit(struct store *s)
{
	struct sqlite_store *sq = to_sq(s);
	int64_t next = sq->revision + 1, compacted = sq->compacted;
	int r;

	if (!sq->in_txn)
		return -EINVAL;
	if (sq->dirty) {
		r = meta_set(sq, "revision", next);
		if (r < 0)
			goto fail;
		if (next - sq->retention > compacted) {
			compacted = next - sq->retention;
			r = run(sq, prepare(sq, "DELETE FROM events WHERE revision <= ?", "i",
					    compacted));
			if (r < 0)
				goto fail;
			r = meta_set(sq, "compacted", compacted);
			if (r < 0)
				goto fail;
		}
	}
	r = exec(sq, "COMMIT");
	if (r < 0)
		goto fail;
	if (sq->dirty) {
		sq->revision = next;
		sq->compacted = compacted;
	}
	sq->in_txn = false;
	unlock(sq);
	return 0;
fail:
	sq_rollback(s);
	return r;
}

static int sq_revision(struct store *s, int64_t *revision)
{
	struct sqlite_store *sq = to_sq(s);

	lock(sq);
	*revision = sq->revision;
	unlock(sq);
	return 0;
}

static int sq_get(struct store *s, const char *kind, const char *name, json_t **obj)
{
	struct sqlite_store *sq = to_sq(s);
	sqlite3_stmt *st;
	int rc, r;

	lock(sq);
	st = prepare(sq, "SELECT body FROM objects WHERE kind = ? AND name = ?", "ss", kind, name);
	if (!st) {
		r = -EIO;
		goto cleanup;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = sqlite_column_json(st, 0, obj);
	else
		r = rc == SQLITE_DONE ? -ENOENT : sq_error(sq, rc, "get");
	sqlite3_finalize(st);
cleanup:
	unlock(sq);
	return r;
}

/* Steps st (one JSON text per row, column 0; NULL: its prepare failed) into
 * a new array *out, and finalizes it. */
static int collect_rows(struct sqlite_store *sq, sqlite3_stmt *st, const char *what, json_t **out)
{
	json_t *arr, *obj;
	int rc = SQLITE_DONE, r = 0;

	if (!st)
		return -EIO;
	arr = json_array();
	if (!arr)
		r = -ENOMEM;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = sqlite_column_json(st, 0, &obj);
		if (r == 0)
			json_array_append_new(arr, obj);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sq_error(sq, rc, what);
	sqlite3_finalize(st);
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return 0;
}

static int sq_list(struct store *s, const char *kind, json_t **items, int64_t *revision)
{
	struct sqlite_store *sq = to_sq(s);
	sqlite3_stmt *st;
	int r;

	lock(sq);
	st = prepare(sq, "SELECT body FROM objects WHERE kind = ? ORDER BY name", "s", kind);
	r = collect_rows(sq, st, "list", items);
	if (r == 0)
		*revision = sq->revision;
	unlock(sq);
	return r;
}

static int query_int(struct sqlite_store *sq, sqlite3_stmt *st, int64_t *value)
{
	int rc, r;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*value = sqlite3_column_int64(st, 0);
		r = 0;
	} else {
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : sq_error(sq, rc, "query");
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_count(struct store *s, const char *kind, int64_t *n)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	lock(sq);
	r = query_int(sq, prepare(sq, "SELECT count(*) FROM objects WHERE kind = ?", "s", kind), n);
	unlock(sq);
	return r;
}

static int append_event(struct sqlite_store *sq, const char *type, const json_t *obj)
{
	int64_t rev = sq->revision + 1;
	json_t *ev = json_pack("{s:s, s:I, s:O}", "type", type, "revision", (json_int_t)rev,
			       "object", (json_t *)obj);
	char *text;
	int r;

	if (!ev)
		return -ENOMEM;
	text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (!text)
		return -ENOMEM;
	r = run(sq,
		prepare(sq, "INSERT INTO events(revision, body) VALUES(?, ?)", "is", rev, text));
	free(text);
	return r;
}

static int sq_put(struct store *s, const char *kind, const char *name, const char *type,
		  const json_t *obj)
{
	struct sqlite_store *sq = to_sq(s);
	char *text;
	int r;

	if (!sq->in_txn)
		return -EINVAL;
	text = json_dumps(obj, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	r = run(sq, prepare(sq, "INSERT OR REPLACE INTO objects(kind, name, body) VALUES(?, ?, ?)",
			    "sss", kind, name, text));
	free(text);
	if (r < 0)
		return r;
	r = append_event(sq, type, obj);
	if (r < 0)
		return r;
	sq->dirty = true;
	return 0;
}

static int sq_del(struct store *s, const char *kind, const char *name, const json_t *obj)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	if (!sq->in_txn)
		return -EINVAL;
	r = run(sq,
		prepare(sq, "DELETE FROM objects WHERE kind = ? AND name = ?", "ss", kind, name));
	if (r < 0)
		return r;
	if (sqlite3_changes(sq->db) == 0)
		return -ENOENT;
	r = append_event(sq, "DELETED", obj);
	if (r < 0)
		return r;
	sq->dirty = true;
	return 0;
}

static int sq_events(struct store *s, int64_t since, int max, json_t **events, int64_t *oldest)
{
	struct sqlite_store *sq = to_sq(s);
	sqlite3_stmt *st;
	int r = -ESTALE;

	lock(sq);
	if (since < sq->compacted) {
		*oldest = sq->compacted + 1;
	} else {
		st = prepare(sq, "SELECT body FROM events WHERE revision > ? ORDER BY id LIMIT ?",
			     "ii", since, (int64_t)max);
		r = collect_rows(sq, st, "events", events);
	}
	unlock(sq);
	return r;
}

/* Node status: in memory, written behind (store_sqlite_status.h). */
static int sq_node_status_put(struct store *s, const char *name, const json_t *status)
{
	struct sqlite_store *sq = to_sq(s);
	int r = status_cache_put(&sq->status, name, status);

	if (r <= 0)
		return r;
	lock(sq);
	if (!sq->in_txn) /* a transaction of this thread writes them next time */
		status_cache_flush(&sq->status, sq->db);
	unlock(sq);
	return 0;
}

static int sq_node_status_get(struct store *s, const char *name, json_t **status)
{
	return status_cache_get(&to_sq(s)->status, name, status);
}

static int sq_node_status_del(struct store *s, const char *name)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	status_cache_del(&sq->status, name);
	lock(sq);
	r = run(sq, prepare(sq, "DELETE FROM node_status WHERE name = ?", "s", name));
	unlock(sq);
	return r;
}

static int sq_alloc_get(struct store *s, const char *pool, uint64_t value, char **owner, bool *held)
{
	struct sqlite_store *sq = to_sq(s);
	sqlite3_stmt *st;
	char *o;
	int rc, r;

	lock(sq);
	st = prepare(sq, "SELECT owner, held FROM allocs WHERE pool = ? AND value = ?", "si", pool,
		     (int64_t)value);
	if (!st) {
		r = -EIO;
		goto cleanup;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		o = strdup((const char *)sqlite3_column_text(st, 0));
		if (!o) {
			r = -ENOMEM;
		} else {
			if (owner)
				*owner = o;
			else
				free(o);
			*held = sqlite3_column_int(st, 1) != 0;
			r = 0;
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : sq_error(sq, rc, "alloc get");
	}
	sqlite3_finalize(st);
cleanup:
	unlock(sq);
	return r;
}

static int sq_alloc_find_owner(struct store *s, const char *pool, const char *owner,
			       uint64_t *value, bool *held)
{
	struct sqlite_store *sq = to_sq(s);
	sqlite3_stmt *st;
	int rc, r;

	lock(sq);
	st = prepare(sq,
		     "SELECT value, held FROM allocs WHERE pool = ? AND owner = ?"
		     " ORDER BY held DESC, value LIMIT 1",
		     "ss", pool, owner);
	if (!st) {
		r = -EIO;
		goto cleanup;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = (uint64_t)sqlite3_column_int64(st, 0);
		*held = sqlite3_column_int(st, 1) != 0;
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : sq_error(sq, rc, "alloc find");
	}
	sqlite3_finalize(st);
cleanup:
	unlock(sq);
	return r;
}

static int sq_alloc_set(struct store *s, const char *pool, uint64_t value, const char *owner,
			bool held)
{
	struct sqlite_store *sq = to_sq(s);

	if (!sq->in_txn)
		return -EINVAL;
	return run(sq, prepare(sq,
			       "INSERT OR REPLACE INTO allocs(pool, value, owner, held)"
			       " VALUES(?, ?, ?, ?)",
			       "sisi", pool, (int64_t)value, owner, (int64_t)held));
}

static int sq_alloc_next_held(struct store *s, const char *pool, uint64_t from, uint64_t *value)
{
	struct sqlite_store *sq = to_sq(s);
	int64_t v;
	int r;

	lock(sq);
	r = query_int(sq,
		      prepare(sq,
			      "SELECT min(value) FROM allocs WHERE pool = ? AND held = 1"
			      " AND value >= ?",
			      "si", pool, (int64_t)from),
		      &v);
	unlock(sq);
	if (r == 0)
		*value = (uint64_t)v;
	return r;
}

static int sq_alloc_count_held(struct store *s, const char *pool, int64_t *n)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	lock(sq);
	r = query_int(
	    sq, prepare(sq, "SELECT count(*) FROM allocs WHERE pool = ? AND held = 1", "s", pool),
	    n);
	unlock(sq);
	return r;
}

static int sq_alloc_drop_pool(struct store *s, const char *pool)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	if (!sq->in_txn)
		return -EINVAL;
	r = run(sq, prepare(sq, "DELETE FROM allocs WHERE pool = ?", "s", pool));
	if (r < 0)
		return r;
	return run(sq, prepare(sq, "DELETE FROM cursors WHERE pool = ?", "s", pool));
}

static int sq_cursor_get(struct store *s, const char *pool, uint64_t *value)
{
	struct sqlite_store *sq = to_sq(s);
	int64_t v = 0;
	int r;

	lock(sq);
	r = query_int(sq, prepare(sq, "SELECT value FROM cursors WHERE pool = ?", "s", pool), &v);
	unlock(sq);
	if (r == -ENOENT) {
		v = 0;
		r = 0;
	}
	if (r == 0)
		*value = (uint64_t)v;
	return r;
}

static int sq_cursor_set(struct store *s, const char *pool, uint64_t value)
{
	struct sqlite_store *sq = to_sq(s);

	if (!sq->in_txn)
		return -EINVAL;
	return run(sq, prepare(sq, "INSERT OR REPLACE INTO cursors(pool, value) VALUES(?, ?)", "si",
			       pool, (int64_t)value));
}

/* Kept in the meta table under "flag." + key, apart from the store's own keys. */
static int sq_flag_get(struct store *s, const char *key, int64_t *value)
{
	struct sqlite_store *sq = to_sq(s);
	char k[128];
	int r;

	if (snprintf(k, sizeof(k), "flag.%s", key) >= (int)sizeof(k))
		return -ENAMETOOLONG;
	lock(sq);
	r = meta_get(sq, k, value);
	unlock(sq);
	return r;
}

static int sq_flag_set(struct store *s, const char *key, int64_t value)
{
	struct sqlite_store *sq = to_sq(s);
	char k[128];

	if (!sq->in_txn)
		return -EINVAL;
	if (snprintf(k, sizeof(k), "flag.%s", key) >= (int)sizeof(k))
		return -ENAMETOOLONG;
	return run(sq, prepare(sq, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", "si", k,
			       value));
}

static int sq_cred_put(struct store *s, const char *key, const char *node, const json_t *rec)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	lock(sq);
	r = cred_table_put(sq->db, key, node, rec);
	unlock(sq);
	return r;
}

static int sq_cred_get(struct store *s, const char *key, json_t **rec)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	lock(sq);
	r = cred_table_get(sq->db, key, rec);
	unlock(sq);
	return r;
}

static int sq_cred_del_node(struct store *s, const char *node, int64_t *n)
{
	struct sqlite_store *sq = to_sq(s);
	int r;

	lock(sq);
	r = cred_table_del_node(sq->db, node, n);
	unlock(sq);
	return r;
}

static const char *sq_cluster_id(struct store *s)
{
	return to_sq(s)->cluster_id;
}

static const struct store_ops sqlite_ops = {
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .revision = sq_revision,
    .get = sq_get,
    .list = sq_list,
    .count = sq_count,
    .put = sq_put,
    .del = sq_del,
    .events = sq_events,
    .node_status_put = sq_node_status_put,
    .node_status_get = sq_node_status_get,
    .node_status_del = sq_node_status_del,
    .alloc_get = sq_alloc_get,
    .alloc_find_owner = sq_alloc_find_owner,
    .alloc_set = sq_alloc_set,
    .alloc_next_held = sq_alloc_next_held,
    .alloc_count_held = sq_alloc_count_held,
    .alloc_drop_pool = sq_alloc_drop_pool,
    .cursor_get = sq_cursor_get,
    .cursor_set = sq_cursor_set,
    .flag_get = sq_flag_get,
    .flag_set = sq_flag_set,
    .cred_put = sq_cred_put,
    .cred_get = sq_cred_get,
    .cred_del_node = sq_cred_del_node,
    .cluster_id = sq_cluster_id,
};

int store_sqlite_open(const char *path, const struct store_sqlite_options *opts, struct store **out)
{
	struct sqlite_store *sq;
	pthread_mutexattr_t attr;
	int rc, r;

	sq = calloc(1, sizeof(*sq));
	if (!sq)
		return -ENOMEM;
	sq->base.ops = &sqlite_ops;
	sq->retention =
	    opts && opts->event_retention > 0 ? opts->event_retention : STORE_EVENT_RETENTION;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&sq->lock, &attr);
	pthread_mutexattr_destroy(&attr);

	rc = sqlite3_open_v2(
	    path, &sq->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = sq->db ? sq_error(sq, rc, path) : -ENOMEM;
		goto cleanup;
	}
	sqlite3_busy_timeout(sq->db, 5000);
	r = sqlite_file_verify(sq->db, path); /* before anything writes to it */
	if (r < 0)
		goto cleanup;
	r = exec(sq, "PRAGMA journal_mode=WAL");
	if (r < 0)
		goto cleanup;
	/* WAL + FULL: a commit is on disk before we acknowledge it. */
	r = exec(sq, "PRAGMA synchronous=FULL");
	if (r < 0)
		goto cleanup;
	r = exec(sq, schema);
	if (r < 0)
		goto cleanup;
	r = cred_table_init(sq->db);
	if (r < 0)
		goto cleanup;
	r = sqlite_file_cluster_id(sq->db, sq->cluster_id);
	if (r < 0)
		goto cleanup;
	r = status_cache_init(&sq->status, sq->db);
	if (r < 0)
		goto cleanup;
	r = meta_get(sq, "revision", &sq->revision);
	if (r < 0)
		goto cleanup;
	r = meta_get(sq, "compacted", &sq->compacted);
	if (r < 0)
		goto cleanup;
	*out = &sq->base;
	return 0;
cleanup:
	status_cache_free(&sq->status);
	sqlite3_close(sq->db);
	pthread_mutex_destroy(&sq->lock);
	free(sq);
	return r;
}
