/* SPDX-License-Identifier: MIT */
/*
 * Activation: a standby port becomes active on its first frame or on the
 * guest's RARP, and the event reaches the ring buffer; a victim stays standby.
 */
#include "dptest.h"

void test_activation_first_frame(void **state)
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

void test_activation_rarp(void **state)
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

void test_victim_stays_standby(void **state)
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
