/* SPDX-License-Identifier: MIT */
/* Supervision of one VM: start, adopt, notice exits, restart, stop, tail the console. */
#include "agent/vm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"

extern char **environ;

/* The console of the QEMU that goes is kept as NODE_DIR/.NAME.console.last
 * (a dot: never taken for a VM's run dir). */
static void keep_console(const struct vm *v)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 80];

	snprintf(from, sizeof(from), "%s/console.log", v->rundir);
	snprintf(to, sizeof(to), "%s/.%s.console.last", v->mgr->node_dir, v->name);
	if (rename(from, to) < 0 && errno != ENOENT)
		log_debug("vm %s: cannot keep %s: %s", v->name, from, strerror(errno));
}

static void remove_rundir(const struct vm *v)
{
	keep_console(v);
	int r = proc_rm_rf(v->rundir);

	if (r < 0)
		log_warn_errno(r, "vm %s: cannot remove %s", v->name, v->rundir);
}

/* The last non-empty line of RUNDIR/qemu.log (QEMU's stderr). */
static void last_log_line(const struct vm *v, char *out, size_t len)
{
	char path[PATH_MAX + 16], buf[2048];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/qemu.log", v->rundir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;

	n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	const char *start = strrchr(buf, '\n') ? strrchr(buf, '\n') + 1 : buf;
	size_t k = strlen(start) < len ? strlen(start) : len - 1;

	memcpy(out, start, k);
	out[k] = '\0';
}

static bool pid_is_qemu(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strstr(exe, "qemu") != NULL;
}

static pid_t read_pidfile(const struct vm *v)
{
	char path[PATH_MAX + 16];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/qemu.pid", v->rundir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1 || pid > 4194304)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static int qmp_attach(struct vm_manager *m, struct vm *v, int timeout_ms)
{
	struct epoll_event ev = {.events = EPOLLIN};
	char path[PATH_MAX + 16];
	int r;

	snprintf(path, sizeof(path), "%s/qmp.sock", v->rundir);
	r = qmp_connect(path, timeout_ms, vm_on_event, v, &v->qmp);
	if (r < 0)
		return r;
	ev.data.fd = qmp_fd(v->qmp);
	if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, qmp_fd(v->qmp), &ev) < 0)
		log_warn_errno(-errno, "vm %s: epoll", v->name);
	return 0;
}

/* Reads the run state over QMP and sets the phase from it; state (may be
 * NULL) gets the run state ("" when QEMU did not answer). */
static void phase_from_status(struct vm_manager *m, struct vm *v, char *state, size_t len)
{
	json_t *st = NULL;
	const char *s;

	if (state)
		state[0] = '\0';
	if (qmp_execute(v->qmp, "query-status", NULL, &st, VM_QMP_TIMEOUT_MS) < 0)
		return;
	s = json_string_value(json_object_get(st, "status"));
	if (state && s)
		snprintf(state, len, "%s", s);
	if (s && strcmp(s, "running") == 0)
		vm_set_phase(m, v, VM_RUNNING, NULL);
	else if (s && strcmp(s, "inmigrate") == 0)
		vm_set_phase(m, v, VM_INCOMING, NULL);
	else if (s && strcmp(s, "postmigrate") == 0)
		vm_set_phase(m, v, VM_STOPPED, "migrated to the target");
	else if (s && (strcmp(s, "paused") == 0 || strcmp(s, "finish-migrate") == 0))
		vm_set_phase(m, v, VM_RUNNING, "paused");
	json_decref(st);
}

static void fail_retry(struct vm_manager *m, struct vm *v, const char *reason, int64_t delay)
{
	vm_set_phase(m, v, VM_FAILED, reason);
	v->retry_at = clock_mono_ms() + delay;
}

static bool access_rundir(const struct vm *v, const char *file)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", v->rundir, file);
	return access(path, F_OK) == 0;
}

/* A desired VM whose QEMU went while the agent was away: what its records
 * say of a migration is reported (it failed with the QEMU, or the incoming
 * side's fate is unknown), and it is started again as any failed VM. */
