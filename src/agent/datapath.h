/* SPDX-License-Identifier: MIT */
/*
 * datapath: loads the godwit tc programs (bpf/godwit.bpf.c, via the libbpf
 * skeleton), pins their maps under a per-node directory in bpffs and attaches
 * the programs to devices.
 *
 * Restart model: maps are pinned, so a new agent process reuses the very maps
 * the running programs use (forwarding never stops). Programs are re-loaded
 * and atomically replace the previous filter on each device (same handle and
 * priority), so there is no window without a program.
 */
#ifndef GODWIT_AGENT_DATAPATH_H
#define GODWIT_AGENT_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>
#include "bpf/abi.h"

struct datapath;

enum datapath_map {
	DP_MAP_PORTS,
	DP_MAP_FDB,
	DP_MAP_NEIGH,
	DP_MAP_FLOOD,
	DP_MAP_NODES,
	DP_MAP_COUNTERS,
	DP_MAP_CONFIG,
	DP_MAP_EVENTS,
	DP_MAP__MAX
};

/* Mounts bpffs on /sys/fs/bpf when needed, creates pin_dir, loads the
 * programs, reuses maps already pinned there (or pins new ones). */
int datapath_open(const char *pin_dir, struct datapath **out);
void datapath_close(struct datapath *dp); /* accepts NULL; keeps pins and filters */

/* Attach from_port / from_fabric to the ingress (clsact) of ifindex in the
 * current network namespace; replaces a previous godwit filter there. */
int datapath_attach_port(struct datapath *dp, int ifindex);
int datapath_attach_fabric(struct datapath *dp, int ifindex);
int datapath_detach(int ifindex); /* removes the clsact qdisc and its filters */

int datapath_map_fd(const struct datapath *dp, enum datapath_map map);

/* A migration source's port at ifindex to state to (bpf/abi.h):
 * GW_PORT_PRIMED from active (its transfer starts), GW_PORT_HANDOFF from
 * active or primed (STOP), GW_PORT_ACTIVE from primed or handoff (the VM
 * runs here again). 0 when it is already there; -ENOENT without an entry,
 * -EBUSY from another state (a standby target), -EINVAL for another to. */
int datapath_set_source_state(const struct datapath *dp, uint32_t ifindex, uint32_t to);

/* Where the datapath sends the frames of a port in handoff: its VNI and the
 * remote location of its fdb entry (network order). -ENOENT without one. */
int datapath_handoff_target(const struct datapath *dp, uint32_t ifindex, uint32_t *vni,
			    uint32_t *node_ip);

/* Sums the per-CPU counters into out[GW_CNT__MAX]. */
int datapath_read_counters(const struct datapath *dp, uint64_t out[GW_CNT__MAX]);

/* Removes every pin under pin_dir and the directory itself. */
int datapath_unpin(const char *pin_dir);

#endif
