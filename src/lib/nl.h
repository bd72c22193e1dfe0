/* SPDX-License-Identifier: MIT */
/*
 * nl: a small rtnetlink helper on libmnl — just what the agent needs to make
 * its devices: dump links, delete a link, create a veth whose peer lands in
 * another network namespace, create an external-mode (collect_md) VXLAN
 * device, set mac/mtu/up/name, add an IPv4 address, a default route.
 *
 * A struct nl_sock is bound to the network namespace it was opened in:
 * nl_open() uses the caller's, nl_open_netns() the named one (/run/netns/NAME)
 * by switching the calling thread there just long enough to open the socket.
 * Requests are synchronous (request, then wait for the ACK); not thread-safe.
 */
#ifndef GODWIT_LIB_NL_H
#define GODWIT_LIB_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

struct nl_sock;

int nl_open(struct nl_sock **out);
/* Opens a socket inside the netns /run/netns/<name>: -ENOENT when missing. */
int nl_open_netns(const char *name, struct nl_sock **out);
void nl_close(struct nl_sock *nl); /* accepts NULL */

struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16]; /* IFLA_INFO_KIND, "" when none */
	uint8_t mac[6];
	bool has_mac;
	uint32_t mtu;
	uint32_t flags; /* IFF_* */
	int link;       /* IFLA_LINK: a veth's peer ifindex (in the peer's netns), 0 if none */
	uint32_t vxlan_local; /* kind "vxlan": IFLA_VXLAN_LOCAL, network order, 0 if unset */
};

/* Calls cb for every link; a negative return from cb stops and is returned. */
int nl_link_dump(struct nl_sock *nl, int (*cb)(const struct nl_link *link, void *ctx), void *ctx);
/* Fills *out for the link named name: -ENODEV when there is none. */
int nl_link_get(struct nl_sock *nl, const char *name, struct nl_link *out);
int nl_link_del(struct nl_sock *nl, int ifindex);

/* veth pair: name in nl's netns, peer_name inside the netns peer_netns_fd
 * (-1: same netns), with the peer's MAC (NULL: random) and both MTUs (0: default). */
int nl_veth_create(struct nl_sock *nl, const char *name, const char *peer_name, int peer_netns_fd,
		   const uint8_t *peer_mac, uint32_t mtu);
/* VXLAN in external (collect_md) mode, no learning, on UDP dstport, with the
 * underlay's local_ipv4 (network order, 0: none). No IFLA_VXLAN_LINK: with a
 * lower device the kernel caps the MTU at the lower device's minus 50. */
int nl_vxlan_create_external(struct nl_sock *nl, const char *name, uint16_t dstport, uint32_t mtu,
			     uint32_t local_ipv4);

/* Changes only what is given: mac NULL, mtu 0, name NULL mean "leave". */
int nl_link_set(struct nl_sock *nl, int ifindex, const uint8_t *mac, uint32_t mtu,
		const char *name);
int nl_link_set_up(struct nl_sock *nl, int ifindex, bool up);
/* Adds (or replaces) an IPv4 address; ipv4 in network order. */
int nl_addr_add(struct nl_sock *nl, int ifindex, uint32_t ipv4, uint8_t prefixlen);
/* Adds (or replaces) the IPv4 default route: via (network order) on ifindex. */
int nl_route_default(struct nl_sock *nl, int ifindex, uint32_t via);
/* Calls cb for every IPv4 address of ifindex (0: of every link). */
int nl_addr_dump(struct nl_sock *nl, int ifindex,
		 int (*cb)(int ifindex, uint32_t ipv4, uint8_t prefixlen, void *ctx), void *ctx);

#endif
