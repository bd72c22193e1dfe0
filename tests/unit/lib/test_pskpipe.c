/* SPDX-License-Identifier: MIT */
/* lib/pskpipe: the controller-agent stream connection under TLS with the
 * node's stream secret as pre-shared key: bytes and half-closes both ways,
 * a wrong secret or identity refused on both sides, and nothing of the
 * secret or the bytes on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/pskpipe.h"
#include "lib/stream.h"

#define SECRET "6f1c0a3e9d2b47c8a5e1f0d3b2c4a6e8f7d9c1b3a5e7f9d1c3b5a7e9f1d3c5b7"

struct server {
	int tcp, plain, r;
	const char *identity, *secret;
	char err[256];
};

static void *serve(void *data)
{
	struct server *s = data;

	s->r = pskpipe_server(s->tcp, s->identity, s->secret, &s->plain, s->err, sizeof(s->err));
	return NULL;
}

/* Both handshakes over a socketpair (the wire), the server in a thread. */
static int connect_pair(const char *sid, const char *ssecret, const char *cid, const char *csecret,
			struct server *srv, int *client_plain, char *err, size_t errlen)
{
	int wire[2], r;
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, wire), 0);
	*srv = (struct server){.tcp = wire[0], .plain = -1, .identity = sid, .secret = ssecret};
	assert_int_equal(pthread_create(&t, NULL, serve, srv), 0);
	r = pskpipe_client(wire[1], cid, csecret, client_plain, err, errlen);
	pthread_join(t, NULL);
	return r;
}

static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t got;

	while (n < cap && (got = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)got;
	return n;
}

static void test_both_ways_with_half_close(void **state)
{
	struct server srv;
	char err[256], buf[64];
	int c, r;

	(void)state;
	r = connect_pair("node-1", SECRET, "node-1", SECRET, &srv, &c, err, sizeof(err));
	assert_int_equal(r, 0);
	assert_int_equal(srv.r, 0);
	/* client -> server, then the client's end of input */
	assert_int_equal(stream_write_all(c, "ping\n", 5), 0);
	shutdown(c, SHUT_WR);
	assert_int_equal(read_all(srv.plain, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "ping\n", 5);
	/* the other direction still works after it */
	assert_int_equal(stream_write_all(srv.plain, "pong\n", 5), 0);
	shutdown(srv.plain, SHUT_WR);
	assert_int_equal(read_all(c, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "pong\n", 5);
	close(c);
	close(srv.plain);
}

static char big[1 << 20], got[1 << 20];

static void *write_big(void *data)
{
	int fd = *(int *)data;

	if (stream_write_all(fd, big, sizeof(big)) == 0)
		shutdown(fd, SHUT_WR);
	return NULL;
}

static void test_large_transfer(void **state)
{
	struct server srv;
	char err[256];
	pthread_t t;
	int c;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	assert_int_equal(connect_pair(NULL, SECRET, "node-9", SECRET, &srv, &c, err, sizeof(err)),
			 0);
	assert_int_equal(pthread_create(&t, NULL, write_big, &c), 0);
	assert_int_equal(read_all(srv.plain, got, sizeof(got)), sizeof(big));
	pthread_join(t, NULL);
	assert_memory_equal(big, got, sizeof(big));
	close(c);
	close(srv.plain);
}

static void test_wrong_secret_refused(void **state)
{
	struct server srv;
	char err[256];
	int c = -1, r;

	(void)state;
	r = connect_pair("node-1", SECRET, "node-1", "not-the-secret", &srv, &c, err, sizeof(err));
	assert_true(r < 0);
	assert_true(srv.r < 0);
	assert_int_equal(r, -EPERM);
	assert_int_equal(srv.r, -EPERM);
	assert_non_null(strstr(srv.err, "TLS handshake failed"));
	assert_non_null(strstr(err, "TLS handshake failed"));
	assert_int_equal(c, -1);
	assert_int_equal(srv.plain, -1);
}

static void test_wrong_identity_refused(void **state)
{
	struct server srv;
	char err[256];
	int c = -1, r;

	(void)state;
	r = connect_pair("node-1", SECRET, "node-2", SECRET, &srv, &c, err, sizeof(err));
	assert_int_equal(r, -EPERM);
	assert_int_equal(srv.r, -EPERM);
	assert_non_null(strstr(srv.err, "names another node"));
	assert_int_equal(c, -1);
}

/* What crosses the wire: a relay in the middle records it. */
struct tap {
	int a, b;
	char seen[1 << 16];
	size_t len;
};

static void *tap_main(void *data)
{
	struct tap *t = data;
	char buf[4096];
	ssize_t n;

	while ((n = read(t->a, buf, sizeof(buf))) > 0) {
		if (t->len + (size_t)n <= sizeof(t->seen)) {
			memcpy(t->seen + t->len, buf, (size_t)n);
			t->len += (size_t)n;
		}
		if (stream_write_all(t->b, buf, (size_t)n) < 0)
			break;
	}
	shutdown(t->b, SHUT_WR);
	return NULL;
}

static void test_nothing_in_clear_on_the_wire(void **state)
{
	static const char line[] = "{\"token\":\"" SECRET "\",\"kind\":\"console\"}\n";
	struct tap up = {0}, down = {0};
	struct server srv = {.plain = -1, .identity = "node-1", .secret = SECRET};
	int w1[2], w2[2], c;
	pthread_t ts, tu, td;
	char err[256], buf[128];

	(void)state;
	/* client <-> w1 <-> taps <-> w2 <-> server */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, w1), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, w2), 0);
	up = (struct tap){.a = w1[0], .b = w2[0]};
	down = (struct tap){.a = w2[0], .b = w1[0]};
	srv.tcp = w2[1];
	assert_int_equal(pthread_create(&tu, NULL, tap_main, &up), 0);
	assert_int_equal(pthread_create(&td, NULL, tap_main, &down), 0);
	assert_int_equal(pthread_create(&ts, NULL, serve, &srv), 0);
	assert_int_equal(pskpipe_client(w1[1], "node-1", SECRET, &c, err, sizeof(err)), 0);
	pthread_join(ts, NULL);
	assert_int_equal(srv.r, 0);
	assert_int_equal(stream_write_all(c, line, sizeof(line) - 1), 0);
	assert_int_equal(read(srv.plain, buf, sizeof(line) - 1), (ssize_t)sizeof(line) - 1);
	close(c);
	close(srv.plain);
	pthread_join(tu, NULL);
	pthread_join(td, NULL);
	assert_true(up.len > sizeof(line));
	assert_null(memmem(up.seen, up.len, SECRET, 16));
	assert_null(memmem(up.seen, up.len, "console", 7));
	assert_null(memmem(down.seen, down.len, SECRET, 16));
	close(w1[0]);
	close(w2[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_both_ways_with_half_close),
	    cmocka_unit_test(test_large_transfer),
	    cmocka_unit_test(test_wrong_secret_refused),
	    cmocka_unit_test(test_wrong_identity_refused),
	    cmocka_unit_test(test_nothing_in_clear_on_the_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
