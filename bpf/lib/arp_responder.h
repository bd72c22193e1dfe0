/* SPDX-License-Identifier: MIT */
/* Answers ARP requests for addresses of the network the datapath knows. */
#ifndef GODWIT_BPF_LIB_ARP_RESPONDER_H
#define GODWIT_BPF_LIB_ARP_RESPONDER_H

#include "common.h"
#include "maps.h"
#include "arp.h"

/* TC_ACT_REDIRECT when answered (the reply goes back out of the ingress
 * device), TC_ACT_OK when the frame goes on to forwarding. */
static __always_inline int arp_respond(struct __sk_buff *skb, __u32 vni, struct ethhdr *eth)
{
	struct gw_neigh_key key = {.vni = vni, .family = GW_FAMILY_IPV4};
	struct arp_eth_ipv4 *arp;
	struct gw_neigh *answer;

	if (eth->h_proto != bpf_htons(ETH_P_ARP))
		return TC_ACT_OK;
	arp = arp_parse(skb, eth);
	if (!arp || arp->hdr.ar_op != bpf_htons(ARPOP_REQUEST))
		return TC_ACT_OK;
	key.ip.v4 = arp_ip(arp->tpa);
	if (key.ip.v4 == arp_ip(arp->spa))
		return TC_ACT_OK; /* gratuitous ARP: announce it to everyone */
	answer = bpf_map_lookup_elem(&gw_neigh, &key);
	if (!answer)
		return TC_ACT_OK;
	arp_make_reply(eth, arp, answer->mac);
	count(GW_CNT_ARP_REPLY);
	return bpf_redirect(skb->ifindex, 0);
}

#endif
