/* SPDX-License-Identifier: MIT */
#include "watch.h"
#include "http_reply.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct watch_stream {
	struct http_pending out; /* first (http_pending_read): made, not yet handed to MHD */
	struct store *store;
	struct watch_hub *hub;
	int64_t last; /* revision of the last event sent */
};

int watch_hub_init(struct watch_hub *hub, struct store *store, int64_t revision)
{
	pthread_condattr_t attr;
	int r;

	memset(hub, 0, sizeof(*hub));
	hub->revision = revision;
	hub->ring_base = hub->ring_last = revision;
	if (store) {
		hub->ring = calloc(WATCH_RING, sizeof(*hub->ring));
		if (!hub->ring)
			return -ENOMEM;
		hub->store = store;
	}
	r = pthread_condattr_init(&attr);
	if (r)
		return -r;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	r = pthread_cond_init(&hub->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (r)
		return -r;
	pthread_mutex_init(&hub->lock, NULL);
	pthread_mutex_init(&hub->fill_lock, NULL);
	return 0;
}

/* Drops every line; the ring then covers only what comes after `from`. */
static void ring_reset(struct watch_hub *hub, int64_t from)
{
	for (size_t i = 0; i < hub->n; i++)
		free(hub->ring[(hub->head + i) % WATCH_RING].text);
	hub->head = hub->n = 0;
	hub->ring_base = hub->ring_last = from;
}

void watch_hub_destroy(struct watch_hub *hub)
{
	ring_reset(hub, 0);
	free(hub->ring);
	pthread_cond_destroy(&hub->cond);
	pthread_mutex_destroy(&hub->lock);
	pthread_mutex_destroy(&hub->fill_lock);
}

/* Evicts the oldest revision's lines, all of them (the ring stays complete). */
static void ring_evict_revision(struct watch_hub *hub)
{
	int64_t rev = hub->ring[hub->head].revision;

	while (hub->n > 0 && hub->ring[hub->head].revision == rev) {
		free(hub->ring[hub->head].text);
		hub->head = (hub->head + 1) % WATCH_RING;
		hub->n--;
	}
	hub->ring_base = rev;
}

/* Under lock: the lines of events (revision order, every one after ring_last). */
static void ring_append(struct watch_hub *hub, struct watch_line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (hub->n == WATCH_RING)
			ring_evict_revision(hub);
		hub->ring[(hub->head + hub->n++) % WATCH_RING] = lines[i];
		hub->ring_last = lines[i].revision;
	}
	if (hub->n == 0)
		hub->ring_base = hub->ring_last;
}

/* The events after since as lines; *n of them. */
static int read_lines(struct store *store, int64_t since, struct watch_line **out, size_t *n)
{
	json_t *events = NULL, *ev;
	struct watch_line *lines;
	int64_t oldest;
	size_t i, count;
	int r;

	r = store->ops->events(store, since, WATCH_RING, &events, &oldest);
	if (r < 0)
		return r;
	count = json_array_size(events);
	lines = calloc(count + 1, sizeof(*lines));
	if (!lines) {
		json_decref(events);
		return -ENOMEM;
	}
	json_array_foreach(events, i, ev)
	{
		char *text = json_dumps(ev, JSON_COMPACT);
		size_t len = text ? strlen(text) : 0;

		lines[i].text = text ? realloc(text, len + 2) : NULL;
		if (!lines[i].text) {
			free(text);
			r = -ENOMEM;
			break;
		}
		memcpy(lines[i].text + len, "\n", 2);
		lines[i].len = len + 1;
		lines[i].revision = json_integer_value(json_object_get(ev, "revision"));
	}
	json_decref(events);
	if (r < 0) {
		while (i-- > 0)
			free(lines[i].text);
		free(lines);
		return r;
	}
	*out = lines;
	*n = count;
	return 0;
}

