/* SPDX-License-Identifier: MIT */
/*
 * Port security: a port may only send with its own MAC, its own IPv4 (once
 * known; DHCP clients excepted) and ARP that speaks for itself.
 */
#ifndef GODWIT_BPF_LIB_SECURITY_H
#define GODWIT_BPF_LIB_SECURITY_H

#include "common.h"
#include "eth.h"
#include "arp.h"
#include "ipv4.h"

static __always_inline int security_check_ipv4(struct __sk_buff *skb, const struct gw_port *port,
					       struct ethhdr *eth)
{
	struct iphdr *ip;

	if (!(port->flags & GW_PORT_F_HAS_IPV4))
		return TC_ACT_OK;
	ip = ipv4_parse(skb, eth);
	if (!ip)
		return DROP(GW_CNT_DROP_MALFORMED);
	if (ip->saddr == port->ip.v4 || ipv4_is_dhcp_client(skb, ip))
		return TC_ACT_OK;
	return DROP(GW_CNT_DROP_SRC_IP);
}

static __always_inline int security_check_arp(struct __sk_buff *skb, const struct gw_port *port,
					      struct ethhdr *eth)
{
	struct arp_eth_ipv4 *arp = arp_parse(skb, eth);
	__u32 spa;

	if (!arp)
		return DROP(GW_CNT_DROP_MALFORMED);
	if (!mac_equal(arp->sha, port->mac))
		return DROP(GW_CNT_DROP_ARP_SPOOF);
	spa = arp_ip(arp->spa);
	/* 0.0.0.0 is an ARP probe (address conflict detection). */
	if ((port->flags & GW_PORT_F_HAS_IPV4) && spa != 0 && spa != port->ip.v4)
		return DROP(GW_CNT_DROP_ARP_SPOOF);
	return TC_ACT_OK;
}

/* TC_ACT_OK when the frame may go on, else DROP(reason). */
static __always_inline int security_check(struct __sk_buff *skb, const struct gw_port *port,
					  struct ethhdr *eth)
{
	if (!(port->flags & GW_PORT_F_SECURITY))
		return TC_ACT_OK;
	if (!mac_equal(eth->h_source, port->mac))
		return DROP(GW_CNT_DROP_SRC_MAC);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return security_check_ipv4(skb, port, eth);
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return security_check_arp(skb, port, eth);
	return TC_ACT_OK;
}

#endif
