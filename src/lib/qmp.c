/* SPDX-License-Identifier: MIT */
#include "lib/qmp.h"

#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct qmp {
	int fd;
	char *buf; /* unparsed bytes read so far */
	size_t len, cap;
	int64_t next_id;
	qmp_event_fn fn;
	void *ctx;
	int failed; /* sticky -errno once the stream is unusable */
	char err[512];
};

/* The text of a bad line for an error message: at most 80 bytes, printable. */
static void quote(const char *line, size_t len, char *out, size_t outlen)
{
	size_t n = len < 80 ? len : 80, j = 0;

	for (size_t i = 0; i < n && j + 1 < outlen; i++)
		out[j++] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
	out[j] = '\0';
}

static uint64_t event_ns(const json_t *ts)
{
	const json_t *s = json_object_get(ts, "seconds"), *us = json_object_get(ts, "microseconds");

	/* QEMU sends -1/-1 when it cannot read the clock. */
	if (!json_is_integer(s) || !json_is_integer(us) || json_integer_value(s) < 0 ||
	    json_integer_value(us) < 0 || json_integer_value(us) >= 1000000 ||
	    json_integer_value(s) > (json_int_t)(UINT64_MAX / 1000000000ULL) - 1)
		return 0;
	return (uint64_t)json_integer_value(s) * 1000000000ULL +
	       (uint64_t)json_integer_value(us) * 1000ULL;
}

int qmp_parse_line(const char *line, size_t len, struct qmp_msg *out, char *err, size_t errlen)
{
	char shown[96];
	struct qmp_msg m = {.id = -1};
	const json_t *v, *id;
	json_error_t je;

	quote(line, len, shown, sizeof(shown));
	if (len > QMP_MAX_LINE) {
		snprintf(err, errlen, "QMP: line of %zu bytes is longer than %d", len,
			 QMP_MAX_LINE);
		return -EINVAL;
	}
	m.root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!m.root || !json_is_object(m.root)) {
		snprintf(err, errlen, "QMP: unexpected reply `%s'%s%s", shown, m.root ? "" : ": ",
			 m.root ? " (not a JSON object)" : je.text);
		goto fail;
	}
	id = json_object_get(m.root, "id");
	if (json_is_integer(id))
		m.id = json_integer_value(id);
	if ((v = json_object_get(m.root, "QMP"))) {
		if (!json_is_object(v))
			goto unexpected;
		m.type = QMP_MSG_GREETING;
		m.body = v;
	} else if ((v = json_object_get(m.root, "return"))) {
		m.type = QMP_MSG_RETURN;
		m.body = v;
	} else if ((v = json_object_get(m.root, "error"))) {
		m.type = QMP_MSG_ERROR;
		m.body = v;
		m.error_class = json_string_value(json_object_get(v, "class"));
		m.error_desc = json_string_value(json_object_get(v, "desc"));
		if (!json_is_object(v) || !m.error_desc)
			goto unexpected;
		if (!m.error_class)
			m.error_class = "GenericError";
	} else if ((v = json_object_get(m.root, "event"))) {
		m.type = QMP_MSG_EVENT;
		m.event = json_string_value(v);
		if (!m.event || !*m.event)
			goto unexpected;
		m.body = json_object_get(m.root, "data");
		m.qemu_ns = event_ns(json_object_get(m.root, "timestamp"));
	} else {
		goto unexpected;
	}
	*out = m;
	return 0;
unexpected:
	snprintf(err, errlen, "QMP: unexpected reply `%s' (not a greeting, return, error or event)",
		 shown);
fail:
	json_decref(m.root);
	return -EINVAL;
}

void qmp_msg_clear(struct qmp_msg *m)
{
	json_decref(m->root);
	m->root = NULL;
}

static int fail(struct qmp *q, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct qmp *q, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	q->failed = r;
	return r;
}

