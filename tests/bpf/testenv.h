/* SPDX-License-Identifier: MIT */
/*
 * Environment of the datapath tests: a private network namespace with real
 * devices (so ifindexes are real), frame builders, and AF_PACKET/UDP helpers
 * to inject frames and capture the copies the datapath sends.
 *
 * Layout of the namespace:
 *   gwhN <-> gwvN (N = 1..TE_NPORTS)  veth pairs; gwhN is the host side (a
 *                                     godwit port), gwvN plays the VM.
 *   gwvx                              external-mode VXLAN on UDP 4789.
 *   gwu0 <-> gwu1                     the "underlay": gwu0 has 192.0.2.1/24 and
 *                                     static neighbours for the remote nodes, so
 *                                     encapsulated copies are captured on gwu1.
 *   gwh8 <-> gwv8                     a port whose VM side is in a second
 *                                     namespace (held by a child process), as
 *                                     an endpoint's is: bpf_redirect_peer works
 *                                     only across namespaces.
 * Nothing leaves the namespace: it has no link to the outside.
 */
#ifndef GODWIT_TESTS_BPF_TESTENV_H
#define GODWIT_TESTS_BPF_TESTENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TE_NPORTS 6

struct testenv {
	int port_ifindex[TE_NPORTS + 1]; /* host side gwhN, 1-based */
	int vm_ifindex[TE_NPORTS + 1];	 /* VM side gwvN */
	int vxlan_ifindex;
	int underlay_ifindex; /* gwu0 */
	int wire_ifindex;     /* gwu1: where encapsulated copies are captured */
	int peer_port_ifindex; /* gwh8 */
	int peer_vm_ifindex;   /* gwv8, in peer_ns */
	int peer_ns_fd;	       /* the second namespace */
	int host_ns_fd;	       /* the first one */
	int peer_ns_holder;    /* pid of the child that keeps peer_ns */
};

/* unshare(CLONE_NEWNET), no IPv6 (no stray frames), creates the devices. */
int testenv_setup(struct testenv *te);

struct frame {
	uint8_t data[512];
	size_t len;
};

void mac_n(uint8_t mac[6], int n); /* 02:00:00:00:00:n */
uint32_t vm_ip(int n);		   /* 198.51.100.n, network order */
uint32_t node_ip(int n);	   /* 192.0.2.n, network order */
extern const uint8_t mac_broadcast[6];

void frame_eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t proto);
void frame_ipv4_udp(struct frame *f, const uint8_t *dst, const uint8_t *src, uint32_t saddr,
		    uint32_t daddr, uint16_t sport, uint16_t dport);
void frame_arp(struct frame *f, uint16_t op, const uint8_t *eth_dst, const uint8_t *eth_src,
	       const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa);
void frame_rarp(struct frame *f, const uint8_t *mac);

/* A raw socket on ifindex that sees incoming frames only; nonblocking. */
int capture_open(int ifindex);
/* The same for a device of the namespace ns_fd. */
int capture_open_in(const struct testenv *te, int ns_fd, int ifindex);
/* Ends the child holding the second namespace. */
void testenv_teardown(struct testenv *te);
/* Next incoming frame within timeout_ms: its length, 0 on timeout, -errno. */
int capture_next(int fd, uint8_t *buf, size_t size, int timeout_ms);
void capture_drain(int fd);

/* Sends a frame out of ifindex (so it enters the peer's ingress). */
int inject(int ifindex, const struct frame *f);
/* Sends f VXLAN-encapsulated with vni to the local VXLAN socket over lo,
 * from node 3's underlay address (node_ip(3): IP_TRANSPARENT). */
int inject_vxlan(uint32_t vni, const struct frame *f);
/* The same with the outer IPv4 TOS byte set (a handed-off frame's DSCP mark). */
int inject_vxlan_tos(uint32_t vni, uint8_t tos, const struct frame *f);
/* The same from the underlay address src (network order). */
int inject_vxlan_from(uint32_t src, uint32_t vni, uint8_t tos, const struct frame *f);
/* The same, to dst (network order) instead of 127.0.0.1. */
int inject_vxlan_to(uint32_t src, uint32_t dst, uint32_t vni, uint8_t tos, const struct frame *f);

uint64_t monotonic_ns(void);

#endif
