/* SPDX-License-Identifier: MIT */
/*
 * Sending copies of a frame: to a local port (redirect to its host-side
 * device) or to a remote node (tunnel key + redirect to the VXLAN device).
 * Every copy but the last is a bpf_clone_redirect; the last one is the
 * frame itself (bpf_redirect), so one location costs no clone.
 *
 * A local port in GW_PORT_HANDOFF (its VM stopped here for the last phase of
 * a live migration) takes no copy itself: the copy goes on to the target node,
 * marked (zero-loss handoff, see bpf/abi.h).
 */
#ifndef GODWIT_BPF_LIB_FORWARD_H
#define GODWIT_BPF_LIB_FORWARD_H

#include "common.h"
#include "maps.h"
#include "drop.h"
#include "eth.h"

/* Whether a broadcast copy may go into the port: not to a standby target,
 * and not to a stopped source (handoff forwards unicast only). */
static __always_inline bool port_takes_flood(__u32 ifindex)
{
	struct gw_port *port = bpf_map_lookup_elem(&gw_ports, &ifindex);

	return port && (port->state == GW_PORT_ACTIVE || port->state == GW_PORT_PRIMED);
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

/* The same for a port whose entry is known: the frame itself (not a clone)
 * for a veth goes straight into the peer's ingress in the endpoint's
 * namespace (bpf_redirect_peer, from tc ingress), without a second pass
 * through the host-side device's backlog queue. */
static __always_inline int send_port(struct __sk_buff *skb, __u32 ifindex,
				     const struct gw_port *port, bool clone)
{
	if (clone || !(port->flags & GW_PORT_F_VETH))
		return send_local(skb, ifindex, clone);
	if (bpf_redirect_peer(ifindex, 0) != TC_ACT_REDIRECT)
		return DROP(GW_CNT_DROP_REDIRECT);
	count(GW_CNT_FWD_LOCAL);
	return TC_ACT_REDIRECT;
}

/* node_ip is an IPv4 underlay address in network order (the underlay is IPv4
 * today: gw_config.underlay_family); tos is the outer header's (0 but for
 * handoff). */
static __always_inline int send_remote_tos(struct __sk_buff *skb, __u32 vni, __u32 node_ip,
					   __u8 tos, bool clone)
{
	struct gw_config *cfg = config_get();
	struct bpf_tunnel_key key = {
	    .tunnel_id = vni,
	    .remote_ipv4 = bpf_ntohl(node_ip),
	    .tunnel_tos = tos,
	    .tunnel_ttl = 64,
	};
	int verdict;

	if (!cfg || !cfg->vxlan_ifindex)
		return DROP(GW_CNT_DROP_REDIRECT); /* node not configured yet */
	if (cfg->local_ip.v4)
		key.local_ipv4 = bpf_ntohl(cfg->local_ip.v4);
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0))
		return DROP(GW_CNT_DROP_REDIRECT);
	verdict = send_to_dev(skb, cfg->vxlan_ifindex, clone);
	if (!IS_DROP(verdict))
		count(GW_CNT_FWD_REMOTE);
	return verdict;
}

static __always_inline int send_remote(struct __sk_buff *skb, __u32 vni, __u32 node_ip, bool clone)
{
	return send_remote_tos(skb, vni, node_ip, 0, clone);
}

/* The remote location of a MAC (IPv4 underlay, network order), or 0. */
static __always_inline __u32 fdb_remote_node(const struct gw_fdb_entry *entry)
{
	int i;

	for (i = 0; i < GW_FDB_MAX_LOC; i++) {
		if (i >= entry->count)
			break;
		if (entry->loc[i].node_ip.v4)
			return entry->loc[i].node_ip.v4;
	}
	return 0;
}

/* The target of a port in handoff: the remote location of its own fdb
 * entry (replication lists source and target while the VM migrates). */
static __always_inline __u32 handoff_target(const struct gw_port *port)
{
	struct gw_fdb_key key = {.vni = port->vni};
	struct gw_fdb_entry *entry;

	mac_copy(key.mac, port->mac);
	entry = bpf_map_lookup_elem(&gw_fdb, &key);
	return entry ? fdb_remote_node(entry) : 0;
}

