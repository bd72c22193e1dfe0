/* SPDX-License-Identifier: MIT */
/* Routing of the Kubernetes API (k8s.h). */
#include "k8s.h"
#include "k8s_discovery.h"
#include "k8s_objects.h"
#include "k8s_reply.h"
#include "k8s_watch.h"
#include "k8s_view.h"
#include "lib/kubevirt.h"

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

static bool is_watch(struct MHD_Connection *conn)
{
	const char *w = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "watch");

	return w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0);
}

/* /apis/kubevirt.io/v1/[namespaces/NS/]RES[/NAME] */
static enum MHD_Result serve_resource(const struct http_context *ctx, struct MHD_Connection *conn,
				      int n, char **seg, const char *method, const char *body,
				      size_t len)
{
	struct k8s_request kr = {.method = method, .body = body, .len = len};
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
	if (!kr.name && strcmp(method, "GET") == 0 && is_watch(conn))
		return k8s_watch_serve(ctx, conn, kr.res);
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
				 "\x32\x02"
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result k8s_serve(const struct http_context *ctx, struct MHD_Connection *conn,
			  const char *url, const char *method, const char *body, size_t len)
{
	char path[512], *save = NULL, *seg[MAX_SEGMENTS];
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
		return serve_resource(ctx, conn, n, seg, method, body, len);
	if (n == 2 && strcmp(seg[0], "openapi") == 0 && strcmp(seg[1], "v2") == 0 &&
	    strcmp(method, "GET") == 0)
		return openapi_v2(conn);
	doc = strcmp(method, "GET") == 0 ? k8s_discovery(n, seg) : NULL;
	if (doc)
		return k8s_reply(conn, 200, doc, NULL);
	/* /openapi/v2, /openapi/v3 and the rest: kubectl copes without a schema */
	return k8s_reply_error(conn, 404, NULL, "the server could not find the requested resource");
}
