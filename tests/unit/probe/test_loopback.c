/* SPDX-License-Identifier: MIT */
/* godwit-probe end to end on loopback, in a private network namespace of this test
 * process (unshare(CLONE_NEWNET), so nothing leaves it and nothing needs removing):
 * a clean run (0 lost, 0 duplicates, every TCP byte verified), an echo service
 * killed mid-way (reset reported), a loss window made by the kernel ignoring echo
 * requests, SIGTERM still printing the report, and bad flags. Needs root (77). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define MAX_CHILDREN 8

static const char *probe_bin;
static pid_t children[MAX_CHILDREN];

struct child {
	pid_t pid;
	int out, err;
	char out_buf[65536], err_buf[65536];
	size_t out_len, err_len;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void kill_children(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	}
}

static void forget_child(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

/* the next spawn runs without CAP_NET_RAW (no raw sockets) */
static bool spawn_without_raw;

static void spawn(struct child *c, const char *const *args)
{
	int out[2], err[2];
	const char *argv[32] = {probe_bin};
	int n = 1;

	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	memset(c, 0, sizeof(*c));
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (spawn_without_raw && prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) < 0)
			_exit(126);
		execv(probe_bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (!children[i]) {
			children[i] = c->pid;
			break;
		}
	close(out[1]);
	close(err[1]);
	c->out = out[0];
	c->err = err[0];
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
}

static void drain_fd(int *fd, char *buf, size_t *len, size_t cap)
{
	ssize_t n;

	while (*fd >= 0 && (n = read(*fd, buf + *len, cap - 1 - *len)) != 0) {
		if (n < 0)
			return; /* EAGAIN */
		*len += (size_t)n;
		buf[*len] = '\0';
		if (*len == cap - 1)
			return;
	}
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Reads the child's output until cond(c) holds, or fails after timeout_ms. */
static void wait_output(struct child *c, bool (*cond)(struct child *, const void *),
			const void *arg, long long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p[2] = {{.fd = c->out, .events = POLLIN},
				      {.fd = c->err, .events = POLLIN}};

		drain_fd(&c->out, c->out_buf, &c->out_len, sizeof(c->out_buf));
		drain_fd(&c->err, c->err_buf, &c->err_len, sizeof(c->err_buf));
		if (cond(c, arg))
			return;
		if (now_ms() >= deadline || (c->out < 0 && c->err < 0)) {
			print_error("timed out; stdout:\n%s\nstderr:\n%s\n", c->out_buf,
				    c->err_buf);
			fail();
		}
		poll(p, 2, 50);
	}
}

static bool out_has(struct child *c, const void *s)
{
	return strstr(c->out_buf, s) != NULL;
}

static bool err_has(struct child *c, const void *s)
{
	return strstr(c->err_buf, s) != NULL;
}

static bool closed(struct child *c, const void *unused)
{
	(void)unused;
	return c->out < 0 && c->err < 0;
}

