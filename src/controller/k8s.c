/* SPDX-License-Identifier: MIT */
/* Routing of the Kubernetes API (k8s.h). */
#include "k8s.h"
#include "k8s_discovery.h"
#include "k8s_objects.h"
#include "k8s_reply.h"
#include "k8s_watch.h"
#include "k8s_view.h"
#include "lib/kubevirt.h"

#include <stdio.h>
#include <string.h>

#define MAX_SEGMENTS 7

bool k8s_path(const char *url)
{
	static const char *const roots[] = {"/api", "/apis", "/version", "/openapi", NULL};

	for (size_t i = 0; roots[i]; i++) {
		size_t n = strlen(roots[i]);

		if (strncmp(url, roots[i], n) == 0 && (url[n] == '\0' || url[n] == '/'))
			return true;
	}
	return false;
}

bool k8s_is_watch(struct MHD_Connection *conn)
{
	const char *w = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "watch");

	return w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0);
}

size_t k8s_auth_requests(const char *method, const struct k8s_resource *res, const char *name,
			 bool watch, const char *url, struct auth_request *out)
{
	/* the godwit method of the verb: apply (merge patch) and replace update */
	const char *m = strcmp(method, "PATCH") == 0 ? "PUT" : method;
	size_t n = 0;

	if (!res) {
		out[n++] = (struct auth_request){m, AUTH_T_DISCOVERY, AUTH_ANY_KIND, NULL, url};
		return n;
	}
	if (watch && !name && strcmp(m, "GET") == 0) {
		out[n++] = (struct auth_request){m, AUTH_T_WATCH, (int)res->source, NULL, url};
		return n;
	}
	out[n++] = (struct auth_request){m, AUTH_T_OBJECTS, (int)res->source, name, url};
	if (res->source == KIND_MIGRATION && name && strcmp(m, "DELETE") == 0)
		/* k8s_objects.c: the delete of a migration aborts it first */
		out[n++] = (struct auth_request){"POST", AUTH_T_MIGRATION_ACTION, KIND_MIGRATION,
						 name, url};
	return n;
}

/* Whether the bearer may make the request (auth.h's table); else answers a 403 Status. */
static bool permitted(const struct http_context *ctx, struct MHD_Connection *conn,
		      const struct k8s_call *call, const char *url, const char *method,
		      const struct k8s_resource *res, const char *name, bool watch,
		      enum MHD_Result *ret)
{
	struct auth_request areq[K8S_AUTH_MAX];
	size_t n = k8s_auth_requests(method, res, name, watch, url, areq);

	for (size_t i = 0; i < n; i++) {
		struct api_error err = {0};
		struct k8s_status st = {0};
		const struct k8s_target t = {.resource = res ? res->name : NULL,
					     .kind = res ? res->kind : NULL,
					     .name = name};

		if (auth_check(ctx->registry, call->who, &areq[i], &err) == 0)
			continue;
		*ret = k8s_reply_api_error(conn, &err, &t, &st);
		k8s_status_clear(&st);
		return false;
	}
	return true;
}

enum MHD_Result k8s_reply_unauthorized(struct MHD_Connection *conn, const struct api_error *err)
{
	struct k8s_status st = {0};
	enum MHD_Result ret = k8s_reply_api_error(conn, err, NULL, &st);

	k8s_status_clear(&st);
	return ret;
}

/* A watch counts against the listener's cap (http_limits.h); else a 503 Status. */
static bool watch_admitted(struct MHD_Connection *conn, const struct k8s_call *call,
			   enum MHD_Result *ret)
{
	if (!call->limits)
		return true;
	if (!http_limits_watch_begin(call->limits, conn)) {
		*ret = k8s_reply_error(conn, 503, NULL,
				       "too many watches on this socket (at most %u at a time); "
				       "try again later",
				       call->limits->max_watches);
		return false;
	}
	if (call->watching)
		*call->watching = true;
	return true;
}

