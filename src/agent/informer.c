/* SPDX-License-Identifier: MIT */
#include "agent/informer.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/clusterpin.h"
#include "lib/apiclient.h"
#include "lib/log.h"
#include "lib/worker.h"

#define WATCH_IDLE_TIMEOUT_MS 15000 /* the server sends a BOOKMARK every 5 s */
#define BACKOFF_MIN_MS	      200
#define BACKOFF_MAX_MS	      5000

struct informer {
	struct worker worker;
	pthread_mutex_t lock;
	bool synced;
	struct cache cache; /* under lock */
	int notify_fd;
	char *server;
	char *token;
	char *pin_path; /* NULL: no pin */
	struct api_client *client;
	bool unreachable_logged;
	bool refused_logged;
};

static void notify(struct informer *inf)
{
	uint64_t one = 1;

	if (write(inf->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn_errno(-errno, "cannot notify the main loop");
}

static bool stopping(struct informer *inf)
{
	return worker_stopping(&inf->worker);
}

/* Sleeps ms unless asked to stop; returns true when stopping. */
static bool pause_ms(struct informer *inf, long ms)
{
	return worker_sleep(&inf->worker, ms, false);
}

/* Every list reply names the same cluster (a controller that names none: ""). */
static int note_cluster(const json_t *reply, const char *path, char *cluster, size_t len)
{
	const char *c = json_string_value(json_object_get(reply, "cluster"));

	if (!c)
		return 0;
	if (cluster[0] && strcmp(cluster, c) != 0) {
		log_warn("GET %s: cluster %.64s, but the lists before it came from cluster %s",
			 path, c, cluster);
		return -EPROTO;
	}
	snprintf(cluster, len, "%s", c);
	return 0;
}

/* The lists came from the pinned cluster (or pinned it now). */
static int check_pin(struct informer *inf, const char *cluster)
{
	char pinned[CLUSTERPIN_ID_MAX + 1] = "";
	int r;

	if (!inf->pin_path || !cluster[0])
		return 0;
	r = clusterpin_check(inf->pin_path, cluster, pinned, sizeof(pinned));
	if (r == 0) {
		if (inf->refused_logged)
			log_info("controller %s serves this node's cluster %s again", inf->server,
				 cluster);
		inf->refused_logged = false;
		return 0;
	}
	if (!inf->refused_logged && r == -EPERM)
		log_error("controller %s serves cluster %s, but this node belongs to cluster %s "
			  "(pinned in %s): its objects are refused and every port and VM stays "
			  "as it is; if the store was replaced on purpose, remove that file",
			  inf->server, cluster, pinned, inf->pin_path);
	else if (!inf->refused_logged)
		log_error_errno(r, "cannot check cluster %.64s against the pin %s", cluster,
				inf->pin_path);
	inf->refused_logged = true;
	return r;
}

/* Lists every kind into a fresh cache; its revision is the lowest list's. */
static int list_all(struct informer *inf, struct cache *out)
{
	char cluster[CLUSTERPIN_ID_MAX + 1] = "";
	struct cache fresh;
	uint64_t rev, min_rev = UINT64_MAX;
	json_t *reply = NULL;
	char path[64];
	long status;
	int r;

	r = cache_init(&fresh);
	if (r < 0)
		return r;
	for (int k = 0; k < CACHE__KINDS; k++) {
		snprintf(path, sizeof(path), "/v1/%s", cache_kind_path(k));
		r = api_request(inf->client, "GET", path, NULL, &status, &reply);
		if (r < 0)
			goto cleanup;
		if (status == 404 && (k == CACHE_VMS || k == CACHE_MIGRATIONS)) {
			/* A controller without VMs: none to run. */
			json_decref(reply);
			reply = NULL;
			continue;
		}
		if (status != 200) {
			log_warn("GET %s: HTTP %ld: %s", path, status, api_error_text(reply));
			r = -EPROTO;
			goto cleanup;
		}
		r = note_cluster(reply, path, cluster, sizeof(cluster));
		if (r < 0)
			goto cleanup;
		r = cache_load_list(&fresh, k, reply, &rev);
		if (r < 0) {
			log_warn("GET %s: malformed list answer", path);
			goto cleanup;
		}
		json_decref(reply);
		reply = NULL;
		if (rev < min_rev)
			min_rev = rev;
	}
	r = check_pin(inf, cluster);
	if (r < 0)
		goto cleanup;
	fresh.revision = min_rev;
	*out = fresh;
	return 0;
cleanup:
	json_decref(reply);
	cache_clear(&fresh);
	return r;
}

static int on_watch_line(const char *line, size_t len, void *data)
{
	struct informer *inf = data;
	uint64_t before;
	int r;

	pthread_mutex_lock(&inf->lock);
	before = inf->cache.revision;
	r = cache_apply_line(&inf->cache, line, len);
	if (r >= 0 && inf->cache.revision != before)
		r = 1;
	pthread_mutex_unlock(&inf->lock);
	if (r < 0)
		log_warn("watch: skipping a line that is not a valid event: %.*s",
			 (int)(len > 200 ? 200 : len), line);
	else if (r > 0)
		notify(inf);
	return stopping(inf) ? 1 : 0;
}

static void informer_main(struct worker *w, void *data)
{
	struct informer *inf = data;
	long backoff = BACKOFF_MIN_MS, status = 0;
	struct cache fresh;
	char path[64];
	int r;

	while (!stopping(inf)) {
		r = list_all(inf, &fresh);
		if (r < 0) {
			if (!inf->unreachable_logged && !inf->refused_logged)
				log_warn("cannot list from %s: %s, retrying", inf->server,
					 *api_client_error(inf->client)
					     ? api_client_error(inf->client)
					     : strerror(-r));
			inf->unreachable_logged = !inf->refused_logged;
			if (pause_ms(inf, backoff))
				break;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		if (inf->unreachable_logged)
			log_info("controller %s reachable again", inf->server);
		inf->unreachable_logged = false;
		backoff = BACKOFF_MIN_MS;
		pthread_mutex_lock(&inf->lock);
		cache_clear(&inf->cache);
		inf->cache = fresh;
		inf->synced = true;
		snprintf(path, sizeof(path), "/v1/watch?since=%" PRIu64, fresh.revision);
		pthread_mutex_unlock(&inf->lock);
		log_debug("listed at revision %" PRIu64 ", watching", fresh.revision);
		notify(inf);

		status = 0;
		r = api_stream(inf->client, path, WATCH_IDLE_TIMEOUT_MS, on_watch_line, inf,
			       &status);
		if (r == 1 || stopping(inf))
			break;
		if (r == -EPROTO && status == 410)
			log_info("watch: revision compacted, listing again");
		else if (r == -EPROTO)
			log_warn("watch: HTTP %ld, listing again", status);
		else if (r < 0)
			log_warn("watch stream broken: %s, listing again",
				 *api_client_error(inf->client) ? api_client_error(inf->client)
								: strerror(-r));
		if (r < 0 && status != 410 && pause_ms(inf, BACKOFF_MIN_MS))
			break;
	}
	(void)w; /* inf->worker */
}

static void informer_free(struct informer *inf)
{
	api_client_free(inf->client);
	cache_clear(&inf->cache);
	pthread_mutex_destroy(&inf->lock);
	free(inf->server);
	free(inf->token);
	free(inf->pin_path);
	free(inf);
}

int informer_start(const char *server, const char *token, const char *ca_file, const char *pin_path,
		   int notify_fd, struct informer **out)
{
	struct informer *inf = calloc(1, sizeof(*inf));
	int r;

	if (!inf)
		return -ENOMEM;
	pthread_mutex_init(&inf->lock, NULL);
	inf->notify_fd = notify_fd;
	inf->server = strdup(server);
	inf->token = strdup(token ? token : "");
	inf->pin_path = pin_path ? strdup(pin_path) : NULL;
	r = cache_init(&inf->cache);
	if (r == 0 && (!inf->server || !inf->token || (pin_path && !inf->pin_path)))
		r = -ENOMEM;
	if (r == 0)
		r = api_client_new(server, token, ca_file, &inf->client);
	if (r == 0)
		r = worker_start(&inf->worker, informer_main, inf);
	if (r < 0) {
		informer_free(inf);
		return r;
	}
	*out = inf;
	return 0;
}

void informer_stop(struct informer *inf, long timeout_ms)
{
	if (!inf)
		return;
	/* A watch blocks until the next line (a BOOKMARK within 5 s): don't
	 * wait that long; a thread still in it keeps inf (detached). */
	if (worker_stop_timeout(&inf->worker, timeout_ms) == 0)
		informer_free(inf);
}

int informer_snapshot(struct informer *inf, struct cache *out)
{
	int r;

	pthread_mutex_lock(&inf->lock);
	r = inf->synced ? cache_copy(&inf->cache, out) : -EAGAIN;
	pthread_mutex_unlock(&inf->lock);
	return r;
}