/* Waits for the child's end (its pipes close first) and returns its exit status. */
static int finish(struct child *c, long long timeout_ms)
{
	int status;

	wait_output(c, closed, NULL, timeout_ms);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	forget_child(c->pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int start_server(struct child *srv)
{
	const char *args[] = {"--serve", "--bind", "127.0.0.1", "--port", "0", NULL};
	const char *colon;

	spawn(srv, args);
	wait_output(srv, out_has, "\n", 5000);
	colon = strrchr(srv->out_buf, ':');
	assert_non_null(colon);
	assert_non_null(strstr(srv->out_buf, "listening on 127.0.0.1:"));
	return atoi(colon + 1);
}

static json_t *report(struct child *c)
{
	json_error_t e;
	json_t *j = json_loads(c->out_buf, 0, &e);

	if (!j)
		print_error("not JSON (%s): %s\nstderr: %s\n", e.text, c->out_buf, c->err_buf);
	assert_non_null(j);
	return j;
}

static long long jint(json_t *o, const char *path)
{
	json_t *v = json_object_get(o, path);

	if (!json_is_integer(v))
		print_error("missing integer %s\n", path);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void test_clean_run(void **state)
{
	struct child srv, pr;
	char port[16];
	json_t *j, *tcp;

	(void)state;
	char csv[64], line[256];
	FILE *f;
	int lines = 0;

	snprintf(csv, sizeof(csv), "/tmp/probe-test-%d.csv", getpid());
	snprintf(port, sizeof(port), "%d", start_server(&srv));
	const char *args[] = {"127.0.0.1", "--rate", "200",	 "--duration", "1", "--tcp",
			      port,	   "--json", "--record", csv,	       NULL};
	spawn(&pr, args);
	assert_int_equal(finish(&pr, 10000), 0);
	j = report(&pr);
	assert_int_equal(jint(j, "sent"), 200);
	assert_int_equal(jint(j, "received"), 200);
	assert_int_equal(jint(j, "lost"), 0);
	assert_int_equal(jint(j, "duplicates"), 0);
	assert_int_equal(json_array_size(json_object_get(j, "windows")), 0);
	tcp = json_object_get(j, "tcp");
	assert_true(json_is_true(json_object_get(tcp, "connected")));
	assert_true(json_is_false(json_object_get(tcp, "reset")));
	assert_true(jint(tcp, "bytes_sent") > 0);
	assert_int_equal(jint(tcp, "bytes_verified"), jint(tcp, "bytes_sent"));
	assert_true(json_is_null(json_object_get(tcp, "mismatch")));
	assert_string_equal(json_string_value(json_object_get(j, "replies")), csv);
	json_decref(j);
	/* the timeline: a header, then one answered probe per line */
	f = fopen(csv, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "seq,send_unix_ms,rtt_ms,dups\n");
	while (fgets(line, sizeof(line), f)) {
		unsigned long long seq;
		double sent, rtt;
		unsigned dups;

		assert_int_equal(sscanf(line, "%llu,%lf,%lf,%u", &seq, &sent, &rtt, &dups), 4);
		assert_int_equal(seq, lines);
		assert_int_equal(dups, 0);
		lines++;
	}
	fclose(f);
	unlink(csv);
	assert_int_equal(lines, 200);
	/* the echo service ends cleanly on SIGTERM */
	kill(srv.pid, SIGTERM);
	assert_int_equal(finish(&srv, 5000), 0);
}

static void test_server_killed(void **state)
{
	struct child srv, pr;
	char port[16];
	json_t *j, *tcp;

	(void)state;
	snprintf(port, sizeof(port), "%d", start_server(&srv));
	const char *args[] = {"127.0.0.1", "--rate", "200",    "--duration",	    "2",
			      "--tcp",	   port,     "--json", "--interval-report", NULL};
	spawn(&pr, args);
	wait_output(&pr, err_has, "t=1s", 5000);
	kill(srv.pid, SIGKILL);
	waitpid(srv.pid, NULL, 0);
	forget_child(srv.pid);
	assert_int_equal(finish(&pr, 10000), 0);
	j = report(&pr);
	tcp = json_object_get(j, "tcp");
	assert_true(json_is_true(json_object_get(tcp, "connected")));
	assert_true(json_is_true(json_object_get(tcp, "reset")));
	assert_true(jint(tcp, "bytes_verified") > 0);
	assert_true(json_is_null(json_object_get(tcp, "mismatch")));
	assert_int_equal(jint(j, "lost"), 0); /* ICMP is not affected */
	json_decref(j);
}

static void write_sysctl(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, v, strlen(v)), (ssize_t)strlen(v));
	close(fd);
}

static void test_loss_window(void **state)
{
	static const char *ignore = "/proc/sys/net/ipv4/icmp_echo_ignore_all";
	const char *args[] = {"127.0.0.1",	   "--rate", "200", "--duration", "2", "--json",
			      "--interval-report", NULL};
	struct timespec outage = {0, 100000000};
	struct child pr;
	json_t *j, *w;
	long long lost;
	double len;

	(void)state;
	spawn(&pr, args);
	wait_output(&pr, err_has, "t=1s", 5000);
	/* the outage itself: this namespace's kernel ignores echo requests for 100 ms */
	write_sysctl(ignore, "1");
	nanosleep(&outage, NULL);
	write_sysctl(ignore, "0");
	assert_int_equal(finish(&pr, 10000), 0);
	j = report(&pr);
	lost = jint(j, "lost");
	assert_true(lost >= 10); /* 100 ms at 200 Hz is 20 probes, give a loaded machine room */
	assert_int_equal(json_array_size(json_object_get(j, "windows")), 1);
	w = json_array_get(json_object_get(j, "windows"), 0);
	assert_int_equal(jint(w, "lost"), lost);
	len = json_real_value(json_object_get(w, "length_ms"));
	/* last reply before to first reply after: (lost + 1) intervals of 5 ms, roughly */
	assert_true(len >= (double)(lost + 1) * 5 * 0.8);
	assert_true(len <= (double)(lost + 1) * 5 * 1.2 + 5);
	assert_true(json_real_value(json_object_get(j, "max_gap_ms")) >= len * 0.8);
	json_decref(j);
}

/* Without CAP_NET_RAW the probe falls back to an ICMP datagram socket. */
static void test_datagram_socket(void **state)
{
	static const char *range = "/proc/sys/net/ipv4/ping_group_range";
	const char *args[] = {"127.0.0.1", "--rate", "200", "--duration", "0.5", "--json", NULL};
	struct child pr;
	json_t *j;

	(void)state;
	write_sysctl(range, "1 0"); /* datagram ICMP sockets off: nothing left to open */
	spawn_without_raw = true;
	spawn(&pr, args);
	assert_int_equal(finish(&pr, 5000), 1);
	assert_non_null(strstr(pr.err_buf, "cannot open an ICMP socket"));
	write_sysctl(range, "0 2147483647");
	spawn(&pr, args);
	spawn_without_raw = false;
	assert_int_equal(finish(&pr, 5000), 0);
	j = report(&pr);
	assert_int_equal(jint(j, "sent"), 100);
	assert_int_equal(jint(j, "received"), 100);
	assert_int_equal(jint(j, "ignored"), 0);
	json_decref(j);
}

static void test_sigterm_reports(void **state)
{
	const char *args[] = {"127.0.0.1",	   "--rate", "200", "--duration", "30", "--json",
			      "--interval-report", NULL};
	struct child pr;
	json_t *j;

	(void)state;
	spawn(&pr, args);
	wait_output(&pr, err_has, "t=1s", 5000);
	kill(pr.pid, SIGTERM);
	assert_int_equal(finish(&pr, 5000), 0);
	j = report(&pr);
	assert_true(jint(j, "sent") >= 200);
	assert_true(jint(j, "sent") < 2000);
	assert_int_equal(jint(j, "lost"), 0);
	assert_true(json_real_value(json_object_get(j, "duration_s")) < 10);
	json_decref(j);
}

static void test_bad_flags(void **state)
{
	static const struct {
		const char *args[6];
		const char *message;
	} cases[] = {
	    {{"127.0.0.1", "--rate", "0", NULL}, "invalid --rate `0'"},
	    {{"127.0.0.1", "--rate", "100001", NULL}, "invalid --rate `100001'"},
	    {{"example", NULL}, "invalid TARGET `example'"},
	    {{"127.0.0.1", "--duration", "-1", NULL}, "invalid --duration `-1'"},
	    {{"127.0.0.1", "--tcp", "70000", NULL}, "invalid --tcp `70000'"},
	    {{NULL}, "missing TARGET"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct child pr;

		spawn(&pr, cases[i].args);
		assert_int_equal(finish(&pr, 5000), 1);
		if (!strstr(pr.err_buf, cases[i].message))
			print_error("expected `%s' in: %s\n", cases[i].message, pr.err_buf);
		assert_non_null(strstr(pr.err_buf, cases[i].message));
	}
}

static int lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_flags),	    cmocka_unit_test(test_clean_run),
	    cmocka_unit_test(test_server_killed),   cmocka_unit_test(test_loss_window),
	    cmocka_unit_test(test_sigterm_reports), cmocka_unit_test(test_datagram_socket),
	};
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-godwit-probe\n", argv[0]);
		return 1;
	}
	probe_bin = argv[1];
	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root (a private network namespace, raw ICMP)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0) {
		perror("private network namespace");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	atexit(kill_children);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	kill_children();
	return ret;
}
