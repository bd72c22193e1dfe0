/* SPDX-License-Identifier: MIT */
/*
 * Table-driven fixtures (katran style): from_port under BPF_PROG_TEST_RUN,
 * frame in, verdict, exact counter deltas (every counter is checked) and
 * output bytes.
 */
#include "dptest.h"

struct fixture {
	const char *desc;
	int port;					    /* ingress gwhN; 0: gwu0 */
	void (*build)(struct frame *in, struct frame *out); /* out.len 0: same as in */
	int verdict;
	struct cnt_delta counters[6];
};

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

void test_port_fixtures(void **state)
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
