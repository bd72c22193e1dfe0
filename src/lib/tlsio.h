/* SPDX-License-Identifier: MIT */
/* tlsio: what both TLS pipes (tlspipe.h, pskpipe.h) do with a GnuTLS session and their sockets. */
#ifndef GODWIT_LIB_TLSIO_H
#define GODWIT_LIB_TLSIO_H

#include <gnutls/gnutls.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * What both pipes are, the first member of each one's struct: the session on
 * tcp, the pipe's end (plain) of the caller's socketpair, and a reference
 * for each relay thread still running and one for the opener. The last put
 * closes the session and both sockets, then free_fn frees what the pipe holds
 * beyond them and the pipe itself.
 */
struct tlsio_pipe {
	atomic_int refs;
	gnutls_session_t session;
	int tcp, plain;
	void (*free_fn)(struct tlsio_pipe *p);
};

/* A zeroed pipe of size bytes on tcp, the opener's reference held; NULL when
 * there is no memory (tcp closed, "out of memory" in err). */
void *tlsio_pipe_new(size_t size, int tcp, void (*free_fn)(struct tlsio_pipe *p), char *err,
		     size_t errlen);
void tlsio_pipe_put(struct tlsio_pipe *p);

/*
 * After the handshake: a socketpair, the pipe's end in p->plain, and the two
 * relay threads (stack bytes each) from_peer(p) and to_peer(p), each with a
 * reference it puts when it returns; *fd the caller's end. -errno and err when
 * one is missing: a thread that started ends (both directions shut), *fd untouched.
 * Either way the opener puts its own reference after.
 */
int tlsio_pipe_start(struct tlsio_pipe *p, void *(*from_peer)(void *), void *(*to_peer)(void *),
		     size_t stack, int *fd, char *err, size_t errlen);

/* All of buf as records on s (retrying GNUTLS_E_AGAIN and _INTERRUPTED); 0 or -EIO. */
int tlsio_send_all(gnutls_session_t s, const void *buf, size_t len);

/*
 * The two relay directions of a pipe, each in its own thread, returning at
 * the end of that direction. A failure ends both: the TLS side's socket tcp
 * and the caller's end plain are shut, so the other thread returns too.
 *
 * tlsio_pump_from_peer: the peer's records, each handed to deliver (0 or
 * -errno), until the peer's end of input (its close_notify; also a close
 * without one when lax_eof), passed on to plain (SHUT_WR).
 *
 * tlsio_pump_to_peer: what plain reads into buf[0..cap), each read handed to
 * send (0 or -errno), until plain's end of input, where end runs. send always
 * gets buf itself with the read at its start, so a caller may keep headroom
 * of its own before buf (tlspipe writes its frame head there).
 */
void tlsio_pump_from_peer(gnutls_session_t s, int tcp, int plain, bool lax_eof,
			  int (*deliver)(void *ctx, char *buf, size_t len), void *ctx);
void tlsio_pump_to_peer(int tcp, int plain, char *buf, size_t cap,
			int (*send)(void *ctx, char *buf, size_t len), void (*end)(void *ctx),
			void *ctx);

#endif
