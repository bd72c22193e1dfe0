/* SPDX-License-Identifier: MIT */
#include "http.h"
#include "leader.h"
#include "http_reply.h"
#include "http_stream.h"
#include "auth.h"
#include "k8s.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "kind_node.h"
#include "metrics.h"
#include "migration_api.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct http_server {
	struct MHD_Daemon *daemon;
	const struct http_context *ctx;
	struct http_limits limits;
};

struct request {
	struct http_limits *limits;
	char *body;
	size_t len;
	bool too_large;
	bool watching;		   /* counted by http_limits_watch_begin */
	bool upgrade;		   /* routed to a stream: the connection carries no more requests */
	void *stream;		   /* http_stream.h: a stream whose 101 is on its way */
	struct auth_principal who; /* auth.h: the bearer's identity */
};

static int listen_unix(const char *path, int *out)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(path) == 0 || strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket of an earlier run */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

static int listen_tcp(const char *addr, int *out)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char host[256], service[8];
	int fd = -1, one = 1, r;
	uint16_t port;

	if (addr_hostport_split(addr, host, sizeof(host), &port) < 0)
		return -EINVAL;
	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -EINVAL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto cleanup;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		goto cleanup;
	}
	*out = fd;
	r = 0;
cleanup:
	freeaddrinfo(res);
	return r;
}

bool http_listen_addr_valid(const char *addr)
{
	char host[256];
	uint16_t port;

	if (strncmp(addr, "unix:", 5) == 0)
		return addr[5] == '/' &&
		       strlen(addr + 5) < sizeof(((struct sockaddr_un *)0)->sun_path);
	return addr_hostport_split(addr, host, sizeof(host), &port) == 0;
}

int http_listen(const char *addr, int *fd)
{
	if (strncmp(addr, "unix:", 5) == 0)
		return listen_unix(addr + 5, fd);
	return listen_tcp(addr, fd);
}

/* close: the connection ends after this answer (a cap was met). */
static enum MHD_Result reply_json_close(struct MHD_Connection *conn, unsigned status, json_t *body,
					bool close)
{
	struct MHD_Response *resp = http_json_response(body, true);

	if (resp && close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return http_queue(conn, status, resp);
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, json_t *body)
{
	return reply_json_close(conn, status, body, false);
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, const struct api_error *err)
{
	return reply_json(conn, (unsigned)err->status, api_error_json(err));
}

static enum MHD_Result reply_msg(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	return reply_json(conn, status, json_pack("{s:s}", "error", msg));
}

/* A registry result: the object, a client error, or 500 for store failures. */
static enum MHD_Result reply_result(struct MHD_Connection *conn, int r, unsigned ok_status,
				    json_t *obj, const struct api_error *err)
{
	if (r == 0)
		return reply_json(conn, ok_status, obj);
	if (err->status)
		return reply_error(conn, err);
	if (r == -EAGAIN)
		return reply_msg(conn, 503,
				 "the store is busy with other controllers' changes: try again");
	log_error("request failed: %s", strerror(-r));
	return reply_msg(conn, 500, "internal error (see the controller's log)");
}

/* Whether the request's bearer may make it (auth.h's table); else answers 403. */
static bool permitted(const struct http_context *ctx, struct MHD_Connection *conn,
		      const struct request *req, const struct auth_request *areq,
		      enum MHD_Result *ret)
{
	struct api_error err = {0};
	int r = auth_check(ctx->registry, &req->who, areq, &err);

	if (r == 0)
		return true;
	*ret = reply_result(conn, r, 200, NULL, &err);
	return false;
}

static enum MHD_Result reply_method_not_allowed(struct MHD_Connection *conn, const char *method,
						const char *url)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "method %s is not allowed on %.200s", method, url);
	return reply_msg(conn, 405, msg);
}

static enum MHD_Result handle_watch(const struct http_context *ctx, struct MHD_Connection *conn,
				    struct request *req)
{
	const char *since_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
	struct MHD_Response *resp;
	int64_t since = 0, oldest = 0;
	enum MHD_Result ret;
	char msg[256], *end;
	int r;

