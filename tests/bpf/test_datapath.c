/* SPDX-License-Identifier: MIT */
/*
 * Datapath tests: the real programs, loaded and attached by datapath.c, in a
 * private network namespace with real devices (see testenv.h).
 *
 * - Table-driven fixtures (katran style) run from_port with BPF_PROG_TEST_RUN:
 *   frame in, verdict, exact counter deltas (every counter is checked) and
 *   output bytes.
 * - Stateful cases (activation, events) run from_port the same way and then
 *   look at the port entry and the ring buffer.
 * - Delivery cases send real frames (AF_PACKET into a VM-side veth, or VXLAN
 *   over lo into the fabric device) and capture the copies on the peers.
 *
 * The maps are reset to one baseline before every test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>

#include "agent/datapath.h"
#include "lib/log.h"
#include "testenv.h"

#define VNI_A	    100
#define VNI_B	    200
#define VNI_UNKNOWN 999
#define ETH_P_RARP_ 0x8035

static struct testenv te;
static struct datapath *dp;
static char pin_dir[64];
static int prog_port_fd = -1;
static int prog_fabric_fd = -1;

/* ---- baseline ------------------------------------------------------------ */

/*
 * Ports (gwhN, MAC 02::N, IPv4 198.51.100.N, port security on):
 *   1, 2, 6: VNI A, active      3: VNI B, active (2: DHCP served locally)
 *   4: VNI A, standby, first-frame activation (a migration target)
 *   5: VNI A, standby, rarp activation
 * FDB VNI A: M1..M6 -> their port, except M3 (VNI B's port: a bad entry that
 *   strict isolation must refuse); M10 -> node 192.0.2.2; M6 -> {port 6,
 *   node 192.0.2.3} (VM 6 migrating out: replicated). FDB VNI B: M3, M7 -> 3.
 * Neigh VNI A: .2 -> M2, .10 -> M10. Flood VNI A: ports 1,2,4,5,6 + nodes .2,
 *   .3; VNI B: port 3.
 */
struct port_def {
	uint32_t vni;
	uint32_t state;
	uint8_t strategy;
};

static const struct port_def port_defs[TE_NPORTS + 1] = {
    [1] = {VNI_A, GW_PORT_ACTIVE, GW_ACT_FIRST_FRAME},
    [2] = {VNI_A, GW_PORT_ACTIVE, GW_ACT_FIRST_FRAME},
    [3] = {VNI_B, GW_PORT_ACTIVE, GW_ACT_FIRST_FRAME},
    [4] = {VNI_A, GW_PORT_STANDBY, GW_ACT_FIRST_FRAME},
    [5] = {VNI_A, GW_PORT_STANDBY, GW_ACT_RARP},
    [6] = {VNI_A, GW_PORT_ACTIVE, GW_ACT_FIRST_FRAME},
};

static void map_clear(int fd, size_t key_size)
{
	uint8_t key[64], next[64];

	assert_true(key_size <= sizeof(key));
	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
	}
}

static void fdb_put(uint32_t vni, int mac, const struct gw_location *locs, uint32_t n)
{
	struct gw_fdb_key key = {.vni = vni};
	struct gw_fdb_entry e = {.count = n};

	mac_n(key.mac, mac);
	memcpy(e.loc, locs, n * sizeof(*locs));
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_FDB), &key, &e, BPF_ANY),
			 0);
}

static void fdb_put_port_ifindex(uint32_t vni, int mac, int ifindex)
{
	struct gw_location loc = {.ifindex = (uint32_t)ifindex};

	fdb_put(vni, mac, &loc, 1);
}

static void fdb_put_port(uint32_t vni, int mac, int port)
{
	fdb_put_port_ifindex(vni, mac, te.port_ifindex[port]);
}

static void neigh_put(uint32_t vni, int ip, int mac)
{
	struct gw_neigh_key key = {.vni = vni, .ipv4 = vm_ip(ip)};
	struct gw_neigh n = {0};

	mac_n(n.mac, mac);
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_NEIGH), &key, &n, BPF_ANY),
			 0);
}

static struct gw_port port_get(int n)
{
	uint32_t key = (uint32_t)te.port_ifindex[n];
	struct gw_port p;

	assert_int_equal(bpf_map_lookup_elem(datapath_map_fd(dp, DP_MAP_PORTS), &key, &p), 0);
	return p;
}