/* Reads what is there into buf. 1 when bytes came, 0 when none (EAGAIN). */
static int fill(struct qmp *q)
{
	ssize_t n;

	if (q->cap - q->len < 4096) {
		size_t cap = q->cap ? q->cap * 2 : 8192;
		char *b;

		if (cap > QMP_MAX_LINE + 4096)
			cap = QMP_MAX_LINE + 4096;
		if (cap <= q->len)
			return fail(q, -EBADMSG, "QMP: line longer than %d bytes", QMP_MAX_LINE);
		b = realloc(q->buf, cap);
		if (!b)
			return -ENOMEM;
		q->buf = b;
		q->cap = cap;
	}
	n = read(q->fd, q->buf + q->len, q->cap - q->len);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR)
			   ? 0
			   : fail(q, -errno, "QMP: read: %s", strerror(errno));
	if (n == 0)
		return fail(q, -ECONNRESET, "QMP: QEMU closed the connection");
	q->len += (size_t)n;
	return 1;
}

/*
 * Takes the next complete line out of buf and parses it. 1 and *m, 0 when no
 * complete line is buffered, <0 on a bad line.
 */
static int next_msg(struct qmp *q, struct qmp_msg *m)
{
	char *nl;
	size_t n;
	int r;

	for (;;) {
		nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		if (!nl) {
			if (q->len > QMP_MAX_LINE)
				return fail(q, -EBADMSG, "QMP: line longer than %d bytes",
					    QMP_MAX_LINE);
			return 0;
		}
		n = (size_t)(nl - q->buf);
		if (n && q->buf[n - 1] == '\r')
			n--;
		if (n == 0) { /* empty line */
			memmove(q->buf, nl + 1, q->len - (size_t)(nl + 1 - q->buf));
			q->len -= (size_t)(nl + 1 - q->buf);
			continue;
		}
		r = qmp_parse_line(q->buf, n, m, q->err, sizeof(q->err));
		q->len -= (size_t)(nl + 1 - q->buf);
		memmove(q->buf, nl + 1, q->len);
		if (r < 0) {
			q->failed = -EBADMSG;
			return -EBADMSG;
		}
		return 1;
	}
}

static void dispatch_event(struct qmp *q, const struct qmp_msg *m, uint64_t recv_ns)
{
	struct qmp_event ev = {
	    .name = m->event,
	    .data = m->body,
	    .qemu_ns = m->qemu_ns,
	    .recv_ns = recv_ns,
	};

	if (q->fn)
		q->fn(&ev, q->ctx);
}

/*
 * Waits up to the deadline for a message other than an event (events are
 * dispatched on the way). 1 and *m, or -ETIMEDOUT / the stream's error.
 */
