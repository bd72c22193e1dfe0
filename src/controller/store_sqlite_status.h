/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_status: the SQLite store's node status reports (store.h), in
 * memory and written behind. Every node reports every 2 s; writing each
 * report durably would cost an fsync per heartbeat under the store's lock
 * (a thousand nodes: 500 a second). Reads and writes go to memory (own
 * lock: they never wait for a list or a transaction); the reports that
 * changed are written to the node_status table at most every
 * STATUS_FLUSH_MS in one transaction, at close, and at once for a node's
 * first report (so that every node that ever reported has one stored).
 * After a restart the last written reports are there (the observer counts
 * them as seen at the restart), at most STATUS_FLUSH_MS older than they
 * were: a report is a node's state at one moment, and the next one, 2 s
 * later, replaces it.
 */
#ifndef GODWIT_CONTROLLER_STORE_SQLITE_STATUS_H
#define GODWIT_CONTROLLER_STORE_SQLITE_STATUS_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define STATUS_FLUSH_MS 5000

struct status_cache {
	pthread_mutex_t lock;
	json_t *reports; /* node name -> its last report */
	json_t *dirty;	 /* node names written since the last flush */
	int64_t flushed_ms;
};

/* Loads the stored reports of db. */
int status_cache_init(struct status_cache *c, sqlite3 *db);
void status_cache_free(struct status_cache *c); /* accepts a zeroed one */

/* Returns 1 when a flush is due (the first report of name, or the last
 * flush STATUS_FLUSH_MS ago), 0, or -ENOMEM. */
int status_cache_put(struct status_cache *c, const char *name, const json_t *report);
int status_cache_get(struct status_cache *c, const char *name, json_t **report);
void status_cache_del(struct status_cache *c, const char *name);
/* Writes the changed reports; the caller holds db with no transaction open. */
int status_cache_flush(struct status_cache *c, sqlite3 *db);

#endif
