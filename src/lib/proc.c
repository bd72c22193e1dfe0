/* SPDX-License-Identifier: MIT */
#include "lib/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "lib/clock.h"

void proc_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The start of /proc/PID/what into buf (NUL-terminated); false when unreadable. */
static bool read_proc(pid_t pid, const char *what, char *buf, size_t size)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return true;
}

bool proc_pid_alive(pid_t pid)
{
	char buf[256], *paren;

	if (pid <= 0)
		return false;
	waitpid(pid, NULL, WNOHANG); /* reap our own exited children */
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	if (!read_proc(pid, "stat", buf, sizeof(buf)))
		return false;
	paren = strrchr(buf, ')');
	return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

bool proc_pid_runs(pid_t pid, const char *exe_base)
{
	char buf[4096];
	const char *base;

	if (!proc_pid_alive(pid) || !read_proc(pid, "cmdline", buf, sizeof(buf)))
		return false;
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	return strcmp(base, exe_base) == 0;
}

int proc_stop_pid(pid_t pid, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;

	if (!proc_pid_alive(pid))
		return 0;
	if (kill(pid, SIGTERM) < 0)
		return errno == ESRCH ? 0 : -errno;
	while (clock_mono_ms() < deadline) {
		if (!proc_pid_alive(pid))
			return 0;
		proc_sleep_ms(20);
	}
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	deadline = clock_mono_ms() + 2000;
	while (proc_pid_alive(pid) && clock_mono_ms() < deadline)
		proc_sleep_ms(10);
	return proc_pid_alive(pid) ? -ETIMEDOUT : 0;
}

int proc_wait_exit(pid_t pid, int64_t deadline_ms, int *status)
{
	int ws;

	for (;;) {
		pid_t r = waitpid(pid, &ws, WNOHANG);

		if (r == pid) {
			if (status)
				*status = ws;
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -errno;
		if (clock_mono_ms() > deadline_ms)
			return -ETIMEDOUT;
		proc_sleep_ms(20);
	}
}

static bool netns_name_ok(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && strlen(name) < NAME_MAX;
}

int proc_netns_open(const char *name, int *fd)
{
	char path[PATH_MAX];
	int f;

	if (!netns_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	*fd = f;
	return 0;
}

int proc_spawn(const char *const *argv, const struct proc_spawn_opts *o, pid_t *pid)
{
	int oflags = O_WRONLY | O_CREAT | O_CLOEXEC | (o->append ? O_APPEND : O_TRUNC);
	int nsfd = -1, outfd = -1, errfd = -1, r = 0;
	pid_t child;

	if (o->netns) {
		r = proc_netns_open(o->netns, &nsfd);
		if (r < 0)
			return r;
	}
	outfd = open(o->out, oflags, (mode_t)o->mode);
	if (outfd >= 0 && o->err)
		errfd = open(o->err, oflags, (mode_t)o->mode);
	if (outfd < 0 || (o->err && errfd < 0)) {
		r = -errno;
		goto cleanup;
	}
	fflush(NULL); /* nothing buffered is written twice */
	child = fork();
	if (child < 0) {
		r = -errno;
		goto cleanup;
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(outfd, STDOUT_FILENO);
		if (errfd >= 0)
			dup2(errfd, STDERR_FILENO);
		else if (o->err_to_out)
			dup2(outfd, STDERR_FILENO);
		setsid(); /* a Ctrl-C on the CLI reaches only the CLI */
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
			fprintf(stderr, "setns %s: %s\n", o->netns, strerror(errno));
			_exit(127);
		}
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	*pid = child;
cleanup:
	if (nsfd >= 0)
		close(nsfd);
	if (outfd >= 0)
		close(outfd);
	if (errfd >= 0)
		close(errfd);
	return r;
}

int proc_netns_enter(const char *name, int *saved)
{
	int self = -1, target = -1, r;

	r = proc_netns_open(name, &target);
	if (r < 0)
		return r;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		r = -errno;
		goto cleanup;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		r = -errno;
		close(self);
		goto cleanup;
	}
	*saved = self;
cleanup:
	close(target);
	return r;
}

int proc_netns_leave(int saved)
{
	int r = setns(saved, CLONE_NEWNET) < 0 ? -errno : 0;

	close(saved);
	return r;
}

int proc_netns_create(const char *name)
{
	char path[PATH_MAX];
	int fd, self, r;

	if (!netns_name_ok(name))
		return -EINVAL;
	r = proc_mkdir_p("/run/netns", 0755);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	close(fd);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	r = 0;
	if (unshare(CLONE_NEWNET) < 0)
		r = -errno;
	else if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		r = -errno;
	if (proc_netns_leave(self) < 0) {
		perror("proc_netns_create: cannot return to the original network namespace");
		abort();
	}
	if (r < 0)
		unlink(path);
	return r;
}

bool proc_netns_exists(const char *name)
{
	char path[PATH_MAX];

	if (!netns_name_ok(name))
		return false;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

void proc_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int proc_netns_list(char ***names, size_t *count)
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
			proc_strv_free(grown ? grown : v, n);
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

int proc_netns_kill_all(const char *netns)
{
	char path[PATH_MAX];
	struct stat ns;
	struct dirent *de;
	DIR *d;
	int killed = 0;

	if (!netns_name_ok(netns))
		return -EINVAL;
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	if (stat(path, &ns) < 0)
		return errno == ENOENT ? 0 : -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char nspath[64];
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

int proc_rm_rf(const char *path)
{
	int r;

	if (!path || !*path)
		return -EINVAL;
	if (access(path, F_OK) != 0)
		return 0;
	r = nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r < 0 ? -errno : r;
}

int proc_mkdir_p(const char *path, unsigned mode)
{
	char buf[PATH_MAX];
	size_t len = path ? strlen(path) : 0;

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

bool proc_bpffs_mounted(void)
{
	struct statfs st;

	return statfs(BPFFS_ROOT, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int proc_bpffs_mount(void)
{
	return mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0 ? -errno : 0;
}
