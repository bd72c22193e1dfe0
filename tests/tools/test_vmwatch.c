/* SPDX-License-Identifier: MIT */
/*
 * vmwatch (argv[1]) against fake QEMUs: one thread per node serves
 * DIR/NODE/vm1/qmp-watch.sock, greets, negotiates and answers query-status
 * the way its scenario says (running or not, events first, or a close).
 * - overlap: node-a runs, node-b resumes while node-a still runs (a
 *   violation; the RESUME trigger signals us), then node-a closes.
 * - handover: node-a stops before node-b resumes (no violation).
 * - triggers between rounds: events long before the next round fire their
 *   triggers at once, or after DELAY_MS.
 * - bad flags: exit 2 with the flag named.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

static const char *vmwatch;

struct fake;
/* Before each query-status reply: may send events; 1 running, 0 not, -1 close. */
typedef int (*answer_fn)(struct fake *f);

struct fake {
	char node[16], path[256];
	int lfd, cfd;
	pthread_t thread;
	answer_fn answer;
	void (*after)(struct fake *f); /* after each reply; may be NULL */
	struct fake *peer;
	atomic_int trues, falses; /* running:true / false answers sent */
	atomic_int queries;	  /* query-status received (the late-answer case) */
	atomic_bool closed;
	bool started;
	bool resumed, stopped;
	atomic_uint_fast64_t event_ns; /* when its last event was written */
};

static atomic_int usr1, usr2;
static atomic_uint_fast64_t usr1_ns, usr2_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void on_usr(int sig)
{
	if (sig == SIGUSR1) {
		atomic_store(&usr1_ns, now_ns());
		atomic_fetch_add(&usr1, 1);
	} else {
		atomic_store(&usr2_ns, now_ns());
		atomic_fetch_add(&usr2, 1);
	}
}

