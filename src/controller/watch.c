/* SPDX-License-Identifier: MIT */
#include "watch.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct watch_stream {
	struct store *store;
	struct watch_hub *hub;
	int64_t last; /* revision of the last event sent */
	char *buf;
	size_t len, off;
};

int watch_hub_init(struct watch_hub *hub, int64_t revision)
{
	pthread_condattr_t attr;
	int r;

	memset(hub, 0, sizeof(*hub));
	hub->revision = revision;
	r = pthread_condattr_init(&attr);
	if (r)
		return -r;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	r = pthread_cond_init(&hub->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (r)
		return -r;
	pthread_mutex_init(&hub->lock, NULL);
	return 0;
}

void watch_hub_destroy(struct watch_hub *hub)
{
	pthread_cond_destroy(&hub->cond);
	pthread_mutex_destroy(&hub->lock);
}

void watch_hub_notify(void *ctx, int64_t revision)
{
	struct watch_hub *hub = ctx;

	pthread_mutex_lock(&hub->lock);
	if (revision > hub->revision)
		hub->revision = revision;
	pthread_cond_broadcast(&hub->cond);
	pthread_mutex_unlock(&hub->lock);
}

void watch_hub_close(struct watch_hub *hub)
{
	pthread_mutex_lock(&hub->lock);
	hub->closing = true;
	pthread_cond_broadcast(&hub->cond);
	pthread_mutex_unlock(&hub->lock);
}

int watch_hub_wait(struct watch_hub *hub, int64_t since, int timeout_ms)
{
	struct timespec deadline = clock_mono_after(timeout_ms);
	int r = 0;

	pthread_mutex_lock(&hub->lock);
	while (!hub->closing && hub->revision <= since && r == 0)
		r = pthread_cond_timedwait(&hub->cond, &hub->lock, &deadline);
	if (hub->closing)
		r = -ECANCELED;
	else if (hub->revision > since)
		r = 0;
	else
		r = -ETIMEDOUT;
	pthread_mutex_unlock(&hub->lock);
	return r;
}

static bool hub_closing(struct watch_hub *hub)
{
	bool closing;

	pthread_mutex_lock(&hub->lock);
	closing = hub->closing;
	pthread_mutex_unlock(&hub->lock);
	return closing;
}

/* Appends one JSON line to the stream's buffer. */
static int buffer_line(struct watch_stream *w, const json_t *line)
{
	char *text = json_dumps(line, JSON_COMPACT);
	size_t n;
	char *nbuf;

	if (!text)
		return -ENOMEM;
	n = strlen(text);
	nbuf = realloc(w->buf, w->len + n + 1);
	if (!nbuf) {
		free(text);
		return -ENOMEM;
	}
	memcpy(nbuf + w->len, text, n);
	nbuf[w->len + n] = '\n';
	w->buf = nbuf;
	w->len += n + 1;
	free(text);
	return 0;
}

/* Fills the buffer with the next events, or a bookmark after an idle wait. */
static int refill(struct watch_stream *w)
{
	json_t *events = NULL, *ev, *bookmark;
	int64_t oldest;
	size_t i;
	int r;

	for (;;) {
		if (hub_closing(w->hub))
			return -ECANCELED;
		r = w->store->ops->events(w->store, w->last, WATCH_BATCH, &events, &oldest);
		if (r < 0)
			return r; /* -ESTALE: a slow watcher was overtaken by compaction */
		if (json_array_size(events) > 0)
			break;
		json_decref(events);
		events = NULL;
		r = watch_hub_wait(w->hub, w->last, WATCH_BOOKMARK_MS);
		if (r == -ETIMEDOUT) {
			bookmark = json_pack("{s:s, s:I}", "type", "BOOKMARK", "revision",
					     (json_int_t)w->last);
			if (!bookmark)
				return -ENOMEM;
			r = buffer_line(w, bookmark);
			json_decref(bookmark);
			return r;
		}
		if (r < 0)
			return r;
	}
	json_array_foreach(events, i, ev)
	{
		r = buffer_line(w, ev);
		if (r < 0)
			break;
		w->last = json_integer_value(json_object_get(ev, "revision"));
	}
	json_decref(events);
	return r;
}

static ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watch_stream *w = cls;
	size_t n;
	int r;

	(void)pos;
	if (w->off == w->len) {
		free(w->buf);
		w->buf = NULL;
		w->len = w->off = 0;
		r = refill(w);
		if (r == -ECANCELED || r == -ESTALE)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r < 0) {
			log_error("watch: reading events failed: %s", strerror(-r));
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	n = w->len - w->off < max ? w->len - w->off : max;
	memcpy(buf, w->buf + w->off, n);
	w->off += n;
	return (ssize_t)n;
}

static void watch_free(void *cls)
{
	struct watch_stream *w = cls;

	free(w->buf);
	free(w);
}

int watch_response_new(struct store *store, struct watch_hub *hub, int64_t since,
		       struct MHD_Response **out, int64_t *oldest)
{
	struct watch_stream *w;
	struct MHD_Response *resp;
	json_t *probe = NULL;
	int r;

	r = store->ops->events(store, since, 0, &probe, oldest);
	json_decref(probe);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->store = store;
	w->hub = hub;
	w->last = since;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, watch_read, w,
						 watch_free);
	if (!resp) {
		free(w);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	*out = resp;
	return 0;
}
