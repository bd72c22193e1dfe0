/* SPDX-License-Identifier: MIT */
/* IPv4 parsing and the DHCP client exception of port security. */
#ifndef GODWIT_BPF_LIB_IPV4_H
#define GODWIT_BPF_LIB_IPV4_H

#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include "common.h"

#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67

/* Returns the IPv4 header after eth, or NULL when short or not version 4. */
static __always_inline struct iphdr *ipv4_parse(struct __sk_buff *skb, struct ethhdr *eth)
{
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return NULL;
	if (ip->version != 4 || ip->ihl < 5)
		return NULL;
	return ip;
}

/* A DHCP discover/request before the client has an address: 0.0.0.0, UDP
 * 68 -> 67. */
static __always_inline bool ipv4_is_dhcp_client(struct __sk_buff *skb, struct iphdr *ip)
{
	void *data_end = (void *)(long)skb->data_end;
	struct udphdr *udp;

	if (ip->saddr != 0 || ip->protocol != IPPROTO_UDP)
		return false;
	if (ip->ihl != 5) /* a DHCP client sends no IP options */
		return false;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return false;
	return udp->source == bpf_htons(DHCP_CLIENT_PORT) &&
	       udp->dest == bpf_htons(DHCP_SERVER_PORT);
}

/* Any DHCP client message (UDP 68 -> 67, no IP options, not a fragment):
 * discover/request from 0.0.0.0 and unicast renewals from the lease. */
static __always_inline bool ipv4_is_dhcp_to_server(struct __sk_buff *skb, struct ethhdr *eth)
{
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip;
	struct udphdr *udp;

	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return false;
	ip = ipv4_parse(skb, eth);
	if (!ip || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
	    (ip->frag_off & bpf_htons(0x3fff)))
		return false;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return false;
	return udp->source == bpf_htons(DHCP_CLIENT_PORT) &&
	       udp->dest == bpf_htons(DHCP_SERVER_PORT);
}

#endif