static void send_line(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_line(struct fake *f, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	/* vmwatch may have closed this connection already (it ended, or dropped
	 * the QEMU): a write then fails with EPIPE, it must not kill the test. */
	if (send(f->cfd, line, (size_t)n, MSG_NOSIGNAL) != n)
		fprintf(stderr, "fake %s: short write\n", f->node);
}

static void send_event(struct fake *f, const char *event, const char *status)
{
	uint64_t ns = now_ns();

	atomic_store(&f->event_ns, ns / 1000 * 1000); /* QEMU's µs precision */
	if (status)
		send_line(f,
			  "{\"timestamp\": {\"seconds\": %llu, \"microseconds\": %llu}, \"event\": "
			  "\"%s\", \"data\": {\"status\": \"%s\"}}",
			  (unsigned long long)(ns / 1000000000ULL),
			  (unsigned long long)(ns % 1000000000ULL / 1000), event, status);
	else
		send_line(f,
			  "{\"timestamp\": {\"seconds\": %llu, \"microseconds\": %llu}, \"event\": "
			  "\"%s\"}",
			  (unsigned long long)(ns / 1000000000ULL),
			  (unsigned long long)(ns % 1000000000ULL / 1000), event);
}

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* One client: 0 when it went away, -1 when the scenario closed the fake. */
static int serve(struct fake *f)
{
	char line[4096];

	send_line(f, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}");
	while (read_line(f->cfd, line, sizeof(line)) == 0) {
		json_t *req = json_loads(line, 0, NULL);
		const char *cmd = json_string_value(json_object_get(req, "execute"));
		long long id = json_integer_value(json_object_get(req, "id"));
		bool query = cmd && strcmp(cmd, "query-status") == 0;
		int running;

		json_decref(req);
		if (!query) { /* qmp_capabilities */
			send_line(f, "{\"return\": {}, \"id\": %lld}", id);
			continue;
		}
		running = f->answer(f);
		if (running < 0)
			return -1;
		send_line(f, "{\"return\": {\"status\": \"%s\", \"running\": %s}, \"id\": %lld}",
			  running ? "running" : "paused", running ? "true" : "false", id);
		atomic_fetch_add(running ? &f->trues : &f->falses, 1);
		if (f->after)
			f->after(f);
	}
	return 0;
}

static void *fake_main(void *data)
{
	struct fake *f = data;

	while ((f->cfd = accept(f->lfd, NULL, NULL)) >= 0) {
		int r = serve(f);

		close(f->cfd);
		if (r < 0) { /* this QEMU exited: no socket left */
			close(f->lfd);
			unlink(f->path);
			atomic_store(&f->closed, true);
			break;
		}
	}
	return NULL;
}

static void fake_start(struct fake *f, const char *dir, const char *node, answer_fn answer)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char sub[128];

	snprintf(f->node, sizeof(f->node), "%s", node);
	f->answer = answer;
	snprintf(sub, sizeof(sub), "%s/%s", dir, node);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/%s/vm1", dir, node);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(f->path, sizeof(f->path), "%s/qmp-watch.sock", sub);
	assert_true(strlen(f->path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	f->started = true;
}

static void fake_stop(struct fake *f, const char *dir)
{
	char sub[256];

	if (!atomic_load(&f->closed)) {
		shutdown(f->lfd, SHUT_RDWR); /* wakes accept() */
		pthread_join(f->thread, NULL);
		close(f->lfd);
		unlink(f->path);
	} else {
		pthread_join(f->thread, NULL);
	}
	snprintf(sub, sizeof(sub), "%s/%s/vm1", dir, f->node);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/%s", dir, f->node);
	rmdir(sub);
}

struct env {
	char dir[64], out[128];
	struct fake a, b;
	pid_t pid; /* vmwatch's, 0 once reaped */
};

static void vmwatch_start(struct env *e, const char *interval, const char *const *triggers)
{
	const char *argv[32] = {vmwatch, "--run-dir", e->dir,	       "--vm",	"vm1",
				"--out", e->out,      "--interval-ms", interval};
	size_t n = 9;

	for (; triggers && *triggers; triggers++) {
		argv[n++] = "--trigger";
		argv[n++] = *triggers;
	}
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		execv(vmwatch, (char **)argv);
		_exit(127);
	}
}

static bool wait_until(bool (*cond)(void *), void *ctx, int timeout_ms)
{
	const struct timespec step = {0, 2 * 1000000};

	for (int waited = 0; waited < timeout_ms; waited += 2) {
		if (cond(ctx))
			return true;
		nanosleep(&step, NULL);
	}
	return cond(ctx);
}

/* SIGTERM, exit 0, and the report it wrote. */
static json_t *vmwatch_stop(struct env *e)
{
	json_error_t je;
	json_t *root;
	int status;

	assert_int_equal(kill(e->pid, SIGTERM), 0);
	assert_int_equal(waitpid(e->pid, &status, 0), e->pid);
	e->pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	root = json_load_file(e->out, 0, &je);
	if (!root)
		fail_msg("%s: %s", e->out, je.text);
	return root;
}

static bool has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

static const json_t *find_event(const json_t *root, const char *node, const char *event)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(root, "events"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "node")), node) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "event")), event) == 0)
			return e;
	}
	return NULL;
}

static json_int_t get_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("no integer %s", key);
	return json_integer_value(v);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sigaction sa = {.sa_handler = on_usr, .sa_flags = SA_RESTART};

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/vmwatch-test.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->out, sizeof(e->out), "%s/out.json", e->dir);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	atomic_store(&usr1, 0);
	atomic_store(&usr2, 0);
	*state = e;
	return 0;
}

/* Also after a failed assertion: nothing of the test stays behind. */
static int teardown(void **state)
{
	struct env *e = *state;

	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
	}
	if (e->a.started)
		fake_stop(&e->a, e->dir);
	if (e->b.started)
		fake_stop(&e->b, e->dir);
	unlink(e->out);
	rmdir(e->dir);
	free(e);
	return 0;
}

/* --- overlap: node-b resumes while node-a still runs ----------------------- */

static int overlap_a(struct fake *f)
{
	return atomic_load(&f->peer->trues) >= 3 ? -1 : 1;
}

static int overlap_b(struct fake *f)
{
	if (!f->resumed && atomic_load(&f->peer->trues) >= 3) {
		send_event(f, "RESUME", NULL);
		f->resumed = true;
	}
	return f->resumed;
}

static bool overlap_done(void *ctx)
{
	struct env *e = ctx;

	/* node-a is gone and node-b answered alone for a few rounds */
	return atomic_load(&e->a.closed) && atomic_load(&e->b.trues) >= 8;
}

