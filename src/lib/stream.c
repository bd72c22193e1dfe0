/* SPDX-License-Identifier: MIT */
#include "stream.h"
#include "streamframe.h"
#include "tlspipe.h"
#include "lib/log.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int stream_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* a non-blocking socket (libmicrohttpd's end of its TLS
			 * relay) that is full: wait until it takes more */
			struct pollfd w = {.fd = fd, .events = POLLOUT};

			if (poll(&w, 1, -1) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int stream_parse_head(const char *buf, size_t len, int *status, long *content_length)
{
	const char *end = buf + len, *line, *eol;
	long clen = -1;
	int st;

	if (len < 16 || memcmp(end - 4, "\r\n\r\n", 4) != 0 || memcmp(buf, "HTTP/1.", 7) != 0)
		return -EINVAL;
	if ((buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' || !isdigit((unsigned char)buf[9]) ||
	    !isdigit((unsigned char)buf[10]) || !isdigit((unsigned char)buf[11]) ||
	    (buf[12] != ' ' && buf[12] != '\r'))
		return -EINVAL;
	st = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (st < 100)
		return -EINVAL;
	line = memchr(buf, '\n', len);
	for (line = line ? line + 1 : end; line < end; line = eol + 1) {
		const char *colon, *v;
		size_t n;

		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol || eol == line || eol[-1] != '\r')
			return -EINVAL;
		n = (size_t)(eol - 1 - line);
		if (n == 0)
			break; /* the empty line that ends the head */
		colon = memchr(line, ':', n);
		if (!colon || colon == line)
			return -EINVAL;
		if ((size_t)(colon - line) != 14 || strncasecmp(line, "Content-Length", 14) != 0)
			continue;
		v = colon + 1;
		while (v < eol - 1 && (*v == ' ' || *v == '\t'))
			v++;
		clen = 0;
		if (v == eol - 1)
			return -EINVAL;
		for (; v < eol - 1 && *v != ' ' && *v != '\t'; v++) {
			if (!isdigit((unsigned char)*v))
				return -EINVAL;
			clen = clen * 10 + (*v - '0');
			if (clen > STREAM_ERROR_MAX)
				return -E2BIG;
		}
	}
	*status = st;
	*content_length = clen;
	return 0;
}

static int dial(const char *server, const char *ca_file, int *out, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	char host[256], port[16] = "80";
	const char *h, *colon, *slash;
	size_t hlen;
	int fd, r;

	if (strncmp(server, "unix:", 5) == 0) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};

		if (strlen(server + 5) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "socket path too long: %s", server + 5);
			return -ENAMETOOLONG;
		}
		strcpy(sun.sun_path, server + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot connect to %s: %s", server, strerror(-r));
			if (fd >= 0)
				close(fd);
			return r;
		}
		*out = fd;
		return 0;
	}
	if (strncmp(server, "https://", 8) == 0) {
		h = server + 8;
		strcpy(port, "443");
	} else if (strncmp(server, "http://", 7) == 0) {
		h = server + 7;
	} else {
		snprintf(err, errlen,
			 "server %s is neither https://HOST:PORT, http://HOST:PORT nor unix:/PATH",
			 server);
		return -EINVAL;
	}
	slash = strchr(h, '/');
	hlen = slash ? (size_t)(slash - h) : strlen(h);
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "server %s has no usable host", server);
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	colon = strrchr(host, ':');
	if (colon && !strchr(colon, ']')) {
		snprintf(port, sizeof(port), "%.15s", colon + 1);
		host[colon - host] = '\0';
	}
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = '\0';
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot connect to %s: %s", server, strerror(-r));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return r;
	}
	freeaddrinfo(res);
	if (h == server + 8)
		return tls_pipe_open(fd, host, ca_file, out, err, errlen);
	*out = fd;
	return 0;
}

int stream_read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The answer's head, one byte at a time (the stream's bytes may follow it). */
static int read_head(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int r;

	while (n < cap) {
		r = stream_read_exact(fd, buf + n, 1);
		if (r < 0)
			return r;
		n++;
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0) {
			*len = n;
			return 0;
		}
	}
	return -E2BIG;
}

