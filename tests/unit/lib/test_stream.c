/* SPDX-License-Identifier: MIT */
/* lib/stream and lib/streamproto: the answer head, the controller-agent lines
 * both ways, frames, the relays' half-close (plain and framed) and the one-line read that leaves
 * the stream's bytes in the socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/stream.h"
#include "lib/streamframe.h"
#include "lib/streamproto.h"

static void test_head(void **state)
{
	static const struct {
		const char *text;
		int r, status;
		long clen;
	} cases[] = {
	    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: godwit-stream\r\n\r\n", 0, 101, -1},
	    {"HTTP/1.1 404 Not Found\r\ncontent-length:  12\r\n\r\n", 0, 404, 12},
	    {"HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", 0, 502, 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n", -E2BIG, 0, 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", -EINVAL, 0, 0},
	    {"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n", -EINVAL, 0, 0},
	    {"HTTP/1.1 2000 OK\r\n\r\n", -EINVAL, 0, 0},
	    {"SSH-2.0-dropbear\r\n\r\n", -EINVAL, 0, 0},
	    {"HTTP/1.1 101 Switching\r\n", -EINVAL, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = 0;
		long clen = -2;

		assert_int_equal(
		    stream_parse_head(cases[i].text, strlen(cases[i].text), &status, &clen),
		    cases[i].r);
		if (cases[i].r == 0) {
			assert_int_equal(status, cases[i].status);
			assert_int_equal(clen, cases[i].clen);
		}
	}
}

static void test_request_lines(void **state)
{
	struct streamproto_request req = {.kind = STREAMPROTO_PORTFORWARD,
					  .ipv4 = 0x0a140005,
					  .port = 22},
				   got;
	char *line = NULL, err[256];
	int n;

	(void)state;
	strcpy(req.token, "tok");
	strcpy(req.netns, "gwt-0123456789ab");
	n = streamproto_request_format(&req, &line);
	assert_true(n > 0);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(streamproto_request_parse(line, (size_t)n - 1, &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, STREAMPROTO_PORTFORWARD);
	assert_int_equal(got.ipv4, 0x0a140005);
	assert_int_equal(got.port, 22);
	assert_string_equal(got.netns, "gwt-0123456789ab");
	assert_string_equal(got.token, "tok");
	free(line);

	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"[1]", "not a JSON object"},
	    {"{\"kind\":\"console\",\"vm\":\"a\"}", "\"token\""},
	    {"{\"token\":\"t\",\"kind\":\"shell\"}", "neither portforward nor console"},
	    {"{\"token\":\"t\",\"kind\":\"console\",\"vm\":\"A_B\"}", "not an object name"},
	    {"{\"token\":\"t\",\"kind\":\"portforward\",\"netns\":\"../x\",\"ipv4\":\"10.0.0.1\","
	     "\"port\":22}",
	     "not a namespace name"},
	    {"{\"token\":\"t\",\"kind\":\"portforward\",\"netns\":\"n\",\"ipv4\":\"10.0.0.300\","
	     "\"port\":22}",
	     "not an IPv4 address"},
	    {"{\"token\":\"t\",\"kind\":\"portforward\",\"netns\":\"n\",\"ipv4\":\"10.0.0.1\","
	     "\"port\":70000}",
	     "1..65535"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(streamproto_request_parse(bad[i].text, strlen(bad[i].text), &got,
							   err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, bad[i].err));
	}
}

static void test_reply_lines(void **state)
{
	char *line = NULL, msg[64] = "";
	int n;

	(void)state;
	n = streamproto_reply_format(NULL, &line);
	assert_int_equal(streamproto_reply_parse(line, (size_t)n - 1, msg, sizeof(msg)), 0);
	free(line);
	n = streamproto_reply_format("refused", &line);
	assert_int_equal(streamproto_reply_parse(line, (size_t)n - 1, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "refused");
	free(line);
	assert_int_equal(streamproto_reply_parse("{\"ok\":1}", 8, msg, sizeof(msg)), -EINVAL);
}

struct side {
	int fd;
	char got[64];
	size_t len;
};

/* Writes "question", half-closes, reads to the end. */
static void *client(void *data)
{
	struct side *s = data;
	ssize_t n;

	assert_int_equal(stream_write_all(s->fd, "question", 8), 0);
	shutdown(s->fd, SHUT_WR);
	while ((n = read(s->fd, s->got + s->len, sizeof(s->got) - 1 - s->len)) > 0)
		s->len += (size_t)n;
	return NULL;
}

