/* SPDX-License-Identifier: MIT */
#include "store_sqlite_cred.h"
#include "store_sqlite_row.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>

static int cred_error(sqlite3 *db, const char *what)
{
	log_error("store: credentials: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

int cred_table_init(sqlite3 *db)
{
	if (sqlite3_exec(db,
			 "CREATE TABLE IF NOT EXISTS credentials(key TEXT PRIMARY KEY,"
			 " node TEXT NOT NULL, body TEXT NOT NULL);"
			 "CREATE INDEX IF NOT EXISTS credentials_node ON credentials(node);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return cred_error(db, "create");
	return 0;
}

int cred_table_put(sqlite3 *db, const char *key, const char *node, const json_t *rec)
{
	sqlite3_stmt *st = NULL;
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	int r = 0;

	if (!text)
		return -ENOMEM;
	if (sqlite3_prepare_v2(
		db, "INSERT OR REPLACE INTO credentials(key, node, body) VALUES(?, ?, ?)", -1, &st,
		NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, node, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = cred_error(db, "put");
	sqlite3_finalize(st);
	free(text);
	return r;
}

int cred_table_get(sqlite3 *db, const char *key, json_t **rec)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if (sqlite3_prepare_v2(db, "SELECT body FROM credentials WHERE key = ?", -1, &st, NULL) !=
		SQLITE_OK ||
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		r = cred_error(db, "get");
		goto cleanup;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
		goto cleanup;
	}
	if (rc != SQLITE_ROW) {
		r = cred_error(db, "get");
		goto cleanup;
	}
	r = sqlite_column_json(st, 0, rec);
cleanup:
	sqlite3_finalize(st);
	return r;
}

int cred_table_del_node(sqlite3 *db, const char *node, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(db, "DELETE FROM credentials WHERE node = ?", -1, &st, NULL) !=
		SQLITE_OK ||
	    sqlite3_bind_text(st, 1, node, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = cred_error(db, "delete");
	else if (n)
		*n = sqlite3_changes(db);
	sqlite3_finalize(st);
	return r;
}