static int baseline(void **state)
{
	int ports = datapath_map_fd(dp, DP_MAP_PORTS);
	struct gw_flood fl = {0};
	uint32_t key;

	(void)state;
	map_clear(ports, sizeof(uint32_t));
	map_clear(datapath_map_fd(dp, DP_MAP_FDB), sizeof(struct gw_fdb_key));
	map_clear(datapath_map_fd(dp, DP_MAP_NEIGH), sizeof(struct gw_neigh_key));
	map_clear(datapath_map_fd(dp, DP_MAP_FLOOD), sizeof(uint32_t));

	for (int n = 1; n <= TE_NPORTS; n++) {
		struct gw_port p = {
		    .vni = port_defs[n].vni,
		    .ipv4 = vm_ip(n),
		    .flags = GW_PORT_F_SECURITY | GW_PORT_F_HAS_IPV4,
		    .state = port_defs[n].state,
		    .strategy = port_defs[n].strategy,
		};

		if (n == 2)
			p.flags |= GW_PORT_F_DHCP;
		mac_n(p.mac, n);
		key = (uint32_t)te.port_ifindex[n];
		assert_int_equal(bpf_map_update_elem(ports, &key, &p, BPF_ANY), 0);
	}
	for (int n = 1; n <= 5; n++)
		fdb_put_port(VNI_A, n, n);
	fdb_put_port(VNI_B, 3, 3);
	fdb_put_port(VNI_B, 7, 3);
	struct gw_location remote = {.node_ip = node_ip(2)};
	fdb_put(VNI_A, 10, &remote, 1);
	struct gw_location migrating[2] = {
	    {.ifindex = (uint32_t)te.port_ifindex[6]},
	    {.node_ip = node_ip(3)},
	};
	fdb_put(VNI_A, 6, migrating, 2);

	neigh_put(VNI_A, 2, 2);
	neigh_put(VNI_A, 10, 10);

	fl.n_local = 5;
	fl.local_ifindex[0] = (uint32_t)te.port_ifindex[1];
	fl.local_ifindex[1] = (uint32_t)te.port_ifindex[2];
	fl.local_ifindex[2] = (uint32_t)te.port_ifindex[4];
	fl.local_ifindex[3] = (uint32_t)te.port_ifindex[5];
	fl.local_ifindex[4] = (uint32_t)te.port_ifindex[6];
	fl.n_remote = 2;
	fl.remote_ip[0] = node_ip(2);
	fl.remote_ip[1] = node_ip(3);
	key = VNI_A;
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_FLOOD), &key, &fl, BPF_ANY),
			 0);
	memset(&fl, 0, sizeof(fl));
	fl.n_local = 1;
	fl.local_ifindex[0] = (uint32_t)te.port_ifindex[3];
	key = VNI_B;
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_FLOOD), &key, &fl, BPF_ANY),
			 0);

	struct gw_config cfg = {.vxlan_ifindex = (uint32_t)te.vxlan_ifindex};
	key = 0;
	assert_int_equal(
	    bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_CONFIG), &key, &cfg, BPF_ANY), 0);
	return 0;
}

/* ---- counters ------------------------------------------------------------ */

struct cnt_delta {
	enum gw_counter idx;
	uint64_t delta; /* 0 ends the list */
};

static const char *const counter_names[] = GW_COUNTER_NAMES;

static void counters_read(uint64_t c[GW_CNT__MAX])
{
	assert_int_equal(datapath_read_counters(dp, c), 0);
}

/* Every counter must have moved by exactly its listed delta (others by 0). */
static void counters_expect(const char *what, const uint64_t before[GW_CNT__MAX],
			    const struct cnt_delta *deltas)
{
	uint64_t after[GW_CNT__MAX], want[GW_CNT__MAX] = {0};
	bool ok = true;

	counters_read(after);
	for (const struct cnt_delta *d = deltas; d && d->delta; d++)
		want[d->idx] += d->delta;
	for (int i = 0; i < GW_CNT__MAX; i++) {
		if (after[i] - before[i] == want[i])
			continue;
		fprintf(stderr, "%s: counter %s moved by %llu, expected %llu\n", what,
			counter_names[i], (unsigned long long)(after[i] - before[i]),
			(unsigned long long)want[i]);
		ok = false;
	}
	assert_true(ok);
}

/* Waits (bounded) until counter idx has moved by at least delta. */
static void counter_wait(const uint64_t before[GW_CNT__MAX], enum gw_counter idx, uint64_t delta)
{
	uint64_t deadline = monotonic_ns() + 2000000000ULL, now[GW_CNT__MAX];

	do {
		counters_read(now);
		if (now[idx] - before[idx] >= delta)
			return;
		usleep(1000);
	} while (monotonic_ns() < deadline);
	fail_msg("counter %s did not move by %llu", counter_names[idx], (unsigned long long)delta);
}

/* ---- running from_port --------------------------------------------------- */

static int run_port_as(const char *what, int port, const struct frame *in, struct frame *out)
{
	struct __sk_buff ctx = {.ifindex = (uint32_t)port};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->data, .data_size_in = (uint32_t)in->len,
		    .data_out = out->data, .data_size_out = sizeof(out->data), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	int r = bpf_prog_test_run_opts(prog_port_fd, &opts);

	if (r != 0)
		fail_msg("%s: BPF_PROG_TEST_RUN failed: %s", what, strerror(-r));
	out->len = opts.data_size_out;
	return (int)opts.retval;
}

static int run_port(int port, const struct frame *in, struct frame *out)
{
	return run_port_as("from_port", port, in, out);
}

static void expect_bytes(const char *what, const struct frame *got, const struct frame *want)
{
	if (got->len == want->len && memcmp(got->data, want->data, want->len) == 0)
		return;
	fprintf(stderr, "%s: output differs (len %zu, expected %zu)\n", what, got->len, want->len);
	for (size_t i = 0; i < got->len || i < want->len; i++) {
		int g = i < got->len ? got->data[i] : -1, w = i < want->len ? want->data[i] : -1;
		if (g != w)
			fprintf(stderr, "  byte %zu: %02x, expected %02x\n", i, g & 0xff, w & 0xff);
	}
	fail();
}

/* ---- fixtures ------------------------------------------------------------ */