	if (since_text) {
		errno = 0;
		since = strtoll(since_text, &end, 10);
		if (errno || end == since_text || *end || since < 0) {
			snprintf(msg, sizeof(msg), "since: \"%.64s\" is not a revision number",
				 since_text);
			return reply_msg(conn, 400, msg);
		}
	}
	if (!http_limits_watch_begin(req->limits, conn)) {
		snprintf(msg, sizeof(msg),
			 "too many watches on this socket (at most %u at a time); try again later",
			 req->limits->max_watches);
		return reply_json_close(conn, 503, json_pack("{s:s}", "error", msg), true);
	}
	req->watching = true;
	r = watch_response_new(ctx->store, ctx->hub, since, &resp, &oldest);
	if (r == -ESTALE) {
		snprintf(msg, sizeof(msg),
			 "resync: revision %lld is compacted (oldest is %lld); list again",
			 (long long)since, (long long)oldest);
		return reply_msg(conn, 410, msg);
	}
	if (r < 0)
		return reply_msg(conn, 500, "cannot start the watch");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Decodes the request body into *body, or answers the error and returns false. */
static bool decode_body(struct MHD_Connection *conn, const struct request *req, json_t **body,
			enum MHD_Result *ret)
{
	struct api_error err = {0};

	if (api_body_decode(req->body ? req->body : "", req->len, body, &err) < 0) {
		*ret = reply_error(conn, &err);
		return false;
	}
	return true;
}

static enum MHD_Result handle_kind(const struct http_context *ctx, struct MHD_Connection *conn,
				   const char *url, const char *method, enum kind kind,
				   const char *name, const char *sub, const struct request *req)
{
	struct registry *reg = ctx->registry;
	struct api_error err = {0};
	enum MHD_Result ret;
	json_t *body = NULL, *out = NULL;
	bool created = false;
	int r;

	if (name && !object_name_valid(name)) {
		api_error_set(&err, 400, NULL, "\"%.64s\" is not a valid name", name);
		return reply_error(conn, &err);
	}
	if (!permitted(ctx, conn, req,
		       &(struct auth_request){.method = method,
					      .target = !sub ? AUTH_T_OBJECTS
							: kind == KIND_MIGRATION
							    ? AUTH_T_MIGRATION_ACTION
							    : AUTH_T_NODE_STATUS,
					      .kind = (int)kind,
					      .name = name,
					      .url = url},
		       &ret))
		return ret;
	if (sub && kind == KIND_MIGRATION) {
		if (strcmp(method, "POST") != 0)
			return reply_method_not_allowed(conn, method, "a migration's action");
		if (req->len && !decode_body(conn, req, &body, &ret))
			return ret;
		r = migration_action(reg, name, sub, body, &out, &err);
		json_decref(body);
		return reply_result(conn, r, 200, out, &err);
	}
	if (sub) {
		if (kind != KIND_NODE || strcmp(sub, "status") != 0)
			return reply_msg(conn, 404, "no such path");
		if (strcmp(method, "GET") == 0) {
			r = registry_get(reg, kind, name, &out, &err);
			return reply_result(conn, r, 200, out, &err);
		}
		if (strcmp(method, "PUT") != 0)
			return reply_method_not_allowed(conn, method, "a node's status");
		if (!decode_body(conn, req, &body, &ret))
			return ret;
		r = req->who.role == AUTH_NODE ? auth_status_placed(reg, name, body, NULL) : 0;
		if (r == 0)
			r = node_status_report(reg, name, body, &out, &err);
		json_decref(body);
		return reply_result(conn, r, 200, out, &err);
	}
	if (!name) {
		if (strcmp(method, "GET") == 0) {
			r = registry_list(reg, kind, &out, &err);
			return reply_result(conn, r, 200, out, &err);
		}
		if (strcmp(method, "POST") != 0)
			return reply_method_not_allowed(conn, method, kind_plural(kind));
		if (!decode_body(conn, req, &body, &ret))
			return ret;
		r = registry_create(reg, kind, body, &out, &err);
		json_decref(body);
		return reply_result(conn, r, 201, out, &err);
	}
	if (strcmp(method, "GET") == 0) {
		r = registry_get(reg, kind, name, &out, &err);
		return reply_result(conn, r, 200, out, &err);
	}
	if (strcmp(method, "DELETE") == 0) {
		r = registry_delete(reg, kind, name, &out, &err);
		return reply_result(conn, r, 200, out, &err);
	}
	if (strcmp(method, "PUT") != 0)
		return reply_method_not_allowed(conn, method, "an object");
	if (!decode_body(conn, req, &body, &ret))
		return ret;
	r = registry_update(reg, kind, name, body, &out, &created, &err);
	json_decref(body);
	(void)created; /* 200 for a registration too (docs/API.md) */
	return reply_result(conn, r, 200, out, &err);
}

/* GET /metrics: the Prometheus text format (metrics.h). */
static enum MHD_Result handle_metrics(const struct http_context *ctx, struct MHD_Connection *conn,
				      const char *method)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (strcmp(method, "GET") != 0)
		return reply_method_not_allowed(conn, method, "/metrics");
	r = metrics_render(ctx->registry->metrics, ctx->registry, &text, &len);
	if (r < 0)
		return reply_msg(conn, 500, "cannot read the store for the metrics");
	return http_queue(
	    conn, 200, http_text_response(text, len, "text/plain; version=0.0.4; charset=utf-8"));
}

