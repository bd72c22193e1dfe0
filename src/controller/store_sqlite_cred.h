/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_cred: the SQLite store's credentials (store.h, design in
 * auth.h): one table, credentials(key, node, body), apart from the objects,
 * so that no list, watch or event ever carries one. The caller holds the
 * store's lock; a write inside the store's transaction is part of it.
 */
#ifndef GODWIT_CONTROLLER_STORE_SQLITE_CRED_H
#define GODWIT_CONTROLLER_STORE_SQLITE_CRED_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

int cred_table_init(sqlite3 *db);
int cred_table_put(sqlite3 *db, const char *key, const char *node, const json_t *rec);
/* -ENOENT when there is none. */
int cred_table_get(sqlite3 *db, const char *key, json_t **rec);
/* Deletes every credential of node; *n: how many (may be NULL). */
int cred_table_del_node(sqlite3 *db, const char *node, int64_t *n);

#endif