static void test_overlap(void **state)
{
	struct env *e = *state;
	char trigger[64];
	const char *triggers[] = {trigger, NULL};
	const json_t *t, *v, *ev;
	json_t *root;

	snprintf(trigger, sizeof(trigger), "node-b:RESUME:USR1:%d", (int)getpid());
	e->a.peer = &e->b;
	e->b.peer = &e->a;
	fake_start(&e->a, e->dir, "node-a", overlap_a);
	fake_start(&e->b, e->dir, "node-b", overlap_b);
	vmwatch_start(e, "10", triggers);
	assert_true(wait_until(overlap_done, e, 20000));
	root = vmwatch_stop(e);

	assert_true(get_int(root, "violation_count") > 0);
	assert_int_equal(get_int(root, "max_running"), 2);
	assert_true(get_int(root, "sampled_overlap_count") > 0);
	v = json_array_get(json_object_get(root, "violations"), 0);
	assert_non_null(v);
	assert_true(get_int(v, "to_ns") > get_int(v, "from_ns"));
	assert_true(json_number_value(json_object_get(v, "ms")) > 0);
	assert_int_equal(json_array_size(json_object_get(v, "nodes")), 2);
	assert_true(has_string(json_object_get(v, "nodes"), "node-a"));
	assert_true(has_string(json_object_get(v, "nodes"), "node-b"));
	assert_int_equal(json_array_size(json_object_get(root, "running_now")), 1);
	assert_true(has_string(json_object_get(root, "running_now"), "node-b"));
	assert_true(get_int(json_object_get(root, "samples_per_node"), "node-a") >= 3);
	assert_true(get_int(json_object_get(root, "samples_per_node"), "node-b") >= 8);
	assert_string_equal(json_string_value(json_object_get(root, "vm")), "vm1");
	assert_int_equal(get_int(root, "interval_ms"), 10);
	assert_true(get_int(root, "rounds") >= 8);

	ev = find_event(root, "node-b", "RESUME");
	assert_non_null(ev);
	assert_int_equal((uint64_t)get_int(ev, "qemu_ns"), atomic_load(&e->b.event_ns));
	assert_true(get_int(ev, "recv_ns") >= get_int(ev, "qemu_ns"));

	assert_int_equal(atomic_load(&usr1), 1);
	t = json_array_get(json_object_get(root, "triggers"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "spec")), trigger);
	assert_true(json_is_true(json_object_get(t, "fired")));
	assert_true(get_int(t, "unix_ns") >= get_int(ev, "recv_ns"));
	assert_true(atomic_load(&usr1_ns) >= (uint64_t)get_int(t, "unix_ns"));
	json_decref(root);
}

/* --- handover: node-a stops before node-b resumes ---------------------------- */

static int handover_a(struct fake *f)
{
	if (atomic_load(&f->trues) < 3)
		return 1;
	if (!f->stopped) {
		send_event(f, "STOP", NULL);
		f->stopped = true;
	}
	return 0;
}

static int handover_b(struct fake *f)
{
	/* only once node-a's "not running" answer is on its way */
	if (!f->resumed && atomic_load(&f->peer->falses) > 0) {
		send_event(f, "RESUME", NULL);
		f->resumed = true;
	}
	return f->resumed;
}

static bool handover_done(void *ctx)
{
	struct env *e = ctx;

	return atomic_load(&e->b.trues) >= 5;
}

static void test_handover(void **state)
{
	struct env *e = *state;
	json_t *root;

	e->a.peer = &e->b;
	e->b.peer = &e->a;
	fake_start(&e->a, e->dir, "node-a", handover_a);
	fake_start(&e->b, e->dir, "node-b", handover_b);
	vmwatch_start(e, "5", NULL);
	assert_true(wait_until(handover_done, e, 20000));
	root = vmwatch_stop(e);

	assert_int_equal(get_int(root, "violation_count"), 0);
	assert_int_equal(json_array_size(json_object_get(root, "violations")), 0);
	assert_int_equal(get_int(root, "max_running"), 1);
	assert_non_null(find_event(root, "node-a", "STOP"));
	assert_non_null(find_event(root, "node-b", "RESUME"));
	assert_int_equal(json_array_size(json_object_get(root, "running_now")), 1);
	assert_true(has_string(json_object_get(root, "running_now"), "node-b"));
	assert_int_equal(json_array_size(json_object_get(root, "triggers")), 0);
	json_decref(root);
}

