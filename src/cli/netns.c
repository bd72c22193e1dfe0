/* SPDX-License-Identifier: MIT */
#include "netns.h"

#include "lib/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void print_argv(FILE *f, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
}

static int run(const char *const *argv, bool quiet, char **out)
{
	int pipefd[2] = { -1, -1 };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int status, r = 0;
	pid_t pid;

	if (out && pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto cleanup;
	}
	if (pid == 0) {
		if (out)
			dup2(pipefd[1], STDOUT_FILENO);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out) {
		close(pipefd[1]);
		pipefd[1] = -1;
		for (;;) {
			ssize_t n;

			if (len + 4096 + 1 > cap) {
				char *grown = realloc(buf, cap = cap ? cap * 2 : 8192);

				if (!grown) {
					r = -ENOMEM;
					break;
				}
				buf = grown;
			}
			n = read(pipefd[0], buf + len, cap - len - 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += n;
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			goto cleanup;
		}
	}
	if (!r && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (!quiet) {
			fprintf(stderr, "command failed: ");
			print_argv(stderr, argv);
			if (WIFEXITED(status))
				fprintf(stderr, " (exit %d)\n", WEXITSTATUS(status));
			else
				fprintf(stderr, " (signal %d)\n", WTERMSIG(status));
		}
		r = -EIO;
	}
	if (!r && out) {
		buf[len] = '\0';
		*out = buf;
		buf = NULL;
	}
cleanup:
	free(buf);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return r;
}

int run_cmd(const char *const *argv, bool quiet)
{
	return run(argv, quiet, NULL);
}

int run_capture(const char *const *argv, char **out)
{
	return run(argv, true, out);
}

int spawn_in_netns(const char *netns, const char *const *argv, const char *log, pid_t *pid)
{
	char path[300];
	int nsfd, logfd;
	pid_t child;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (logfd < 0) {
		int r = -errno;

		close(nsfd);
		return r;
	}
	child = fork();
	if (child < 0) {
		int r = -errno;

		close(nsfd);
		close(logfd);
		return r;
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		setsid(); /* a Ctrl-C on the CLI must not stop the lab */
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			fprintf(stderr, "setns %s: %s\n", netns, strerror(errno));
			_exit(127);
		}
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(nsfd);
	close(logfd);
	*pid = child;
	return 0;
}

bool pid_alive(pid_t pid)
{
	char path[64], buf[256];
	char *paren;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return false;
	waitpid(pid, NULL, WNOHANG); /* reap our own exited children */
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

bool pid_runs(pid_t pid, const char *exe_base)
{
	char path[64], buf[4096];
	const char *base;
	FILE *f;
	size_t n;

	if (!pid_alive(pid))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	return strcmp(base, exe_base) == 0;
}

int stop_pid(pid_t pid, int timeout_ms)
{
	long long deadline = clock_mono_ms() + timeout_ms;

	if (!pid_alive(pid))
		return 0;
	if (kill(pid, SIGTERM) < 0)
		return errno == ESRCH ? 0 : -errno;
	while (clock_mono_ms() < deadline) {
		if (!pid_alive(pid))
			return 0;
		sleep_ms(20);
	}
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	deadline = clock_mono_ms() + 2000;
	while (pid_alive(pid) && clock_mono_ms() < deadline)
		sleep_ms(10);
	return pid_alive(pid) ? -ETIMEDOUT : 0;
}

bool netns_exists(const char *name)
{
	char path[300];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int netns_list(char ***names, size_t *count)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*names = NULL;
		*count = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		grown = realloc(v, (n + 1) * sizeof(*v));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			closedir(d);
			strv_free(grown ? grown : v, n);
			return -ENOMEM;
		}
		v = grown;
		n++;
	}
	closedir(d);
	*names = v;
	*count = n;
	return 0;
}

int netns_kill_all(const char *netns)
{
	char path[300];
	struct stat ns;
	struct dirent *de;
	DIR *d;
	int killed = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	if (stat(path, &ns) < 0)
		return errno == ENOENT ? 0 : -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char nspath[300];
		struct stat st;
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)pid);
		if (stat(nspath, &st) < 0)
			continue;
		if (st.st_ino == ns.st_ino && st.st_dev == ns.st_dev && kill(pid, SIGKILL) == 0)
			killed++;
	}
	closedir(d);
	return killed;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int rm_rf(const char *path)
{
	int r;

	if (access(path, F_OK) != 0)
		return 0;
	r = nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r < 0 ? -errno : r;
}
