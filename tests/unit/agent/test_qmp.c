/* SPDX-License-Identifier: MIT */
/* The QMP client: the line parser on a table, and a scripted fake server. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/qmp.h"
#include "fake_qmp.h"

struct parse_case {
	const char *desc;
	const char *line;
	int ret;
	enum qmp_msg_type type;
	const char *event;
	uint64_t qemu_ns;
	int64_t id;
	const char *error_desc;
	const char *err_substr; /* in the error message when ret < 0 */
};

static const struct parse_case parse_cases[] = {
    {"greeting",
     "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
     "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}",
     0, QMP_MSG_GREETING, NULL, 0, -1, NULL, NULL},
    {"empty return with id", "{\"return\": {}, \"id\": 7}", 0, QMP_MSG_RETURN, NULL, 0, 7, NULL,
     NULL},
    {"return of a list", "{\"return\": [1, 2]}", 0, QMP_MSG_RETURN, NULL, 0, -1, NULL, NULL},
    {"error with desc",
     "{\"id\": 3, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command foo has "
     "not been found\"}}",
     0, QMP_MSG_ERROR, NULL, 0, 3, "The command foo has not been found", NULL},
    {"event with timestamp",
     "{\"timestamp\": {\"seconds\": 1764000000, \"microseconds\": 123456}, \"event\": "
     "\"STOP\"}",
     0, QMP_MSG_EVENT, "STOP", 1764000000123456000ULL, -1, NULL, NULL},
    {"event with data and no clock",
     "{\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}, \"event\": \"MIGRATION\", "
     "\"data\": {\"status\": \"completed\"}}",
     0, QMP_MSG_EVENT, "MIGRATION", 0, -1, NULL, NULL},
    {"garbage", "hello world", -EINVAL, 0, NULL, 0, -1, NULL,
     "QMP: unexpected reply `hello world'"},
    {"not an object", "[1,2,3]", -EINVAL, 0, NULL, 0, -1, NULL, "not a JSON object"},
    {"unknown object", "{\"foo\": 1}", -EINVAL, 0, NULL, 0, -1, NULL,
     "not a greeting, return, error or event"},
    {"error without desc", "{\"error\": {\"class\": \"X\"}}", -EINVAL, 0, NULL, 0, -1, NULL,
     "unexpected reply"},
    {"event name not a string", "{\"event\": 5}", -EINVAL, 0, NULL, 0, -1, NULL,
     "unexpected reply"},
    {"greeting not an object", "{\"QMP\": 1}", -EINVAL, 0, NULL, 0, -1, NULL, "unexpected reply"},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct qmp_msg m = {0};
		char err[256] = "";
		int r = qmp_parse_line(c->line, strlen(c->line), &m, err, sizeof(err));

		print_message("case: %s\n", c->desc);
		assert_int_equal(r, c->ret);
		if (r < 0) {
			assert_non_null(strstr(err, c->err_substr));
			continue;
		}
		assert_int_equal(m.type, c->type);
		assert_int_equal(m.id, c->id);
		assert_int_equal(m.qemu_ns, c->qemu_ns);
		if (c->event)
			assert_string_equal(m.event, c->event);
		if (c->error_desc)
			assert_string_equal(m.error_desc, c->error_desc);
		qmp_msg_clear(&m);
	}
}

static void test_parse_overlong(void **state)
{
	size_t n = QMP_MAX_LINE + 10;
	char *line = malloc(n), err[256] = "";
	struct qmp_msg m = {0};

	(void)state;
	assert_non_null(line);
	memset(line, ' ', n);
	line[0] = '{';
	line[n - 1] = '}';
	assert_int_equal(qmp_parse_line(line, n, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
	free(line);
}

struct seen {
	int n;
	char name[4][32];
	uint64_t qemu_ns[4], recv_ns[4];
};

static void on_event(const struct qmp_event *ev, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 4) {
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", ev->name);
		s->qemu_ns[s->n] = ev->qemu_ns;
		s->recv_ns[s->n] = ev->recv_ns;
	}
	s->n++;
}

static void test_fake_server(void **state)
{
	static const char *const script[] = {
	    GREETING,
	    "<{\"execute\":\"qmp_capabilities\",\"id\":1}",
	    ">{\"return\": {}, \"id\": 1}",
	    "<{\"execute\":\"query-status\",\"id\":2}",
	    /* an event before the reply, a stale reply of another id, then ours */
	    ">{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, \"event\": \"STOP\"}",
	    ">{\"return\": {\"status\": \"stale\"}, \"id\": 99}",
	    ">{\"return\": {\"status\": \"paused\", \"running\": false}, \"id\": 2}",
	    "<{\"execute\":\"migrate\",\"id\":3,\"arguments\":{\"uri\":\"tcp:127.0.0.1:1\"}}",
	    ">{\"id\": 3, \"error\": {\"class\": \"GenericError\", \"desc\": \"Failed to "
	    "connect\"}}",
	    ">{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 0}, \"event\": "
	    "\"RESUME\"}",
	    NULL,
	};
	struct fake f = {.script = script};
	struct seen seen = {0};
	struct qmp *q = NULL;
	json_t *reply = NULL, *args;
	pthread_t t;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);
	assert_int_equal(qmp_open_fd(sv[0], 2000, on_event, &seen, &q), 0);
	assert_int_equal(qmp_execute(q, "query-status", NULL, &reply, 2000), 0);
	assert_string_equal(json_string_value(json_object_get(reply, "status")), "paused");
	json_decref(reply);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.name[0], "STOP");
	assert_int_equal(seen.qemu_ns[0], 1700000000000005000ULL);
	assert_true(seen.recv_ns[0] > 1700000000000000000ULL);

	args = json_pack("{s:s}", "uri", "tcp:127.0.0.1:1");
	reply = NULL;
	assert_int_equal(qmp_execute(q, "migrate", args, &reply, 2000), -EPROTO);
	assert_null(reply);
	assert_string_equal(qmp_error(q), "Failed to connect");
	json_decref(args);

	/* the RESUME arrives unasked: qmp_poll picks it up */
	pthread_join(t, NULL);
	assert_string_equal(f.failure, "");
	assert_int_equal(qmp_poll(q), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.name[1], "RESUME");
	/* the fake is gone: */
	close(sv[1]);
	assert_int_equal(qmp_poll(q), -ECONNRESET);
	assert_int_equal(qmp_execute(q, "query-status", NULL, NULL, 100), -ECONNRESET);
	qmp_close(q);
}

