/* SPDX-License-Identifier: MIT */
/*
 * A scripted fake QEMU for the QMP tests: it plays a script on its end of a
 * socketpair, in a thread of its own. Lines starting with '<' are expected
 * from the client (a prefix match), '!' too but with a descriptor attached
 * (SCM_RIGHTS; kept in got_fd), '>' are sent. The first mismatch ends the
 * script with a message in failure.
 */
#ifndef GODWIT_TESTS_FAKE_QMP_H
#define GODWIT_TESTS_FAKE_QMP_H

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct fake {
	int fd;
	const char *const *script;
	char failure[8192];
	int got_fd; /* a descriptor that came with a '!' line (SCM_RIGHTS), or -1 */
};

/* Reads a line whose first bytes carry a descriptor; -1 when none came. */
static int read_line_fd(int fd, char *buf, size_t cap)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control,
			    .msg_controllen = sizeof(control)};
	struct cmsghdr *c;
	int got = -1;
	size_t n = 0;

	if (recvmsg(fd, &mh, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	for (n = 1; n + 1 < cap && buf[n - 1] != '\n'; n++)
		if (read(fd, buf + n, 1) != 1)
			break;
	buf[n - 1] = '\0';
	return got;
}

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

static void *fake_main(void *data)
{
	struct fake *f = data;
	char line[4096];

	for (const char *const *s = f->script; *s; s++) {
		if ((*s)[0] == '!') { /* expected, with a descriptor */
			f->got_fd = read_line_fd(f->fd, line, sizeof(line));
			if (f->got_fd < 0 || strncmp(line, *s + 1, strlen(*s + 1)) != 0) {
				snprintf(f->failure, sizeof(f->failure),
					 "expected `%s' with a descriptor, got `%s' (fd %d)",
					 *s + 1, line, f->got_fd);
				break;
			}
		} else if ((*s)[0] == '>') {
			if (write(f->fd, *s + 1, strlen(*s + 1)) < 0 || write(f->fd, "\n", 1) < 0)
				snprintf(f->failure, sizeof(f->failure), "write failed");
		} else if (read_line(f->fd, line, sizeof(line)) < 0 ||
			   strncmp(line, *s + 1, strlen(*s + 1)) != 0) {
			snprintf(f->failure, sizeof(f->failure), "expected `%s', got `%s'", *s + 1,
				 line);
			break;
		}
	}
	return NULL;
}

#define GREETING ">{\"QMP\": {\"version\": {}, \"capabilities\": []}}"

#endif
