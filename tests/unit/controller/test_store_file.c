/* SPDX-License-Identifier: MIT */
/* The store's file: refused when damaged or foreign (and left as it was), one
 * cluster id for its life, backup and restore (the revision moved ahead, every
 * older watch compacted away). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "store_sqlite_file.h"
#include "tmpstore.h"

static void write_file(const char *path, const void *data, size_t n, off_t at)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, n, at), (ssize_t)n);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_cluster_id_kept(void **state)
{
	struct tmpstore *t = *state;
	char first[STORE_CLUSTER_ID_LEN + 1];
	const char *id = t->s->ops->cluster_id(t->s);

	assert_int_equal(strlen(id), STORE_CLUSTER_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), STORE_CLUSTER_ID_LEN);
	strcpy(first, id);
	tmpstore_put_thing(t->s, "a");
	tmpstore_close(t);
	assert_int_equal(tmpstore_open(t, 0), 0);
	assert_string_equal(t->s->ops->cluster_id(t->s), first);
}

static void test_new_store_new_cluster(void **state)
{
	struct tmpstore *t = *state, other = {0};

	assert_int_equal(tmpstore_open(&other, 0), 0);
	assert_string_not_equal(t->s->ops->cluster_id(t->s), other.s->ops->cluster_id(other.s));
	tmpstore_remove(&other);
}

static void test_not_sqlite_refused(void **state)
{
	struct tmpstore *t = *state;
	static const char junk[] =
	    "this is not a database, it is a text file of some length......"
	    "................................................................";
	struct store *s = NULL;

	tmpstore_close(t);
	unlink(t->path);
	write_file(t->path, junk, sizeof(junk), 0);
	assert_int_equal(store_sqlite_open(t->path, NULL, &s), -EMEDIUMTYPE);
	assert_null(s);
	assert_int_equal(file_size(t->path), (off_t)sizeof(junk)); /* left as it was */
}

static void test_foreign_sqlite_refused(void **state)
{
	struct tmpstore *t = *state;
	struct store *s = NULL;
	sqlite3 *db;

	tmpstore_close(t);
	unlink(t->path);
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE songs(title TEXT)", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_sqlite_open(t->path, NULL, &s), -EMEDIUMTYPE);
	assert_null(s);
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK); /* no godwit table added */
	assert_int_equal(sqlite3_exec(db, "SELECT 1 FROM meta", NULL, NULL, NULL), SQLITE_ERROR);
	sqlite3_close(db);
}

static void test_damaged_refused(void **state)
{
	struct tmpstore *t = *state;
	struct store *s = NULL;
	char junk[4096];
	off_t size;

	for (int i = 0; i < 300; i++) {
		char name[16];

		snprintf(name, sizeof(name), "thing-%d", i);
		tmpstore_put_thing(t->s, name);
	}
	tmpstore_close(t); /* checkpoints the WAL into the file */
	size = file_size(t->path);
	assert_true(size > 4 * 4096);
	memset(junk, 0x5a, sizeof(junk));
	write_file(t->path, junk, sizeof(junk), 2 * 4096); /* page 3: a b-tree page */
	assert_true(store_sqlite_open(t->path, NULL, &s) < 0);
	assert_null(s);
	assert_int_equal(file_size(t->path), size);
}