/* getfd: the descriptor goes with the command; QEMU's copy is the same file. */
static void test_pass_fd(void **state)
{
	static const char *const script[] = {
	    GREETING,
	    "<{\"execute\":\"qmp_capabilities\",\"id\":1}",
	    ">{\"return\": {}, \"id\": 1}",
	    "!{\"execute\":\"getfd\",\"id\":2,\"arguments\":{\"fdname\":\"mig\"}}",
	    ">{\"return\": {}, \"id\": 2}",
	    NULL,
	};
	struct fake f = {.script = script, .got_fd = -1};
	struct stat a, b;
	struct qmp *q = NULL;
	json_t *args = json_pack("{s:s}", "fdname", "mig");
	pthread_t t;
	int sv[2], pipefd[2];

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);
	assert_int_equal(qmp_open_fd(sv[0], 2000, NULL, NULL, &q), 0);
	assert_int_equal(qmp_execute_fd(q, "getfd", args, pipefd[1], NULL, 2000), 0);
	pthread_join(t, NULL);
	assert_string_equal(f.failure, "");
	assert_true(f.got_fd >= 0);
	assert_int_equal(fstat(f.got_fd, &a), 0);
	assert_int_equal(fstat(pipefd[1], &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* the caller keeps its own descriptor */
	assert_int_equal(write(pipefd[1], "x", 1), 1);
	close(f.got_fd);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[1]);
	json_decref(args);
	qmp_close(q);
}

static void test_garbage_from_server(void **state)
{
	static const char *const script[] = {
	    GREETING,
	    "<{\"execute\":\"qmp_capabilities\"",
	    ">this is not json",
	    NULL,
	};
	struct fake f = {.script = script};
	struct qmp *q = (struct qmp *)0x1;
	pthread_t t;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);
	assert_int_equal(qmp_open_fd(sv[0], 2000, NULL, NULL, &q), -EBADMSG);
	assert_ptr_equal(q, (struct qmp *)0x1); /* untouched on failure */
	pthread_join(t, NULL);
	close(sv[1]);
}

static void test_timeout_and_late_reply(void **state)
{
	static const char *const script[] = {
	    GREETING,
	    "<{\"execute\":\"qmp_capabilities\"",
	    ">{\"return\": {}, \"id\": 1}",
	    "<{\"execute\":\"slow\",\"id\":2}",
	    NULL,
	};
	struct fake f = {.script = script};
	struct qmp *q = NULL;
	json_t *reply = NULL;
	pthread_t t;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);
	assert_int_equal(qmp_open_fd(sv[0], 2000, NULL, NULL, &q), 0);
	assert_int_equal(qmp_execute(q, "slow", NULL, &reply, 50), -ETIMEDOUT);
	pthread_join(t, NULL);
	assert_string_equal(f.failure, "");
	/* the late reply of "slow" must not answer the next command */
	static const char late[] = "{\"return\": {\"late\": true}, \"id\": 2}\n"
				   "{\"return\": {\"fresh\": true}, \"id\": 3}\n";
	assert_int_equal(write(sv[1], late, sizeof(late) - 1), (ssize_t)(sizeof(late) - 1));
	assert_int_equal(qmp_execute(q, "next", NULL, &reply, 2000), 0);
	assert_true(json_is_true(json_object_get(reply, "fresh")));
	json_decref(reply);
	qmp_close(q);
	close(sv[1]);
}

static void test_overlong_line_from_server(void **state)
{
	static const char *const script[] = {
	    GREETING,
	    "<{\"execute\":\"qmp_capabilities\"",
	    ">{\"return\": {}, \"id\": 1}",
	    NULL,
	};
	struct fake f = {.script = script};
	struct qmp *q = NULL;
	size_t n = QMP_MAX_LINE + 100000;
	char *big = malloc(n);
	pthread_t t;
	int sv[2];
	int r = 0;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);
	assert_int_equal(qmp_open_fd(sv[0], 2000, NULL, NULL, &q), 0);
	pthread_join(t, NULL);
	/* feed in pieces the socket buffer takes; poll until the client gives up */
	for (size_t off = 0; off < n && r == 0;) {
		ssize_t w = write(sv[1], big + off, n - off > 65536 ? 65536 : n - off);

		assert_true(w > 0);
		off += (size_t)w;
		r = qmp_poll(q);
	}
	assert_int_equal(r, -EBADMSG);
	assert_non_null(strstr(qmp_error(q), "longer than"));
	qmp_close(q);
	close(sv[1]);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_overlong),
	    cmocka_unit_test(test_fake_server),
	    cmocka_unit_test(test_pass_fd),
	    cmocka_unit_test(test_garbage_from_server),
	    cmocka_unit_test(test_timeout_and_late_reply),
	    cmocka_unit_test(test_overlong_line_from_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