/* POST /v1/join {node, token}: a node's credential for its join token (auth.h). */
static enum MHD_Result handle_join(const struct http_context *ctx, struct MHD_Connection *conn,
				   const char *method, const struct request *req)
{
	struct api_error err = {0};
	enum MHD_Result ret;
	json_t *body = NULL, *out = NULL;
	int r;

	if (strcmp(method, "POST") != 0)
		return reply_method_not_allowed(conn, method, "/v1/join");
	if (!decode_body(conn, req, &body, &ret))
		return ret;
	r = auth_join(ctx->registry, body, &out, &err);
	json_decref(body);
	if (r == 0)
		log_info("node %s joined", json_string_value(json_object_get(out, "node")));
	else if (err.status)
		log_warn("a join was refused: %s", err.message);
	return reply_result(conn, r, 200, out, &err);
}

/* POST /v1/tokens {node, ttl_s}: a join token; DELETE /v1/tokens/NODE: revoke. */
static enum MHD_Result handle_tokens(const struct http_context *ctx, struct MHD_Connection *conn,
				     const char *method, const char *node,
				     const struct request *req)
{
	struct api_error err = {0};
	enum MHD_Result ret;
	json_t *body = NULL, *out = NULL;
	int r;

	if (node && !object_name_valid(node)) {
		api_error_set(&err, 400, NULL, "\"%.64s\" is not a valid node name", node);
		return reply_error(conn, &err);
	}
	if (node) {
		if (strcmp(method, "DELETE") != 0)
			return reply_method_not_allowed(conn, method, "a node's tokens");
		r = auth_revoke(ctx->registry, node, &out, &err);
		if (r == 0)
			log_info("the credentials of node %s were revoked", node);
		return reply_result(conn, r, 200, out, &err);
	}
	if (strcmp(method, "POST") != 0)
		return reply_method_not_allowed(conn, method, "/v1/tokens");
	if (!decode_body(conn, req, &body, &ret))
		return ret;
	r = auth_token_create(ctx->registry, body, &out, &err);
	json_decref(body);
	return reply_result(conn, r, 201, out, &err);
}

