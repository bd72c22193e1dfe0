/* SPDX-License-Identifier: MIT */
/*
 * watch: the GET /v1/watch stream.
 *
 * A hub holds the latest committed revision and a condition variable that the
 * registry signals at every commit. Each watch is an MHD response fed by a
 * content-reader callback; MHD runs a thread per connection, so the callback
 * may block: it sends the stored events after `since` in batches, then waits
 * on the hub for new ones, sending a BOOKMARK line every 5 s while idle.
 * watch_hub_close() wakes every waiting stream and ends it, so that shutting
 * the HTTP daemon down never hangs on an open watch.
 *
 * Fan-out: at every commit the hub reads the new events from the store once
 * and keeps their lines in a ring (the last WATCH_RING); a stream whose
 * revision the ring covers copies its lines from there, so a commit costs
 * one store read and one serialisation whatever the number of watchers
 * (a thousand agents each watching: a thousand wake-ups, not a thousand
 * queries under the store's lock). A stream from before the ring reads the
 * store, as before, until it catches up.
 */
#ifndef GODWIT_CONTROLLER_WATCH_H
#define GODWIT_CONTROLLER_WATCH_H

#include "store.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define WATCH_BOOKMARK_MS 5000
#define WATCH_BATCH	  256

#define WATCH_RING 4096 /* event lines */

struct watch_line {
	int64_t revision;
	char *text; /* with its '\n' */
	size_t len;
};

struct watch_hub {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t revision;
	bool closing;
	struct store *store;	   /* NULL: no ring */
	pthread_mutex_t fill_lock; /* one filler at a time, outside lock */
	struct watch_line *ring;   /* WATCH_RING slots, the oldest at head */
	size_t head, n;
	int64_t ring_base, ring_last; /* the ring holds every event in (base, last] */
};

/* store: where the ring is filled from (NULL: every stream reads the store). */
int watch_hub_init(struct watch_hub *hub, struct store *store, int64_t revision);
void watch_hub_destroy(struct watch_hub *hub);
/* A registry on_commit callback (ctx is the hub). */
void watch_hub_notify(void *ctx, int64_t revision);
void watch_hub_close(struct watch_hub *hub);
/*
 * The ring's lines after since, whole revisions, about WATCH_BATCH of them:
 * *buf (malloc'd, *len bytes) and *last (the revision of the last line); none
 * written when there is nothing new. *served: the ring covers since (else
 * the store must be read).
 */
int watch_hub_lines(struct watch_hub *hub, int64_t since, char **buf, size_t *len, int64_t *last,
		    bool *served);
/* Waits until the revision passes `since`: 0, -ETIMEDOUT, or -ECANCELED when closing. */
int watch_hub_wait(struct watch_hub *hub, int64_t since, int timeout_ms);

/*
 * A streaming response of the events after since. -ESTALE (with *oldest set)
 * when since is older than the oldest kept event.
 */
int watch_response_new(struct store *store, struct watch_hub *hub, int64_t since,
		       struct MHD_Response **out, int64_t *oldest);

#endif
