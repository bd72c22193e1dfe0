/* SPDX-License-Identifier: MIT */
/* store_sqlite_row: what the SQLite store's tables (objects, credentials,
 * node_status) keep in a row's column: a JSON text. */
#ifndef GODWIT_CONTROLLER_STORE_SQLITE_ROW_H
#define GODWIT_CONTROLLER_STORE_SQLITE_ROW_H

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>

/* The JSON text in column col of st's row as a new value; -EIO when it does not parse. */
static inline int sqlite_column_json(sqlite3_stmt *st, int col, json_t **out)
{
	json_t *j = json_loads((const char *)sqlite3_column_text(st, col), 0, NULL);

	if (!j)
		return -EIO;
	*out = j;
	return 0;
}

#endif
