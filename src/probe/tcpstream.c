/* SPDX-License-Identifier: MIT */
#include "tcpstream.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void stream_gen_init(struct stream_gen *g, uint64_t seed)
{
	g->state = seed ? seed : 0x9e3779b97f4a7c15ULL; /* xorshift needs a non-zero state */
	g->word = 0;
	g->left = 0;
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void stream_gen_fill(struct stream_gen *g, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (g->left == 0) {
			g->word = xorshift64(&g->state);
			g->left = 8;
		}
		buf[i] = (uint8_t)g->word;
		g->word >>= 8;
		g->left--;
	}
}

void stream_verifier_init(struct stream_verifier *v, uint64_t seed)
{
	stream_gen_init(&v->gen, seed);
	v->received = 0;
	v->verified = 0;
	v->mismatch = -1;
}

bool stream_verify(struct stream_verifier *v, const uint8_t *buf, size_t len)
{
	uint8_t expect[4096];

	while (len) {
		size_t n = len < sizeof(expect) ? len : sizeof(expect);

		stream_gen_fill(&v->gen, expect, n);
		if (v->mismatch < 0) {
			for (size_t i = 0; i < n; i++) {
				if (buf[i] != expect[i]) {
					v->mismatch = (int64_t)(v->received + i);
					v->verified += i;
					break;
				}
			}
			if (v->mismatch < 0)
				v->verified += n;
		}
		v->received += n;
		buf += n;
		len -= n;
	}
	return v->mismatch < 0;
}

int tcp_client_start(struct tcp_client *c, const struct sockaddr_in *addr, uint64_t rate,
		     uint64_t seed, uint64_t now)
{
	int fd, one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->rate = rate;
	c->writing = true;
	stream_gen_init(&c->writer, seed);
	stream_verifier_init(&c->verifier, seed);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->state = TCP_CLIENT_CONNECTING;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
		c->state = TCP_CLIENT_OPEN;
		c->connected = true;
		c->open_ns = now;
	} else if (errno != EINPROGRESS) {
		c->error = -errno;
		c->state = TCP_CLIENT_CLOSED;
	}
	return 0;
}

short tcp_client_events(const struct tcp_client *c)
{
	switch (c->state) {
	case TCP_CLIENT_CONNECTING:
		return POLLOUT;
	case TCP_CLIENT_OPEN:
		return POLLIN | (c->pending_len ? POLLOUT : 0);
	default:
		return 0;
	}
}

static void sample_retransmits(struct tcp_client *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (c->fd >= 0 && getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
		c->retransmits = ti.tcpi_total_retrans;
}

/* A stall (bytes outstanding, no echo since stall_since) ends or is cut at now. */
static void end_stall(struct tcp_client *c, uint64_t now)
{
	uint64_t len;

	if (!c->stall_since)
		return;
	len = now - c->stall_since;
	if (len > c->longest_stall_ns)
		c->longest_stall_ns = len;
	if (len >= TCP_STALL_MIN_NS && c->n_stalls < TCP_STALLS_MAX)
		c->stalls[c->n_stalls++] =
		    (struct tcp_stall){.from_ns = c->stall_since, .len_ns = len};
}

static void close_with(struct tcp_client *c, int err, uint64_t now)
{
	if (c->state == TCP_CLIENT_CLOSED)
		return;
	if (c->state == TCP_CLIENT_OPEN) {
		sample_retransmits(c);
		/* ECONNRESET, EPIPE, an unexpected EOF (-ENODATA) or any other error
		 * (ETIMEDOUT...) broke an open connection: all count as a reset */
		c->reset = true;
		end_stall(c, now);
	}
	if (err && !c->error)
		c->error = err;
	c->state = TCP_CLIENT_CLOSED;
}

static uint64_t outstanding(const struct tcp_client *c)
{
	return c->sent > c->verifier.received ? c->sent - c->verifier.received : 0;
}

static void read_echo(struct tcp_client *c, uint64_t now)
{
	uint8_t buf[16384];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0) {
			/* the echo service never closes first: an EOF is a broken connection */
			close_with(c, -ENODATA, now);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				close_with(c, -errno, now);
			return;
		}
		stream_verify(&c->verifier, buf, (size_t)n);
		end_stall(c, now);
		c->stall_since = outstanding(c) ? now : 0;
	}
}

static void write_stream(struct tcp_client *c, uint64_t now)
{
	if (c->writing) {
		/* the pace: rate bytes per second, in whole ticks since the connection opened */
		uint64_t ticks = (now - c->open_ns) / TCP_CLIENT_TICK_NS + 1;
		uint64_t due = c->rate * ticks * TCP_CLIENT_TICK_NS / 1000000000ULL;

		if (due > c->generated) {
			size_t room = TCP_CLIENT_PENDING - c->pending_len;
			size_t n = due - c->generated < room ? due - c->generated : room;

			stream_gen_fill(&c->writer, c->pending + c->pending_len, n);
			c->pending_len += n;
			c->generated += n;
		}
	}
	while (c->pending_len) {
		ssize_t n = send(c->fd, c->pending, c->pending_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				close_with(c, -errno, now);
			return;
		}
		if (outstanding(c) == 0 && n > 0)
			c->stall_since = now;
		c->sent += (uint64_t)n;
		c->pending_len -= (size_t)n;
		memmove(c->pending, c->pending + n, c->pending_len);
	}
}

void tcp_client_run(struct tcp_client *c, short revents, uint64_t now)
{
	if (c->state == TCP_CLIENT_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!revents)
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			c->error = -err;
			c->state = TCP_CLIENT_CLOSED;
			return;
		}
		c->state = TCP_CLIENT_OPEN;
		c->connected = true;
		c->open_ns = now;
	}
	if (c->state != TCP_CLIENT_OPEN)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		read_echo(c, now);
	if (c->state == TCP_CLIENT_OPEN)
		write_stream(c, now);
	if (c->state == TCP_CLIENT_OPEN)
		sample_retransmits(c);
}

void tcp_client_stop_writing(struct tcp_client *c)
{
	c->writing = false;
}

bool tcp_client_drained(const struct tcp_client *c)
{
	return c->state != TCP_CLIENT_OPEN || (c->pending_len == 0 && outstanding(c) == 0);
}

void tcp_client_finish(struct tcp_client *c, uint64_t now, struct tcp_result *res)
{
	if (c->state == TCP_CLIENT_OPEN) {
		sample_retransmits(c);
		end_stall(c, now);
	}
	*res = (struct tcp_result){
	    .connected = c->connected,
	    .reset = c->reset,
	    .error = c->error,
	    .bytes_sent = c->sent,
	    .bytes_received = c->verifier.received,
	    .bytes_verified = c->verifier.verified,
	    .mismatch = c->verifier.mismatch,
	    .retransmits = c->retransmits,
	    .longest_stall_ns = c->longest_stall_ns,
	    .stalls = c->stalls,
	    .n_stalls = c->n_stalls,
	};
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = TCP_CLIENT_CLOSED;
}
