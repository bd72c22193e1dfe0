/* SPDX-License-Identifier: MIT */
/* Ethernet parsing and MAC helpers. */
#ifndef GODWIT_BPF_LIB_ETH_H
#define GODWIT_BPF_LIB_ETH_H

#include "common.h"

#define ETH_P_RARP_ 0x8035

static __always_inline bool mac_equal(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, ETH_ALEN);
}

/* Broadcast is a multicast address too (group bit set). */
static __always_inline bool mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

/* Returns the Ethernet header, or NULL when the frame is too short. */
static __always_inline struct ethhdr *eth_parse(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	return eth;
}

static __always_inline bool eth_is_vlan(const struct ethhdr *eth)
{
	return eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD);
}

#endif
