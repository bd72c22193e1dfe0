/* SPDX-License-Identifier: MIT */
/*
 * tlspipe: a client's TLS connection (GnuTLS) behind a plain socket, for
 * the API's streams (stream.h) to an https:// controller.
 *
 * The handshake runs in the caller, verifying the server's certificate
 * against a CA file (the cluster CA; the system's trust store when none is
 * given) and its name (an IP address is matched against the certificate's
 * IP names); there is no way to skip the verification. Then two threads of
 * its own (one per direction) relay between the TLS session and one end of a
 * socketpair; the
 * caller gets the other end and reads and writes plain bytes, as on a TCP
 * socket. The pipe knows one thing of HTTP: each direction's head (the
 * request, the answer) passes as it is up to its blank line, and after a
 * "101 Switching Protocols" the stream's bytes travel in frames
 * (streamframe.h), which keep the half-close across the controller's TLS
 * relay: the caller's shutdown(SHUT_WR) becomes the end frame, the server's
 * end frame (or the end of its TLS session) a shutdown(SHUT_WR) of the
 * caller's socket. An answer other than 101 passes as it is. The relay ends when both
 * directions ended or one failed, and then frees everything; closing the
 * caller's socket ends it too.
 */
#ifndef GODWIT_LIB_TLSPIPE_H
#define GODWIT_LIB_TLSPIPE_H

#include <stddef.h>

/*
 * Starts TLS on the connected socket tcp (always taken over: closed on
 * failure) to host (a name or an IP address) with ca_file (NULL: the
 * system's). On success *fd is the caller's plain end. On failure -errno and
 * what failed in err (a certificate that does not verify names the server,
 * the CA file and why; -EPERM).
 */
int tls_pipe_open(int tcp, const char *host, const char *ca_file, int *fd, char *err,
		  size_t errlen);

#endif