/* The new events into the ring: one store read for every watcher. */
static void ring_fill(struct watch_hub *hub, int64_t revision)
{
	struct watch_line *lines = NULL;
	size_t n = 0;
	int64_t since;
	int r;

	pthread_mutex_lock(&hub->lock);
	since = hub->ring_last;
	pthread_mutex_unlock(&hub->lock);
	if (revision <= since)
		return;
	r = read_lines(hub->store, since, &lines, &n);
	pthread_mutex_lock(&hub->lock);
	if (r < 0 || n == 0 || n == WATCH_RING || lines[n - 1].revision < revision) {
		/* incomplete (a failed read, a burst larger than the ring): the
		 * streams read the store until they are past it */
		for (size_t i = 0; i < n; i++)
			free(lines[i].text);
		ring_reset(hub, revision);
	} else {
		ring_append(hub, lines, n);
	}
	pthread_mutex_unlock(&hub->lock);
	free(lines);
}

void watch_hub_notify(void *ctx, int64_t revision)
{
	struct watch_hub *hub = ctx;

	if (hub->store) {
		pthread_mutex_lock(&hub->fill_lock);
		ring_fill(hub, revision);
		pthread_mutex_unlock(&hub->fill_lock);
	}
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
	nbuf = realloc(w->out.buf, w->out.len + n + 1);
	if (!nbuf) {
		free(text);
		return -ENOMEM;
	}
	memcpy(nbuf + w->out.len, text, n);
	nbuf[w->out.len + n] = '\n';
	w->out.buf = nbuf;
	w->out.len += n + 1;
	free(text);
	return 0;
}

int watch_hub_lines(struct watch_hub *hub, int64_t since, char **buf, size_t *len, int64_t *last,
		    bool *served)
{
	size_t i, taken = 0, bytes = 0, first = 0;
	int64_t upto = since;
	char *out, *p;
	int r = 0;

	pthread_mutex_lock(&hub->lock);
	*served = hub->store && since >= hub->ring_base;
	if (!*served)
		goto unlock;
	for (i = 0; i < hub->n && hub->ring[(hub->head + i) % WATCH_RING].revision <= since; i++)
		;
	first = i;
	for (; i < hub->n; i++) {
		const struct watch_line *l = &hub->ring[(hub->head + i) % WATCH_RING];

		if (taken >= WATCH_BATCH && l->revision != upto)
			break; /* whole revisions only */
		bytes += l->len;
		upto = l->revision;
		taken++;
	}
	if (taken == 0)
		goto unlock;
	out = malloc(bytes);
	if (!out) {
		r = -ENOMEM;
		goto unlock;
	}
	p = out;
	for (i = first; i < first + taken; i++) {
		const struct watch_line *l = &hub->ring[(hub->head + i) % WATCH_RING];

		memcpy(p, l->text, l->len);
		p += l->len;
	}
	*buf = out;
	*len = bytes;
	*last = upto;
unlock:
	pthread_mutex_unlock(&hub->lock);
	return r;
}

/* Fills the buffer with the next events, or a bookmark after an idle wait. */
static int refill(struct watch_stream *w)
{
	json_t *events = NULL, *ev, *bookmark;
	int64_t oldest;
	size_t i;
	int r;

	for (;;) {
		bool served;

		if (hub_closing(w->hub))
			return -ECANCELED;
		r = watch_hub_lines(w->hub, w->last, &w->out.buf, &w->out.len, &w->last, &served);
		if (r < 0 || w->out.len > 0)
			return r;
		if (served)
			goto wait;
		r = w->store->ops->events(w->store, w->last, WATCH_BATCH, &events, &oldest);
		if (r < 0)
			return r; /* -ESTALE: a slow watcher was overtaken by compaction */
		if (json_array_size(events) > 0)
			break;
		json_decref(events);
		events = NULL;
	wait:
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

/* refill() as the stream's fill: the hub's closing and a compacted past end the stream. */
static int watch_fill(struct http_pending *p)
{
	int r = refill((struct watch_stream *)p);

	if (r == -ECANCELED || r == -ESTALE)
		return 1;
	if (r < 0)
		log_error("watch: reading events failed: %s", strerror(-r));
	return r;
}

static void watch_free(void *cls)
{
	struct watch_stream *w = cls;

	http_pending_reset(&w->out);
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
	w->out.fill = watch_fill;
	w->store = store;
	w->hub = hub;
	w->last = since;
	resp = http_stream_response(http_pending_read, w, watch_free, "application/x-ndjson");
	if (!resp) {
		free(w);
		return -ENOMEM;
	}
	*out = resp;
	return 0;
}
