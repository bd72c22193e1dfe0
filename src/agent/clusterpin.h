/* SPDX-License-Identifier: MIT */
/*
 * clusterpin: the cluster this node belongs to (the controller's store id,
 * carried by every list reply), pinned at the first list — trust on first
 * use — in a file beside the node's VM run dirs. It lasts as long as what it
 * protects: the run dir is on tmpfs, like the pinned maps, and QEMU outlives
 * an agent restart but not a reboot. A controller that serves another
 * cluster (started on an empty store with the old token, or on another
 * cluster's store) is refused before the agent reconciles anything: the
 * informer keeps its last cache, so every port and VM stays in place, and
 * the reason is logged. Removing the file accepts the next cluster.
 */
#ifndef GODWIT_AGENT_CLUSTERPIN_H
#define GODWIT_AGENT_CLUSTERPIN_H

#include <stddef.h>

#define CLUSTERPIN_FILE	  ".cluster-id" /* never a VM's name (names begin with a letter) */
#define CLUSTERPIN_ID_MAX 64

/*
 * 0 when cluster is the pinned one, or nothing was pinned and cluster is
 * now (the file and its directory are created); -EPERM when another cluster
 * is pinned (its id in pinned, pinned_len bytes); -EINVAL for an id that is
 * empty, too long or not printable; other -errno when the file cannot be read
 * or written.
 */
int clusterpin_check(const char *path, const char *cluster, char *pinned, size_t pinned_len);

#endif
