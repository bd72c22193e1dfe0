// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * godwit tc datapath: one program per kind of device.
 *
 * from_port   ingress of a host-side tap/veth (frames the VM/endpoint sends):
 *             port security -> activation -> local DHCP -> ARP responder ->
 *             forwarding.
 * from_fabric ingress of the node's external-mode VXLAN device: tunnel key ->
 *             VNI -> local delivery only (never re-flooded to the fabric).
 *
 * Helpers return a TC action or DROP(reason); finish() counts the reason.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/drop.h"
#include "lib/eth.h"
#include "lib/security.h"
#include "lib/activation.h"
#include "lib/arp_responder.h"
#include "lib/forward.h"
#include "lib/flood.h"

static __always_inline int forward_from_port(struct __sk_buff *skb, __u32 vni, __u32 ingress,
					     const struct ethhdr *eth)
{
	struct gw_fdb_key key = {.vni = vni};
	struct gw_fdb_entry *entry;

	if (mac_is_multicast(eth->h_dest))
		return flood(skb, vni, ingress, true);
	mac_copy(key.mac, eth->h_dest);
	entry = bpf_map_lookup_elem(&gw_fdb, &key);
	if (!entry)
		return DROP(GW_CNT_DROP_UNKNOWN_DST);
	return forward_fdb(skb, vni, ingress, entry);
}

static __always_inline int handle_port(struct __sk_buff *skb)
{
	__u32 ingress = skb->ifindex;
	struct gw_port *port;
	struct ethhdr *eth;
	__u32 vni;
	int verdict;

	port = bpf_map_lookup_elem(&gw_ports, &ingress);
	if (!port)
		return DROP(GW_CNT_DROP_NO_PORT);
	eth = eth_parse(skb);
	if (!eth || eth_is_vlan(eth))
		return DROP(GW_CNT_DROP_MALFORMED); /* no VLANs on ports */
	verdict = security_check(skb, port, eth);
	if (verdict != TC_ACT_OK)
		return verdict;
	verdict = activation_check(port, ingress, eth);
	if (verdict != TC_ACT_OK)
		return verdict;
	/* The agent answers from its packet socket (a tap before tc ingress):
	 * consumed here, never flooded. After activation: a request is a
	 * first frame too. */
	if ((port->flags & GW_PORT_F_DHCP) && ipv4_is_dhcp_to_server(skb, eth)) {
		count(GW_CNT_DHCP_LOCAL);
		return TC_ACT_SHOT;
	}
	vni = port->vni;
	verdict = arp_respond(skb, vni, eth);
	if (verdict != TC_ACT_OK)
		return verdict;
	return forward_from_port(skb, vni, ingress, eth);
}

SEC("tc")
int from_port(struct __sk_buff *skb)
{
	count(GW_CNT_RX_PORT);
	return finish(handle_port(skb));
}

/* The local location of a MAC, or 0. */
static __always_inline __u32 fdb_local_ifindex(const struct gw_fdb_entry *entry)
{
	int i;

	for (i = 0; i < GW_FDB_MAX_LOC; i++) {
		if (i >= entry->count)
			break;
		if (entry->loc[i].ifindex)
			return entry->loc[i].ifindex;
	}
	return 0;
}

/* A frame a stopped source handed off: into the standby tap, where the
 * resuming QEMU reads it. Only the port's other location (the source) hands
 * off to it. Once the port is active the direct copies flow and a late marked
 * one would be a duplicate; a port in handoff itself would loop. */
static __always_inline int handoff_receive(struct __sk_buff *skb, __u32 ifindex,
					   const struct gw_port *port,
					   const struct gw_fdb_entry *entry, __u32 from)
{
	int verdict;

	if (port->state != GW_PORT_STANDBY)
		return DROP(GW_CNT_DROP_HANDOFF);
	if (from != fdb_remote_node(entry))
		return DROP(GW_CNT_DROP_HANDOFF_FOREIGN);
	verdict = send_port(skb, ifindex, port, false);
	if (!IS_DROP(verdict))
		count(GW_CNT_HANDOFF_RX);
	return verdict;
}

/* Addressed to this node's underlay address (outer destination: the key's
 * local_ipv4 on receive); a node not yet told its address takes any. */
static __always_inline bool to_underlay(const struct bpf_tunnel_key *tkey)
{
	struct gw_config *cfg = config_get();

	return !cfg || !cfg->local_ip.v4 || bpf_htonl(tkey->local_ipv4) == cfg->local_ip.v4;
}

static __always_inline int handle_fabric(struct __sk_buff *skb)
{
	struct bpf_tunnel_key tkey = {};
	struct gw_fdb_key key = {};
	union gw_addr from = {};
	struct gw_fdb_entry *entry;
	struct gw_port *port;
	struct ethhdr *eth;
	__u32 ifindex;

	if (bpf_skb_get_tunnel_key(skb, &tkey, sizeof(tkey), 0))
		return DROP(GW_CNT_DROP_NO_TUNNEL);
	if (!to_underlay(&tkey))
		return DROP(GW_CNT_DROP_NOT_UNDERLAY);
	from.v4 = bpf_htonl(tkey.remote_ipv4);
	if (!bpf_map_lookup_elem(&gw_nodes, &from))
		return DROP(GW_CNT_DROP_UNKNOWN_NODE);
	key.vni = tkey.tunnel_id;
	eth = eth_parse(skb);
	if (!eth)
		return DROP(GW_CNT_DROP_MALFORMED);
	if (mac_is_multicast(eth->h_dest))
		return flood(skb, key.vni, 0, false);
	mac_copy(key.mac, eth->h_dest);
	entry = bpf_map_lookup_elem(&gw_fdb, &key);
	if (!entry)
		return DROP(GW_CNT_DROP_UNKNOWN_DST);
	ifindex = fdb_local_ifindex(entry);
	if (!ifindex)
		return DROP(GW_CNT_DROP_UNKNOWN_DST);
	port = bpf_map_lookup_elem(&gw_ports, &ifindex);
	if (!port || port->vni != key.vni)
		return DROP(GW_CNT_DROP_VNI_MISMATCH); /* strict isolation */
	if (GW_TOS_IS_HANDOFF(tkey.tunnel_tos))
		return handoff_receive(skb, ifindex, port, entry, from.v4);
	if (port->state == GW_PORT_STANDBY)
		return DROP(GW_CNT_DROP_STANDBY);
	return deliver_port(skb, ifindex, port, false);
}

SEC("tc")
int from_fabric(struct __sk_buff *skb)
{
	count(GW_CNT_RX_FABRIC);
	return finish(handle_fabric(skb));
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
