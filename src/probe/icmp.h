/* SPDX-License-Identifier: MIT */
/* ICMP echo of the probe: the socket, building requests and parsing replies.
 *
 * A request carries, after the 8-byte ICMP header (type 8, id, 16-bit seq), a
 * payload of the run's random nonce, the full 64-bit sequence and the send time
 * (big-endian), padded to ICMP_PROBE_PAYLOAD bytes. A reply is accepted only when
 * it is an echo reply of the right length, with a valid checksum, our id (raw
 * sockets; the kernel demultiplexes datagram sockets by id), our nonce and a
 * 64-bit sequence whose low bits equal the header's. icmp_parse_reply() is pure
 * and fuzzed.
 *
 * The socket is raw (root) when possible, else an unprivileged ICMP datagram
 * socket (net.ipv4.ping_group_range); raw sockets receive the IP header too.
 */
#ifndef GODWIT_PROBE_ICMP_H
#define GODWIT_PROBE_ICMP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ICMP_PROBE_PAYLOAD 56
#define ICMP_PROBE_LEN	   (8 + ICMP_PROBE_PAYLOAD)

struct icmp_sock {
	int fd;
	bool raw;    /* raw socket: replies start with the IP header */
	uint16_t id; /* echo identifier (datagram sockets: assigned by the kernel) */
};

struct icmp_expect {
	bool raw;
	bool check_id;
	uint16_t id;
	uint32_t src; /* network order; 0: any (only checked with raw, which has the IP header) */
	uint64_t nonce;
};

struct icmp_reply {
	uint16_t wire_seq;
	uint64_t seq;
	uint64_t send_ns;
};

/* Opens a raw ICMP socket, or a datagram one when raw is not permitted. */
int icmp_open(struct icmp_sock *s, uint16_t wanted_id);
void icmp_close(struct icmp_sock *s);
uint16_t icmp_checksum(const void *data, size_t len);
/* Writes an echo request of ICMP_PROBE_LEN bytes into buf. */
void icmp_build_echo(uint8_t buf[ICMP_PROBE_LEN], uint16_t id, uint64_t seq, uint64_t nonce,
		     uint64_t send_ns);
/* 0 for one of our replies; -EBADMSG truncated/malformed, -ENOMSG not an echo reply,
 * -EILSEQ bad checksum, -ESRCH not ours (id, source, nonce or sequence). */
int icmp_parse_reply(const uint8_t *buf, size_t len, const struct icmp_expect *exp,
		     struct icmp_reply *out);

#endif
