/* SPDX-License-Identifier: MIT */
/* The QEMU command line of a VM and the guest image lookup. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/vm.h"

/* x86 COMMAND_LINE_SIZE is 2048; leave room for what the kernel adds. */
#define CMDLINE_MAX  2000
#define CMDLINE_BASE "console=ttyS0 quiet loglevel=4 panic=-1 ipv6.disable=1"

static int add(char **argv, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add(char **argv, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&argv[*n], fmt, ap);
	va_end(ap);
	if (r < 0) {
		argv[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

int vm_qemu_argv(const struct vm_qemu_spec *s, char ***out)
{
	size_t n = 0, cap = 64;
	char **argv = calloc(cap, sizeof(*argv));
	const char *accel = s->accel ? s->accel : "tcg";
	int r = 0;

	if (!argv)
		return -ENOMEM;
	if (s->userdata_b64 &&
	    strlen(CMDLINE_BASE) + strlen(" godwit.userdata=") + strlen(s->userdata_b64) >
		CMDLINE_MAX) {
		r = -E2BIG;
		goto cleanup;
	}
	r |= add(argv, &n, "%s", s->qemu ? s->qemu : "qemu-system-x86_64");
	r |= add(argv, &n, "-name");
	r |= add(argv, &n, "%s", s->name);
	/* QEMU 7.2 takes one accelerator per -accel and tries them in order. */
	if (strcmp(accel, "kvm:tcg") == 0) {
		r |= add(argv, &n, "-accel");
		r |= add(argv, &n, "kvm");
		r |= add(argv, &n, "-accel");
		r |= add(argv, &n, "tcg");
	} else {
		r |= add(argv, &n, "-accel");
		r |= add(argv, &n, "%s", accel);
	}
	/* suppress-vmdesc: the end-of-state marker is the migration stream's last
	 * byte, so a source that fails to send it knows the target cannot run the
	 * guest (controller/migration_vm.h); the description after it is only for
	 * dump tools. */
	r |= add(argv, &n, "-machine");
	r |= add(argv, &n, "pc,suppress-vmdesc=on");
	r |= add(argv, &n, "-cpu");
	r |= add(argv, &n, "qemu64");
	r |= add(argv, &n, "-m");
	r |= add(argv, &n, "%u", s->memory_mib);
	r |= add(argv, &n, "-smp");
	r |= add(argv, &n, "%u", s->cpus ? s->cpus : 1);
	r |= add(argv, &n, "-nographic");
	r |= add(argv, &n, "-nodefaults");
	r |= add(argv, &n, "-no-user-config");
	r |= add(argv, &n, "-kernel");
	r |= add(argv, &n, "%s", s->kernel);
	r |= add(argv, &n, "-initrd");
	r |= add(argv, &n, "%s", s->initrd);
	r |= add(argv, &n, "-append");
	if (s->userdata_b64)
		r |= add(argv, &n, CMDLINE_BASE " godwit.userdata=%s", s->userdata_b64);
	else
		r |= add(argv, &n, CMDLINE_BASE);
	r |= add(argv, &n, "-netdev");
	r |= add(argv, &n, "tap,id=n0,ifname=%s,script=no,downscript=no,vhost=off", s->ifname);
	r |= add(argv, &n, "-device");
	r |= add(argv, &n, "virtio-net-pci,netdev=n0,mac=%s,romfile=", s->mac);
	r |= add(argv, &n, "-chardev");
	r |= add(argv, &n,
		 "socket,id=ser0,path=%s/console.sock,server=on,wait=off,logfile=%s/console.log,"
		 "logappend=on",
		 s->rundir, s->rundir);
	r |= add(argv, &n, "-serial");
	r |= add(argv, &n, "chardev:ser0");
	r |= add(argv, &n, "-qmp");
	r |= add(argv, &n, "unix:%s/qmp.sock,server=on,wait=off", s->rundir);
	/* A second monitor for observers (tests/tools/vmwatch): QEMU broadcasts
	 * every event to all monitors, and the agent keeps qmp.sock to itself. */
	r |= add(argv, &n, "-chardev");
	r |= add(argv, &n, "socket,id=qmpw,path=%s/qmp-watch.sock,server=on,wait=off", s->rundir);
	r |= add(argv, &n, "-mon");
	r |= add(argv, &n, "chardev=qmpw,mode=control");
	r |= add(argv, &n, "-pidfile");
	r |= add(argv, &n, "%s/qemu.pid", s->rundir);
	if (s->incoming) {
		r |= add(argv, &n, "-incoming");
		r |= add(argv, &n, "defer");
		if (s->incoming_paused)
			r |= add(argv, &n, "-S");
	}
	if (r < 0) {
		r = -ENOMEM;
		goto cleanup;
	}
	*out = argv;
	return 0;
cleanup:
	vm_qemu_argv_free(argv);
	return r;
}

void vm_qemu_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static int guest_in(const char *dir, char *kernel, char *initrd, size_t len)
{
	char k[PATH_MAX], i[PATH_MAX];

	snprintf(k, sizeof(k), "%s/vmlinuz", dir);
	snprintf(i, sizeof(i), "%s/initramfs.cpio.gz", dir);
	if (access(k, R_OK) < 0 || access(i, R_OK) < 0)
		return -ENOENT;
	if (strlen(k) >= len || strlen(i) >= len)
		return -ENAMETOOLONG;
	strcpy(kernel, k);
	strcpy(initrd, i);
	return 0;
}

int vm_guest_find(const char *dir, char *kernel, char *initrd, size_t len)
{
	char path[PATH_MAX], best[PATH_MAX] = "";
	struct timespec best_t = {0};
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (!dir)
		dir = VM_DEFAULT_GUEST_DIR;
	if (guest_in(dir, kernel, initrd, len) == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/current", dir);
	if (guest_in(path, kernel, initrd, len) == 0)
		return 0;
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		char k[PATH_MAX + 16];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(k, sizeof(k), "%s/vmlinuz", path);
		if (stat(k, &st) < 0)
			continue;
		if (!best[0] || st.st_mtim.tv_sec > best_t.tv_sec ||
		    (st.st_mtim.tv_sec == best_t.tv_sec && st.st_mtim.tv_nsec > best_t.tv_nsec)) {
			snprintf(best, sizeof(best), "%s", path);
			best_t = st.st_mtim;
		}
	}
	closedir(d);
	return best[0] ? guest_in(best, kernel, initrd, len) : -ENOENT;
}
