/* SPDX-License-Identifier: MIT */
/*
 * stream: raw byte streams through the godwit API (docs/API.md, "Streams").
 *
 * A stream is an HTTP/1.1 request that the controller answers with
 * "101 Switching Protocols" (Upgrade: godwit-stream); from then on the
 * connection carries the bytes of one TCP connection (port-forward) or of a
 * serial console, in both directions, with half-close: one side's end of
 * input is passed on as a shutdown(SHUT_WR) of the other, so a client that
 * ends its input still reads the rest of the answer. Over https:// the bytes
 * after the heads travel in frames (streamframe.h), because libmicrohttpd's
 * TLS relay at the controller would drop the half-close.
 *
 * The client side speaks HTTP over a plain socket (TCP "http://HOST:PORT"
 * or "unix:/path"), as apiclient.h's servers, or over TLS ("https://...":
 * tlspipe.h gives the same plain socket with TLS behind it): libcurl's CONNECT_ONLY cannot
 * hand over the bytes it read past the answer's head, and a stream's first
 * bytes may come right behind it. The head is read one byte at a time for
 * that reason (a head is about a hundred bytes).
 *
 * The relay (stream_relay) is used by all three: the CLI between a local
 * connection and its stream, the controller between the CLI's stream and the
 * agent's, the agent between the controller and the VM's socket.
 */
#ifndef GODWIT_LIB_STREAM_H
#define GODWIT_LIB_STREAM_H

#include <stddef.h>

#define STREAM_UPGRADE	       "godwit-stream"
#define STREAM_HEAD_MAX	       8192
#define STREAM_ERROR_MAX       4096 /* the body of a refusal that is read */
#define STREAM_OPEN_TIMEOUT_MS 30000

/*
 * Parses an HTTP/1.1 answer's head (buf[0..len), ending in "\r\n\r\n"):
 * *status and *content_length (-1 when absent). -EINVAL for anything else,
 * -E2BIG for a Content-Length above STREAM_ERROR_MAX.
 */
int stream_parse_head(const char *buf, size_t len, int *status, long *content_length);

/*
 * Opens a stream: POST path to server with the bearer token; an https://
 * server is verified against ca_file (NULL: the system's CAs). On 101, 0 and
 * *fd (a blocking socket). A refusal: -EPROTO with *status and the server's
 * error message (its JSON "error") in err. Transport failures: -errno, with
 * what failed in err. server may list several controllers, comma-separated:
 * the first that can be reached takes the stream (apiclient.h).
 */
int stream_open(const char *server, const char *token, const char *ca_file, const char *path,
		int *fd, int *status, char *err, size_t errlen);

/*
 * Relays a <-> b until both directions ended (end of input on one side is a
 * shutdown(SHUT_WR) of the other) or one fails. Neither fd is closed.
 * 0 or -errno of the failure.
 */
int stream_relay(int a, int b);
/* The same with separate input and output fds per side (stdin/stdout); an
 * output that is not a socket is closed at its end. */
int stream_relay4(int a_in, int a_out, int b_in, int b_out);

/*
 * The same between a framed side (streamframe.h: an https:// stream at the
 * controller, whose transport drops half-closes) and a plain one. pre[0..prelen)
 * are framed bytes already read (those behind the 101's request head). The
 * end frame from framed is a shutdown(SHUT_WR) of plain; plain's end of input
 * is sent as the end frame. A framed side that ends without its end frame is
 * -ECONNRESET, a malformed frame -EPROTO.
 */
int stream_relay_framed(int framed, int plain, const void *pre, size_t prelen);

/* Decodes the frames in data[0..len) onto plain (fr keeps a frame read in
 * part), ending plain's output at the end frame: 1 once it was read, 0
 * before, -EPROTO or -errno. */
struct streamframe_reader;
int stream_unframe(struct streamframe_reader *fr, int plain, const void *data, size_t len);

/* Blocking reads and writes on fd give up after ms (0: never); EAGAIN then. */
void stream_set_timeout(int fd, long ms);

/* Reads exactly len bytes into buf (retrying EINTR); 0, -ECONNRESET at an end
 * of input before them, or -errno. */
int stream_read_exact(int fd, void *buf, size_t len);

/* Writes all of buf (retrying EINTR, waiting while a non-blocking fd is full); 0 or -errno. */
int stream_write_all(int fd, const void *buf, size_t len);

#endif