static enum MHD_Result route(const struct http_context *ctx, struct MHD_Connection *conn,
			     const char *url, const char *method, struct request *req)
{
	char path[512], *save = NULL, *seg[5] = {0};
	struct api_error err = {0};
	enum MHD_Result ret;
	enum kind kind;
	int n = 0;

	if (k8s_path(url)) { /* kubectl's API next to /v1 (k8s.h): authorized there, by resource */
		const struct k8s_call call = {.who = &req->who,
					      .body = req->body,
					      .len = req->len,
					      .limits = req->limits,
					      .watching = &req->watching};

		return k8s_serve(ctx, conn, url, method, &call);
	}
	if (strlen(url) >= sizeof(path))
		return reply_msg(conn, 404, "no such path");
	strcpy(path, url);
	for (char *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == 5)
			return reply_msg(conn, 404, "no such path");
		seg[n++] = s;
	}
	if (n == 1 && strcmp(seg[0], "metrics") == 0) {
		if (!permitted(
			ctx, conn, req,
			&(struct auth_request){method, AUTH_T_METRICS, AUTH_ANY_KIND, NULL, url},
			&ret))
			return ret;
		return handle_metrics(ctx, conn, method);
	}
	if (n < 2 || strcmp(seg[0], "v1") != 0)
		return reply_msg(conn, 404, "no such path (the API is under /v1)");
	if (n == 2 && strcmp(seg[1], "watch") == 0) {
		if (strcmp(method, "GET") != 0)
			return reply_method_not_allowed(conn, method, url);
		if (!permitted(
			ctx, conn, req,
			&(struct auth_request){method, AUTH_T_WATCH, AUTH_ANY_KIND, NULL, url},
			&ret))
			return ret;
		return handle_watch(ctx, conn, req);
	}
	if (n == 2 && strcmp(seg[1], "join") == 0)
		return handle_join(ctx, conn, method, req);
	if ((n == 2 || n == 3) && strcmp(seg[1], "tokens") == 0) {
		if (!permitted(ctx, conn, req,
			       &(struct auth_request){method, AUTH_T_TOKENS, AUTH_ANY_KIND,
						      n == 3 ? seg[2] : NULL, url},
			       &ret))
			return ret;
		return handle_tokens(ctx, conn, method, n == 3 ? seg[2] : NULL, req);
	}
	if (kind_from_plural(seg[1], &kind) < 0) {
		api_error_set(&err, 404, NULL,
			      "unknown kind \"%.64s\" (networks, ports, nodes, migrations, vms)",
			      seg[1]);
		return reply_error(conn, &err);
	}
	if (n >= 4) {
		struct tunnel_request treq;
		int r = tunnel_parse(kind, seg[2], seg[3], n == 5 ? seg[4] : NULL, &treq, &err);

		if (r == 0 && !object_name_valid(seg[2]))
			r = api_error_set(&err, 400, NULL, "\"%.64s\" is not a valid name", seg[2]);
		if (r == 0 && !permitted(ctx, conn, req,
					 &(struct auth_request){method, AUTH_T_STREAM, (int)kind,
								seg[2], url},
					 &ret))
			return ret;
		if (r == 0) {
			req->upgrade = true;
			return http_stream_serve(ctx, conn, method, &treq, &req->stream);
		}
		if (r != -ENOENT)
			return reply_error(conn, &err);
	}
	if (n > 4)
		return reply_msg(conn, 404, "no such path");
	return handle_kind(ctx, conn, url, method, kind, n >= 3 ? seg[2] : NULL,
			   n == 4 ? seg[3] : NULL, req);
}

static enum MHD_Result handle_healthz(const struct http_context *ctx, struct MHD_Connection *conn)
{
	char holder[LEADER_ID_MAX] = "";
	int64_t rev = 0;
	json_t *reply;

