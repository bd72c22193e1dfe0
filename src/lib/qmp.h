/* SPDX-License-Identifier: MIT */
/*
 * qmp: a small client of QEMU's machine protocol (QMP) over a unix socket.
 *
 * QMP is line-delimited JSON: the server greets ({"QMP": {...}}), the client
 * leaves negotiation mode with qmp_capabilities, then each command
 * {"execute": C, "arguments": A, "id": N} is answered by {"return": R, "id": N}
 * or {"error": {"class": K, "desc": D}, "id": N}. Asynchronous events
 * {"event": E, "data": D, "timestamp": {"seconds": S, "microseconds": U}} may
 * arrive at any time, also between a command and its reply.
 *
 * - Every command carries an id; a reply with another id (the late answer of
 *   a command that timed out) is dropped, so answers never shift.
 * - Events go to a callback with QEMU's timestamp (realtime, µs precision,
 *   as ns) and the local CLOCK_REALTIME receive time in ns, also while
 *   qmp_execute waits for a reply.
 * - Lines are bounded (QMP_MAX_LINE); a longer line or a line that is not a
 *   QMP message makes the connection fail with a message saying so
 *   (qmp_error). A failed connection stays failed: close it and reconnect.
 * - The socket is non-blocking; qmp_poll dispatches whatever events are
 *   readable without waiting, for an event loop that watches qmp_fd.
 * - Not thread-safe: one caller at a time (the vm module locks per VM).
 * qmp_parse_line is pure (no I/O) and is what the fuzzer exercises.
 */
#ifndef GODWIT_LIB_QMP_H
#define GODWIT_LIB_QMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define QMP_MAX_LINE (1024 * 1024)

enum qmp_msg_type { QMP_MSG_GREETING, QMP_MSG_RETURN, QMP_MSG_ERROR, QMP_MSG_EVENT };

struct qmp_msg {
	enum qmp_msg_type type;
	json_t *root;	    /* owns everything below */
	const json_t *body; /* greeting: the "QMP" object; return: its value;
			       error: the "error" object; event: "data" (or NULL) */
	const char *event;  /* event name */
	const char *error_class;
	const char *error_desc;
	uint64_t qemu_ns; /* event timestamp, 0 when absent/invalid */
	int64_t id;	  /* -1 when the message has no integer id */
};

/* Parses one line (without its newline). 0 and *out filled, or -EINVAL with
 * a message in err ("QMP: unexpected reply ..."). out->root must be released
 * with qmp_msg_clear. */
int qmp_parse_line(const char *line, size_t len, struct qmp_msg *out, char *err, size_t errlen);
void qmp_msg_clear(struct qmp_msg *m);

struct qmp_event {
	const char *name;
	const json_t *data; /* may be NULL */
	uint64_t qemu_ns;   /* QEMU's timestamp (CLOCK_REALTIME, µs precision) */
	uint64_t recv_ns;   /* CLOCK_REALTIME when the client read it */
};

typedef void (*qmp_event_fn)(const struct qmp_event *ev, void *ctx);

struct qmp;

/* Connects to the socket at path, reads the greeting and negotiates
 * capabilities, all within timeout_ms. fn may be NULL. */
int qmp_connect(const char *path, int timeout_ms, qmp_event_fn fn, void *ctx, struct qmp **out);
/* The same over a connected stream socket (taken over, closed by qmp_close). */
int qmp_open_fd(int fd, int timeout_ms, qmp_event_fn fn, void *ctx, struct qmp **out);
void qmp_close(struct qmp *q); /* accepts NULL */

/*
 * Runs cmd with args (borrowed; NULL: none). 0 and *reply (the "return"
 * value, a new reference; may be NULL to discard it); -EPROTO when QEMU
 * answered an error (qmp_error() has its desc); -ETIMEDOUT; -ECONNRESET when
 * QEMU closed the socket; -EBADMSG for a garbled stream (qmp_error says why).
 */
int qmp_execute(struct qmp *q, const char *cmd, const json_t *args, json_t **reply, int timeout_ms);

/*
 * The same, passing the descriptor pass_fd with the command (SCM_RIGHTS on
 * the unix socket), as QMP's getfd/add-fd want: QEMU takes its own copy; the
 * caller keeps pass_fd. -1: none.
 */
int qmp_execute_fd(struct qmp *q, const char *cmd, const json_t *args, int pass_fd, json_t **reply,
		   int timeout_ms);

/* Reads and dispatches what is readable now. 0, or -ECONNRESET/-EBADMSG. */
int qmp_poll(struct qmp *q);

int qmp_fd(const struct qmp *q);
/* The last error text (QEMU's error.desc or the client's own). */
const char *qmp_error(const struct qmp *q);

#endif