static void adopt_dead(struct vm_manager *m, struct vm *v)
{
	vm_outgoing_adopt(m, v, false);
	vm_incoming_adopt(m, v, false, NULL);
	if (v->out.migration[0] || v->in.migration[0])
		fail_retry(m, v, "QEMU exited while the agent was away", 0);
}

/* An adopted QEMU that answers on QMP: its phase, and the migrations its
 * run dir records (once). */
static void adopt_records(struct vm_manager *m, struct vm *v)
{
	char run_state[32];

	phase_from_status(m, v, run_state, sizeof(run_state));
	v->incoming_run = v->phase == VM_INCOMING;
	vm_outgoing_adopt(m, v, true);
	vm_incoming_adopt(m, v, true, run_state);
	v->records_pending = false;
}

void vm_adopt_all(struct vm_manager *m)
{
	struct dirent *e;
	DIR *d = opendir(m->node_dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct vm probe = {0}, *v;
		pid_t pid;
		bool alive;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(v->name))
			continue;
		snprintf(probe.rundir, sizeof(probe.rundir), "%s/%s", m->node_dir, e->d_name);
		pid = read_pidfile(&probe);
		alive = pid > 0 && kill(pid, 0) == 0 && pid_is_qemu(pid);
		v = vm_find(m, e->d_name);
		if (!v) {
			/* Not desired: adopted to be stopped, or a dead one's dir to
			 * remove. A live QEMU whose QMP does not answer is someone
			 * else's (another agent with the same run dir): left alone. */
			v = vm_add(m, e->d_name);
			if (!v)
				break;
			if (alive && qmp_attach(m, v, VM_QMP_TIMEOUT_MS) < 0) {
				log_warn(
				    "vm %s: QEMU pid %d in %s does not answer on QMP: left alone",
				    e->d_name, pid, probe.rundir);
				m->vms = v->next;
				free(v);
				continue;
			}
		}
		if (!alive) {
			adopt_dead(m, v);
			continue;
		}
		v->pid = pid;
		v->child = false;
		v->records_pending = true;
		v->console_off = 0; /* a started QEMU's console.log is fresh: scan all */
		v->ready = access_rundir(v, "ready");
		if (!v->qmp && qmp_attach(m, v, VM_QMP_TIMEOUT_MS) < 0) {
			log_warn("vm %s: adopted QEMU pid %d does not answer on QMP yet", v->name,
				 pid);
			continue; /* vm_step retries */
		}
		log_info("vm %s: adopted QEMU pid %d%s", v->name, pid,
			 v->ready ? " (its guest was ready)" : "");
		adopt_records(m, v);
	}
	closedir(d);
}

static int spawn_qemu(struct vm_manager *m, struct vm *v, char **argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char log_path[PATH_MAX + 16];
	sigset_t none, dflt;
	pid_t pid;
	int r;

	(void)m;
	snprintf(log_path, sizeof(log_path), "%s/qemu.log", v->rundir);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* Own session: QEMU outlives the agent; the agent's blocked signals and
	 * ignored SIGPIPE are not QEMU's business. */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	r = -posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (r < 0)
		return r;
	v->pid = pid;
	v->child = true;
	return 0;
}

