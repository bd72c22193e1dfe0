/* SPDX-License-Identifier: MIT */
/*
 * streamframe: a stream's bytes in frames, where the transport cannot pass
 * on a half-close (lib/stream.h).
 *
 * Over TLS the controller's side of a stream is libmicrohttpd's relay
 * between the TLS session and a socketpair, and that relay drops a peer's end
 * of input: a close_notify from the client stops its reading, and the
 * controller's shutdown(SHUT_WR) stops its sending, but neither side is told
 * (libmicrohttpd 0.9.75 to 1.0, daemon.c process_urh). A client that ends its
 * input and waits for the rest of the answer would wait for ever. So on an
 * https:// stream both directions carry frames:
 *   4 bytes: the payload's length, big-endian, 1..STREAMFRAME_MAX
 *   the payload
 * and a frame of length 0 is the sender's end of input (its half-close).
 * Nothing may follow it. The client (tlspipe.c) and the controller
 * (stream_relay_framed) frame; plain HTTP and unix-socket streams do not.
 */
#ifndef GODWIT_LIB_STREAMFRAME_H
#define GODWIT_LIB_STREAMFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAMFRAME_HEAD 4
#define STREAMFRAME_MAX	 65536

/* The head of a frame of len bytes (0: the end of input). */
void streamframe_head(uint8_t head[STREAMFRAME_HEAD], uint32_t len);

/* A reader of frames as the bytes arrive, in pieces of any size. */
struct streamframe_reader {
	uint32_t left;			/* payload bytes of the current frame still to come */
	uint8_t head[STREAMFRAME_HEAD]; /* a head read in part */
	uint8_t head_have;		/* its bytes so far; 0 between frames */
	bool ended;			/* the end frame was read */
};

/*
 * Takes in[0..len): the payload bytes in it are copied to out (room for len
 * bytes), their count in *out_len. 1 when the end frame has been read (now
 * or before), 0 otherwise; -EPROTO for a frame longer than STREAMFRAME_MAX
 * or bytes after the end (*out_len then counts what came before them).
 */
int streamframe_read(struct streamframe_reader *r, const uint8_t *in, size_t len, uint8_t *out,
		     size_t *out_len);

#endif
