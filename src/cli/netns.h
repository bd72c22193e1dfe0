/* SPDX-License-Identifier: MIT */
/*
 * netns: process and namespace plumbing for the lab: running `ip` and
 * checking it, starting daemons inside a named network namespace, stopping
 * processes by PID, finding what still runs in a namespace, removing trees.
 *
 * Daemons are started with setns(CLONE_NEWNET) on /run/netns/NAME instead of
 * `ip netns exec`: the latter also remounts /sys in a private mount namespace,
 * which would hide /sys/fs/bpf (where agents pin their maps) from `lab down`.
 */
#ifndef GODWIT_CLI_NETNS_H
#define GODWIT_CLI_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs argv (NULL-terminated, argv[0] looked up in PATH) and waits. 0 on exit 0;
 * otherwise prints "command failed: ARGV... (exit N)" unless quiet and returns -EIO. */
int run_cmd(const char *const *argv, bool quiet);
/* Like run_cmd, with the command's stdout captured into *out (malloc'd). */
int run_capture(const char *const *argv, char **out);

/* Starts argv (absolute path) in netns, stdout/stderr appended to log, own session. */
int spawn_in_netns(const char *netns, const char *const *argv, const char *log, pid_t *pid);

/* True when pid exists and is not a zombie (reaps it when it is our child). */
bool pid_alive(pid_t pid);
/* True when /proc/PID/cmdline's argv[0] ends in exe_base (guards against PID reuse). */
bool pid_runs(pid_t pid, const char *exe_base);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. */
int stop_pid(pid_t pid, int timeout_ms);

bool netns_exists(const char *name);
/* Names under /run/netns (malloc'd array of malloc'd strings). */
int netns_list(char ***names, size_t *n);
void strv_free(char **v, size_t n);
/* SIGKILLs every process whose network namespace is netns; returns how many. */
int netns_kill_all(const char *netns);

/* rm -r path (no error when missing). */
int rm_rf(const char *path);

/* Sleeps ms milliseconds (for poll loops with deadlines). */
void sleep_ms(int ms);

#endif