struct fixture {
	const char *desc;
	int port;					    /* ingress gwhN; 0: gwu0 */
	void (*build)(struct frame *in, struct frame *out); /* out.len 0: same as in */
	int verdict;
	struct cnt_delta counters[6];
};

#define MAC(n) (mac_n(macbuf[n], n), (const uint8_t *)macbuf[n])
static uint8_t macbuf[16][6];

static void f_local(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
}

static void f_remote(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(10), MAC(1), vm_ip(1), vm_ip(10), 1000, 2000);
}

static void f_unknown(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(15), MAC(1), vm_ip(1), vm_ip(15), 1000, 2000);
}

static const uint8_t zero_mac[6];

static void f_arp_answered(struct frame *in, struct frame *out)
{
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(2));
	frame_arp(out, 2, MAC(1), MAC(2), MAC(2), vm_ip(2), MAC(1), vm_ip(1));
}

static void f_arp_unicast_remote(struct frame *in, struct frame *out)
{
	/* A unicast refresh for a remote VM's address is answered too. */
	frame_arp(in, 1, MAC(10), MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(10));
	frame_arp(out, 2, MAC(1), MAC(10), MAC(10), vm_ip(10), MAC(1), vm_ip(1));
}

static void f_garp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(2), MAC(2), vm_ip(2), zero_mac, vm_ip(2));
}

static void f_arp_unknown_target(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(99));
}

static void f_arp_probe(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), 0, zero_mac, vm_ip(1));
}

static void f_spoof_mac(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(9), vm_ip(1), vm_ip(2), 1000, 2000);
}

static void f_spoof_ip(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(9), vm_ip(2), 1000, 2000);
}

static void f_arp_spoof_sha(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(9), vm_ip(1), zero_mac, vm_ip(2));
}

static void f_arp_spoof_spa(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(9), zero_mac, vm_ip(2));
}

static void f_dhcp_discover(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(1), 0, 0xffffffffU, 68, 67);
}

static void f_zero_src_not_dhcp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(1), 0, 0xffffffffU, 1234, 67);
}

static void f_dhcp_discover_2(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(2), 0, 0xffffffffU, 68, 67);
}

static void f_dhcp_renew_2(struct frame *in, struct frame *out)
{
	(void)out;
	/* RENEWING: unicast from the lease to the server id (any MAC). */
	frame_ipv4_udp(in, MAC(12), MAC(2), vm_ip(2), vm_ip(99), 68, 67);
}

static void f_dhcp_spoofed_2(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, mac_broadcast, MAC(9), 0, 0xffffffffU, 68, 67);
}

static void f_dhcp_server_port_2(struct frame *in, struct frame *out)
{
	(void)out;
	/* To port 67 but not from 68: not a DHCP client, not consumed. */
	frame_ipv4_udp(in, mac_broadcast, MAC(2), vm_ip(2), 0xffffffffU, 1000, 67);
}

static void f_vlan(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
	/* Insert an 802.1Q tag (VID 5) after the MAC addresses. */
	memmove(in->data + 16, in->data + 12, in->len - 12);
	in->data[12] = 0x81;
	in->data[13] = 0x00;
	in->data[14] = 0x00;
	in->data[15] = 0x05;
	in->len += 4;
}

/* BPF_PROG_TEST_RUN refuses an IPv4 frame shorter than an IPv4 header, so
 * the malformed cases are a bad version and a truncated ARP. */
static void f_bad_ip_version(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
	in->data[14] = 0x65;
}

static void f_truncated_arp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_arp(in, 1, mac_broadcast, MAC(1), MAC(1), vm_ip(1), zero_mac, vm_ip(2));
	in->len -= 4; /* no target IPv4 */
}

static void f_other_vni_fdb(struct frame *in, struct frame *out)
{
	(void)out;
	/* From port 3 (VNI B) to M2, which only VNI A knows. */
	frame_ipv4_udp(in, MAC(2), MAC(3), vm_ip(3), vm_ip(2), 1000, 2000);
}

static void f_other_vni_arp(struct frame *in, struct frame *out)
{
	(void)out;
	/* VNI B asks for an address only VNI A knows: not answered, flooded
	 * in VNI B (where port 3 is alone: no copy). */
	frame_arp(in, 1, mac_broadcast, MAC(3), MAC(3), vm_ip(3), zero_mac, vm_ip(2));
}

static void f_cross_vni_entry(struct frame *in, struct frame *out)
{
	(void)out;
	/* fdb (A, M3) points at port 3, which is in VNI B. */
	frame_ipv4_udp(in, MAC(3), MAC(1), vm_ip(1), vm_ip(3), 1000, 2000);
}

static void f_to_standby(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(4), MAC(1), vm_ip(1), vm_ip(4), 1000, 2000);
}

static void f_victim_mac(struct frame *in, struct frame *out)
{
	(void)out;
	/* Port 1 sends as the standby VM 4, and a RARP as the standby VM 5. */
	frame_ipv4_udp(in, MAC(2), MAC(4), vm_ip(4), vm_ip(2), 1000, 2000);
}

static void f_victim_rarp(struct frame *in, struct frame *out)
{
	(void)out;
	frame_rarp(in, MAC(5));
}

static void f_no_port(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(2), MAC(1), vm_ip(1), vm_ip(2), 1000, 2000);
}

static void f_replicate(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(6), MAC(1), vm_ip(1), vm_ip(6), 1000, 2000);
}

