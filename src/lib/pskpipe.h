/* SPDX-License-Identifier: MIT */
/*
 * pskpipe: TLS with a pre-shared key (GnuTLS, TLS 1.3 with (EC)DHE) on a
 * TCP connection, behind a plain socket — the controller's connection to an
 * agent's stream service (agent/streams.h, lib/streamproto.h).
 *
 * Why a pre-shared key: the two ends already share a secret, the node's
 * stream secret (controller auth.h, "Streams"), and no agent has a
 * certificate of its own. The handshake proves to each side that the other
 * holds it, so the secret itself never crosses the underlay, and everything
 * after (the request line, a console's or a port-forward's bytes) is
 * encrypted; an (EC)DHE exchange gives forward secrecy. The key is the
 * SHA-256 of the secret's text; the client's PSK identity is the node name,
 * which the server checks when it is given one.
 *
 * After the handshake (in the caller, within PSKPIPE_HANDSHAKE_MS) two
 * threads of the pipe (one per direction: GnuTLS allows a session's sends
 * and receives in two threads at once) relay between the session and one
 * end of a socketpair; the caller gets the other end and uses it as it used
 * the TCP socket. Half-closes pass both ways: the caller's shutdown(SHUT_WR)
 * becomes a close_notify, the peer's close_notify a shutdown(SHUT_WR) of the
 * caller's socket. The pipe frees itself once both directions ended; an
 * error in one ends both.
 */
#ifndef GODWIT_LIB_PSKPIPE_H
#define GODWIT_LIB_PSKPIPE_H

#include <stddef.h>

#define PSKPIPE_HANDSHAKE_MS 5000

/* The client's handshake on the connected tcp (always taken over) as
 * identity, with secret; *plain the caller's end. -EPERM when the peer does
 * not hold the secret; what failed in err. */
int pskpipe_client(int tcp, const char *identity, const char *secret, int *plain, char *err,
		   size_t errlen);
/* The server's: the client must hold secret and (when identity is not NULL)
 * present that identity. */
int pskpipe_server(int tcp, const char *identity, const char *secret, int *plain, char *err,
		   size_t errlen);

#endif
