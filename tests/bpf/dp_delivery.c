/* SPDX-License-Identifier: MIT */
/*
 * Real delivery: real frames (AF_PACKET into a VM-side veth, or VXLAN over lo
 * into the fabric device), the copies captured on the peers; veth ports
 * redirect straight into the peer.
 */
#include "dptest.h"

void test_live_remote_tunnel(void **state)
{
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];

	(void)state;
	captures_open(&c);
	f_remote(&f, NULL);
	counters_read(before);
	assert_int_equal(inject(te.vm_ifindex[1], &f), 0);
	counter_wait(before, GW_CNT_FWD_REMOTE, 1);
	expect_on_wire(&c, VNI_A, node_ip(2), &f);
	expect_quiet(&c);
	captures_close(&c);
}

void test_live_arp_reply(void **state)
{
	struct captures c;
	struct frame req, reply;
	uint64_t before[GW_CNT__MAX];

	(void)state;
	captures_open(&c);
	f_arp_answered(&req, &reply);
	counters_read(before);
	assert_int_equal(inject(te.vm_ifindex[1], &req), 0);
	counter_wait(before, GW_CNT_ARP_REPLY, 1);
	expect_on_vm(&c, 1, &reply); /* back to the requester only */
	expect_quiet(&c);
	captures_close(&c);
}

void test_live_replication(void **state)
{
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];

	(void)state;
	captures_open(&c);
	f_replicate(&f, NULL);
	counters_read(before);
	assert_int_equal(inject(te.vm_ifindex[1], &f), 0);
	counter_wait(before, GW_CNT_FWD_REMOTE, 1);
	expect_on_vm(&c, 6, &f);
	expect_on_wire(&c, VNI_A, node_ip(3), &f);
	expect_quiet(&c);
	captures_close(&c);
}

void test_live_flood_from_port(void **state)
{
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];
	uint8_t buf[1024];
	uint32_t seen = 0;

	(void)state;
	captures_open(&c);
	f_arp_unknown_target(&f, NULL);
	counters_read(before);
	assert_int_equal(inject(te.vm_ifindex[1], &f), 0);
	counter_wait(before, GW_CNT_FLOOD, 1);
	expect_on_vm(&c, 2, &f);
	expect_on_vm(&c, 6, &f);
	/* Two encapsulated copies, one per node, in either order. */
	for (int i = 0; i < 2; i++) {
		int len = capture_next(c.wire, buf, sizeof(buf), 2000);
		uint32_t dst;

		assert_true(len >= 50 + (int)f.len);
		memcpy(&dst, buf + 30, 4);
		assert_true(dst == node_ip(2) || dst == node_ip(3));
		seen |= 1U << (ntohl(dst) & 0xff);
		assert_memory_equal(buf + 50, f.data, f.len);
	}
	assert_int_equal(seen, 1U << 2 | 1U << 3);
	expect_quiet(&c); /* not back to port 1, nothing to standby 4 and 5 */
	captures_close(&c);
}

void test_live_fabric(void **state)
{
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];

	(void)state;
	captures_open(&c);

	/* Unicast to an active port of the VNI. */
	frame_ipv4_udp(&f, MAC(2), MAC(10), vm_ip(10), vm_ip(2), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	expect_on_vm(&c, 2, &f);
	counters_expect(
	    "fabric unicast", before,
	    (const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {GW_CNT_FWD_LOCAL, 1}, {0, 0}});

	/* Broadcast: to every active local port of the VNI, never back out. */
	f_arp_unknown_target(&f, NULL);
	memcpy(f.data + 6, MAC(10), 6);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	expect_on_vm(&c, 1, &f);
	expect_on_vm(&c, 2, &f);
	expect_on_vm(&c, 6, &f);
	counters_expect(
	    "fabric broadcast", before,
	    (const struct cnt_delta[]){
		{GW_CNT_RX_FABRIC, 1}, {GW_CNT_FLOOD, 1}, {GW_CNT_FWD_LOCAL, 3}, {0, 0}});
	expect_quiet(&c);
	captures_close(&c);
}

