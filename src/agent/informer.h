/* SPDX-License-Identifier: MIT */
/*
 * informer: keeps a cache of the controller's Networks, Ports, Nodes and VMs
 * (a controller that answers 404 to /v1/vms has none) on its own thread (own
 * API client), the Kubernetes informer way: list every
 * kind, then GET /v1/watch?since=REV and apply each event; a 410 (compacted)
 * or a broken stream means list again. Lists are taken one kind after the
 * other, so the watch starts at the lowest of their revisions: replayed events
 * are idempotent. After every change (or revision move) one byte-count is
 * added to notify_fd (an eventfd) so the main loop can reconcile; a burst of
 * events becomes one wake-up. A line that is not a valid event is logged and
 * skipped. Every list must come from the cluster pinned in pin_path
 * (clusterpin.h): a list from another one is refused (logged once, retried
 * with backoff) and the cache stays as it was.
 */
#ifndef GODWIT_AGENT_INFORMER_H
#define GODWIT_AGENT_INFORMER_H

#include <stdbool.h>

#include "agent/cache.h"

struct informer;

/* pin_path: the cluster pin (clusterpin.h); NULL: no pin (tests). */
int informer_start(const char *server, const char *token, const char *ca_file, const char *pin_path,
		   int notify_fd, struct informer **out);
/* Asks the thread to stop and waits for it up to timeout_ms; frees it when
 * it stopped (else leaves it to process exit). Accepts NULL. */
void informer_stop(struct informer *inf, long timeout_ms);

/* A deep copy of the cache; -EAGAIN until the first list succeeded. */
int informer_snapshot(struct informer *inf, struct cache *out);

#endif
