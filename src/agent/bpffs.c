/* SPDX-License-Identifier: MIT */
#include "agent/bpffs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool under_bpffs_root(const char *path)
{
	size_t n = strlen(BPFFS_ROOT);

	return strncmp(path, BPFFS_ROOT, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* True only when both namespaces could be read and differ. */
static bool mnt_ns_private(void)
{
	struct stat self, parent;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)getppid());
	if (stat("/proc/self/ns/mnt", &self) < 0 || stat(path, &parent) < 0)
		return false;
	return self.st_ino != parent.st_ino || self.st_dev != parent.st_dev;
}

int bpffs_check_pins_outlive(const char *pin_dir)
{
	if (!under_bpffs_root(pin_dir) || proc_bpffs_mounted() || !mnt_ns_private())
		return 0;
	return -EXDEV;
}