/* The copy for a stopped source's VM, on to the target, marked. */
static __always_inline int send_handoff(struct __sk_buff *skb, const struct gw_port *port,
					bool clone)
{
	__u32 target = handoff_target(port);
	int verdict;

	if (!target)
		return DROP(GW_CNT_DROP_HANDOFF); /* the migration is over here */
	verdict = send_remote_tos(skb, port->vni, target, GW_HANDOFF_DSCP << 2, clone);
	if (!IS_DROP(verdict))
		count(GW_CNT_HANDOFF_FWD);
	return verdict;
}

/* The copy for a migrating source's tap, GW_PRIMERS primers first (bpf/abi.h):
 * clones of the frame with the primer ethertype, then the frame as it was.
 * A primer that cannot be sent costs only itself. */
static __always_inline int send_primed(struct __sk_buff *skb, __u32 ifindex,
				       const struct gw_port *port, bool clone)
{
	const __u32 off = 2 * ETH_ALEN; /* h_proto */
	__be16 proto, primer = bpf_htons(GW_PRIMER_ETHERTYPE);
	int i;

	if (bpf_skb_load_bytes(skb, off, &proto, sizeof(proto)) < 0)
		return DROP(GW_CNT_DROP_MALFORMED);
	if (bpf_skb_store_bytes(skb, off, &primer, sizeof(primer), 0) < 0)
		return send_port(skb, ifindex, port, clone);
	for (i = 0; i < GW_PRIMERS; i++)
		if (bpf_clone_redirect(skb, ifindex, 0) == 0)
			count(GW_CNT_PRIMER);
	if (bpf_skb_store_bytes(skb, off, &proto, sizeof(proto), 0) < 0)
		return DROP(GW_CNT_DROP_REDIRECT); /* never a primer in its place */
	return send_port(skb, ifindex, port, clone);
}

/* The copy for a local port: into its device (primed while the VM migrates
 * away), or handed off. */
static __always_inline int deliver_port(struct __sk_buff *skb, __u32 ifindex,
					const struct gw_port *port, bool clone)
{
	if (port->state == GW_PORT_HANDOFF)
		return send_handoff(skb, port, clone);
	if (port->state == GW_PORT_PRIMED)
		return send_primed(skb, ifindex, port, clone);
	return send_port(skb, ifindex, port, clone);
}

#define LOC_SEND TC_ACT_OK
#define LOC_SKIP 1 /* the ingress port itself, or an empty location */

/* LOC_SEND, LOC_SKIP or DROP(reason) for this one copy; *port is the local
 * port's entry when the location is one (NULL for a remote node). */
static __always_inline int loc_status(const struct gw_location *loc, __u32 vni, __u32 ingress,
				      struct gw_port **port)
{
	__u32 ifindex = loc->ifindex;

	*port = NULL;
	if (!ifindex)
		return loc->node_ip.v4 ? LOC_SEND : LOC_SKIP;
	if (ifindex == ingress)
		return LOC_SKIP;
	*port = bpf_map_lookup_elem(&gw_ports, &ifindex);
	if (!*port || (*port)->vni != vni)
		return DROP(GW_CNT_DROP_VNI_MISMATCH); /* strict isolation */
	if ((*port)->state == GW_PORT_STANDBY)
		return DROP(GW_CNT_DROP_STANDBY); /* held back until activation */
	return LOC_SEND;
}

/* A copy to a location loc_status() said LOC_SEND for. */
static __always_inline int send_loc(struct __sk_buff *skb, __u32 vni, const struct gw_location *loc,
				    const struct gw_port *port, bool clone)
{
	if (!port)
		return send_remote(skb, vni, loc->node_ip.v4, clone);
	return deliver_port(skb, loc->ifindex, port, clone);
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
	struct gw_port *port;
	int last = -1;
	int verdict;
	int i;

	for (i = 0; i < GW_FDB_MAX_LOC; i++) {
		if (i >= entry->count)
			break;
		verdict = loc_status(&entry->loc[i], vni, ingress, &port);
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
		verdict = loc_status(loc, vni, ingress, &port);
		if (verdict == LOC_SEND)
			verdict = send_loc(skb, vni, loc, port, i < last);
		if (i == last && verdict != LOC_SKIP)
			return verdict; /* the frame itself, or why it was not sent */
		if (IS_DROP(verdict))
			count_drop(verdict);
	}
	return DROP(GW_CNT_DROP_STANDBY); /* unreachable in practice */
}

#endif
