/* SPDX-License-Identifier: MIT */
#include "echo_server.h"

#include "lib/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_BUF 16384

struct echo_client {
	int fd;
	size_t slot; /* index in the client table */
	size_t len;  /* bytes read, not yet echoed */
	uint8_t buf[ECHO_BUF];
};

static int listen_on(const struct sockaddr_in *addr, int *out)
{
	struct sockaddr_in bound;
	socklen_t bl = sizeof(bound);
	char ip[INET_ADDRSTRLEN];
	int fd, one = 1, ret;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &bl) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	inet_ntop(AF_INET, &bound.sin_addr, ip, sizeof(ip));
	printf("listening on %s:%u\n", ip, ntohs(bound.sin_port));
	fflush(stdout);
	*out = fd;
	return 0;
}

static void drop_client(int ep, struct echo_client **slot)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, (*slot)->fd, NULL);
	close((*slot)->fd);
	free(*slot);
	*slot = NULL;
}

/* Echoes what is buffered, then reads more while the buffer is empty, until the
 * socket would block. Returns false when the client is gone. */
static bool serve_client(struct echo_client *c)
{
	for (;;) {
		ssize_t n;

		if (c->len) {
			n = send(c->fd, c->buf, c->len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				return false;
			}
			c->len -= (size_t)n;
			memmove(c->buf, c->buf + n, c->len);
			continue;
		}
		n = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->len = (size_t)n;
	}
	return true;
}

/* A peer that does not read makes us wait until we can write, not read. */
static int set_wait_events(int ep, struct echo_client *c)
{
	struct epoll_event ev = {.events = c->len ? EPOLLOUT : EPOLLIN, .data.ptr = c};

	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno : 0;
}

static void accept_clients(int ep, int lfd, struct echo_client **clients)
{
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN};
		struct echo_client *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		size_t i;

		if (fd < 0)
			return;
		for (i = 0; i < ECHO_MAX_CLIENTS && clients[i]; i++)
			;
		c = i < ECHO_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			log_warn("echo: refusing a client (%s)",
				 i < ECHO_MAX_CLIENTS ? "out of memory" : "too many clients");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->slot = i;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		clients[i] = c;
	}
}

int echo_serve(const struct sockaddr_in *addr)
{
	struct echo_client **clients = NULL;
	struct epoll_event ev;
	sigset_t mask;
	int lfd = -1, sfd = -1, ep = -1, ret;
	bool stop = false;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	clients = calloc(ECHO_MAX_CLIENTS, sizeof(*clients));
	if (!clients) {
		ret = -ENOMEM;
		goto cleanup;
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		ret = log_error_errno(-errno, "echo: setting up the event loop");
		goto cleanup;
	}
	ret = listen_on(addr, &lfd);
	if (ret < 0) {
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &addr->sin_addr, ip, sizeof(ip));
		log_error_errno(ret, "echo: cannot listen on %s:%u", ip, ntohs(addr->sin_port));
		goto cleanup;
	}
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &lfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &sfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	while (!stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = log_error_errno(-errno, "echo: epoll_wait");
			goto cleanup;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &sfd) {
				stop = true;
			} else if (p == &lfd) {
				accept_clients(ep, lfd, clients);
			} else {
				struct echo_client *c = p;

				if (!serve_client(c) || set_wait_events(ep, c) < 0)
					drop_client(ep, &clients[c->slot]);
			}
		}
	}
	ret = 0;
cleanup:
	if (clients)
		for (size_t i = 0; i < ECHO_MAX_CLIENTS; i++)
			if (clients[i])
				drop_client(ep, &clients[i]);
	free(clients);
	if (lfd >= 0)
		close(lfd);
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
	return ret;
}
