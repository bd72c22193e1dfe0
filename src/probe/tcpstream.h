/* SPDX-License-Identifier: MIT */
/* The TCP check of the probe: one connection to an echo service carrying a
 * deterministic pseudo-random byte stream (xorshift64, seeded per run).
 *
 * The client writes the stream at a steady pace (a small write every tick) and
 * verifies every echoed byte against a second copy of the same generator, so one
 * byte lost, duplicated or changed anywhere shows up as a mismatch at its offset.
 * It reports a reset (ECONNRESET, EPIPE or an EOF the client did not ask for), TCP
 * retransmissions (tcpi_total_retrans) and the longest stall: the largest interval
 * without any echoed byte while bytes were outstanding; and every stall of at least
 * TCP_STALL_MIN_NS with its start, so that a benchmark can tell which migration
 * caused which (the anchors' "TCP echo gap" with a small --tcp-rate: a few bytes,
 * a numbered line's worth, every 10 ms).
 */
#ifndef GODWIT_PROBE_TCPSTREAM_H
#define GODWIT_PROBE_TCPSTREAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream_gen {
	uint64_t state;
	uint64_t word;
	unsigned left; /* bytes of word not handed out yet */
};

struct stream_verifier {
	struct stream_gen gen;
	uint64_t received; /* bytes compared so far */
	uint64_t verified; /* bytes that matched before the first mismatch */
	int64_t mismatch;  /* offset of the first wrong byte, -1: none */
};

void stream_gen_init(struct stream_gen *g, uint64_t seed);
void stream_gen_fill(struct stream_gen *g, uint8_t *buf, size_t len);
void stream_verifier_init(struct stream_verifier *v, uint64_t seed);
/* Compares the next len bytes of the echo; returns false once a mismatch was seen. */
bool stream_verify(struct stream_verifier *v, const uint8_t *buf, size_t len);

#define TCP_CLIENT_TICK_NS 10000000ULL /* one write per 10 ms */
#define TCP_CLIENT_PENDING 65536
#define TCP_STALL_MIN_NS   30000000ULL /* three ticks without an echo */
#define TCP_STALLS_MAX	   4096

struct tcp_stall {
	uint64_t from_ns; /* CLOCK_MONOTONIC of the last progress before it */
	uint64_t len_ns;
};

enum tcp_client_state {
	TCP_CLIENT_CONNECTING,
	TCP_CLIENT_OPEN,
	TCP_CLIENT_CLOSED, /* failed to connect, reset, or finished */
};

struct tcp_client {
	int fd;
	enum tcp_client_state state;
	bool connected;
	bool reset;
	bool writing;  /* false once told to stop */
	int error;     /* first socket error (-errno), 0: none */
	uint64_t rate; /* bytes per second */
	uint64_t open_ns;
	struct stream_gen writer;
	struct stream_verifier verifier;
	uint8_t pending[TCP_CLIENT_PENDING]; /* generated, not written yet */
	size_t pending_len;
	uint64_t generated;
	uint64_t sent;
	uint64_t retransmits;
	uint64_t stall_since; /* last progress while bytes are outstanding; 0: none outstanding */
	uint64_t longest_stall_ns;
	struct tcp_stall stalls[TCP_STALLS_MAX];
	size_t n_stalls;
};

struct tcp_result {
	bool connected;
	bool reset;
	int error;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t bytes_verified;
	int64_t mismatch;
	uint64_t retransmits;
	uint64_t longest_stall_ns;
	const struct tcp_stall *stalls; /* the client's (valid while it is) */
	size_t n_stalls;
};

/* Starts a non-blocking connect to addr. -errno only on local failures (socket). */
int tcp_client_start(struct tcp_client *c, const struct sockaddr_in *addr, uint64_t rate,
		     uint64_t seed, uint64_t now);
/* poll events the client waits for (0: nothing, closed). */
short tcp_client_events(const struct tcp_client *c);
/* Handles socket readiness, then writes whatever the pace allows by now. */
void tcp_client_run(struct tcp_client *c, short revents, uint64_t now);
void tcp_client_stop_writing(struct tcp_client *c);
/* True when nothing is outstanding any more (or the connection is gone). */
bool tcp_client_drained(const struct tcp_client *c);
void tcp_client_finish(struct tcp_client *c, uint64_t now, struct tcp_result *res);

#endif