/* Reads to the end, then answers and closes: only a half-close lets it answer. */
static void *server(void *data)
{
	struct side *s = data;
	ssize_t n;

	while ((n = read(s->fd, s->got + s->len, sizeof(s->got) - 1 - s->len)) > 0)
		s->len += (size_t)n;
	assert_int_equal(stream_write_all(s->fd, "answer", 6), 0);
	shutdown(s->fd, SHUT_WR);
	return NULL;
}

static void test_relay_half_close(void **state)
{
	int a[2], b[2];
	struct side c, sv;
	pthread_t tc, ts;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	c = (struct side){.fd = a[0]};
	sv = (struct side){.fd = b[0]};
	pthread_create(&tc, NULL, client, &c);
	pthread_create(&ts, NULL, server, &sv);
	assert_int_equal(stream_relay(a[1], b[1]), 0);
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	assert_memory_equal(sv.got, "question", 8);
	assert_int_equal(sv.len, 8);
	assert_memory_equal(c.got, "answer", 6);
	assert_int_equal(c.len, 6);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
}

static void test_frames(void **state)
{
	const uint8_t in[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 1, 'd', 0, 0, 0, 0};
	struct streamframe_reader r = {0};
	uint8_t out[sizeof(in)], head[STREAMFRAME_HEAD];
	size_t got, total = 0;

	(void)state;
	/* one byte at a time: heads and payloads split anywhere */
	for (size_t i = 0; i < sizeof(in); i++) {
		int ret = streamframe_read(&r, in + i, 1, out + total, &got);

		assert_int_equal(ret, i == sizeof(in) - 1 ? 1 : 0);
		total += got;
	}
	assert_int_equal(total, 4);
	assert_memory_equal(out, "abcd", 4);
	/* nothing may follow the end frame */
	assert_int_equal(streamframe_read(&r, (const uint8_t *)"x", 1, out, &got), -EPROTO);
	assert_int_equal(got, 0);
	/* all at once; a frame longer than the maximum is refused */
	r = (struct streamframe_reader){0};
	assert_int_equal(streamframe_read(&r, in, 7, out, &got), 0);
	assert_int_equal(got, 3);
	streamframe_head(head, STREAMFRAME_MAX + 1);
	assert_int_equal(streamframe_read(&r, head, sizeof(head), out, &got), -EPROTO);
	streamframe_head(head, 0x01020304);
	assert_memory_equal(head, "\x01\x02\x03\x04", 4);
}

/* The framed side of a stream as tlspipe.c speaks it: "question" in a frame,
 * the end frame, then every frame back to the end frame. */
static void *framed_client(void *data)
{
	struct side *s = data;
	struct streamframe_reader r = {0};
	uint8_t buf[64], out[64];
	size_t got;
	ssize_t n;
	int ret = 0;

	assert_int_equal(stream_write_all(s->fd, "\0\0\0\x08question\0\0\0\0", 16), 0);
	while (ret == 0 && (n = read(s->fd, buf, sizeof(buf))) > 0) {
		ret = streamframe_read(&r, buf, (size_t)n, out, &got);
		memcpy(s->got + s->len, out, got);
		s->len += got;
	}
	assert_int_equal(ret, 1);
	return NULL;
}

