/* SPDX-License-Identifier: MIT */
#include "agent/bpffs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* Joins the mount namespace of pid when it differs from ours. */
static int join_mnt_of(pid_t pid)
{
	struct stat self, other;
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	if (stat("/proc/self/ns/mnt", &self) < 0 || stat(path, &other) < 0)
		return -errno;
	if (self.st_ino == other.st_ino && self.st_dev == other.st_dev)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNS) < 0)
		r = -errno;
	close(fd);
	if (r == 0)
		log_debug("joined the mount namespace of pid %d (pins must outlive this process)",
			  (int)pid);
	return r;
}

int bpffs_join_host(void)
{
	/* PID 1's when we may; else the launcher's (`ip netns exec` execs us in
	 * place, so our parent is whoever ran it, in the host's mount namespace). */
	if (join_mnt_of(1) == 0)
		return 0;
	return join_mnt_of(getppid());
}
