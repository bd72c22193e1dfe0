/* SPDX-License-Identifier: MIT */
/*
 * proc: process, network namespace and file tree helpers, for the lab and the
 * demo (which start and stop daemons in namespaces) and the agent (which
 * makes devices inside them and keeps run directories).
 *
 * Namespaces are the named ones of /run/netns (iproute2's). A thread enters
 * one with proc_netns_enter() and must come back with proc_netns_leave()
 * before it does anything else: the other threads of the process stay where
 * they are (setns acts on the calling thread).
 *
 * Processes are started with setns(CLONE_NEWNET) in the child instead of
 * `ip netns exec`: the latter also remounts /sys in a private mount
 * namespace, which would hide /sys/fs/bpf (where agents pin their maps).
 *
 * Functions return 0 or -errno unless they answer a question (bool).
 */
#ifndef GODWIT_LIB_PROC_H
#define GODWIT_LIB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sleeps ms milliseconds, resumed across signals. */
void proc_sleep_ms(int64_t ms);

/* True when pid exists and is not a zombie (reaps it when it is our child). */
bool proc_pid_alive(pid_t pid);
/* True when /proc/PID/cmdline's argv[0] ends in exe_base (guards against PID reuse). */
bool proc_pid_runs(pid_t pid, const char *exe_base);
/* SIGTERM, wait up to timeout_ms, then SIGKILL (-ETIMEDOUT if it survives 2 s more). */
int proc_stop_pid(pid_t pid, int timeout_ms);
/* Waits for our child pid until deadline_ms (CLOCK_MONOTONIC, clock_mono_ms());
 * -ETIMEDOUT leaves it running. *status as waitpid's. */
int proc_wait_exit(pid_t pid, int64_t deadline_ms, int *status);

struct proc_spawn_opts {
	const char *netns; /* /run/netns/NAME to start in; NULL: ours */
	const char *out;   /* stdout into this file */
	const char *err;   /* stderr into this file; NULL: ours, or out with err_to_out */
	bool err_to_out;
	bool append;   /* O_APPEND, else O_TRUNC */
	unsigned mode; /* of files created */
};

/* Starts argv (argv[0] an absolute path) in its own session with stdin from
 * /dev/null; *pid is the child. */
int proc_spawn(const char *const *argv, const struct proc_spawn_opts *o, pid_t *pid);

/* /run/netns/NAME opened O_RDONLY; -EINVAL for a name that is not one
 * (empty, ".", "..", with a '/'). */
int proc_netns_open(const char *name, int *fd);
/* Moves the calling thread into netns; *saved is where it was (for leave). */
int proc_netns_enter(const char *name, int *saved);
/* Back to saved (and closes it); a thread that cannot come back must not go on. */
int proc_netns_leave(int saved);
bool proc_netns_exists(const char *name);
/* Makes a new, empty network namespace /run/netns/NAME (as `ip netns add`);
 * -EEXIST when it is there already. */
int proc_netns_create(const char *name);
/* Names under /run/netns (malloc'd array of malloc'd strings; none: NULL, 0). */
int proc_netns_list(char ***names, size_t *n);
void proc_strv_free(char **v, size_t n);
/* SIGKILLs every process whose network namespace is netns; returns how many. */
int proc_netns_kill_all(const char *netns);

/* rm -r path (0 when missing). */
int proc_rm_rf(const char *path);
/* mkdir -p path, the directories it makes with mode. */
int proc_mkdir_p(const char *path, unsigned mode);

/* Where the datapath pins its maps (the host's bpffs). */
#define BPFFS_ROOT "/sys/fs/bpf"
/* True when BPFFS_ROOT is a bpffs. */
bool proc_bpffs_mounted(void);
/* Mounts a bpffs on BPFFS_ROOT (mode 0700), as a host does at boot. */
int proc_bpffs_mount(void);

#endif
