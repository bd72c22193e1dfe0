/* SPDX-License-Identifier: MIT */
/*
 * migsock: the TCP connection of a live migration, owned by the agents and
 * handed to QEMU (QMP getfd + `fd:` URIs on both ends), as libvirt does for
 * its tunnelled and fd migrations.
 *
 * Why the agent owns it
 * - Buffering: what sits in the socket buffers when the source stops the
 *   guest is sent after the stop and lengthens the pause; the agent sets the
 *   buffers (SO_SNDBUF on the source, SO_RCVBUF on the listener before
 *   listen(), so the window is fixed from the SYN on) on any host, not only
 *   in a lab with per-namespace sysctls. 0 leaves the kernel's autotuning.
 * - A cancel that cannot race the completion: shutting the socket down makes
 *   QEMU's next write (source) or read (target) fail, so a transfer either
 *   sent its last byte before (and completes: the guest moves) or fails
 *   (and the target never got the end of the stream). QEMU's migrate_cancel
 *   can instead report `cancelled` after the whole state was flushed, and
 *   then resume the source while the target runs the guest.
 * - The target checks who connects: only the source node's underlay address
 *   is handed to QEMU (QEMU trusts its incoming stream completely).
 * An agent restarted mid-transfer takes the socket back from QEMU
 * (migsock_of_qemu: pidfd_getfd of QEMU's only established TCP socket).
 */
#ifndef GODWIT_AGENT_MIGSOCK_H
#define GODWIT_AGENT_MIGSOCK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MIGSOCK_CONNECT_TIMEOUT_MS 2000
#define MIGSOCK_DEFAULT_BUFFER_KIB 256 /* effective size (the kernel doubles what it is given) */

/* "tcp:IP:PORT" (IPv4) into sa; -EINVAL otherwise. */
int migsock_parse_uri(const char *uri, struct sockaddr_in *sa);

/* A listening socket on ip, port chosen by the kernel (*port), receive
 * buffer buffer_kib (0: autotuned); non-blocking, close-on-exec. */
int migsock_listen(const char *ip, unsigned int buffer_kib, uint16_t *port, int *fd);
/* One pending connection (non-blocking): 0 and *fd, -EAGAIN when none; the
 * peer's address into peer. */
int migsock_accept(int listen_fd, int *fd, char *peer, size_t len);
/* A connection to uri with send buffer buffer_kib, within timeout_ms;
 * blocking afterwards (QEMU's own use of it). */
int migsock_connect(const char *uri, unsigned int buffer_kib, int timeout_ms, int *fd);
/* The established TCP socket of process pid, duplicated into ours. */
int migsock_of_qemu(pid_t pid, int *fd);
/* Makes the transfer on fd fail at its next read or write (the cancel). */
void migsock_cancel(int fd);

#endif
