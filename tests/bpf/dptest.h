/* SPDX-License-Identifier: MIT */
/*
 * dptest: what the datapath test scenarios share (tests/bpf/dp_*.c): the
 * real programs, loaded and attached by datapath.c, in a private network
 * namespace with real devices (testenv.h), the maps reset to one baseline
 * before every test, and the helpers to run from_port, read counters and
 * capture deliveries. dptest.c holds them and main().
 *
 * Baseline ports (gwhN, MAC 02::N, IPv4 198.51.100.N, port security on):
 *   1, 2, 6: VNI A, active      3: VNI B, active (2: DHCP served locally)
 *   4: VNI A, standby, first-frame activation (a migration target)
 *   5: VNI A, standby, rarp activation
 * FDB VNI A: M1..M6 -> their port, except M3 (VNI B's port: a bad entry that
 *   strict isolation must refuse); M10 -> node 192.0.2.2; M6 -> {port 6,
 *   node 192.0.2.3} (VM 6 migrating out: replicated). FDB VNI B: M3, M7 -> 3.
 * Neigh VNI A: .2 -> M2, .10 -> M10. Flood VNI A: ports 1,2,4,5,6 + nodes .2,
 *   .3; VNI B: port 3.
 */
#ifndef GODWIT_TESTS_BPF_DPTEST_H
#define GODWIT_TESTS_BPF_DPTEST_H

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

extern struct testenv te;
extern struct datapath *dp;
extern int prog_port_fd;
extern int prog_fabric_fd;
extern char pin_dir[64];
extern const char *const counter_names[];

struct cnt_delta {
	enum gw_counter idx;
	uint64_t delta; /* 0 ends the list */
};

struct events {
	struct gw_event ev[8];
	int n;
};

struct captures {
	int vm[TE_NPORTS + 1];
	int wire;
};

void fdb_put(uint32_t vni, int mac, const struct gw_location *locs, uint32_t n);
void fdb_put_port_ifindex(uint32_t vni, int mac, int ifindex);
void fdb_put_port(uint32_t vni, int mac, int port);
void neigh_put(uint32_t vni, int ip, int mac);
struct gw_port port_get(int n);
int baseline(void **state);
void counters_read(uint64_t c[GW_CNT__MAX]);
void counters_expect(const char *what, const uint64_t before[GW_CNT__MAX],
		     const struct cnt_delta *deltas);
void counter_wait(const uint64_t before[GW_CNT__MAX], enum gw_counter idx, uint64_t delta);
int run_port_as(const char *what, int port, const struct frame *in, struct frame *out);
int run_port(int port, const struct frame *in, struct frame *out);
void expect_bytes(const char *what, const struct frame *got, const struct frame *want);
struct ring_buffer *events_open(struct events *evs);
void captures_open(struct captures *c);
void captures_close(struct captures *c);
void expect_on_vm(struct captures *c, int n, const struct frame *f);
void expect_on_wire_dscp(struct captures *c, uint32_t vni, uint32_t dst, uint8_t dscp,
			 const struct frame *f);
void expect_on_wire(struct captures *c, uint32_t vni, uint32_t dst, const struct frame *f);
void expect_quiet(struct captures *c);
void port_set_state(int n, uint32_t state);
uint32_t map_id(int fd);
uint32_t attached_prog_id(int ifindex);
void fabric_drop(struct captures *c, uint32_t vni, const struct frame *f, enum gw_counter reason);

/* The test frames (dp_frames.c): MAC(n) is 02::n as a pointer. */
#define MAC(n) (mac_n(macbuf[n], n), (const uint8_t *)macbuf[n])
extern uint8_t macbuf[16][6];
extern const uint8_t zero_mac[6];
void f_local(struct frame *in, struct frame *out);
void f_remote(struct frame *in, struct frame *out);
void f_unknown(struct frame *in, struct frame *out);
void f_arp_answered(struct frame *in, struct frame *out);
void f_arp_unicast_remote(struct frame *in, struct frame *out);
void f_garp(struct frame *in, struct frame *out);
void f_arp_unknown_target(struct frame *in, struct frame *out);
void f_arp_probe(struct frame *in, struct frame *out);
void f_spoof_mac(struct frame *in, struct frame *out);
void f_spoof_ip(struct frame *in, struct frame *out);
void f_arp_spoof_sha(struct frame *in, struct frame *out);
void f_arp_spoof_spa(struct frame *in, struct frame *out);
void f_dhcp_discover(struct frame *in, struct frame *out);
void f_zero_src_not_dhcp(struct frame *in, struct frame *out);
void f_dhcp_discover_2(struct frame *in, struct frame *out);
void f_dhcp_renew_2(struct frame *in, struct frame *out);
void f_dhcp_spoofed_2(struct frame *in, struct frame *out);
void f_dhcp_server_port_2(struct frame *in, struct frame *out);
void f_vlan(struct frame *in, struct frame *out);
void f_bad_ip_version(struct frame *in, struct frame *out);
void f_truncated_arp(struct frame *in, struct frame *out);
void f_other_vni_fdb(struct frame *in, struct frame *out);
void f_other_vni_arp(struct frame *in, struct frame *out);
void f_cross_vni_entry(struct frame *in, struct frame *out);
void f_to_standby(struct frame *in, struct frame *out);
void f_victim_mac(struct frame *in, struct frame *out);
void f_victim_rarp(struct frame *in, struct frame *out);
void f_no_port(struct frame *in, struct frame *out);
void f_replicate(struct frame *in, struct frame *out);
void f_hairpin(struct frame *in, struct frame *out);

/* The scenarios (dp_*.c). */
void test_port_fixtures(void **state);
void test_activation_first_frame(void **state);
void test_activation_rarp(void **state);
void test_victim_stays_standby(void **state);
void test_live_remote_tunnel(void **state);
void test_live_arp_reply(void **state);
void test_live_replication(void **state);
void test_live_flood_from_port(void **state);
void test_live_fabric(void **state);
void test_live_fabric_drops(void **state);
void test_fabric_unknown_node(void **state);
void test_fabric_not_underlay(void **state);
void test_fabric_without_tunnel_key(void **state);
void test_live_redirect_peer(void **state);
void test_handoff_source(void **state);
void test_handoff_target(void **state);
void test_primed_source(void **state);
void test_reopen_reuses_maps(void **state);
void test_reopen_replaces_stale_pins(void **state);
void test_detach(void **state);

#endif