static void start(struct vm_manager *m, struct vm *v)
{
	char kernel[PATH_MAX], initrd[PATH_MAX], buf[PATH_MAX + 64], **argv = NULL;
	struct vm_qemu_spec s = {
	    .qemu = m->qemu,
	    .accel = m->accel,
	    .name = v->name,
	    .rundir = v->rundir,
	    .ifname = v->want.ifname,
	    .mac = v->want.mac,
	    .userdata_b64 = v->want.userdata_b64,
	    .memory_mib = v->want.memory_mib,
	    .cpus = v->want.cpus,
	    .incoming = v->want.incoming,
	    .incoming_paused = m->cfg.incoming_paused,
	};
	int r;

	if (v->want.image_error[0])
		return fail_retry(m, v, v->want.image_error, 5000);
	if (vm_guest_find(m->guest_dir, kernel, initrd, sizeof(kernel)) < 0)
		return fail_retry(
		    m, v, "guest image not built: run make guest / tools/guest/build.sh", 5000);
	if (!v->want.ifname[0] || !v->want.mac[0]) {
		vm_set_phase(m, v, VM_STARTING, "waiting for the VM's Port");
		return;
	}
	if (if_nametoindex(v->want.ifname) == 0) {
		snprintf(buf, sizeof(buf), "waiting for the tap %s", v->want.ifname);
		vm_set_phase(m, v, VM_STARTING, buf);
		return;
	}
	if (strlen(v->rundir) + sizeof("/qmp-watch.sock") > 108) { /* the longest socket name */
		snprintf(buf, sizeof(buf), "run dir %s is too long for a unix socket", v->rundir);
		return fail_retry(m, v, buf, 30000);
	}
	s.kernel = kernel;
	s.initrd = initrd;
	r = vm_qemu_argv(&s, &argv);
	if (r == -E2BIG)
		return fail_retry(m, v, "spec.user_data is too long for the kernel command line",
				  30000);
	if (r < 0)
		return fail_retry(m, v, "out of memory", 1000);
	remove_rundir(v); /* a fresh console.log: its ready line is this boot's */
	if (mkdir(v->rundir, 0755) < 0 && errno != EEXIST) {
		snprintf(buf, sizeof(buf), "cannot create %s: %s", v->rundir, strerror(errno));
		vm_qemu_argv_free(argv);
		return fail_retry(m, v, buf, 5000);
	}
	r = spawn_qemu(m, v, argv);
	vm_qemu_argv_free(argv);
	if (r < 0) {
		snprintf(buf, sizeof(buf), "cannot run %s: %s", m->qemu, strerror(-r));
		return fail_retry(m, v, buf, 5000);
	}
	log_info("vm %s: started QEMU pid %d (%u MiB%s)", v->name, v->pid, v->want.memory_mib,
		 v->want.incoming ? ", incoming" : "");
	v->ready = false;
	v->guest_resets = 0;
	v->console_off = 0;
	v->console_len = 0;
	v->incoming_run = v->want.incoming;
	memset(v->ev_qemu, 0, sizeof(v->ev_qemu));
	memset(v->ev_recv, 0, sizeof(v->ev_recv));
	vm_outgoing_reset(v, NULL);
	vm_incoming_reset(v);
	vm_set_phase(m, v, v->want.incoming ? VM_INCOMING : VM_STARTING, NULL);
}

/* true when the QEMU of v has exited; *status gets a description. */
static bool exited(struct vm *v, char *status, size_t len)
{
	int ws;

	if (v->child) {
		pid_t r = waitpid(v->pid, &ws, WNOHANG);

		if (r == 0)
			return false;
		if (r < 0)
			snprintf(status, len, "qemu is gone");
		else if (WIFEXITED(ws))
			snprintf(status, len, "qemu exited with status %d", WEXITSTATUS(ws));
		else
			snprintf(status, len, "qemu was killed by signal %d", WTERMSIG(ws));
		return true;
	}
	if (kill(v->pid, 0) == 0 || errno == EPERM)
		return false;
	snprintf(status, len, "qemu exited");
	return true;
}

static void tail_console(struct vm_manager *m, struct vm *v)
{
	char path[PATH_MAX + 16], buf[4096];
	ssize_t n;
	int fd;

	if (v->ready)
		return;
	snprintf(path, sizeof(path), "%s/console.log", v->rundir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((n = pread(fd, buf, sizeof(buf), v->console_off)) > 0) {
		v->console_off += n;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (v->console_len + 1 < sizeof(v->console_line))
					v->console_line[v->console_len++] = buf[i];
				continue;
			}
			v->console_line[v->console_len] = '\0';
			v->console_len = 0;
			if (strstr(v->console_line, VM_READY_LINE)) {
				log_info("vm %s: guest ready (%s)", v->name, v->console_line);
				vm_set_ready(m, v);
				break;
			}
		}
		if (v->ready)
			break;
	}
	close(fd);
}

