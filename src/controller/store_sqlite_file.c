/* SPDX-License-Identifier: MIT */
#include "store_sqlite_file.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The first column of the first row of sql as text ("" when no row). */
static int first_text(sqlite3 *db, const char *sql, char *out, size_t n, int *rc_out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	out[0] = '\0';
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	*rc_out = rc;
	return rc == SQLITE_OK ? 0 : -EIO;
}

static int refuse(sqlite3 *db, int rc, const char *path)
{
	if ((rc & 0xff) == SQLITE_NOTADB) {
		log_error("store %s is not a SQLite database; godwitd leaves it as it is", path);
		return -EMEDIUMTYPE;
	}
	log_error("store %s cannot be read: %s; restore a backup (godwitd restore)", path,
		  sqlite3_errmsg(db));
	return (rc & 0xff) == SQLITE_CORRUPT ? -EUCLEAN : -EIO;
}

int sqlite_file_verify(sqlite3 *db, const char *path)
{
	char text[256];
	int rc;

	if (first_text(db, "PRAGMA quick_check(1)", text, sizeof(text), &rc) < 0)
		return refuse(db, rc, path);
	if (strcmp(text, "ok") != 0) {
		for (char *p = text; *p; p++)
			*p = *p == '\n' ? ' ' : *p;
		log_error("store %s failed SQLite's integrity check (%s); restore a backup "
			  "(godwitd restore)",
			  path, text);
		return -EUCLEAN;
	}
	if (first_text(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", text,
		       sizeof(text), &rc) < 0)
		return refuse(db, rc, path);
	if (strcmp(text, "0") == 0)
		return 0; /* new */
	if (first_text(db,
		       "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
		       "('meta', 'objects', 'events', 'allocs')",
		       text, sizeof(text), &rc) < 0)
		return refuse(db, rc, path);
	if (strcmp(text, "4") == 0 &&
	    first_text(db, "SELECT value FROM meta WHERE key = 'revision'", text, sizeof(text),
		       &rc) == 0 &&
	    text[0])
		return 0;
	log_error("store %s is a SQLite database but not a godwit store (no godwit tables); "
		  "godwitd leaves it as it is",
		  path);
	return -EMEDIUMTYPE;
}

static int make_cluster_id(sqlite3 *db, char *id)
{
	char sql[128];
	int r = store_cluster_id_make(id);

	if (r < 0)
		return r;
	snprintf(sql, sizeof(sql), "INSERT INTO cluster(id) VALUES('%s')", id);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_error("store: cannot keep the cluster id: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	log_info("store: a new cluster, id %s", id);
	return 0;
}

int sqlite_file_cluster_id(sqlite3 *db, char *id)
{
	char text[64];
	int rc;

	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS cluster(id TEXT NOT NULL)", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    first_text(db, "SELECT id FROM cluster", text, sizeof(text), &rc) < 0) {
		log_error("store: cannot read the cluster id: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	if (!text[0])
		return make_cluster_id(db, id);
	if (!store_cluster_id_valid(text)) {
		log_error("store: the cluster id \"%.40s\" is damaged", text);
		return -EUCLEAN;
	}
	memcpy(id, text, STORE_CLUSTER_ID_LEN + 1);
	return 0;
}

static int open_db(const char *path, int flags, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);

	if (rc != SQLITE_OK) {
		log_error("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc == SQLITE_CANTOPEN ? -ENOENT : -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	*out = db;
	return 0;
}

int store_sqlite_backup(const char *db_path, const char *out)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	bool made = false;
	int fd, rc, r;

	if (access(db_path, F_OK) < 0)
		return log_error_errno(-errno, "no store at %s", db_path);
	r = open_db(db_path, SQLITE_OPEN_READWRITE, &src);
	if (r < 0)
		goto cleanup;
	r = sqlite_file_verify(src, db_path);
	if (r < 0)
		goto cleanup;
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = log_error_errno(-errno, "cannot create %s", out);
		goto cleanup;
	}
	close(fd);
	made = true;
	r = open_db(out, SQLITE_OPEN_READWRITE, &dst);
	if (r < 0)
		goto cleanup;
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		log_error("cannot back up %s: %s", db_path, sqlite3_errmsg(dst));
		r = -EIO;
		goto cleanup;
	}
	rc = sqlite3_backup_step(b, -1); /* all pages, under one read lock: a snapshot */
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		log_error("cannot back up %s: %s", db_path, sqlite3_errstr(rc));
		r = -EIO;
	}
cleanup:
	sqlite3_close(src);
	sqlite3_close(dst);
	if (r < 0 && made)
		unlink(out);
	return r;
}

/* The copy at tmp: the revision `bump` ahead, every event before it gone. */
static int bump_revision(const char *tmp, int64_t bump)
{
	sqlite3 *db = NULL;
	char sql[512];
	int r;

	r = open_db(tmp, SQLITE_OPEN_READWRITE, &db);
	if (r < 0)
		return r;
	snprintf(sql, sizeof(sql),
		 "BEGIN;"
		 "UPDATE meta SET value = value + %" PRId64 " WHERE key = 'revision';"
		 "UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'revision')"
		 " WHERE key = 'compacted';"
		 "DELETE FROM events;"
		 "COMMIT;",
		 bump);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_error("cannot move the revision of %s: %s", tmp, sqlite3_errmsg(db));
		r = -EIO;
	}
	sqlite3_close(db);
	return r;
}

/* Renames path (and its -wal and -shm, when there) to to. */
static int rename_with_journal(const char *path, const char *to)
{
	static const char *const suffix[] = {"-wal", "-shm"};
	char a[PATH_MAX], b[PATH_MAX];

	if (rename(path, to) < 0)
		return log_error_errno(-errno, "cannot rename %s to %s", path, to);
	for (size_t i = 0; i < 2; i++) {
		snprintf(a, sizeof(a), "%s%s", path, suffix[i]);
		snprintf(b, sizeof(b), "%s%s", to, suffix[i]);
		if (rename(a, b) < 0 && errno != ENOENT)
			return log_error_errno(-errno, "cannot rename %s to %s", a, b);
	}
	return 0;
}

static void sync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int store_sqlite_restore(const char *backup, const char *db_path, int64_t bump, char *kept,
			 size_t kept_len)
{
	char tmp[PATH_MAX], old[PATH_MAX] = "";
	int r;

	if (bump < 1)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s.restoring", db_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	r = store_sqlite_backup(backup, tmp); /* checks the backup; the copy is clean */
	if (r == 0)
		r = bump_revision(tmp, bump);
	if (r == 0 && access(db_path, F_OK) == 0) {
		snprintf(old, sizeof(old), "%s.replaced-%lld", db_path, (long long)time(NULL));
		r = rename_with_journal(db_path, old);
	}
	if (r == 0 && rename(tmp, db_path) < 0) {
		r = log_error_errno(-errno, "cannot put %s in place", db_path);
		if (old[0])
			rename_with_journal(old, db_path); /* the store as it was */
	}
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	sync_dir_of(db_path);
	snprintf(kept, kept_len, "%s", old);
	return 0;
}