/* VXLAN from an address that is no node (a host on the underlay, this
 * node's own address) reaches no port. */
void test_fabric_unknown_node(void **state)
{
	const uint32_t strangers[] = {htonl(0xc0000263) /* 192.0.2.99 */, node_ip(1)};
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];

	(void)state;
	captures_open(&c);
	frame_ipv4_udp(&f, MAC(2), MAC(10), vm_ip(10), vm_ip(2), 3000, 4000);
	for (size_t i = 0; i < sizeof(strangers) / sizeof(strangers[0]); i++) {
		counters_read(before);
		assert_int_equal(inject_vxlan_from(strangers[i], VNI_A, 0, &f), 0);
		counter_wait(before, GW_CNT_RX_FABRIC, 1);
		counters_expect("fabric frame from a stranger", before,
				(const struct cnt_delta[]){
				    {GW_CNT_RX_FABRIC, 1}, {GW_CNT_DROP_UNKNOWN_NODE, 1}, {0, 0}});
	}
	expect_quiet(&c);
	/* The same frame from a node is delivered. */
	counters_read(before);
	assert_int_equal(inject_vxlan_from(node_ip(2), VNI_A, 0, &f), 0);
	counter_wait(before, GW_CNT_FWD_LOCAL, 1);
	expect_on_vm(&c, 2, &f);
	captures_close(&c);
}

/* Once the node knows its underlay address, VXLAN from a node to another of
 * this host's addresses (here 127.0.0.1) reaches no port; to the underlay
 * address it is delivered. */
