/* SPDX-License-Identifier: MIT */
/*
 * Sending copies of a frame: to a local port (redirect to its host-side
 * device) or to a remote node (tunnel key + redirect to the VXLAN device).
 * Every copy but the last is a bpf_clone_redirect; the last one is the
 * frame itself (bpf_redirect), so one location costs no clone.
 */
#ifndef GODWIT_BPF_LIB_FORWARD_H
#define GODWIT_BPF_LIB_FORWARD_H

#include "common.h"
#include "maps.h"
#include "drop.h"
#include "eth.h"

static __always_inline bool port_is_standby(__u32 ifindex)
{
	struct gw_port *port = bpf_map_lookup_elem(&gw_ports, &ifindex);

	return port && port->state == GW_PORT_STANDBY;
}

/* Sends the frame, or a clone of it, out of ifindex. Returns TC_ACT_OK for a
 * sent clone, TC_ACT_REDIRECT for the frame itself, or DROP(reason). */
static __always_inline int send_to_dev(struct __sk_buff *skb, __u32 ifindex, bool clone)
{
	if (clone)
		return bpf_clone_redirect(skb, ifindex, 0) ? DROP(GW_CNT_DROP_REDIRECT) : TC_ACT_OK;
	return bpf_redirect(ifindex, 0) == TC_ACT_REDIRECT ? TC_ACT_REDIRECT
							   : DROP(GW_CNT_DROP_REDIRECT);
}

static __always_inline int send_local(struct __sk_buff *skb, __u32 ifindex, bool clone)
{
	int verdict = send_to_dev(skb, ifindex, clone);

	if (!IS_DROP(verdict))
		count(GW_CNT_FWD_LOCAL);
	return verdict;
}

/* node_ip is in network order. */
static __always_inline int send_remote(struct __sk_buff *skb, __u32 vni, __u32 node_ip, bool clone)
{
	struct gw_config *cfg = config_get();
	struct bpf_tunnel_key key = {
	    .tunnel_id = vni,
	    .remote_ipv4 = bpf_ntohl(node_ip),
	    .tunnel_ttl = 64,
	};
	int verdict;

	if (!cfg || !cfg->vxlan_ifindex)
		return DROP(GW_CNT_DROP_REDIRECT); /* node not configured yet */
	if (cfg->local_ip)
		key.local_ipv4 = bpf_ntohl(cfg->local_ip);
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0))
		return DROP(GW_CNT_DROP_REDIRECT);
	verdict = send_to_dev(skb, cfg->vxlan_ifindex, clone);
	if (!IS_DROP(verdict))
		count(GW_CNT_FWD_REMOTE);
	return verdict;
}

#define LOC_SEND TC_ACT_OK
#define LOC_SKIP 1 /* the ingress port itself, or an empty location */

/* LOC_SEND, LOC_SKIP or DROP(reason) for this one copy. */
static __always_inline int loc_status(const struct gw_location *loc, __u32 vni, __u32 ingress)
{
	struct gw_port *port;
	__u32 ifindex = loc->ifindex;

	if (!ifindex)
		return loc->node_ip ? LOC_SEND : LOC_SKIP;
	if (ifindex == ingress)
		return LOC_SKIP;
	port = bpf_map_lookup_elem(&gw_ports, &ifindex);
	if (!port || port->vni != vni)
		return DROP(GW_CNT_DROP_VNI_MISMATCH); /* strict isolation */
	if (port->state == GW_PORT_STANDBY)
		return DROP(GW_CNT_DROP_STANDBY); /* held back until activation */
	return LOC_SEND;
}

static __always_inline int send_loc(struct __sk_buff *skb, __u32 vni, const struct gw_location *loc,
				    bool clone)
{
	if (loc->ifindex)
		return send_local(skb, loc->ifindex, clone);
	return send_remote(skb, vni, loc->node_ip, clone);
}

/* Delivers a unicast frame to every location of its fdb entry (two while a
 * MAC migrates: replication to source and target). A location that cannot
 * take its copy is counted as a drop of that copy only. */
static __always_inline int forward_fdb(struct __sk_buff *skb, __u32 vni, __u32 ingress,
				       const struct gw_fdb_entry *entry)
{
	/* Nowhere to go; a frame to the sender's own MAC has no other
	 * destination either. */
	int none = DROP(GW_CNT_DROP_UNKNOWN_DST);
	int last = -1;
	int verdict;
	int i;

	for (i = 0; i < GW_FDB_MAX_LOC; i++) {
		if (i >= entry->count)
			break;
		verdict = loc_status(&entry->loc[i], vni, ingress);
		if (verdict == LOC_SEND)
			last = i;
		else if (IS_DROP(verdict))
			none = verdict;
	}
	if (last < 0)
		return none;

	for (i = 0; i < GW_FDB_MAX_LOC; i++) {
		const struct gw_location *loc = &entry->loc[i];

		if (i > last)
			break;
		verdict = loc_status(loc, vni, ingress);
		if (verdict == LOC_SEND)
			verdict = send_loc(skb, vni, loc, i < last);
		if (i == last && verdict != LOC_SKIP)
			return verdict; /* the frame itself, or why it was not sent */
		if (IS_DROP(verdict))
			count_drop(verdict);
	}
	return DROP(GW_CNT_DROP_STANDBY); /* unreachable in practice */
}

#endif