static void f_hairpin(struct frame *in, struct frame *out)
{
	(void)out;
	frame_ipv4_udp(in, MAC(1), MAC(1), vm_ip(1), vm_ip(1), 1000, 2000);
}

/* Flooding in VNI A from port 1 (or 2): the two other active ports (4 and 5
 * are standby) and nodes .2 and .3. */
// clang-format off
#define FLOOD_A {GW_CNT_FLOOD, 1}, {GW_CNT_FWD_LOCAL, 2}, {GW_CNT_FWD_REMOTE, 2}
#define ONE(c) {{c, 1}}

static const struct fixture port_fixtures[] = {
	/* description, ingress port, frame, verdict, counter deltas */
	{"unicast to a local port", 1, f_local, TC_ACT_REDIRECT, ONE(GW_CNT_FWD_LOCAL)},
	{"unicast to a remote node", 1, f_remote, TC_ACT_REDIRECT, ONE(GW_CNT_FWD_REMOTE)},
	{"unknown unicast", 1, f_unknown, TC_ACT_SHOT, ONE(GW_CNT_DROP_UNKNOWN_DST)},
	{"ARP request for a known address is answered", 1, f_arp_answered, TC_ACT_REDIRECT,
	 ONE(GW_CNT_ARP_REPLY)},
	{"unicast ARP request for a remote VM is answered", 1, f_arp_unicast_remote,
	 TC_ACT_REDIRECT, ONE(GW_CNT_ARP_REPLY)},
	{"gratuitous ARP is flooded, not answered", 2, f_garp, TC_ACT_SHOT, {FLOOD_A}},
	{"ARP request for an unknown address is flooded", 1, f_arp_unknown_target, TC_ACT_SHOT,
	 {FLOOD_A}},
	{"ARP probe from 0.0.0.0 is allowed", 1, f_arp_probe, TC_ACT_SHOT, {FLOOD_A}},
	{"spoofed source MAC", 1, f_spoof_mac, TC_ACT_SHOT, ONE(GW_CNT_DROP_SRC_MAC)},
	{"spoofed source IPv4", 1, f_spoof_ip, TC_ACT_SHOT, ONE(GW_CNT_DROP_SRC_IP)},
	{"ARP with a spoofed sender MAC", 1, f_arp_spoof_sha, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_ARP_SPOOF)},
	{"ARP with a spoofed sender IPv4", 1, f_arp_spoof_spa, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_ARP_SPOOF)},
	{"DHCP discover from 0.0.0.0 is allowed (flooded)", 1, f_dhcp_discover, TC_ACT_SHOT,
	 {FLOOD_A}},
	{"DHCP discover on a DHCP port is kept for the agent", 2, f_dhcp_discover_2,
	 TC_ACT_SHOT, ONE(GW_CNT_DHCP_LOCAL)},
	{"DHCP unicast renewal on a DHCP port is kept for the agent", 2, f_dhcp_renew_2,
	 TC_ACT_SHOT, ONE(GW_CNT_DHCP_LOCAL)},
	{"DHCP with a spoofed MAC on a DHCP port: port security first", 2, f_dhcp_spoofed_2,
	 TC_ACT_SHOT, ONE(GW_CNT_DROP_SRC_MAC)},
	{"UDP to 67 not from 68 on a DHCP port is flooded", 2, f_dhcp_server_port_2,
	 TC_ACT_SHOT, {FLOOD_A}},
	{"0.0.0.0 source that is not DHCP", 1, f_zero_src_not_dhcp, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_SRC_IP)},
	{"802.1Q-tagged frame", 1, f_vlan, TC_ACT_SHOT, ONE(GW_CNT_DROP_MALFORMED)},
	{"IPv4 header with version 6", 1, f_bad_ip_version, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_MALFORMED)},
	{"truncated ARP", 1, f_truncated_arp, TC_ACT_SHOT, ONE(GW_CNT_DROP_MALFORMED)},
	{"frame from a device that is not a port", 0, f_no_port, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_NO_PORT)},
	{"fdb of another VNI is not used", 3, f_other_vni_fdb, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_UNKNOWN_DST)},
	{"neighbour of another VNI is not answered", 3, f_other_vni_arp, TC_ACT_SHOT,
	 ONE(GW_CNT_FLOOD)},
	{"fdb entry pointing at a port of another VNI", 1, f_cross_vni_entry, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_VNI_MISMATCH)},
	{"unicast to a standby port", 1, f_to_standby, TC_ACT_SHOT, ONE(GW_CNT_DROP_STANDBY)},
	{"another port sending with a standby VM's MAC", 1, f_victim_mac, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_SRC_MAC)},
	{"another port sending a RARP with a standby VM's MAC", 1, f_victim_rarp, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_SRC_MAC)},
	{"migrating MAC: copies to both locations", 1, f_replicate, TC_ACT_REDIRECT,
	 {{GW_CNT_FWD_LOCAL, 1}, {GW_CNT_FWD_REMOTE, 1}}},
	{"frame to the sender's own MAC", 1, f_hairpin, TC_ACT_SHOT,
	 ONE(GW_CNT_DROP_UNKNOWN_DST)},
};
// clang-format on