/* --- a late answer: node-a answers running, then stops; node-b resumes after
 * that and answers in the same round. The round sees both running, the
 * timeline (QEMU's own STOP and RESUME times) knows they never were. ------ */

/* Waits (≤ 1 s) until *v reaches want. */
static void await_at_least(atomic_int *v, int want)
{
	const struct timespec ms = {0, 1000000};

	for (int i = 0; i < 1000 && atomic_load(v) < want; i++)
		nanosleep(&ms, NULL);
}

/* Its 4th answer says running, once node-b got its own 4th query (one round);
 * then it stops. */
static int late_a(struct fake *f)
{
	int n = atomic_fetch_add(&f->queries, 1) + 1;

	if (n == 4)
		await_at_least(&f->peer->queries, 4);
	return n <= 4;
}

static void late_a_after(struct fake *f)
{
	if (atomic_load(&f->queries) == 4 && !f->stopped) {
		send_event(f, "STOP", NULL);
		f->stopped = true;
		atomic_store(&f->falses, -1000); /* tells node-b: it stopped */
	}
}

/* Its 4th answer comes 1 ms after node-a's STOP and its own RESUME. */
static int late_b(struct fake *f)
{
	const struct timespec ms = {0, 1000000};
	int n = atomic_fetch_add(&f->queries, 1) + 1;

	if (n < 4)
		return 0;
	if (n == 4) {
		for (int i = 0; i < 1000 && atomic_load(&f->peer->falses) != -1000; i++)
			nanosleep(&ms, NULL);
		nanosleep(&ms, NULL);
		send_event(f, "RESUME", NULL);
		f->resumed = true;
	}
	return 1;
}

static bool late_done(void *ctx)
{
	struct env *e = ctx;

	return atomic_load(&e->b.trues) >= 5;
}

static void test_late_answer_is_no_violation(void **state)
{
	struct env *e = *state;
	json_t *root;

	e->a.peer = &e->b;
	e->b.peer = &e->a;
	e->a.after = late_a_after;
	fake_start(&e->a, e->dir, "node-a", late_a);
	fake_start(&e->b, e->dir, "node-b", late_b);
	vmwatch_start(e, "20", NULL);
	assert_true(wait_until(late_done, e, 20000));
	root = vmwatch_stop(e);

	assert_true(get_int(root, "sampled_overlap_count") > 0);
	assert_int_equal(get_int(root, "violation_count"), 0);
	assert_non_null(find_event(root, "node-a", "STOP"));
	assert_non_null(find_event(root, "node-b", "RESUME"));
	json_decref(root);
}

/* --- triggers between rounds ------------------------------------------------- */

static int always_running(struct fake *f)
{
	(void)f;
	return 1;
}

/* After the first answer, well before the next round (2 s away). */
static void migrate_after_first(struct fake *f)
{
	const struct timespec pause = {0, 100 * 1000000};

	if (atomic_load(&f->trues) != 1)
		return;
	nanosleep(&pause, NULL);
	send_event(f, "MIGRATION", "active");
	send_event(f, "MIGRATION", "completed");
}

static bool both_signals(void *ctx)
{
	(void)ctx;
	return atomic_load(&usr1) > 0 && atomic_load(&usr2) > 0;
}