/* /apis/kubevirt.io/v1/[namespaces/NS/]RES[/NAME] */
static enum MHD_Result serve_resource(const struct http_context *ctx, struct MHD_Connection *conn,
				      const char *url, int n, char **seg, const char *method,
				      const struct k8s_call *call)
{
	struct k8s_request kr = {.method = method, .body = call->body, .len = call->len};
	enum MHD_Result ret;
	bool watch;
	int at = 3;

	if (n >= 5 && strcmp(seg[3], "namespaces") == 0) {
		if (strcmp(seg[4], KUBEVIRT_NAMESPACE) != 0) {
			const struct k8s_target t = {.resource = "namespaces", .name = seg[4]};

			return k8s_reply_error(conn, 404, &t,
					       "namespaces \"%.63s\" not found (godwit has only "
					       "the namespace \"default\")",
					       seg[4]);
		}
		at = 5;
	}
	if (n <= at || n > at + 2)
		return k8s_reply_error(conn, 404, NULL,
				       "the server could not find the requested "
				       "resource");
	kr.res = k8s_resource_find(seg[at]);
	if (!kr.res || strcmp(seg[at], kr.res->name) != 0)
		return k8s_reply_error(
		    conn, 404, NULL,
		    "the server could not find the requested resource "
		    "(kubevirt.io/v1 has virtualmachines, "
		    "virtualmachineinstances, virtualmachineinstancemigrations)");
	kr.name = n == at + 2 ? seg[at + 1] : NULL;
	watch = !kr.name && strcmp(method, "GET") == 0 && k8s_is_watch(conn);
	if (!permitted(ctx, conn, call, url, method, kr.res, kr.name, watch, &ret))
		return ret;
	if (watch)
		return watch_admitted(conn, call, &ret) ? k8s_watch_serve(ctx, conn, kr.res) : ret;
	return k8s_objects_serve(ctx, conn, &kr);
}

/*
 * /openapi/v2 without definitions: kubectl before 1.25 validates a manifest
 * against it and passes kinds it has no schema for, as ours; it asks for
 * protobuf (gnostic's openapi_v2.Document: swagger "2.0", info {title, version}).
 */
static enum MHD_Result openapi_v2(struct MHD_Connection *conn)
{
	static const char pb[] = "\x0a\x03"
				 "2.0"
				 "\x12\x0c\x0a\x06"
				 "godwit"
				 "\x12\x02" /* Info.version = 2 */
				 "v1";
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!accept || !strstr(accept, "protobuf"))
		return k8s_reply(conn, 200,
				 json_pack("{s:s, s:{s:s, s:s}, s:{}, s:{}}", "swagger", "2.0",
					   "info", "title", "godwit", "version", K8S_VERSION,
					   "paths", "definitions"),
				 NULL);
	resp = MHD_create_response_from_buffer(sizeof(pb) - 1, (void *)pb, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	/* as kube-apiserver answered then: the type asked for is not a valid
	 * media type for Go's mime parser ('@'), which kubectl 1.20 runs on it */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result k8s_serve(const struct http_context *ctx, struct MHD_Connection *conn,
			  const char *url, const char *method, const struct k8s_call *call)
{
	char path[512], *save = NULL, *seg[MAX_SEGMENTS];
	enum MHD_Result ret;
	json_t *doc;
	int n = 0;

	if (strlen(url) >= sizeof(path))
		return k8s_reply_error(conn, 404, NULL,
				       "the server could not find the requested "
				       "resource");
	strcpy(path, url);
	for (char *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == MAX_SEGMENTS)
			return k8s_reply_error(conn, 404, NULL,
					       "the server could not find the "
					       "requested resource");
		seg[n++] = s;
	}
	if (n >= 4 && strcmp(seg[0], "apis") == 0 && strcmp(seg[1], K8S_GROUP) == 0 &&
	    strcmp(seg[2], K8S_VERSION) == 0)
		return serve_resource(ctx, conn, url, n, seg, method, call);
	if (!permitted(ctx, conn, call, url, method, NULL, NULL, false, &ret))
		return ret;
	if (n == 2 && strcmp(seg[0], "openapi") == 0 && strcmp(seg[1], "v2") == 0 &&
	    strcmp(method, "GET") == 0)
		return openapi_v2(conn);
	doc = strcmp(method, "GET") == 0 ? k8s_discovery(n, seg) : NULL;
	if (doc)
		return k8s_reply(conn, 200, doc, NULL);
	/* /openapi/v2, /openapi/v3 and the rest: kubectl copes without a schema */
	return k8s_reply_error(conn, 404, NULL, "the server could not find the requested resource");
}
