/* SPDX-License-Identifier: MIT */
/* The ?watch=true stream of a kubevirt.io/v1 collection (k8s_watch.h). */
#include "k8s_watch.h"
#include "http_reply.h"
#include "k8s_reply.h"
#include "k8s_table.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct k8s_stream {
	struct http_pending out; /* first (http_pending_read): made, not yet handed to MHD */
	struct registry *reg;
	struct watch_hub *hub;
	const struct k8s_resource *res;
	bool table;   /* each event's object a Table of one row (k8s_table.h) */
	json_t *sent; /* name -> the view last sent */
	int64_t seen; /* the revision of the last list */
	int64_t deadline_ms, quiet_since_ms; /* deadline 0: none */
};

static int append(const struct k8s_resource *res, bool table, char **buf, size_t *len,
		  const char *type, const json_t *obj)
{
	json_t *one = table ? json_pack("[O]", obj) : NULL;
	json_t *t = one ? k8s_table(res, one, NULL, (int64_t)time(NULL)) : NULL;
	json_t *ev = table ? (t ? json_pack("{s:s, s:o}", "type", type, "object", t) : NULL)
			   : json_pack("{s:s, s:O}", "type", type, "object", obj);

	json_decref(one);
	char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL, *nbuf;
	size_t n;

	json_decref(ev);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	nbuf = realloc(*buf, *len + n + 1);
	if (!nbuf) {
		free(text);
		return -ENOMEM;
	}
	memcpy(nbuf + *len, text, n);
	nbuf[*len + n] = '\n';
	*buf = nbuf;
	*len += n + 1;
	free(text);
	return 0;
}

int k8s_watch_diff(const struct k8s_resource *res, json_t *sent, const json_t *list, bool emit,
		   bool table, char **buf, size_t *len)
{
	json_t *now = json_object(), *item, *view, *old;
	const char *name;
	void *tmp;
	size_t i;
	int r = 0;

	if (!now)
		return -ENOMEM;
	*buf = NULL;
	*len = 0;
	json_array_foreach(json_object_get(list, "items"), i, item)
	{
		if (res->view(item, &view) < 0)
			continue; /* -ENOENT: no such view of it (a VM that does not run) */
		name =
		    json_string_value(json_object_get(json_object_get(view, "metadata"), "name"));
		old = json_object_get(sent, name);
		if (emit && (!old || !json_equal(old, view)))
			r = append(res, table, buf, len, old ? "MODIFIED" : "ADDED", view);
		if (r == 0)
			r = json_object_set_new(now, name, view) ? -ENOMEM : 0;
		if (r < 0)
			goto cleanup;
	}
	json_object_foreach_safe(sent, tmp, name, old)
	{
		if (json_object_get(now, name))
			continue;
		if (emit && (r = append(res, table, buf, len, "DELETED", old)) < 0)
			goto cleanup;
	}
	json_object_clear(sent);
	r = json_object_update(sent, now) ? -ENOMEM : 0;
cleanup:
	json_decref(now);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return r;
}

static int refresh(struct k8s_stream *w, bool emit)
{
	struct api_error err = {0};
	json_t *list = NULL;
	int r;

	r = registry_list(w->reg, w->res->source, &list, &err);
	if (r < 0)
		return r;
	w->seen = json_integer_value(json_object_get(list, "revision"));
	r = k8s_watch_diff(w->res, w->sent, list, emit, w->table, &w->out.buf, &w->out.len);
	json_decref(list);
	return r;
}

/* The next batch: a keep-alive line after a quiet while, else the changes since the last. */
static int stream_fill(struct http_pending *p)
{
	struct k8s_stream *w = (struct k8s_stream *)p;
	int64_t now = clock_mono_ms();
	int r;

	if (w->deadline_ms && now >= w->deadline_ms)
		return 1;
	if (now - w->quiet_since_ms >= K8S_WATCH_KEEPALIVE_MS) {
		w->quiet_since_ms = now;
		w->out.buf = strdup("\n");
		if (!w->out.buf)
			return -ENOMEM;
		w->out.len = 1;
		return 0;
	}
	r = watch_hub_wait(w->hub, w->seen, K8S_WATCH_POLL_MS);
	if (r == -ECANCELED)
		return 1;
	r = refresh(w, true);
	if (r < 0) {
		log_error("kubernetes watch: listing %s failed: %s", w->res->name, strerror(-r));
		return r;
	}
	if (w->out.len)
		w->quiet_since_ms = clock_mono_ms();
	return 0;
}

static void stream_free(void *cls)
{
	struct k8s_stream *w = cls;

	json_decref(w->sent);
	http_pending_reset(&w->out);
	free(w);
}

enum MHD_Result k8s_watch_serve(const struct http_context *ctx, struct MHD_Connection *conn,
				const struct k8s_resource *res)
{
	const char *rv =
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "resourceVersion");
	const char *timeout =
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "timeoutSeconds");
	const struct k8s_target t = {.resource = res->name, .kind = res->name};
	struct MHD_Response *resp;
	struct k8s_stream *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w || !(w->sent = json_object())) {
		free(w);
		return MHD_NO;
	}
	w->out.fill = stream_fill;
	w->reg = ctx->registry;
	w->hub = ctx->hub;
	w->res = res;
	w->table = k8s_table_wanted(conn);
	w->quiet_since_ms = clock_mono_ms();
	if (timeout && atoll(timeout) > 0)
		w->deadline_ms = w->quiet_since_ms + atoll(timeout) * 1000;
	/* from "now" (a list's version): what exists is known; else all of it is news */
	r = refresh(w, !rv || !rv[0] || strcmp(rv, "0") == 0);
	if (r < 0) {
		stream_free(w);
		return k8s_reply_error(conn, 500, &t, "cannot list %s", res->name);
	}
	resp = http_stream_response(http_pending_read, w, stream_free, "application/json");
	if (!resp) {
		stream_free(w);
		return MHD_NO;
	}
	return http_queue(conn, MHD_HTTP_OK, resp);
}
