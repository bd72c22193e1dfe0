/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite_file: the SQLite store's file as a whole — checked before it is
 * used, its cluster identity, copied (backup) and put back (restore).
 *
 * Design
 * - A store is refused before anything reads or writes it when SQLite's
 *   quick_check fails (a damaged file) or when it holds tables but is not a
 *   godwit store (a foreign database given by mistake): godwitd exits with
 *   the reason and the file stays as it was.
 * - The cluster id (32 hex digits, random) is made when a store is created
 *   and never changes; list replies carry it and agents pin it
 *   (agent/clusterpin.h), so a controller started on an empty or foreign
 *   store cannot make the nodes delete what they run.
 * - A backup is SQLite's online backup of the live file (a consistent
 *   snapshot; godwitd may be running). A restore, with godwitd stopped, puts
 *   a checked copy in place, keeps the replaced file, moves the revision
 *   `bump` ahead and compacts every event before it, as etcdutl's
 *   `snapshot restore --bump-revision --mark-compacted` does: a watcher that
 *   saw revisions newer than the backup lists again instead of missing them.
 * Functions return 0 or -errno and log why they failed.
 */
#ifndef GODWIT_CONTROLLER_STORE_SQLITE_FILE_H
#define GODWIT_CONTROLLER_STORE_SQLITE_FILE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_RESTORE_BUMP   1000000 /* revisions; more than writes since a backup */

/* The open database db (path for messages): -EUCLEAN when damaged,
 * -EMEDIUMTYPE when it is not a godwit store; an empty file passes. */
int sqlite_file_verify(sqlite3 *db, const char *path);

/* The store's cluster id, made once; id gets STORE_CLUSTER_ID_LEN + 1 bytes. */
int sqlite_file_cluster_id(sqlite3 *db, char *id);

/* A consistent copy of the store at db_path into out, which must not exist. */
int store_sqlite_backup(const char *db_path, const char *out);

/*
 * Replaces the store at db_path (godwitd stopped) with the backup, checked
 * first: nothing changes when it is damaged or foreign. The replaced file is
 * kept under the name written to kept (empty when there was none).
 */
int store_sqlite_restore(const char *backup, const char *db_path, int64_t bump, char *kept,
			 size_t kept_len);

#endif
