/* SPDX-License-Identifier: MIT */
/* The migration's TCP connection; the design note is in migsock.h. */
#include "agent/migsock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/addr.h"

#define TCP_ESTABLISHED_HEX "01"

int migsock_parse_uri(const char *uri, struct sockaddr_in *sa)
{
	uint16_t port;
	uint32_t a;

	if (!uri || strncmp(uri, "tcp:", 4) != 0 || addr_ipv4_port_parse(uri + 4, &a, &port) < 0)
		return -EINVAL;
	*sa = (struct sockaddr_in){
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(a)};
	return 0;
}

/* The kernel doubles what SO_SNDBUF/SO_RCVBUF get: ask for half. */
static int set_buffer(int fd, int opt, unsigned int kib)
{
	int bytes = (int)(kib * 1024 / 2);

	if (!kib)
		return 0;
	return setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes)) < 0 ? -errno : 0;
}

int migsock_listen(const char *ip, unsigned int buffer_kib, uint16_t *port, int *fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int s, r = 0;

	uint32_t a;

	if (addr_ipv4_parse(ip, &a) < 0)
		return -EINVAL;
	sa.sin_addr.s_addr = htonl(a);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	r = set_buffer(s, SO_RCVBUF, buffer_kib);
	if (r == 0 && (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0 ||
		       getsockname(s, (struct sockaddr *)&sa, &len) < 0))
		r = -errno;
	if (r < 0) {
		close(s);
		return r;
	}
	*port = ntohs(sa.sin_port);
	*fd = s;
	return 0;
}

int migsock_accept(int listen_fd, int *fd, char *peer, size_t len)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int s = accept4(listen_fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);

	if (s < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (!inet_ntop(AF_INET, &sa.sin_addr, peer, (socklen_t)len))
		snprintf(peer, len, "?");
	*fd = s;
	return 0;
}

int migsock_connect(const char *uri, unsigned int buffer_kib, int timeout_ms, int *fd)
{
	struct sockaddr_in sa;
	struct pollfd p;
	socklen_t elen = sizeof(int);
	int s, r, err = 0, one = 1;

	r = migsock_parse_uri(uri, &sa);
	if (r < 0)
		return r;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	r = set_buffer(s, SO_SNDBUF, buffer_kib);
	if (r == 0 && setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		r = -errno;
	if (r == 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		r = -errno;
	if (r == 0) {
		p = (struct pollfd){.fd = s, .events = POLLOUT};
		r = poll(&p, 1, timeout_ms);
		if (r == 0)
			r = -ETIMEDOUT;
		else if (r < 0)
			r = -errno;
		else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			r = -errno;
		else
			r = err ? -err : 0;
	}
	if (r == 0 && fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK) < 0)
		r = -errno;
	if (r < 0) {
		close(s);
		return r;
	}
	*fd = s;
	return 0;
}

/* Whether inode is an established socket in /proc/PID/net/tcp (QEMU's netns). */
static int established_inode(pid_t pid, unsigned long inode)
{
	char path[64], line[512], st[8];
	unsigned long ino;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %7s %*s %*s %*s %*s %*s %lu", st, &ino) == 2 &&
		    ino == inode && strcmp(st, TCP_ESTABLISHED_HEX) == 0)
			found = 1;
	fclose(f);
	return found;
}

int migsock_of_qemu(pid_t pid, int *fd)
{
	char path[64], link[64];
	unsigned long inode;
	struct dirent *e;
	int pidfd, target = -1, r = -ENOENT;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (target < 0 && (e = readdir(d))) {
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) == 1 && established_inode(pid, inode) > 0)
			target = atoi(e->d_name);
	}
	closedir(d);
	if (target < 0)
		return r;
	pidfd = (int)pidfd_open(pid, 0);
	if (pidfd < 0)
		return -errno;
	r = (int)pidfd_getfd(pidfd, target, 0);
	if (r < 0)
		r = -errno;
	close(pidfd);
	if (r < 0)
		return r;
	*fd = r;
	return 0;
}

void migsock_cancel(int fd)
{
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}
