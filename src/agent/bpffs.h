/* SPDX-License-Identifier: MIT */
/*
 * bpffs: keeps the pins on the host's bpffs when the agent is started with
 * `ip netns exec`. That command gives the process a private mount namespace
 * with a fresh /sys, so a bpffs mounted on its /sys/fs/bpf would be a new,
 * private instance: the pins would vanish when the agent exits and a
 * restarted agent could not adopt the live maps (forwarding would stop).
 * The agent therefore joins PID 1's mount namespace, or when that is not
 * allowed its launcher's (the network namespace
 * is unchanged; netlink does not care about /sys). Must run before any
 * thread starts (setns of a mount namespace needs a single thread).
 */
#ifndef GODWIT_AGENT_BPFFS_H
#define GODWIT_AGENT_BPFFS_H

int bpffs_join_host(void);

#endif
