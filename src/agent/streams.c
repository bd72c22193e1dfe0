/* SPDX-License-Identifier: MIT */
#include "agent/streams.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/vm.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/pskpipe.h"
#include "lib/secret.h"
#include "lib/stream.h"
#include "lib/streamproto.h"
#include "lib/worker.h"

#define CONNECT_TIMEOUT_MS 3000

struct streams {
	struct streams_config cfg;
	char *token, *node, *run_dir;
	int listen_fd, stop_fd;
	pthread_t thread;
	_Atomic int active;
};

struct conn {
	struct streams *s;
	int fd;
	char peer[INET_ADDRSTRLEN];
};

static void reply(int fd, const char *error)
{
	char *line = NULL;
	int n = streamproto_reply_format(error, &line);

	if (n > 0)
		stream_write_all(fd, line, (size_t)n);
	free(line);
}

/* A TCP socket made inside netns (a socket keeps its namespace). */
static int socket_in(const char *netns, int *out)
{
	int saved, fd, r;

	r = proc_netns_enter(netns, &saved);
	if (r < 0)
		return r;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	r = fd < 0 ? -errno : 0;
	if (proc_netns_leave(saved) < 0) {
		perror("streams: cannot return to the node's network namespace");
		abort();
	}
	*out = fd;
	return r;
}

/* One non-blocking connect within CONNECT_TIMEOUT_MS; the socket blocking after. */
static int connect_once(const char *netns, const struct sockaddr_in *sa, int *out)
{
	struct pollfd p = {.events = POLLOUT};
	socklen_t len = sizeof(int);
	int fd, r, soerr = 0;

	r = socket_in(netns, &fd);
	if (r < 0)
		return r;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	p.fd = fd;
	r = poll(&p, 1, CONNECT_TIMEOUT_MS);
	if (r == 0) {
		r = -ETIMEDOUT;
		goto fail;
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
		r = -errno;
		goto fail;
	}
	if (soerr) {
		r = -soerr;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	*out = fd;
	return 0;
fail:
	close(fd);
	return r;
}

/* Whether a failed connect may succeed once the tunnel port is plumbed. */
static bool retryable(int r)
{
	return r == -ENOENT || r == -EINVAL || r == -ENETUNREACH || r == -EHOSTUNREACH ||
	       r == -EADDRNOTAVAIL || r == -ETIMEDOUT;
}

/* RUN_DIR/NODE/tunnels/NETNS: the namespaces this node's agent made, for
 * whoever tears the node down (`godwit lab down`). Best effort. */
static void note_tunnel(struct streams *s, const char *netns)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/tunnels", s->run_dir, s->node);
	if (proc_mkdir_p(path, 0755) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s/tunnels/%s", s->run_dir, s->node, netns);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

static int open_portforward(struct streams *s, const struct streamproto_request *req, int *out,
			    char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(req->port),
				 .sin_addr.s_addr = htonl(req->ipv4)};
	int64_t deadline = clock_mono_ms() + STREAMS_CONNECT_WAIT_MS;
	char ip[INET_ADDRSTRLEN];
	int r;

	inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
	if (!proc_netns_exists(req->netns)) {
		r = proc_netns_create(req->netns);
		if (r < 0 && r != -EEXIST) {
			snprintf(err, errlen, "cannot make the tunnel namespace %s: %s", req->netns,
				 strerror(-r));
			return r;
		}
		if (r == 0)
			log_info("made the tunnel namespace %s", req->netns);
	}
	note_tunnel(s, req->netns);
	for (;;) {
		r = connect_once(req->netns, &sa, out);
		if (r == 0)
			return 0;
		if (!retryable(r) || clock_mono_ms() >= deadline)
			break;
		proc_sleep_ms(100);
	}
	if (r == -ECONNREFUSED)
		snprintf(err, errlen, "%s:%u refused the connection (nothing listens there)", ip,
			 req->port);
	else
		snprintf(err, errlen, "cannot connect to %s:%u from %s on node %s: %s", ip,
			 req->port, req->netns, s->node, strerror(-r));
	return r;
}

static int open_console(struct streams *s, const struct streamproto_request *req, int *out,
			char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int64_t deadline = clock_mono_ms() + STREAMS_CONSOLE_WAIT_MS;
	int fd, r;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s/console.sock",
			     s->run_dir, s->node, req->vm) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "the console path of vm/%s is too long", req->vm);
		return -ENAMETOOLONG;
	}
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			*out = fd;
			return 0;
		}
		r = -errno;
		close(fd);
		/* A QEMU that is starting has not made its socket yet. */
		if ((r != -ENOENT && r != -ECONNREFUSED) || clock_mono_ms() >= deadline)
			break;
		proc_sleep_ms(100);
	}
	snprintf(err, errlen, "vm/%s has no console on node %s (%s: %s)", req->vm, s->node,
		 sun.sun_path, strerror(-r));
	return r;
}