static void test_backup_restore(void **state)
{
	struct tmpstore *t = *state;
	char backup[128], kept[256], id[STORE_CLUSTER_ID_LEN + 1];
	json_t *events = NULL, *obj = NULL;
	int64_t rev_backup, oldest = 0;

	tmpstore_put_thing(t->s, "a");
	rev_backup = tmpstore_revision(t->s);
	strcpy(id, t->s->ops->cluster_id(t->s));
	snprintf(backup, sizeof(backup), "%s/backup.db", t->dir);
	assert_int_equal(store_sqlite_backup(t->path, backup), 0); /* while open */
	assert_int_equal(store_sqlite_backup(t->path, backup), -EEXIST);
	tmpstore_put_thing(t->s, "b"); /* after the backup: a watcher may have seen it */
	tmpstore_close(t);

	assert_int_equal(store_sqlite_restore(backup, t->path, 1000, kept, sizeof(kept)), 0);
	assert_non_null(strstr(kept, ".replaced-"));
	assert_int_equal(access(kept, F_OK), 0);
	assert_int_equal(tmpstore_open(t, 0), 0);
	assert_string_equal(t->s->ops->cluster_id(t->s), id);
	assert_int_equal(tmpstore_revision(t->s), rev_backup + 1000);
	assert_int_equal(t->s->ops->get(t->s, "Thing", "a", &obj), 0);
	json_decref(obj);
	assert_int_equal(t->s->ops->get(t->s, "Thing", "b", &obj), -ENOENT);
	/* a watcher from before the restore (even one that saw "b") lists again */
	assert_int_equal(t->s->ops->events(t->s, rev_backup + 1, 10, &events, &oldest), -ESTALE);
	tmpstore_put_thing(t->s, "c");
	assert_int_equal(t->s->ops->events(t->s, rev_backup + 1000, 10, &events, &oldest), 0);
	assert_int_equal(json_array_size(events), 1);
	json_decref(events);
}

static void test_restore_refuses_bad_backup(void **state)
{
	struct tmpstore *t = *state;
	char bad[128], kept[256] = "untouched";
	static const char junk[] = "not a store";

	tmpstore_put_thing(t->s, "a");
	tmpstore_close(t);
	snprintf(bad, sizeof(bad), "%s/bad.db", t->dir);
	write_file(bad, junk, sizeof(junk), 0);
	assert_true(store_sqlite_restore(bad, t->path, 10, kept, sizeof(kept)) < 0);
	assert_string_equal(kept, "untouched");
	assert_int_equal(store_sqlite_restore(bad, t->path, 0, kept, sizeof(kept)), -EINVAL);
	assert_int_equal(tmpstore_open(t, 0), 0); /* the store as it was */
	assert_int_equal(tmpstore_revision(t->s), 1);
}

/* The stored report of name as text ("" when none), read by another connection. */
static void stored_report(const char *path, const char *name, char *out, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT body FROM node_status WHERE name = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void put_report(struct store *s, const char *name, int a)
{
	json_t *report = json_pack("{s:i}", "a", a);

	assert_int_equal(s->ops->node_status_put(s, name, report), 0);
	json_decref(report);
}

static void test_status_written_behind(void **state)
{
	struct tmpstore *t = *state;
	json_t *got = NULL;
	char text[64];

	put_report(t->s, "n1", 1);
	stored_report(t->path, "n1", text, sizeof(text));
	assert_string_equal(text, "{\"a\":1}"); /* a first report is written at once */
	put_report(t->s, "n1", 2);
	stored_report(t->path, "n1", text, sizeof(text));
	assert_string_equal(text, "{\"a\":1}"); /* later ones behind */
	assert_int_equal(t->s->ops->node_status_get(t->s, "n1", &got), 0);
	assert_int_equal(json_integer_value(json_object_get(got, "a")), 2);
	json_decref(got);
	tmpstore_close(t); /* writes what is behind */
	stored_report(t->path, "n1", text, sizeof(text));
	assert_string_equal(text, "{\"a\":2}");
	assert_int_equal(tmpstore_open(t, 0), 0);
	assert_int_equal(t->s->ops->node_status_get(t->s, "n1", &got), 0);
	assert_int_equal(json_integer_value(json_object_get(got, "a")), 2);
	json_decref(got);
	assert_int_equal(t->s->ops->node_status_del(t->s, "n1"), 0);
	assert_int_equal(t->s->ops->node_status_get(t->s, "n1", &got), -ENOENT);
	stored_report(t->path, "n1", text, sizeof(text));
	assert_string_equal(text, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cluster_id_kept, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_new_store_new_cluster, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_not_sqlite_refused, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_sqlite_refused, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_refused, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_backup_restore, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_status_written_behind, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_restore_refuses_bad_backup, tmpstore_setup,
					    tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