static void test_port_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(port_fixtures) / sizeof(port_fixtures[0]); i++) {
		const struct fixture *fx = &port_fixtures[i];
		struct frame in = {0}, want = {0}, out = {0};
		uint64_t before[GW_CNT__MAX];
		struct cnt_delta deltas[8] = {{GW_CNT_RX_PORT, 1}};
		int ifindex = fx->port ? te.port_ifindex[fx->port] : te.underlay_ifindex;
		int verdict;

		baseline(NULL);
		fx->build(&in, &want);
		if (!want.len)
			want = in;
		for (size_t d = 0; d < 6 && fx->counters[d].delta; d++)
			deltas[d + 1] = fx->counters[d];
		counters_read(before);
		verdict = run_port_as(fx->desc, ifindex, &in, &out);
		if (verdict != fx->verdict)
			fail_msg("%s: verdict %d, expected %d", fx->desc, verdict, fx->verdict);
		counters_expect(fx->desc, before, deltas);
		expect_bytes(fx->desc, &out, &want);
	}
}

/* ---- activation ---------------------------------------------------------- */

struct events {
	struct gw_event ev[8];
	int n;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct events *evs = ctx;

	assert_int_equal(size, sizeof(struct gw_event));
	if (evs->n < 8)
		memcpy(&evs->ev[evs->n++], data, sizeof(struct gw_event));
	return 0;
}

static struct ring_buffer *events_open(struct events *evs)
{
	struct ring_buffer *rb =
	    ring_buffer__new(datapath_map_fd(dp, DP_MAP_EVENTS), on_event, evs, NULL);

	assert_non_null(rb);
	ring_buffer__consume(rb); /* forget earlier tests' events */
	evs->n = 0;
	return rb;
}

static void test_activation_first_frame(void **state)
{
	const struct cnt_delta first[] = {
	    {GW_CNT_RX_PORT, 1}, {GW_CNT_ACTIVATION, 1}, {GW_CNT_FWD_LOCAL, 1}, {0, 0}};
	const struct cnt_delta second[] = {{GW_CNT_RX_PORT, 1}, {GW_CNT_FWD_LOCAL, 1}, {0, 0}};
	struct frame in, out;
	struct events evs = {0};
	struct ring_buffer *rb = events_open(&evs);
	uint64_t before[GW_CNT__MAX], t0, t1;
	struct gw_port p;

	(void)state;
	assert_int_equal(port_get(4).state, GW_PORT_STANDBY);
	frame_ipv4_udp(&in, MAC(2), MAC(4), vm_ip(4), vm_ip(2), 1000, 2000);
	counters_read(before);
	t0 = monotonic_ns();
	assert_int_equal(run_port(te.port_ifindex[4], &in, &out), TC_ACT_REDIRECT);
	t1 = monotonic_ns();
	counters_expect("first frame", before, first);

	p = port_get(4);
	assert_int_equal(p.state, GW_PORT_ACTIVE);
	assert_in_range(p.activated_ns, t0, t1);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_int_equal(evs.n, 1);
	assert_int_equal(evs.ev[0].type, GW_EV_ACTIVATED);
	assert_int_equal(evs.ev[0].ifindex, te.port_ifindex[4]);
	assert_int_equal(evs.ev[0].vni, VNI_A);
	assert_memory_equal(evs.ev[0].mac, MAC(4), 6);
	assert_int_equal(evs.ev[0].ethertype, 0x0800);
	assert_int_equal(evs.ev[0].ts_ns, p.activated_ns);

	/* Already active: no second activation, no event, time kept. */
	counters_read(before);
	assert_int_equal(run_port(te.port_ifindex[4], &in, &out), TC_ACT_REDIRECT);
	counters_expect("second frame", before, second);
	assert_int_equal(port_get(4).activated_ns, p.activated_ns);
	assert_int_equal(ring_buffer__consume(rb), 0);
	ring_buffer__free(rb);
}

static void test_activation_rarp(void **state)
{
	const struct cnt_delta dropped[] = {
	    {GW_CNT_RX_PORT, 1}, {GW_CNT_DROP_NOT_ACTIVE, 1}, {0, 0}};
	/* The RARP activates and is then flooded like any broadcast: ports 1,
	 * 2, 6 (4 is standby, 5 is the sender) and the two nodes. */
	const struct cnt_delta activated[] = {{GW_CNT_RX_PORT, 1},    {GW_CNT_ACTIVATION, 1},
					      {GW_CNT_FLOOD, 1},      {GW_CNT_FWD_LOCAL, 3},
					      {GW_CNT_FWD_REMOTE, 2}, {0, 0}};
	struct frame in, out;
	struct events evs = {0};
	struct ring_buffer *rb = events_open(&evs);
	uint64_t before[GW_CNT__MAX];

	(void)state;
	frame_ipv4_udp(&in, MAC(2), MAC(5), vm_ip(5), vm_ip(2), 1000, 2000);
	counters_read(before);
	assert_int_equal(run_port(te.port_ifindex[5], &in, &out), TC_ACT_SHOT);
	counters_expect("ordinary frame under rarp", before, dropped);
	assert_int_equal(port_get(5).state, GW_PORT_STANDBY);
	assert_int_equal(ring_buffer__consume(rb), 0);

	frame_rarp(&in, MAC(5));
	counters_read(before);
	assert_int_equal(run_port(te.port_ifindex[5], &in, &out), TC_ACT_SHOT);
	counters_expect("RARP", before, activated);
	assert_int_equal(port_get(5).state, GW_PORT_ACTIVE);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_int_equal(evs.ev[0].ethertype, ETH_P_RARP_);
	assert_int_equal(evs.ev[0].ifindex, te.port_ifindex[5]);
	ring_buffer__free(rb);
}

