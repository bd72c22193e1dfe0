/* SPDX-License-Identifier: MIT */
/*
 * bpffs: makes sure the pins under /sys/fs/bpf outlive the agent.
 *
 * A restarted agent adopts the live datapath through its pinned maps, so the
 * pins must sit on the host's bpffs. The agent keeps its own root and mount
 * namespace: it needs only the node's network namespace (the lab and the tests
 * start it with setns(CLONE_NEWNET), i.e. `nsenter --net=/run/netns/NAME`).
 * Joining another mount namespace would also move its root, out of a chroot
 * or a container, onto another system's /run/netns.
 *
 * `ip netns exec` is the trap: it gives the process a private mount namespace
 * with a fresh /sys, where a bpffs mounted on /sys/fs/bpf would be a private
 * instance that vanishes with the agent (forwarding would stop at the next
 * restart). bpffs_check_pins_outlive() refuses exactly that case: no bpffs on
 * /sys/fs/bpf and a mount namespace other than the parent's (`ip netns exec`
 * execs the agent in place, so the parent is its caller). In every other case
 * datapath_open() mounts bpffs when it is missing, as on a host at boot.
 */
#ifndef GODWIT_AGENT_BPFFS_H
#define GODWIT_AGENT_BPFFS_H

#include "lib/proc.h" /* BPFFS_ROOT */

/* 0 when pins made under pin_dir would outlive this process (or pin_dir is not
 * under BPFFS_ROOT, or it cannot tell); -EXDEV when /sys/fs/bpf is not a bpffs
 * and this process has a private mount namespace. */
int bpffs_check_pins_outlive(const char *pin_dir);

#endif
