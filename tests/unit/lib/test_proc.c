/* SPDX-License-Identifier: MIT */
/* lib/proc: children (spawn, alive, wait, stop), file trees, namespace names.
 * Creates no namespace: only the name checks of the netns helpers run here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/proc.h"

static char dir[] = "/tmp/godwit-test-proc-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return proc_rm_rf(dir);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_spawn_wait(void **state)
{
	char out[PATH_MAX];
	struct proc_spawn_opts o = {.out = out, .err_to_out = true, .append = true, .mode = 0600};
	pid_t pid = 0;
	int status = -1;

	(void)state;
	snprintf(out, sizeof(out), "%s/out.log", dir);
	assert_int_equal(proc_spawn((const char *const[]){"/bin/sh", "-c",
							  "echo one; echo two >&2; exit 3", NULL},
				    &o, &pid),
			 0);
	assert_true(pid > 0);
	assert_int_equal(proc_wait_exit(pid, clock_mono_ms() + 10000, &status), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_string_equal(slurp(out), "one\ntwo\n");
	/* append: a second run adds to the log */
	assert_int_equal(
	    proc_spawn((const char *const[]){"/bin/sh", "-c", "echo three", NULL}, &o, &pid), 0);
	assert_int_equal(proc_wait_exit(pid, clock_mono_ms() + 10000, NULL), 0);
	assert_string_equal(slurp(out), "one\ntwo\nthree\n");
	/* truncate: the file starts over */
	o.append = false;
	o.err_to_out = false;
	assert_int_equal(
	    proc_spawn((const char *const[]){"/bin/sh", "-c", "echo four", NULL}, &o, &pid), 0);
	assert_int_equal(proc_wait_exit(pid, clock_mono_ms() + 10000, NULL), 0);
	assert_string_equal(slurp(out), "four\n");
	/* an exec that fails: the child says so and exits 127 */
	assert_int_equal(proc_spawn((const char *const[]){"/nonexistent/godwit", NULL}, &o, &pid),
			 0);
	assert_int_equal(proc_wait_exit(pid, clock_mono_ms() + 10000, &status), 0);
	assert_int_equal(WEXITSTATUS(status), 127);
	/* a namespace that is no name: refused before anything starts */
	o.netns = "../x";
	pid = 42;
	assert_int_equal(proc_spawn((const char *const[]){"/bin/true", NULL}, &o, &pid), -EINVAL);
	assert_int_equal(pid, 42);
}

static void test_alive_stop(void **state)
{
	pid_t pid = fork();
	int64_t t0;

	(void)state;
	if (pid == 0) {
		pause();
		_exit(0);
	}
	assert_true(pid > 0);
	assert_true(proc_pid_alive(pid));
	assert_true(proc_pid_alive(getpid()));
	assert_false(proc_pid_alive(0));
	assert_false(proc_pid_alive(-1));
	assert_int_equal(proc_wait_exit(pid, clock_mono_ms() + 50, NULL), -ETIMEDOUT);
	t0 = clock_mono_ms();
	assert_int_equal(proc_stop_pid(pid, 5000), 0); /* SIGTERM ends pause() at once */
	assert_true(clock_mono_ms() - t0 < 4000);
	assert_false(proc_pid_alive(pid));	     /* reaped */
	assert_int_equal(proc_stop_pid(pid, 10), 0); /* already gone */
	assert_int_equal(proc_wait_exit(pid, clock_mono_ms() + 10, NULL), -ECHILD);
	assert_false(proc_pid_runs(pid, "test_lib_proc"));
	assert_true(proc_pid_runs(getpid(), "test_lib_proc"));
	assert_false(proc_pid_runs(getpid(), "godwit-agent"));
}

static void test_trees(void **state)
{
	char deep[PATH_MAX], file[PATH_MAX + 16], top[PATH_MAX];
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(top, sizeof(top), "%s/a", dir);
	snprintf(deep, sizeof(deep), "%s/a/b/c", dir);
	assert_int_equal(proc_mkdir_p(deep, 0700), 0);
	assert_int_equal(proc_mkdir_p(deep, 0700), 0); /* exists: fine */
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(file, sizeof(file), "%s/f", deep);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(proc_mkdir_p(file, 0700),
			 0); /* EEXIST is not checked to be a directory (as the copies did) */
	assert_int_equal(proc_rm_rf(top), 0);
	assert_int_equal(stat(top, &st), -1);
	assert_int_equal(proc_rm_rf(top), 0); /* missing: fine */
	assert_int_equal(proc_rm_rf(""), -EINVAL);
	assert_int_equal(proc_rm_rf(NULL), -EINVAL);
	assert_int_equal(proc_mkdir_p("", 0700), -EINVAL);
	assert_int_equal(proc_mkdir_p(NULL, 0700), -EINVAL);
}

static void test_netns_names(void **state)
{
	static const char *const bad[] = {"", ".", "..", "a/b", "../etc", "/run"};
	int fd = -7, saved = -7;
	char **names = NULL;
	size_t n = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(proc_netns_open(bad[i], &fd), -EINVAL);
		assert_int_equal(proc_netns_enter(bad[i], &saved), -EINVAL);
		assert_false(proc_netns_exists(bad[i]));
		assert_int_equal(proc_netns_kill_all(bad[i]), -EINVAL);
	}
	assert_int_equal(proc_netns_open(NULL, &fd), -EINVAL);
	assert_int_equal(fd, -7);
	assert_int_equal(saved, -7);
	assert_int_equal(proc_netns_open("godwit-test-no-such-netns", &fd), -ENOENT);
	assert_int_equal(proc_netns_enter("godwit-test-no-such-netns", &saved), -ENOENT);
	assert_false(proc_netns_exists("godwit-test-no-such-netns"));
	assert_int_equal(proc_netns_kill_all("godwit-test-no-such-netns"), 0);
	assert_int_equal(proc_netns_list(&names, &n), 0); /* reads /run/netns, whatever is there */
	proc_strv_free(names, n);
}

static void test_sleep(void **state)
{
	int64_t t0 = clock_mono_ms();

	(void)state;
	proc_sleep_ms(30);
	assert_true(clock_mono_ms() - t0 >= 30);
	t0 = clock_mono_ms();
	proc_sleep_ms(0);
	proc_sleep_ms(-5);
	assert_true(clock_mono_ms() - t0 < 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spawn_wait), cmocka_unit_test(test_alive_stop),
	    cmocka_unit_test(test_trees),      cmocka_unit_test(test_netns_names),
	    cmocka_unit_test(test_sleep),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