void test_fabric_not_underlay(void **state)
{
	struct gw_config cfg = {.vxlan_ifindex = (uint32_t)te.vxlan_ifindex};
	int config = datapath_map_fd(dp, DP_MAP_CONFIG);
	uint64_t before[GW_CNT__MAX];
	struct captures c;
	struct frame f;
	uint32_t key = 0;

	(void)state;
	cfg.local_ip.v4 = node_ip(1);
	assert_int_equal(bpf_map_update_elem(config, &key, &cfg, BPF_ANY), 0);
	captures_open(&c);
	frame_ipv4_udp(&f, MAC(2), MAC(10), vm_ip(10), vm_ip(2), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject_vxlan_from(node_ip(2), VNI_A, 0, &f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	counters_expect("VXLAN to another local address", before,
			(const struct cnt_delta[]){
			    {GW_CNT_RX_FABRIC, 1}, {GW_CNT_DROP_NOT_UNDERLAY, 1}, {0, 0}});
	expect_quiet(&c);
	counters_read(before);
	assert_int_equal(inject_vxlan_to(node_ip(2), node_ip(1), VNI_A, 0, &f), 0);
	counter_wait(before, GW_CNT_FWD_LOCAL, 1);
	expect_on_vm(&c, 2, &f);
	captures_close(&c);
}

void test_live_fabric_drops(void **state)
{
	struct captures c;
	struct frame f;

	(void)state;
	captures_open(&c);
	frame_ipv4_udp(&f, MAC(4), MAC(10), vm_ip(10), vm_ip(4), 3000, 4000);
	fabric_drop(&c, VNI_A, &f, GW_CNT_DROP_STANDBY);
	frame_ipv4_udp(&f, MAC(3), MAC(10), vm_ip(10), vm_ip(3), 3000, 4000);
	fabric_drop(&c, VNI_A, &f, GW_CNT_DROP_VNI_MISMATCH);
	frame_ipv4_udp(&f, MAC(2), MAC(10), vm_ip(10), vm_ip(2), 3000, 4000);
	fabric_drop(&c, VNI_B, &f, GW_CNT_DROP_UNKNOWN_DST); /* M2 is VNI A's */
	frame_ipv4_udp(&f, MAC(10), MAC(11), vm_ip(11), vm_ip(10), 3000, 4000);
	fabric_drop(&c, VNI_A, &f, GW_CNT_DROP_UNKNOWN_DST); /* no local location */
	f_arp_unknown_target(&f, NULL);
	fabric_drop(&c, VNI_UNKNOWN, &f, GW_CNT_DROP_NO_TUNNEL);
	captures_close(&c);
}

void test_fabric_without_tunnel_key(void **state)
{
	struct frame in, out;
	uint64_t before[GW_CNT__MAX];
	struct __sk_buff ctx = {.ifindex = (uint32_t)te.vxlan_ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_out = out.data,
		    .data_size_out = sizeof(out.data), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	(void)state;
	f_local(&in, NULL);
	opts.data_in = in.data;
	opts.data_size_in = (uint32_t)in.len;
	counters_read(before);
	assert_int_equal(bpf_prog_test_run_opts(prog_fabric_fd, &opts), 0);
	assert_int_equal(opts.retval, TC_ACT_SHOT);
	counters_expect(
	    "no tunnel key", before,
	    (const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {GW_CNT_DROP_NO_TUNNEL, 1}, {0, 0}});
}

/* Packets the device ifindex (of this namespace) has transmitted. */
static uint64_t tx_packets(int ifindex)
{
	char name[IF_NAMESIZE];
	struct ifaddrs *all, *a;
	uint64_t n = UINT64_MAX;

	assert_non_null(if_indextoname((unsigned int)ifindex, name));
	assert_int_equal(getifaddrs(&all), 0);
	for (a = all; a; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_PACKET && a->ifa_data &&
		    strcmp(a->ifa_name, name) == 0)
			n = ((const struct rtnl_link_stats *)a->ifa_data)->tx_packets;
	freeifaddrs(all);
	assert_true(n != UINT64_MAX);
	return n;
}

/* Port 8 (VNI A, M8) is a veth whose peer is in another namespace, as an
 * endpoint's is: unicast for it, from the fabric or from a local port, goes
 * into the peer's ingress (bpf_redirect_peer): the host-side device itself
 * transmits nothing. */
void test_live_redirect_peer(void **state)
{
	uint32_t key = (uint32_t)te.peer_port_ifindex;
	struct gw_port p = {.vni = VNI_A,
			    .ip = GW_ADDR_V4(vm_ip(8)),
			    .flags = GW_PORT_F_SECURITY | GW_PORT_F_HAS_IPV4 | GW_PORT_F_VETH};
	uint64_t before[GW_CNT__MAX];
	struct frame f, got;
	uint64_t tx;
	int cap, len;

	(void)state;
	mac_n(p.mac, 8);
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_PORTS), &key, &p, BPF_ANY),
			 0);
	fdb_put_port_ifindex(VNI_A, 8, te.peer_port_ifindex);
	cap = capture_open_in(&te, te.peer_ns_fd, te.peer_vm_ifindex);
	assert_true(cap >= 0);
	tx = tx_packets(te.peer_port_ifindex);

	frame_ipv4_udp(&f, MAC(8), MAC(10), vm_ip(10), vm_ip(8), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_FWD_LOCAL, 1);
	len = capture_next(cap, got.data, sizeof(got.data), 2000);
	assert_int_equal(len, (int)f.len);
	got.len = (size_t)len;
	expect_bytes("from the fabric into the peer", &got, &f);
	counters_expect(
	    "fabric to a veth port", before,
	    (const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {GW_CNT_FWD_LOCAL, 1}, {0, 0}});

	frame_ipv4_udp(&f, MAC(8), MAC(1), vm_ip(1), vm_ip(8), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject(te.vm_ifindex[1], &f), 0);
	counter_wait(before, GW_CNT_FWD_LOCAL, 1);
	len = capture_next(cap, got.data, sizeof(got.data), 2000);
	assert_int_equal(len, (int)f.len);
	got.len = (size_t)len;
	expect_bytes("from a port into the peer", &got, &f);
	assert_int_equal(tx_packets(te.peer_port_ifindex), tx);
	close(cap);
}