	ctx->store->ops->revision(ctx->store, &rev);
	reply = json_pack("{s:b, s:I, s:s, s:b}", "ok", 1, "revision", (json_int_t)rev, "cluster",
			  ctx->store->ops->cluster_id(ctx->store), "leading",
			  registry_leads(ctx->registry));
	/* Among several controllers: who leads, and this one's name. */
	if (reply && ctx->leader) {
		json_object_set_new(reply, "name", json_string(ctx->leader->id));
		if (leader_holder(ctx->leader, holder) == 0)
			json_object_set_new(reply, "leader", json_string(holder));
	}
	return reply_json(conn, 200, reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	const struct http_context *ctx = srv->ctx;
	struct request *req = *con_cls;
	struct auth_principal who = {.role = AUTH_NODE}; /* join: nobody yet */
	const char *clen;
	char *nbody, msg[160];

	(void)version;
	if (!req) {
		http_limits_header_in(&srv->limits, conn);
		/* a watch (GET /v1/watch, kubectl's ?watch=true) meets the watch cap instead */
		if (strcmp(url, "/v1/watch") != 0 && !(k8s_path(url) && k8s_is_watch(conn)) &&
		    http_limits_requests_full(&srv->limits)) {
			snprintf(
			    msg, sizeof(msg),
			    "too many connections on this socket (at most %u besides watches); "
			    "try again later",
			    (unsigned)HTTP_MAX_REQUEST_CONNECTIONS);
			return reply_json_close(conn, 503, json_pack("{s:s}", "error", msg), true);
		}
		if (strcmp(url, "/v1/healthz") == 0)
			return handle_healthz(ctx, conn);
		/* POST /v1/join carries its join token in the body. */
		if (strcmp(url, "/v1/join") != 0) {
			struct api_error err = {0};
			int r = auth_identify(
			    ctx->store, ctx->token,
			    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
			    &who, &err);

			if (r < 0 && err.status && k8s_path(url))
				return k8s_reply_unauthorized(conn, &err);
			if (r < 0)
				return reply_result(conn, r, 200, NULL, &err);
		}
		clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						   MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen && strtoull(clen, NULL, 10) > API_MAX_BODY)
			return reply_msg(conn, 413, "body is larger than 1 MiB");
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->limits = &srv->limits;
		req->who = who;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!req->too_large && req->len + *upload_data_size > API_MAX_BODY) {
			req->too_large = true;
			free(req->body);
			req->body = NULL;
			req->len = 0;
		}
		if (!req->too_large) {
			nbody = realloc(req->body, req->len + *upload_data_size + 1);
			if (!nbody)
				return MHD_NO;
			memcpy(nbody + req->len, upload_data, *upload_data_size);
			req->body = nbody;
			req->len += *upload_data_size;
			req->body[req->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large)
		return reply_msg(conn, 413, "body is larger than 1 MiB");
	return route(ctx, conn, url, method, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;

	http_limits_answered(&srv->limits, conn,
			     code == MHD_REQUEST_TERMINATED_COMPLETED_OK && !(req && req->upgrade));
	if (req) {
		if (req->watching)
			http_limits_watch_end(&srv->limits, conn);
		http_stream_abandon(req->stream);
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* Connections from one address are capped on TCP only: on the unix socket
 * every client is local and root-owned (mode 0660). */
static unsigned per_address_limit(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family == AF_UNIX)
		return 0;
	return HTTP_MAX_PER_ADDRESS;
}

int http_start(int fd, const struct http_context *ctx, const char *cert_pem, const char *key_pem,
	       struct http_server **out)
{
	/* TLS: the certificate and key lead the options (MHD_OPTION_ARRAY); else none. */
	struct MHD_OptionItem tls[] = {
	    {cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)cert_pem},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem},
	    {MHD_OPTION_END, 0, NULL},
	};
	struct http_server *srv = calloc(1, sizeof(*srv));
	unsigned max_watches = ctx->max_watches ? ctx->max_watches : HTTP_MAX_WATCHES;
	int r;

	if (!srv)
		return -ENOMEM;
	srv->ctx = ctx;
	r = http_limits_start(&srv->limits, max_watches, HTTP_HEADER_DEADLINE_S,
			      HTTP_TIMEOUT_S + HTTP_HEADER_DEADLINE_S);
	if (r < 0)
		goto cleanup;
	srv->daemon = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
		MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE | (cert_pem ? MHD_USE_TLS : 0),
	    0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, tls, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT,
	    max_watches + HTTP_MAX_REQUEST_CONNECTIONS + HTTP_SPARE_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address_limit(fd), MHD_OPTION_THREAD_STACK_SIZE,
	    (size_t)HTTP_THREAD_STACK, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
	    http_limits_notify, &srv->limits, MHD_OPTION_EXTERNAL_LOGGER, log_library,
	    "libmicrohttpd", MHD_OPTION_END);
	if (!srv->daemon) {
		r = -EIO;
		goto cleanup;
	}
	*out = srv;
	return 0;
cleanup:
	http_limits_stop(&srv->limits);
	free(srv);
	return r;
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	http_limits_stop(&srv->limits);
	free(srv);
}