void stream_set_timeout(int fd, long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* dial() of the first server of the comma-separated list that answers
 * (apiclient.h: the others are skipped with a log line); its URL in used. */
static int dial_any(const char *servers, const char *ca_file, int *out, char *used, size_t usedlen,
		    char *err, size_t errlen)
{
	const char *p = servers, *comma;
	int r = -EINVAL;

	snprintf(err, errlen, "no server in \"%s\"", servers);
	for (; *p; p = comma ? comma + 1 : p + strlen(p)) {
		comma = strchr(p, ',');
		snprintf(used, usedlen, "%.*s", (int)(comma ? comma - p : (long)strlen(p)), p);
		r = dial(used, ca_file, out, err, errlen);
		if (r == 0 || !comma)
			break;
		log_warn("%s: %s; trying the next server", used, err);
	}
	return r;
}

int stream_open(const char *server, const char *token, const char *ca_file, const char *path,
		int *fd, int *status, char *err, size_t errlen)
{
	char head[STREAM_HEAD_MAX], body[STREAM_ERROR_MAX + 1], *req = NULL, used[512];
	long clen = -1;
	size_t hlen = 0;
	int s = -1, st = 0, n, r;

	r = dial_any(server, ca_file, &s, used, sizeof(used), err, errlen);
	if (r < 0)
		return r;
	server = used;
	n = asprintf(&req,
		     "POST %s HTTP/1.1\r\nHost: godwit\r\nAuthorization: Bearer %s\r\n"
		     "Connection: Upgrade\r\nUpgrade: " STREAM_UPGRADE
		     "\r\nContent-Length: 0\r\n\r\n",
		     path, token ? token : "");
	if (n < 0) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	stream_set_timeout(s, STREAM_OPEN_TIMEOUT_MS);
	r = stream_write_all(s, req, (size_t)n);
	if (r == 0)
		r = read_head(s, head, sizeof(head), &hlen);
	if (r == 0)
		r = stream_parse_head(head, hlen, &st, &clen);
	if (r < 0) {
		snprintf(err, errlen, "the controller at %s: %s", server,
			 r == -EINVAL || r == -E2BIG ? "an answer that is not HTTP"
			 : r == -EAGAIN		     ? "no answer in time"
						     : strerror(-r));
		goto fail;
	}
	*status = st;
	if (st == 101) {
		stream_set_timeout(s, 0);
		free(req);
		*fd = s;
		return 0;
	}
	r = -EPROTO;
	snprintf(err, errlen, "HTTP %d", st);
	if (clen > 0 && stream_read_exact(s, body, (size_t)clen) == 0) {
		json_t *j;

		body[clen] = '\0';
		j = json_loads(body, 0, NULL);
		if (json_is_string(json_object_get(j, "error")))
			snprintf(err, errlen, "%s", json_string_value(json_object_get(j, "error")));
		json_decref(j);
	}
fail:
	free(req);
	close(s);
	return r;
}

/* End of what goes out on fd: a socket's write side is shut down, a pipe closed. */
static void end_output(int fd)
{
	if (shutdown(fd, SHUT_WR) < 0 && errno == ENOTSOCK)
		close(fd);
}

int stream_relay4(int a_in, int a_out, int b_in, int b_out)
{
	struct pollfd p[2] = {{.fd = a_in, .events = POLLIN}, {.fd = b_in, .events = POLLIN}};
	const int out[2] = {b_out, a_out};
	bool open[2] = {true, true};
	char buf[16384];

	while (open[0] || open[1]) {
		int n = poll(p, 2, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < 2; i++) {
			ssize_t got;
			int r;

			if (!open[i] || !p[i].revents)
				continue;
			got = read(p[i].fd, buf, sizeof(buf));
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got < 0 && errno != ECONNRESET)
				return -errno;
			if (got <= 0) {
				open[i] = false;
				p[i].fd = -1; /* poll ignores it */
				end_output(out[i]);
				if (got < 0)
					return -ECONNRESET;
				continue;
			}
			r = stream_write_all(out[i], buf, (size_t)got);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int stream_relay(int a, int b)
{
	return stream_relay4(a, a, b, b);
}

int stream_unframe(struct streamframe_reader *fr, int plain, const void *data, size_t len)
{
	const uint8_t *in = data;
	uint8_t out[16384];

	while (len) {
		size_t n = len < sizeof(out) ? len : sizeof(out), got;
		bool ended = fr->ended;
		int r = streamframe_read(fr, in, n, out, &got), w;

		if (got && (w = stream_write_all(plain, out, got)) < 0)
			return w;
		if (r < 0)
			return r;
		if (r == 1 && !ended)
			end_output(plain);
		in += n;
		len -= n;
	}
	return fr->ended;
}

/* plain's bytes as one frame on framed; got == 0 is the end frame. */
static int frame_out(int framed, uint8_t *buf, size_t got)
{
	streamframe_head(buf, (uint32_t)got);
	return stream_write_all(framed, buf, STREAMFRAME_HEAD + got);
}

int stream_relay_framed(int framed, int plain, const void *pre, size_t prelen)
{
	struct pollfd p[2] = {{.fd = framed, .events = POLLIN}, {.fd = plain, .events = POLLIN}};
	struct streamframe_reader fr = {0};
	uint8_t buf[STREAMFRAME_HEAD + 16384];
	bool open[2] = {true, true};
	int r = prelen ? stream_unframe(&fr, plain, pre, prelen) : 0;

	if (r < 0)
		return r;
	open[0] = r == 0;
	while (open[0] || open[1]) {
		ssize_t got;

		p[0].fd = open[0] ? framed : -1;
		p[1].fd = open[1] ? plain : -1;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (open[0] && p[0].revents) {
			got = read(framed, buf, sizeof(buf));
			if (got < 0 && errno != EINTR && errno != EAGAIN)
				return -errno;
			if (got == 0) /* the transport ended without the end frame */
				return -ECONNRESET;
			if (got > 0) {
				r = stream_unframe(&fr, plain, buf, (size_t)got);
				if (r < 0)
					return r;
				open[0] = r == 0;
			}
		}
		if (open[1] && p[1].revents) {
			got = read(plain, buf + STREAMFRAME_HEAD, sizeof(buf) - STREAMFRAME_HEAD);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got < 0 && errno != ECONNRESET)
				return -errno;
			r = frame_out(framed, buf, got < 0 ? 0 : (size_t)got);
			if (r < 0)
				return r;
			if (got <= 0)
				open[1] = false;
			if (got < 0)
				return -ECONNRESET;
		}
	}
	return 0;
}
