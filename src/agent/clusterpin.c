/* SPDX-License-Identifier: MIT */
#include "agent/clusterpin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"

static bool id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > CLUSTERPIN_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	return true;
}

static int read_pin(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Written to a temporary file and renamed: a crash leaves the old pin or the new one. */
static int write_pin(const char *path, const char *cluster)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		r = proc_mkdir_p(dir, 0755);
		if (r < 0)
			return r;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%s\n", cluster) < 0 || fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int clusterpin_check(const char *path, const char *cluster, char *pinned, size_t pinned_len)
{
	char buf[CLUSTERPIN_ID_MAX + 2];
	int r;

	if (!id_valid(cluster))
		return -EINVAL;
	r = read_pin(path, buf, sizeof(buf));
	if (r == -ENOENT)
		return write_pin(path, cluster);
	if (r < 0)
		return r;
	if (strcmp(buf, cluster) == 0)
		return 0;
	snprintf(pinned, pinned_len, "%s", buf);
	return -EPERM;
}