static void test_victim_stays_standby(void **state)
{
	struct frame in, out;
	struct events evs = {0};
	struct ring_buffer *rb = events_open(&evs);

	(void)state;
	f_victim_mac(&in, NULL);
	assert_int_equal(run_port(te.port_ifindex[1], &in, &out), TC_ACT_SHOT);
	f_victim_rarp(&in, NULL);
	assert_int_equal(run_port(te.port_ifindex[1], &in, &out), TC_ACT_SHOT);
	assert_int_equal(port_get(4).state, GW_PORT_STANDBY);
	assert_int_equal(port_get(5).state, GW_PORT_STANDBY);
	assert_int_equal(port_get(4).activated_ns, 0);
	assert_int_equal(ring_buffer__consume(rb), 0);
	ring_buffer__free(rb);
}

/* ---- real delivery ------------------------------------------------------- */

struct captures {
	int vm[TE_NPORTS + 1];
	int wire;
};

static void captures_open(struct captures *c)
{
	for (int n = 1; n <= TE_NPORTS; n++) {
		c->vm[n] = capture_open(te.vm_ifindex[n]);
		assert_true(c->vm[n] >= 0);
	}
	c->wire = capture_open(te.wire_ifindex);
	assert_true(c->wire >= 0);
}

static void captures_close(struct captures *c)
{
	for (int n = 1; n <= TE_NPORTS; n++)
		close(c->vm[n]);
	close(c->wire);
}

/* Expects exactly f on VM n. */
static void expect_on_vm(struct captures *c, int n, const struct frame *f)
{
	struct frame got;
	int len = capture_next(c->vm[n], got.data, sizeof(got.data), 2000);

	if (len <= 0)
		fail_msg("no frame on gwv%d", n);
	got.len = (size_t)len;
	expect_bytes("delivered frame", &got, f);
}

/* Expects one VXLAN packet with vni to node dst carrying f, on the wire,
 * with the outer DSCP dscp. */
static void expect_on_wire_dscp(struct captures *c, uint32_t vni, uint32_t dst, uint8_t dscp,
				const struct frame *f)
{
	/* Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 */
	const size_t hdr = 50;
	uint8_t buf[1024];
	struct frame inner;
	uint32_t got_dst, got_vni;
	int len = capture_next(c->wire, buf, sizeof(buf), 2000);

	if (len <= 0)
		fail_msg("no VXLAN packet on the wire");
	assert_true((size_t)len >= hdr);
	assert_int_equal(buf[12] << 8 | buf[13], 0x0800);
	assert_int_equal(buf[14 + 9], 17); /* UDP */
	memcpy(&got_dst, buf + 14 + 16, 4);
	assert_int_equal(ntohl(got_dst), ntohl(dst));
	assert_int_equal(buf[14 + 1] >> 2, dscp);
	assert_int_equal(buf[34 + 2] << 8 | buf[34 + 3], 4789);
	assert_int_equal(buf[42], 0x08);
	memcpy(&got_vni, buf + 46, 4);
	assert_int_equal(ntohl(got_vni) >> 8, vni);
	inner.len = (size_t)len - hdr;
	memcpy(inner.data, buf + hdr, inner.len);
	expect_bytes("encapsulated frame", &inner, f);
}

static void expect_on_wire(struct captures *c, uint32_t vni, uint32_t dst, const struct frame *f)
{
	expect_on_wire_dscp(c, vni, dst, 0, f);
}

/* No (further) frame on any capture within a short window. */
static void expect_quiet(struct captures *c)
{
	uint8_t buf[2048];

	for (int n = 1; n <= TE_NPORTS; n++)
		if (capture_next(c->vm[n], buf, sizeof(buf), n == 1 ? 100 : 0) != 0)
			fail_msg("unexpected frame on gwv%d", n);
	if (capture_next(c->wire, buf, sizeof(buf), 0) != 0)
		fail_msg("unexpected packet on the wire");
}

static void test_live_remote_tunnel(void **state)
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

static void test_live_arp_reply(void **state)
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

static void test_live_replication(void **state)
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

static void test_live_flood_from_port(void **state)
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

static void test_live_fabric(void **state)
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

/* A fabric frame that must be dropped for `reason`, delivering nothing. */
static void fabric_drop(struct captures *c, uint32_t vni, const struct frame *f,
			enum gw_counter reason)
{
	uint64_t before[GW_CNT__MAX];

