/* SPDX-License-Identifier: MIT */
/* Step 1 of `lab demo`: what the machine must offer (demo_run.h). */
#include "demo_run.h"

#include "lab/netns.h"
#include "lib/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- step 1: what the machine must offer ---- */

static int check_free_space(const char *path, const char *what)
{
	struct statvfs st;
	unsigned long long mb;

	if (statvfs(path, &st) < 0)
		return 0; /* cannot tell: let the steps fail on their own */
	mb = (unsigned long long)st.f_bavail * st.f_frsize / (1024 * 1024);
	if (mb >= NEED_FREE_MB)
		return 0;
	fprintf(stderr,
		"godwit lab demo: only %llu MB free in %s (%s); the demo needs ~%d MB there. "
		"Free some space%s.\n",
		mb, path, what, NEED_FREE_MB,
		strcmp(what, "the output") == 0 ? " or choose another --out DIR" : "");
	return -ENOSPC;
}

int demo_preflight(struct demo *d)
{
	int r = 0;

	if (!demo_in_path("ip")) {
		fprintf(stderr, "godwit lab demo: the `ip` command (iproute2) is missing: install "
				"iproute2 (make deps)\n");
		r = -ENOENT;
	}
	if (!proc_bpffs_mounted()) {
		int m = proc_bpffs_mount();

		if (m < 0) {
			fprintf(stderr,
				"godwit lab demo: cannot mount bpffs on " BPFFS_ROOT " (%s): the "
				"datapath pins its maps there. The kernel needs "
				"CONFIG_BPF_SYSCALL; in a container, run it privileged.\n",
				strerror(-m));
			r = -ENOTSUP;
		}
	}
	if (!strcmp(d->subject, "vm")) {
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr,
				"godwit lab demo: /dev/net/tun is missing or unusable (%s): the "
				"VM's tap needs it (CONFIG_TUN; `modprobe tun`), or run "
				"--subject endpoint\n",
				strerror(errno));
			r = -ENOTSUP;
		} else {
			close(fd);
		}
		if (!demo_in_path("qemu-system-x86_64")) {
			fprintf(stderr, "godwit lab demo: qemu-system-x86_64 is not installed: the "
					"VM subject needs it (make deps), or run --subject "
					"endpoint\n");
			r = -ENOENT;
		}
	}
	if (!r)
		r = check_free_space("/run", "lab state and logs");
	if (!r)
		r = check_free_space(d->out, "the output");
	return r;
}
