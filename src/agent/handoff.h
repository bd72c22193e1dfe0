/* SPDX-License-Identifier: MIT */
/*
 * Zero-loss handoff, the user-space half (the datapath half and the design
 * are in bpf/abi.h).
 *
 * At the source QEMU's STOP the agent flips the source port to
 * GW_PORT_HANDOFF: from then on the datapath sends every frame for the VM on
 * to the target, marked. What the flip cannot reach are the frames already
 * queued in the source tap: those the stopped QEMU did not read before STOP
 * (it lags under load) and those that arrived between STOP and the flip.
 * Left there, they die with the source QEMU. So the agent holds a duplicate of
 * QEMU's own tap descriptor (pidfd_getfd, taken when the transfer starts,
 * never read while the VM runs here) and, right after the flip, drains the
 * queue and sends each frame to the target itself, VXLAN-encapsulated with the
 * same mark, exactly as the datapath would have. Every frame is read by one
 * of the two, never both.
 *
 * A stopping QEMU still reads a frame or two from its tap and never delivers
 * them (bpf/abi.h "Primers": one read as it stops, purged with its net queue,
 * and one after that purge re-enables its reads). While the transfer runs the
 * source port is therefore primed: the datapath puts GW_PRIMERS primers before
 * every frame into the tap, QEMU's last reads take primers, and the drain
 * skips the primers it finds (handoff_drain_stats.primers).
 *
 * The target's side has one catch: an incoming QEMU, not yet running, still
 * reads one frame from its tap into its own queue (then stops reading), and
 * that frame is purged when the device state is loaded. So when the target
 * QEMU is prepared the agent writes one primer frame into its tap (local
 * experimental ethertype, to the VM's MAC: a guest ignores it): the primer is
 * the frame QEMU holds and loses; the handed-off frames wait in the tap.
 *
 * Frames in the tap carry a virtio-net header (QEMU enables IFF_VNET_HDR): a
 * frame whose checksum was left to the device (NEEDS_CSUM) gets it completed;
 * a GSO super-frame is not sent (counted; TCP resends it).
 */
#ifndef GODWIT_AGENT_HANDOFF_H
#define GODWIT_AGENT_HANDOFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct handoff_drain_stats {
	unsigned int sent;    /* frames sent on to the target */
	unsigned int skipped; /* GSO or malformed: not sent */
	unsigned int primers; /* the datapath's primers (bpf/abi.h): not sent */
};

/* A duplicate of the descriptor through which process pid is attached to the
 * tap ifname (found by the "iff:" line of /proc/PID/fdinfo), or -errno. */
int handoff_tap_fd(pid_t pid, const char *ifname);

/* Writes the primer frame into the tap ifname (towards its reader) for the
 * VM with MAC mac ("xx:xx:xx:xx:xx:xx"). 0 or -errno. */
int handoff_prime(const char *ifname, const char *mac);

/* Turns one read from a tap with a vnet_hdr_len-byte virtio-net header into
 * the Ethernet frame it carries (in place: the checksum is completed when the
 * header asks for it). 0 and *frame, *frame_len; or -EINVAL (malformed) or
 * -EOPNOTSUPP (a GSO super-frame). Pure; fuzzed. */
int handoff_frame(uint8_t *buf, size_t len, size_t vnet_hdr_len, const uint8_t **frame,
		  size_t *frame_len);

/* Reads every frame queued on tap_fd (non-blocking) and sends each to the
 * target node's VXLAN port (target_ip in network order) with vni and the
 * handoff mark. 0 and *stats, or -errno of the first failure. */
int handoff_drain(int tap_fd, uint32_t vni, uint32_t target_ip, struct handoff_drain_stats *stats);

#endif
