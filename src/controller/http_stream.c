/* SPDX-License-Identifier: MIT */
#include "http_stream.h"
#include "http_reply.h"

#include "lib/log.h"
#include "lib/stream.h"
#include "lib/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int active;

struct relay {
	int agent_fd;
	int client_fd;
	void **slot; /* the request's: cleared when the handler takes rl */
	struct MHD_UpgradeResponseHandle *urh; /* TLS: MHD's until the relay ends */
	void *pre; /* TLS: the framed bytes MHD read past the request's head */
	size_t prelen;
	char what[128];
};

int http_streams_active(void)
{
	return atomic_load(&active);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	return http_queue(conn, status,
			  http_json_response(json_pack("{s:s}", "error", msg), false));
}

static void *relay_main(void *data)
{
	struct relay *rl = data;
	/* Over TLS, frames: MHD's relay would drop the client's half-close
	 * (lib/streamframe.h). */
	int r = rl->urh ? stream_relay_framed(rl->client_fd, rl->agent_fd, rl->pre, rl->prelen)
			: stream_relay(rl->client_fd, rl->agent_fd);

	log_debug("stream %s ended%s%s", rl->what, r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
	if (rl->urh)
		MHD_upgrade_action(rl->urh, MHD_UPGRADE_ACTION_CLOSE);
	else
		close(rl->client_fd);
	close(rl->agent_fd);
	free(rl->pre);
	free(rl);
	atomic_fetch_sub(&active, 1);
	return NULL;
}

static bool over_tls(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);

	return ci && ci->tls_session;
}

/* After the 101: the relay starts. In plain HTTP the socket leaves MHD (a
 * duplicate is ours); over TLS sock is MHD's end of its TLS relay, which
 * lives until the stream ends. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
		       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct relay *rl = cls;
	int r;

	(void)con_cls;
	*rl->slot = NULL; /* ours from here on */
	if (over_tls(conn)) {
		rl->urh = urh;
		rl->client_fd = sock;
	} else {
		rl->client_fd = dup(sock);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	}
	if (rl->client_fd < 0) {
		log_warn_errno(-errno, "stream %s: cannot keep the socket", rl->what);
		goto fail;
	}
	if (extra_in_size && rl->urh) {
		rl->pre = malloc(extra_in_size);
		if (!rl->pre)
			goto fail;
		memcpy(rl->pre, extra_in, extra_in_size);
		rl->prelen = extra_in_size;
	} else if (extra_in_size && stream_write_all(rl->agent_fd, extra_in, extra_in_size) < 0) {
		goto fail;
	}
	r = worker_detached(relay_main, rl, HTTP_STREAM_THREAD_STACK);
	if (r == 0)
		return;
	log_warn_errno(r, "stream %s: no thread to relay it", rl->what);
fail:
	if (rl->urh)
		MHD_upgrade_action(rl->urh, MHD_UPGRADE_ACTION_CLOSE);
	else if (rl->client_fd >= 0)
		close(rl->client_fd);
	close(rl->agent_fd);
	free(rl->pre);
	free(rl);
	atomic_fetch_sub(&active, 1);
}

void http_stream_abandon(void *stream)
{
	struct relay *rl = stream;

	if (!rl)
		return;
	log_info("stream %s: the 101 was not delivered", rl->what);
	close(rl->agent_fd);
	free(rl);
	atomic_fetch_sub(&active, 1);
}

enum MHD_Result http_stream_serve(const struct http_context *ctx, struct MHD_Connection *conn,
				  const char *method, const struct tunnel_request *req, void **slot)
{
	struct api_error err = {0};
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct relay *rl;
	int fd = -1, r;

	if (strcmp(method, "POST") != 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "method %s is not allowed on a stream (POST opens one)",
			 method);
		return reply(conn, 405, msg);
	}
	if (atomic_fetch_add(&active, 1) >= HTTP_MAX_STREAMS) {
		atomic_fetch_sub(&active, 1);
		return reply(conn, 503, "too many streams open at the controller");
	}
	r = tunnel_open(ctx->registry, ctx->token, req, &fd, &err);
	if (r < 0) {
		atomic_fetch_sub(&active, 1);
		if (err.status)
			return reply(conn, (unsigned)err.status, err.message);
		log_error("stream to %s: %s", req->name, strerror(-r));
		return reply(conn, 500, "internal error (see the controller's log)");
	}
	rl = calloc(1, sizeof(*rl));
	resp = rl ? MHD_create_response_for_upgrade(on_upgrade, rl) : NULL;
	if (!resp) {
		free(rl);
		close(fd);
		atomic_fetch_sub(&active, 1);
		return MHD_NO;
	}
	rl->agent_fd = fd;
	rl->client_fd = -1;
	rl->slot = slot;
	if (req->kind == TUNNEL_CONSOLE)
		snprintf(rl->what, sizeof(rl->what), "console of vm/%s", req->name);
	else
		snprintf(rl->what, sizeof(rl->what), "%s/%s:%u",
			 req->subject == KIND_VM ? "vm" : "port", req->name, req->port);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, STREAM_UPGRADE);
	ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (ret != MHD_YES) {
		/* The handler will not run: the far end is ours to close. */
		close(fd);
		free(rl);
		atomic_fetch_sub(&active, 1);
	} else {
		*slot = rl; /* until the handler takes it; else http_stream_abandon */
	}
	return ret;
}
