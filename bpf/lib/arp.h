/* SPDX-License-Identifier: MIT */
/* ARP for IPv4 over Ethernet: parsing and the in-place reply rewrite. */
#ifndef GODWIT_BPF_LIB_ARP_H
#define GODWIT_BPF_LIB_ARP_H

#include "common.h"
#include "eth.h"

/* From <linux/if_arp.h>, which drags in libc headers unusable for BPF. */
#define ARPHRD_ETHER  1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY   2

struct arp_hdr {
	__be16 ar_hrd;
	__be16 ar_pro;
	__u8 ar_hln;
	__u8 ar_pln;
	__be16 ar_op;
};

/* An Ethernet/IPv4 ARP packet. */
struct arp_eth_ipv4 {
	struct arp_hdr hdr;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

static __always_inline __u32 arp_ip(const __u8 *p)
{
	__u32 ip;

	__builtin_memcpy(&ip, p, 4);
	return ip; /* network order */
}

/* Returns the ARP body following eth, or NULL when it is short or not
 * Ethernet/IPv4. */
static __always_inline struct arp_eth_ipv4 *arp_parse(struct __sk_buff *skb, struct ethhdr *eth)
{
	void *data_end = (void *)(long)skb->data_end;
	struct arp_eth_ipv4 *arp = (void *)(eth + 1);

	if ((void *)(arp + 1) > data_end)
		return NULL;
	if (arp->hdr.ar_hrd != bpf_htons(ARPHRD_ETHER) || arp->hdr.ar_pro != bpf_htons(ETH_P_IP) ||
	    arp->hdr.ar_hln != ETH_ALEN || arp->hdr.ar_pln != 4)
		return NULL;
	return arp;
}

/* Turns a request into the reply of `mac` for its target address, in place. */
static __always_inline void arp_make_reply(struct ethhdr *eth, struct arp_eth_ipv4 *arp,
					   const __u8 *mac)
{
	__u8 req_mac[ETH_ALEN];
	__u8 req_ip[4];
	__u8 answer_ip[4];

	mac_copy(req_mac, arp->sha);
	__builtin_memcpy(req_ip, arp->spa, 4);
	__builtin_memcpy(answer_ip, arp->tpa, 4);

	mac_copy(eth->h_dest, req_mac);
	mac_copy(eth->h_source, mac);
	arp->hdr.ar_op = bpf_htons(ARPOP_REPLY);
	mac_copy(arp->sha, mac);
	__builtin_memcpy(arp->spa, answer_ip, 4);
	mac_copy(arp->tha, req_mac);
	__builtin_memcpy(arp->tpa, req_ip, 4);
}

#endif
