/* SPDX-License-Identifier: MIT */
/*
 * dhcp: the node-local DHCP server, like OVN's native DHCP. Requests never
 * leave the node: every agent answers its own ports from the controller's
 * IPAM (the lease is the Port's spec.ipv4), so a VM gets the same lease on
 * every node it runs on or migrates to.
 *
 * - One AF_PACKET socket per DHCP-enabled local port, bound to the port's
 *   host-side device with protocol ETH_P_ALL: such taps see a received frame
 *   in __netif_receive_skb_core before tc ingress (a socket bound to
 *   ETH_P_IP would be served after it, and miss what from_port consumes).
 *   A classic BPF filter (SO_ATTACH_FILTER) passes only IPv4/UDP to port 67,
 *   so the server wakes only for DHCP; PACKET_IGNORE_OUTGOING hides what is
 *   sent towards the VM, our own replies included.
 * - The datapath consumes the same frames (GW_PORT_F_DHCP, counted as
 *   dhcp_local): they never reach the fabric or another port.
 * - Replies (dhcp_proto.h) are sent with sendto() on the same socket: out of
 *   the host end, i.e. to the VM/endpoint, without passing from_port.
 * - A thread waits on the sockets (epoll) so a reconcile never waits for
 *   DHCP. dhcp_server_set_ports() (the reconciler, after each run) opens and
 *   closes sockets in the caller's network namespace, under the mutex the
 *   thread holds while it answers. Work is bounded: frames over 1514 bytes
 *   are ignored, each port gets DHCP_RATE answers per second (burst as much),
 *   at most 16 frames are read per wakeup and port.
 * - Not done: the gateway's virtual MAC answers no ARP here (the datapath's
 *   neigh map can, see desired.h); no DNS option (the Network has none).
 */
#ifndef GODWIT_AGENT_DHCP_H
#define GODWIT_AGENT_DHCP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/dhcp_proto.h"

#define DHCP_RATE 20 /* answers per second and port */

struct dhcp_port {
	char name[64]; /* the Port's name, for logs */
	int ifindex;   /* host-side device */
	struct dhcp_lease lease;
};

struct dhcp_stats {
	uint64_t received; /* frames read from the sockets */
	uint64_t offers, acks, naks;
	uint64_t ignored_mac; /* chaddr/source not the port's MAC */
	uint64_t malformed;
	uint64_t no_answer; /* RELEASE, DECLINE, another server, ... */
	uint64_t rate_limited;
	uint64_t oversized;
	uint64_t send_errors;
};

struct dhcp_server;

int dhcp_server_start(struct dhcp_server **out);
void dhcp_server_stop(struct dhcp_server *s); /* accepts NULL */

/* Serves exactly these ports from now on: opens sockets for new ones,
 * updates the leases of known ones, closes the rest. On error some ports
 * may be left unserved (logged); the next call retries. */
int dhcp_server_set_ports(struct dhcp_server *s, const struct dhcp_port *ports, size_t n);

void dhcp_server_stats(struct dhcp_server *s, struct dhcp_stats *out);

#endif