	counters_read(before);
	assert_int_equal(inject_vxlan(vni, f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	counters_expect(counter_names[reason], before,
			(const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {reason, 1}, {0, 0}});
	expect_quiet(c);
}

static void test_live_fabric_drops(void **state)
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

static void test_fabric_without_tunnel_key(void **state)
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

/* ---- veth ports: straight into the peer ---------------------------------- */

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
static void test_live_redirect_peer(void **state)
{
	uint32_t key = (uint32_t)te.peer_port_ifindex;
	struct gw_port p = {.vni = VNI_A,
			    .ipv4 = vm_ip(8),
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

/* ---- zero-loss handoff ---------------------------------------------------- */

static void port_set_state(int n, uint32_t state)
{
	uint32_t key = (uint32_t)te.port_ifindex[n];
	struct gw_port p = port_get(n);

	p.state = state;
	assert_int_equal(
	    bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_PORTS), &key, &p, BPF_EXIST), 0);
}

/* The source side: VM 6 stopped here (port 6 in handoff, fdb M6 -> {port 6,
 * node .3}). What would have gone into its tap goes to node .3, marked. */
static void test_handoff_source(void **state)
{
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];

	(void)state;
	port_set_state(6, GW_PORT_HANDOFF);
	captures_open(&c);

	/* From a local port: the replicated copy as before, and the handed-off
	 * copy instead of the tap, marked. */
	f_replicate(&f, NULL);
	counters_read(before);
	assert_int_equal(inject(te.vm_ifindex[1], &f), 0);
	counter_wait(before, GW_CNT_FWD_REMOTE, 2);
	expect_on_wire_dscp(&c, VNI_A, node_ip(3), GW_HANDOFF_DSCP, &f);
	expect_on_wire(&c, VNI_A, node_ip(3), &f);
	expect_quiet(&c);
	counters_expect(
	    "handoff from a port", before,
	    (const struct cnt_delta[]){
		{GW_CNT_RX_PORT, 1}, {GW_CNT_FWD_REMOTE, 2}, {GW_CNT_HANDOFF_FWD, 1}, {0, 0}});

	/* From the fabric: back out to the target, marked. */
	frame_ipv4_udp(&f, MAC(6), MAC(10), vm_ip(10), vm_ip(6), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_HANDOFF_FWD, 1);
	expect_on_wire_dscp(&c, VNI_A, node_ip(3), GW_HANDOFF_DSCP, &f);
	expect_quiet(&c);
	counters_expect(
	    "handoff from the fabric", before,
	    (const struct cnt_delta[]){
		{GW_CNT_RX_FABRIC, 1}, {GW_CNT_FWD_REMOTE, 1}, {GW_CNT_HANDOFF_FWD, 1}, {0, 0}});

	/* A marked frame for the stopped source itself is not sent round again. */
	counters_read(before);
	assert_int_equal(inject_vxlan_tos(VNI_A, GW_HANDOFF_DSCP << 2, &f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	counters_expect(
	    "marked frame for a port in handoff", before,
	    (const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {GW_CNT_DROP_HANDOFF, 1}, {0, 0}});
	expect_quiet(&c);

	/* Broadcast: not into the stopped VM's tap, not handed off. */
	f_arp_unknown_target(&f, NULL);
	memcpy(f.data + 6, MAC(10), 6);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_FLOOD, 1);
	expect_on_vm(&c, 1, &f);
	expect_on_vm(&c, 2, &f);
	expect_quiet(&c);

	/* The migration is over (M6 has no remote location): nowhere to go. */
	fdb_put_port(VNI_A, 6, 6);
	frame_ipv4_udp(&f, MAC(6), MAC(10), vm_ip(10), vm_ip(6), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	counters_expect(
	    "handoff without a target", before,
	    (const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {GW_CNT_DROP_HANDOFF, 1}, {0, 0}});
	expect_quiet(&c);
	captures_close(&c);
}

/* The target side: a marked frame goes into the standby tap without
 * activating it; once active, marked frames are late duplicates. */
static void test_handoff_target(void **state)
{
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];
	const uint8_t mark = GW_HANDOFF_DSCP << 2;

	(void)state;
	captures_open(&c);
	frame_ipv4_udp(&f, MAC(4), MAC(10), vm_ip(10), vm_ip(4), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject_vxlan_tos(VNI_A, mark, &f), 0);
	counter_wait(before, GW_CNT_HANDOFF_RX, 1);
	expect_on_vm(&c, 4, &f);
	expect_quiet(&c);
	counters_expect(
	    "marked frame into a standby port", before,
	    (const struct cnt_delta[]){
		{GW_CNT_RX_FABRIC, 1}, {GW_CNT_FWD_LOCAL, 1}, {GW_CNT_HANDOFF_RX, 1}, {0, 0}});
	assert_int_equal(port_get(4).state, GW_PORT_STANDBY);
	assert_int_equal(port_get(4).activated_ns, 0);

	/* The ECN bits do not hide the mark. */
	counters_read(before);
	assert_int_equal(inject_vxlan_tos(VNI_A, mark | 0x2, &f), 0);
	counter_wait(before, GW_CNT_HANDOFF_RX, 1);
	expect_on_vm(&c, 4, &f);

	/* Unmarked: the replicated copy, still held back. */
	fabric_drop(&c, VNI_A, &f, GW_CNT_DROP_STANDBY);

	/* An active port takes its direct copies; a marked one is dropped. */
	frame_ipv4_udp(&f, MAC(2), MAC(10), vm_ip(10), vm_ip(2), 3000, 4000);
	counters_read(before);
	assert_int_equal(inject_vxlan_tos(VNI_A, mark, &f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	counters_expect(
	    "marked frame for an active port", before,
	    (const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {GW_CNT_DROP_HANDOFF, 1}, {0, 0}});
	expect_quiet(&c);

	/* Another DSCP is no mark. */
	counters_read(before);
	assert_int_equal(inject_vxlan_tos(VNI_A, 0x10 << 2, &f), 0);
	counter_wait(before, GW_CNT_FWD_LOCAL, 1);
	expect_on_vm(&c, 2, &f);
	captures_close(&c);
}

/* ---- loader -------------------------------------------------------------- */

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

static uint32_t attached_prog_id(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

	assert_int_equal(bpf_tc_query(&hook, &opts), 0);
	return opts.prog_id;
}

static void test_reopen_reuses_maps(void **state)
{
	struct datapath *dp2 = NULL;
	struct gw_port p = {.vni = 4242}, got;
	uint32_t key = 77777;
	uint32_t old_prog, new_prog;

	(void)state;
	assert_int_equal(datapath_open(pin_dir, &dp2), 0);
	for (int m = 0; m < DP_MAP__MAX; m++)
		assert_int_equal(map_id(datapath_map_fd(dp, m)), map_id(datapath_map_fd(dp2, m)));
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_PORTS), &key, &p, BPF_ANY),
			 0);
	assert_int_equal(bpf_map_lookup_elem(datapath_map_fd(dp2, DP_MAP_PORTS), &key, &got), 0);
	assert_int_equal(got.vni, 4242);

	/* A restarted agent replaces the filter in place (same handle/prio). */
	old_prog = attached_prog_id(te.port_ifindex[1]);
	assert_int_equal(datapath_attach_port(dp2, te.port_ifindex[1]), 0);
	new_prog = attached_prog_id(te.port_ifindex[1]);
	assert_int_not_equal(old_prog, new_prog);
	assert_int_equal(datapath_attach_port(dp, te.port_ifindex[1]), 0);
	assert_int_equal(attached_prog_id(te.port_ifindex[1]), old_prog);
	datapath_close(dp2);

	/* The pins outlive the loader. */
	assert_int_equal(bpf_map_lookup_elem(datapath_map_fd(dp, DP_MAP_PORTS), &key, &got), 0);
}

static void test_detach(void **state)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = te.underlay_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