static int wait_reply(struct qmp *q, struct qmp_msg *m, int64_t deadline)
{
	struct pollfd p = {.fd = q->fd, .events = POLLIN};
	uint64_t recv_ns = (uint64_t)clock_unix_ns();
	int r;

	for (;;) {
		r = next_msg(q, m);
		if (r < 0)
			return r;
		if (r > 0) {
			if (m->type != QMP_MSG_EVENT)
				return 1;
			dispatch_event(q, m, recv_ns);
			qmp_msg_clear(m);
			continue;
		}
		int64_t left = deadline - clock_mono_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return fail(q, -errno, "QMP: poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		recv_ns = (uint64_t)clock_unix_ns();
		r = fill(q);
		if (r < 0)
			return r;
	}
}

/* One send; with pass_fd >= 0 the descriptor rides along (SCM_RIGHTS). */
static ssize_t send_some(int sock, const char *s, size_t n, int pass_fd)
{
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)s, .iov_len = n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	if (pass_fd < 0)
		return send(sock, s, n, MSG_NOSIGNAL);
	mh.msg_control = control;
	mh.msg_controllen = sizeof(control);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* Writes s; pass_fd (or -1) goes with the first byte that is sent. */
static int write_all(struct qmp *q, const char *s, size_t n, int pass_fd, int64_t deadline)
{
	struct pollfd p = {.fd = q->fd, .events = POLLOUT};

	while (n) {
		ssize_t w = send_some(q->fd, s, n, pass_fd);

		if (w < 0 && errno == EAGAIN) {
			int64_t left = deadline - clock_mono_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			poll(&p, 1, (int)left);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail(q, errno == EPIPE ? -ECONNRESET : -errno, "QMP: write: %s",
				    strerror(errno));
		s += w;
		n -= (size_t)w;
		pass_fd = -1;
	}
	return 0;
}

int qmp_execute(struct qmp *q, const char *cmd, const json_t *args, json_t **reply, int timeout_ms)
{
	return qmp_execute_fd(q, cmd, args, -1, reply, timeout_ms);
}

int qmp_execute_fd(struct qmp *q, const char *cmd, const json_t *args, int pass_fd, json_t **reply,
		   int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms, id;
	struct qmp_msg m = {0};
	json_t *req;
	char *text;
	int r;

	if (q->failed)
		return q->failed;
	id = q->next_id++;
	req = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (!req)
		return -ENOMEM;
	if (args && json_object_set(req, "arguments", (json_t *)args) < 0) {
		json_decref(req);
		return -ENOMEM;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return -ENOMEM;
	/* json_dumps escapes control characters: no raw newline inside. */
	r = write_all(q, text, strlen(text), pass_fd, deadline);
	if (r == 0)
		r = write_all(q, "\n", 1, -1, deadline);
	free(text);
	if (r < 0)
		return r;
	for (;;) {
		r = wait_reply(q, &m, deadline);
		if (r < 0)
			return r;
		if (m.type == QMP_MSG_GREETING || m.id != id) {
			qmp_msg_clear(&m); /* a late reply of an earlier command */
			continue;
		}
		break;
	}
	r = 0;
	if (m.type == QMP_MSG_ERROR) {
		snprintf(q->err, sizeof(q->err), "%s", m.error_desc);
		r = -EPROTO;
	} else if (reply) {
		*reply = json_incref((json_t *)m.body);
	}
	qmp_msg_clear(&m);
	return r;
}

int qmp_poll(struct qmp *q)
{
	struct qmp_msg m;
	uint64_t recv_ns;
	int r, got;

	if (q->failed)
		return q->failed;
	do {
		got = fill(q);
		if (got < 0)
			return got;
		recv_ns = (uint64_t)clock_unix_ns();
		while ((r = next_msg(q, &m)) > 0) {
			if (m.type == QMP_MSG_EVENT)
				dispatch_event(q, &m, recv_ns);
			qmp_msg_clear(&m); /* a stray reply is nobody's: drop it */
		}
		if (r < 0)
			return r;
	} while (got > 0);
	return 0;
}

int qmp_open_fd(int fd, int timeout_ms, qmp_event_fn fn, void *ctx, struct qmp **out)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	struct qmp *q = calloc(1, sizeof(*q));
	struct qmp_msg m = {0};
	int r;

	if (!q) {
		close(fd);
		return -ENOMEM;
	}
	q->fd = fd;
	q->fn = fn;
	q->ctx = ctx;
	q->next_id = 1;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		r = -errno;
		goto cleanup;
	}
	r = wait_reply(q, &m, deadline);
	if (r < 0)
		goto cleanup;
	if (m.type != QMP_MSG_GREETING) {
		r = fail(q, -EBADMSG, "QMP: expected the greeting, got a %s",
			 m.type == QMP_MSG_ERROR ? "error" : "reply");
		qmp_msg_clear(&m);
		goto cleanup;
	}
	qmp_msg_clear(&m);
	r = qmp_execute(q, "qmp_capabilities", NULL, NULL, (int)(deadline - clock_mono_ms()));
	if (r < 0)
		goto cleanup;
	*out = q;
	return 0;
cleanup:
	qmp_close(q);
	return r;
}

int qmp_connect(const char *path, int timeout_ms, qmp_event_fn fn, void *ctx, struct qmp **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return qmp_open_fd(fd, timeout_ms, fn, ctx, out);
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	close(q->fd);
	free(q->buf);
	free(q);
}

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

const char *qmp_error(const struct qmp *q)
{
	return q->err;
}
