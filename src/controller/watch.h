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

struct watch_hub {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t revision;
	bool closing;
};

int watch_hub_init(struct watch_hub *hub, int64_t revision);
void watch_hub_destroy(struct watch_hub *hub);
/* A registry on_commit callback (ctx is the hub). */
void watch_hub_notify(void *ctx, int64_t revision);
void watch_hub_close(struct watch_hub *hub);
/* Waits until the revision passes `since`: 0, -ETIMEDOUT, or -ECANCELED when closing. */
int watch_hub_wait(struct watch_hub *hub, int64_t since, int timeout_ms);

/*
 * A streaming response of the events after since. -ESTALE (with *oldest set)
 * when since is older than the oldest kept event.
 */
int watch_response_new(struct store *store, struct watch_hub *hub, int64_t since,
		       struct MHD_Response **out, int64_t *oldest);

#endif
