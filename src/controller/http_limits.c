/* SPDX-License-Identifier: MIT */
#include "http_limits.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	int64_t deadline_ms; /* monotonic; 0: none (a request being served, a stream) */
	bool watching;
};

/* Shuts every connection past its deadline; the next check a period later. */
static int64_t watchdog_round(void *arg)
{
	struct http_limits *l = arg;
	int64_t now = clock_mono_ms();
	unsigned n = 0;

	pthread_mutex_lock(&l->lock);
	for (struct http_conn *c = l->conns; c; c = c->next) {
		if (c->deadline_ms && now >= c->deadline_ms) {
			shutdown(c->fd, SHUT_RDWR);
			c->deadline_ms = 0;
			n++;
		}
	}
	l->cut += n;
	pthread_mutex_unlock(&l->lock);
	if (n)
		log_info("%u connection(s) closed: no complete request header within %d s of "
			 "connecting (%d s of the last answer on a kept-alive one)",
			 n, l->header_deadline_ms / 1000, l->keepalive_deadline_ms / 1000);
	return HTTP_WATCHDOG_MS;
}

int http_limits_start(struct http_limits *l, unsigned max_watches, int header_deadline_s,
		      int keepalive_deadline_s)
{
	int r;

	memset(l, 0, sizeof(*l));
	l->max_watches = max_watches ? max_watches : HTTP_MAX_WATCHES;
	l->header_deadline_ms =
	    1000 * (header_deadline_s > 0 ? header_deadline_s : HTTP_HEADER_DEADLINE_S);
	l->keepalive_deadline_ms =
	    1000 * (keepalive_deadline_s > 0 ? keepalive_deadline_s : HTTP_HEADER_DEADLINE_S);
	r = pthread_mutex_init(&l->lock, NULL);
	if (r)
		return -r;
	r = worker_start_periodic(&l->watchdog, HTTP_WATCHDOG_MS, watchdog_round, l);
	if (r < 0)
		pthread_mutex_destroy(&l->lock);
	return r;
}

void http_limits_stop(struct http_limits *l)
{
	if (!l->watchdog.started)
		return;
	worker_stop(&l->watchdog);
	pthread_mutex_destroy(&l->lock);
}

void http_limits_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	struct http_limits *l = cls;
	const union MHD_ConnectionInfo *info;
	struct http_conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = info ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return; /* out of memory: the connection has no deadline */
		c->fd = info->connect_fd;
		pthread_mutex_lock(&l->lock);
		c->deadline_ms = clock_mono_ms() + l->header_deadline_ms;
		c->next = l->conns;
		if (l->conns)
			l->conns->prev = c;
		l->conns = c;
		l->connections++;
		pthread_mutex_unlock(&l->lock);
		*socket_context = c;
		return;
	}
	if (code != MHD_CONNECTION_NOTIFY_CLOSED || !c)
		return;
	/* before MHD closes the descriptor: the watchdog never shuts it after */
	pthread_mutex_lock(&l->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->connections--;
	if (c->watching)
		l->watches--;
	pthread_mutex_unlock(&l->lock);
	free(c);
	*socket_context = NULL;
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

void http_limits_header_in(struct http_limits *l, struct MHD_Connection *conn)
{
	struct http_conn *c = conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&l->lock);
	c->deadline_ms = 0;
	pthread_mutex_unlock(&l->lock);
}

void http_limits_answered(struct http_limits *l, struct MHD_Connection *conn, bool keep)
{
	struct http_conn *c = conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&l->lock);
	c->deadline_ms = keep ? clock_mono_ms() + l->keepalive_deadline_ms : 0;
	pthread_mutex_unlock(&l->lock);
}

bool http_limits_watch_begin(struct http_limits *l, struct MHD_Connection *conn)
{
	struct http_conn *c = conn_of(conn);
	bool ok;

	pthread_mutex_lock(&l->lock);
	ok = l->watches < l->max_watches;
	if (ok && c && !c->watching) {
		c->watching = true;
		l->watches++;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void http_limits_watch_end(struct http_limits *l, struct MHD_Connection *conn)
{
	struct http_conn *c = conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&l->lock);
	if (c->watching) {
		c->watching = false;
		l->watches--;
	}
	pthread_mutex_unlock(&l->lock);
}

bool http_limits_requests_full(struct http_limits *l)
{
	bool full;

	pthread_mutex_lock(&l->lock);
	full = l->connections - l->watches > HTTP_MAX_REQUEST_CONNECTIONS;
	pthread_mutex_unlock(&l->lock);
	return full;
}
