/* SPDX-License-Identifier: MIT */
/*
 * streamproto: how the controller asks an agent for a stream (agent/streams.h).
 *
 * The controller connects to the agent's stream port on the node's underlay
 * address, runs TLS with the node's stream secret over it (lib/pskpipe.h)
 * and sends one line of JSON (at most STREAMPROTO_LINE_MAX bytes with
 * its '\n'):
 *   {"token": T, "kind": "portforward", "netns": NS, "ipv4": A, "port": P}
 *   {"token": T, "kind": "console", "vm": NAME}
 * The agent answers one line, {"ok": true} or {"error": "why"}, and on ok the
 * connection carries the stream's bytes from then on (lib/stream.h). T is the
 * node's stream secret (controller auth.h, "Streams"; the admin token for an
 * agent that has none). Both lines are
 * outside input to their readers: parsed here, fuzzed (tests/fuzz).
 */
#ifndef GODWIT_LIB_STREAMPROTO_H
#define GODWIT_LIB_STREAMPROTO_H

#include <stddef.h>
#include <stdint.h>

#define STREAMPROTO_AGENT_PORT 7481
#define STREAMPROTO_LINE_MAX   4096

enum streamproto_kind {
	STREAMPROTO_PORTFORWARD = 1,
	STREAMPROTO_CONSOLE,
};

struct streamproto_request {
	char token[1024];
	enum streamproto_kind kind;
	char netns[128]; /* portforward: the tunnel namespace on the agent's node */
	uint32_t ipv4;	 /* portforward: host order */
	uint16_t port;	 /* portforward: 1..65535 */
	char vm[64];	 /* console */
};

/* The request line (with its '\n') into *out (malloc'd), its length as the return; -errno. */
int streamproto_request_format(const struct streamproto_request *req, char **out);
/* Parses line[0..len) (without '\n'); -EINVAL with what is wrong in err. */
int streamproto_request_parse(const char *line, size_t len, struct streamproto_request *out,
			      char *err, size_t errlen);

/* The answer line ("{\"ok\":true}\n" or the error) into *out (malloc'd); its length. */
int streamproto_reply_format(const char *error, char **out);
/* 0 for ok; -EPROTO with the agent's message in msg; -EINVAL for a malformed line. */
int streamproto_reply_parse(const char *line, size_t len, char *msg, size_t msglen);

/* Reads one line ending in '\n' from fd, one byte at a time (the stream's bytes
 * follow it), into buf (NUL-terminated, without the '\n'); its length, -E2BIG
 * when longer than cap - 1, -ECONNRESET at the end of input, -errno. */
int streamproto_read_line(int fd, char *buf, size_t cap);

#endif
