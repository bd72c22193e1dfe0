/* SPDX-License-Identifier: MIT */
#include "store_sqlite_status.h"
#include "store_sqlite_row.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int status_cache_init(struct status_cache *c, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	json_t *report;
	int rc;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->reports = json_object();
	c->dirty = json_object();
	c->flushed_ms = clock_mono_ms();
	if (!c->reports || !c->dirty)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(db, "SELECT name, body FROM node_status", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite_column_json(st, 1, &report) == 0)
			json_object_set_new(c->reports, (const char *)sqlite3_column_text(st, 0),
					    report);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("store: cannot read the node reports: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

void status_cache_free(struct status_cache *c)
{
	if (!c->reports && !c->dirty)
		return;
	json_decref(c->reports);
	json_decref(c->dirty);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

int status_cache_put(struct status_cache *c, const char *name, const json_t *report)
{
	json_t *copy = json_deep_copy(report);
	bool first;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	first = !json_object_get(c->reports, name);
	if (json_object_set_new(c->reports, name, copy) < 0 ||
	    json_object_set_new(c->dirty, name, json_true()) < 0)
		r = -ENOMEM;
	else if (first || clock_mono_ms() - c->flushed_ms >= STATUS_FLUSH_MS)
		r = 1;
	pthread_mutex_unlock(&c->lock);
	return r;
}

int status_cache_get(struct status_cache *c, const char *name, json_t **report)
{
	json_t *found, *copy = NULL;

	pthread_mutex_lock(&c->lock);
	found = json_object_get(c->reports, name);
	if (found)
		copy = json_deep_copy(found);
	pthread_mutex_unlock(&c->lock);
	if (!found)
		return -ENOENT;
	if (!copy)
		return -ENOMEM;
	*report = copy;
	return 0;
}

void status_cache_del(struct status_cache *c, const char *name)
{
	pthread_mutex_lock(&c->lock);
	json_object_del(c->reports, name);
	json_object_del(c->dirty, name);
	pthread_mutex_unlock(&c->lock);
}

/* The changed reports as [[name, text], ...], taken out of the dirty set. */
static json_t *take_dirty(struct status_cache *c)
{
	json_t *rows = json_array(), *v;
	const char *name;
	char *text;

	pthread_mutex_lock(&c->lock);
	json_object_foreach(c->dirty, name, v)
	{
		text = json_dumps(json_object_get(c->reports, name), JSON_COMPACT);
		if (text && rows)
			json_array_append_new(rows, json_pack("[s, s]", name, text));
		free(text);
	}
	json_object_clear(c->dirty);
	c->flushed_ms = clock_mono_ms();
	pthread_mutex_unlock(&c->lock);
	return rows;
}

int status_cache_flush(struct status_cache *c, sqlite3 *db)
{
	json_t *rows = take_dirty(c), *row;
	sqlite3_stmt *st = NULL;
	int rc;
	size_t i;

	if (!rows)
		return -ENOMEM;
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return 0;
	}
	rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    db, "INSERT OR REPLACE INTO node_status(name, body) VALUES(?, ?)", -1, &st,
		    NULL);
	json_array_foreach(rows, i, row)
	{
		if (rc != SQLITE_OK)
			break;
		sqlite3_bind_text(st, 1, json_string_value(json_array_get(row, 0)), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 2, json_string_value(json_array_get(row, 1)), -1,
				  SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	json_decref(rows);
	if (rc != SQLITE_OK) {
		log_warn("store: cannot write the node reports behind: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	return 0;
}