static void *conn_main(void *data)
{
	struct conn *c = data;
	struct streams *s = c->s;
	struct streamproto_request req;
	char line[STREAMPROTO_LINE_MAX], err[512] = "";
	int target = -1, r;

	/* TLS with this node's stream secret first (lib/pskpipe.h): only the
	 * controller holds it; c->fd becomes the plain end of the pipe. */
	r = pskpipe_server(c->fd, s->node, s->token, &c->fd, err, sizeof(err));
	if (r < 0) {
		log_warn("stream from %s refused: %s", c->peer, err);
		c->fd = -1; /* taken and closed */
		goto done;
	}
	stream_set_timeout(c->fd, STREAMS_HEAD_TIMEOUT_MS);
	r = streamproto_read_line(c->fd, line, sizeof(line));
	if (r < 0) {
		log_warn("stream from %s: no request line: %s", c->peer,
			 r == -EAGAIN ? "none in time" : strerror(-r));
		if (r == -E2BIG)
			reply(c->fd, "request line too long");
		goto done;
	}
	r = streamproto_request_parse(line, (size_t)r, &req, err, sizeof(err));
	if (r == 0 && !secret_equal(req.token, s->token)) {
		snprintf(err, sizeof(err), "wrong token (not this node's stream secret)");
		r = -EACCES;
	}
	memset(req.token, 0, sizeof(req.token));
	if (r < 0) {
		log_warn("stream from %s refused: %s", c->peer, err);
		reply(c->fd, err);
		goto done;
	}
	stream_set_timeout(c->fd, STREAMS_CONNECT_WAIT_MS + 5000);
	if (req.kind == STREAMPROTO_PORTFORWARD)
		r = open_portforward(s, &req, &target, err, sizeof(err));
	else
		r = open_console(s, &req, &target, err, sizeof(err));
	if (r < 0) {
		log_info("stream from %s: %s", c->peer, err);
		reply(c->fd, err);
		goto done;
	}
	reply(c->fd, NULL);
	stream_set_timeout(c->fd, 0);
	log_debug("stream from %s open", c->peer);
	r = stream_relay(c->fd, target);
	log_debug("stream from %s ended: %s", c->peer, r < 0 ? strerror(-r) : "both sides done");
done:
	if (target >= 0)
		close(target);
	if (c->fd >= 0)
		close(c->fd);
	atomic_fetch_sub(&s->active, 1);
	free(c);
	return NULL;
}

static void accept_one(struct streams *s)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	struct conn *c;
	int fd;

	fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (atomic_fetch_add(&s->active, 1) >= STREAMS_MAX) {
		atomic_fetch_sub(&s->active, 1);
		log_warn("stream from %s refused: %d streams open on this node", inet_ntoa(peer.sin_addr),
			 STREAMS_MAX);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->s = s;
	c->fd = fd;
	inet_ntop(AF_INET, &peer.sin_addr, c->peer, sizeof(c->peer));
	if (worker_detached(conn_main, c, 256 * 1024) < 0) {
		free(c);
		goto fail;
	}
	return;
fail:
	atomic_fetch_sub(&s->active, 1);
	close(fd);
}

static void *listen_main(void *data)
{
	struct streams *s = data;
	struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
			      {.fd = s->stop_fd, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(-errno, "streams: poll");
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (p[0].revents)
			accept_one(s);
	}
}

int streams_start(const struct streams_config *cfg, struct streams **out)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct streams *s;
	int one = 1, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->listen_fd = s->stop_fd = -1;
	s->token = strdup(cfg->token);
	s->node = strdup(cfg->node);
	s->run_dir = strdup(cfg->vm_run_dir ? cfg->vm_run_dir : VM_DEFAULT_RUN_DIR);
	if (!s->token || !s->node || !s->run_dir) {
		r = -ENOMEM;
		goto fail;
	}
	sa.sin_port = htons(cfg->port ? cfg->port : STREAMPROTO_AGENT_PORT);
	if (inet_pton(AF_INET, cfg->underlay_ip, &sa.sin_addr) != 1) {
		r = -EINVAL;
		goto fail;
	}
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->listen_fd < 0 || s->stop_fd < 0) {
		r = -errno;
		goto fail;
	}
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->listen_fd, 64) < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&s->thread, NULL, listen_main, s);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s->token);
	free(s->node);
	free(s->run_dir);
	free(s);
	return r;
}

void streams_stop(struct streams *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	close(s->listen_fd);
	close(s->stop_fd);
	/* Streams under way keep s: it is left allocated (the process exits). */
}
