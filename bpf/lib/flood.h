/* SPDX-License-Identifier: MIT */
/*
 * Head-end replication of broadcast/multicast: a clone to every local port of
 * the network (never back to the sender, never to a standby
 * target or a stopped source) and, for
 * frames from a port, to every remote node. The original is then dropped
 * quietly (the copies are the delivery).
 */
#ifndef GODWIT_BPF_LIB_FLOOD_H
#define GODWIT_BPF_LIB_FLOOD_H

#include "common.h"
#include "maps.h"
#include "drop.h"
#include "forward.h"

static __always_inline void flood_local(struct __sk_buff *skb, const struct gw_flood *fl,
					__u32 ingress)
{
	int verdict;
	__u32 i;

	for (i = 0; i < GW_FLOOD_MAX_LOCAL; i++) {
		__u32 ifindex;

		if (i >= fl->n_local)
			break;
		ifindex = fl->local_ifindex[i];
		if (!ifindex || ifindex == ingress || !port_takes_flood(ifindex))
			continue;
		verdict = send_local(skb, ifindex, true);
		if (IS_DROP(verdict))
			count_drop(verdict);
	}
}

static __always_inline void flood_remote(struct __sk_buff *skb, __u32 vni,
					 const struct gw_flood *fl)
{
	int verdict;
	__u32 i;

	for (i = 0; i < GW_FLOOD_MAX_REMOTE; i++) {
		__u32 node_ip;

		if (i >= fl->n_remote)
			break;
		node_ip = fl->remote_ip[i].v4;
		if (!node_ip)
			continue;
		verdict = send_remote(skb, vni, node_ip, true);
		if (IS_DROP(verdict))
			count_drop(verdict);
	}
}

/* Floods a frame from a local port (ingress) or from the fabric (ingress 0,
 * to_remote false). Returns TC_ACT_SHOT for the original, or DROP(reason). */
static __always_inline int flood(struct __sk_buff *skb, __u32 vni, __u32 ingress, bool to_remote)
{
	struct gw_flood *fl = bpf_map_lookup_elem(&gw_flood, &vni);

	if (!fl) /* from a port: no list yet; from the fabric: unknown VNI */
		return to_remote ? DROP(GW_CNT_DROP_UNKNOWN_DST) : DROP(GW_CNT_DROP_NO_TUNNEL);
	count(GW_CNT_FLOOD);
	flood_local(skb, fl, ingress);
	if (to_remote)
		flood_remote(skb, vni, fl);
	return TC_ACT_SHOT;
}

#endif