/* Stops v's QEMU (quit, then SIGKILL); true once it is gone and cleaned up. */
static bool stop(struct vm_manager *m, struct vm *v)
{
	char status[128];

	if (v->pid <= 0) {
		vm_qmp_closed(m, v);
		remove_rundir(v);
		return true;
	}
	if (!v->quitting) {
		v->quitting = true;
		v->quit_deadline = clock_mono_ms() + VM_QUIT_GRACE_MS;
		log_info("vm %s: stopping QEMU pid %d", v->name, v->pid);
		if (!v->qmp || qmp_execute(v->qmp, "quit", NULL, NULL, VM_QMP_TIMEOUT_MS) < 0)
			kill(v->pid, SIGTERM);
	}
	if (exited(v, status, sizeof(status))) {
		log_info("vm %s: %s", v->name, status);
		v->pid = 0;
		vm_qmp_closed(m, v);
		remove_rundir(v);
		return true;
	}
	if (clock_mono_ms() >= v->quit_deadline) {
		log_warn("vm %s: QEMU pid %d did not quit in %d ms: SIGKILL", v->name, v->pid,
			 VM_QUIT_GRACE_MS);
		kill(v->pid, SIGKILL);
		v->quit_deadline = clock_mono_ms() + VM_QUIT_GRACE_MS;
	}
	return false;
}

bool vm_step(struct vm_manager *m, struct vm *v)
{
	char status[128], line[256], reason[512];
	int64_t now = clock_mono_ms();

	if (!v->want.present || v->quitting)
		return stop(m, v);
	if (v->pid > 0 && exited(v, status, sizeof(status))) {
		last_log_line(v, line, sizeof(line));
		snprintf(reason, sizeof(reason), "%s%s%s", status, line[0] ? ": " : "", line);
		log_warn("vm %s: %s", v->name, reason);
		v->pid = 0;
		v->ready = false;
		vm_qmp_closed(m, v);
		vm_tap_release(v);
		vm_outgoing_qemu_gone(v, reason);
		vm_incoming_qemu_gone(v, reason);
		fail_retry(m, v, reason, v->backoff_ms);
		v->backoff_ms =
		    v->backoff_ms * 2 > VM_BACKOFF_MAX_MS ? VM_BACKOFF_MAX_MS : v->backoff_ms * 2;
		return false;
	}
	if (v->pid <= 0) {
		/* Not while migrating: the target takes over, not a fresh boot here;
		 * a failed incoming side is for the migration flow to judge. */
		if (v->phase == VM_FAILED && (now < v->retry_at || v->want.migrating))
			return false;
		start(m, v);
		return false;
	}
	if (!v->qmp) {
		/* QEMU creates the socket early; until then, try each tick (briefly:
		 * a socket another client holds accepts but never greets). */
		if (qmp_attach(m, v, VM_POLL_MS) == 0 && v->records_pending)
			adopt_records(m, v);
		else if (v->qmp)
			phase_from_status(m, v, NULL, 0);
		return false;
	}
	if (v->incoming_run && !v->want.incoming) {
		/* The migration ended without this QEMU ever running the guest,
		 * yet the VM now belongs here: it boots afresh. */
		log_warn("vm %s: its incoming QEMU never ran the guest: starting it from boot",
			 v->name);
		v->quitting = true;
		return stop(m, v);
	}
	vm_incoming_step(m, v);
	tail_console(m, v);
	if (v->ready && v->phase == VM_RUNNING)
		v->backoff_ms = VM_BACKOFF_MIN_MS;
	if (v->out.active && now >= v->next_migrate_poll) {
		v->next_migrate_poll = now + VM_POLL_MS;
		vm_outgoing_poll(m, v);
	}
	return false;
}