	(void)state;
	assert_int_equal(datapath_attach_port(dp, te.underlay_ifindex), 0);
	assert_int_equal(bpf_tc_query(&hook, &opts), 0);
	assert_int_equal(datapath_detach(te.underlay_ifindex), 0);
	opts.prog_id = 0;
	assert_int_not_equal(bpf_tc_query(&hook, &opts), 0);
	assert_int_equal(datapath_detach(te.underlay_ifindex), 0); /* idempotent */
}

/* ---- setup --------------------------------------------------------------- */

static int setup_all(void);

static int prog_fd_on(int ifindex)
{
	return bpf_prog_get_fd_by_id(attached_prog_id(ifindex));
}

static int group_teardown(void **state);

static int group_setup(void **state)
{
	if (setup_all() == 0)
		return 0;
	group_teardown(state);
	return -1;
}

static int setup_all(void)
{
	log_init("test-bpf", getenv("GODWIT_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	if (testenv_setup(&te) < 0)
		return -1;
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/godwit-test-%d", (int)getpid());
	if (datapath_open(pin_dir, &dp) < 0)
		return -1;
	for (int n = 1; n <= TE_NPORTS; n++)
		if (datapath_attach_port(dp, te.port_ifindex[n]) < 0)
			return -1;
	if (datapath_attach_port(dp, te.peer_port_ifindex) < 0)
		return -1;
	if (datapath_attach_fabric(dp, te.vxlan_ifindex) < 0)
		return -1;
	prog_port_fd = prog_fd_on(te.port_ifindex[1]);
	prog_fabric_fd = prog_fd_on(te.vxlan_ifindex);
	return prog_port_fd >= 0 && prog_fabric_fd >= 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (prog_port_fd >= 0)
		close(prog_port_fd);
	if (prog_fabric_fd >= 0)
		close(prog_fabric_fd);
	datapath_close(dp);
	testenv_teardown(&te);
	/* Devices vanish with the namespace when the process exits. */
	return pin_dir[0] ? datapath_unpin(pin_dir) : 0;
}

/* A killed run (meson's timeout) must not leave its pins behind; the
 * namespace and its devices go with the process anyway. */
static void on_signal(int sig)
{
	if (pin_dir[0])
		datapath_unpin(pin_dir);
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_port_fixtures, baseline),
	    cmocka_unit_test_setup(test_activation_first_frame, baseline),
	    cmocka_unit_test_setup(test_activation_rarp, baseline),
	    cmocka_unit_test_setup(test_victim_stays_standby, baseline),
	    cmocka_unit_test_setup(test_live_remote_tunnel, baseline),
	    cmocka_unit_test_setup(test_live_arp_reply, baseline),
	    cmocka_unit_test_setup(test_live_replication, baseline),
	    cmocka_unit_test_setup(test_live_flood_from_port, baseline),
	    cmocka_unit_test_setup(test_live_fabric, baseline),
	    cmocka_unit_test_setup(test_live_fabric_drops, baseline),
	    cmocka_unit_test_setup(test_fabric_without_tunnel_key, baseline),
	    cmocka_unit_test_setup(test_live_redirect_peer, baseline),
	    cmocka_unit_test_setup(test_handoff_source, baseline),
	    cmocka_unit_test_setup(test_handoff_target, baseline),
	    cmocka_unit_test_setup(test_reopen_reuses_maps, baseline),
	    cmocka_unit_test_setup(test_detach, baseline),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root (BPF, network namespaces)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	return cmocka_run_group_tests_name("bpf", tests, group_setup, group_teardown);
}