static void test_triggers_between_rounds(void **state)
{
	struct env *e = *state;
	char now[64], later[64], never[64];
	const char *triggers[] = {now, later, never, NULL};
	const json_t *t0, *t1, *t2;
	json_t *root;
	uint64_t sent;

	snprintf(now, sizeof(now), "node-a:MIGRATION=completed:SIGUSR2:%d", (int)getpid());
	snprintf(later, sizeof(later), "*:MIGRATION=completed:10:%d:50", (int)getpid());
	snprintf(never, sizeof(never), "node-a:RESET:USR1:%d", (int)getpid());
	e->a.after = migrate_after_first;
	fake_start(&e->a, e->dir, "node-a", always_running);
	vmwatch_start(e, "2000", triggers);
	assert_true(wait_until(both_signals, NULL, 5000));
	sent = atomic_load(&e->a.event_ns);
	root = vmwatch_stop(e);

	print_message("event to signal: %.3f ms, delayed: %.3f ms\n",
		      (double)(atomic_load(&usr2_ns) - sent) / 1e6,
		      (double)(atomic_load(&usr1_ns) - sent) / 1e6);
	/* at once, not at the next round */
	assert_true(atomic_load(&usr2_ns) - sent < 500 * 1000000ULL);
	assert_int_equal(atomic_load(&usr2), 1);
	assert_int_equal(atomic_load(&usr1), 1); /* 10 (SIGUSR1) once, RESET never */
	t0 = json_array_get(json_object_get(root, "triggers"), 0);
	t1 = json_array_get(json_object_get(root, "triggers"), 1);
	t2 = json_array_get(json_object_get(root, "triggers"), 2);
	assert_true(json_is_true(json_object_get(t0, "fired")));
	assert_true(json_is_true(json_object_get(t1, "fired")));
	assert_true(get_int(t1, "unix_ns") - get_int(t1, "event_recv_ns") >= 50 * 1000000LL);
	assert_false(json_is_true(json_object_get(t2, "fired")));
	assert_null(json_object_get(t2, "unix_ns"));
	assert_int_equal(json_array_size(json_object_get(root, "events")), 2);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(root, "events"), 1), "status")),
			    "completed");
	assert_int_equal(get_int(root, "max_running"), 1);
	json_decref(root);
}

/* --- bad flags ---------------------------------------------------------------- */

struct flag_case {
	const char *desc;
	const char *args[12]; /* after the program */
	const char *err;      /* in stderr */
};

#define BASE "--run-dir", "/nonexistent", "--vm", "vm1", "--out", "/nonexistent/out"

static const struct flag_case flag_cases[] = {
    {"interval not a number", {BASE, "--interval-ms", "abc"}, "--interval-ms `abc'"},
    {"interval zero", {BASE, "--interval-ms", "0"}, "--interval-ms `0'"},
    {"duration", {BASE, "--duration-s", "-1"}, "--duration-s `-1'"},
    {"unknown event", {BASE, "--trigger", "node-a:BOOM:KILL:1234"}, "unknown event `BOOM'"},
    {"status on STOP", {BASE, "--trigger", "node-a:STOP=x:KILL:1234"}, "only after MIGRATION"},
    {"unknown signal", {BASE, "--trigger", "node-a:STOP:NOPE:1234"}, "unknown signal `NOPE'"},
    {"pid 0", {BASE, "--trigger", "node-a:STOP:KILL:0"}, "PID `0'"},
    {"empty field", {BASE, "--trigger", "node-a:STOP::1234"}, "field 3 is empty"},
    {"bad delay", {BASE, "--trigger", "*:STOP:KILL:1234:soon"}, "DELAY_MS `soon'"},
    {"short trigger", {BASE, "--trigger", "node-a:STOP"}, "expected NODE:EVENT"},
    {"vm with a slash", {BASE, "--vm", "a/b"}, "--vm `a/b'"},
    {"unknown flag", {BASE, "--bogus"}, "bogus"},
    {"no --out", {"--run-dir", "/x", "--vm", "vm1"}, "--out is required"},
    {"positional", {BASE, "extra"}, "argument `extra'"},
};

static void test_bad_flags(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
		const struct flag_case *c = &flag_cases[i];
		const char *argv[16] = {vmwatch};
		char err[4096] = "";
		size_t n = 1, got = 0;
		int fds[2], status;
		ssize_t r;
		pid_t pid;

		print_message("case: %s\n", c->desc);
		for (const char *const *a = c->args; *a; a++)
			argv[n++] = *a;
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			dup2(fds[1], 2);
			execv(vmwatch, (char **)argv);
			_exit(127);
		}
		close(fds[1]);
		while ((r = read(fds[0], err + got, sizeof(err) - 1 - got)) > 0)
			got += (size_t)r;
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
		if (!strstr(err, c->err))
			fail_msg("stderr `%s' lacks `%s'", err, c->err);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_answer_is_no_violation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_triggers_between_rounds, setup, teardown),
	    cmocka_unit_test(test_bad_flags),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-OF-VMWATCH\n", argv[0]);
		return 2;
	}
	vmwatch = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