static void test_relay_framed_half_close(void **state)
{
	int a[2], b[2];
	struct side c, sv;
	pthread_t tc, ts;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	c = (struct side){.fd = a[0]};
	sv = (struct side){.fd = b[0]};
	pthread_create(&tc, NULL, framed_client, &c);
	pthread_create(&ts, NULL, server, &sv);
	assert_int_equal(stream_relay_framed(a[1], b[1], NULL, 0), 0);
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	assert_int_equal(sv.len, 8);
	assert_memory_equal(sv.got, "question", 8);
	assert_int_equal(c.len, 6);
	assert_memory_equal(c.got, "answer", 6);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
}

static void test_relay_framed_refuses_garbage(void **state)
{
	int a[2], b[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	/* already read with the head: a frame longer than any allowed */
	assert_int_equal(stream_relay_framed(a[1], b[1], "\xff\xff\xff\xff", 4), -EPROTO);
	/* a transport that ends without the end frame is a reset, not an end */
	assert_int_equal(stream_write_all(a[0], "\0\0\0\x02hi", 6), 0);
	shutdown(a[0], SHUT_WR);
	assert_int_equal(stream_relay_framed(a[1], b[1], NULL, 0), -ECONNRESET);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
}

/* Drains the socket after a pause, counting the bytes. */
static void *slow_reader(void *data)
{
	struct side *s = data;
	char buf[4096];
	ssize_t n;

	usleep(100 * 1000);
	while ((n = read(s->fd, buf, sizeof(buf))) > 0)
		s->len += (size_t)n;
	return NULL;
}

/* libmicrohttpd hands a TLS stream over as a non-blocking socket: a write
 * to it when it is full waits instead of failing with EAGAIN. */
static void test_write_all_waits_on_a_full_socket(void **state)
{
	static char big[1 << 20];
	struct side rd;
	pthread_t t;
	int p[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	rd = (struct side){.fd = p[1]};
	pthread_create(&t, NULL, slow_reader, &rd);
	assert_int_equal(stream_write_all(p[0], big, sizeof(big)), 0);
	shutdown(p[0], SHUT_WR);
	pthread_join(t, NULL);
	assert_int_equal(rd.len, sizeof(big));
	close(p[0]);
	close(p[1]);
}

static void test_read_line_leaves_the_stream(void **state)
{
	char buf[32], rest[8];
	int p[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	assert_int_equal(stream_write_all(p[0], "{\"ok\":true}\nSSH-", 16), 0);
	assert_int_equal(streamproto_read_line(p[1], buf, sizeof(buf)), 11);
	assert_string_equal(buf, "{\"ok\":true}");
	assert_int_equal(read(p[1], rest, 4), 4);
	assert_memory_equal(rest, "SSH-", 4);
	assert_int_equal(stream_write_all(p[0], "0123456789", 10), 0);
	assert_int_equal(streamproto_read_line(p[1], buf, 8), -E2BIG);
	close(p[0]);
	close(p[1]);
}

/* Exactly len bytes, across short reads; an end of input before them is -ECONNRESET. */
static void test_read_exact(void **state)
{
	char buf[8];
	int p[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	assert_int_equal(stream_write_all(p[0], "abc", 3), 0);
	assert_int_equal(stream_write_all(p[0], "def", 3), 0);
	assert_int_equal(stream_read_exact(p[1], buf, 6), 0);
	assert_memory_equal(buf, "abcdef", 6);
	assert_int_equal(stream_write_all(p[0], "g", 1), 0);
	shutdown(p[0], SHUT_WR);
	assert_int_equal(stream_read_exact(p[1], buf, 2), -ECONNRESET);
	assert_int_equal(stream_read_exact(-1, buf, 1), -EBADF);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head),
	    cmocka_unit_test(test_request_lines),
	    cmocka_unit_test(test_reply_lines),
	    cmocka_unit_test(test_relay_half_close),
	    cmocka_unit_test(test_frames),
	    cmocka_unit_test(test_relay_framed_half_close),
	    cmocka_unit_test(test_relay_framed_refuses_garbage),
	    cmocka_unit_test(test_write_all_waits_on_a_full_socket),
	    cmocka_unit_test(test_read_line_leaves_the_stream),
	    cmocka_unit_test(test_read_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
