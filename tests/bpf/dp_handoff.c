/* SPDX-License-Identifier: MIT */
/*
 * The zero-loss handoff: a stopped VM's port hands what would have gone into
 * its tap to the target node, marked; the target delivers it.
 */
#include "dptest.h"

/* The source side: VM 6 stopped here (port 6 in handoff, fdb M6 -> {port 6,
 * node .3}). What would have gone into its tap goes to node .3, marked. */
void test_handoff_source(void **state)
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

/* The target side: a marked frame from the source goes into the standby tap
 * without activating it; once active, marked frames are late duplicates. */
void test_handoff_target(void **state)
{
	struct gw_location incoming[2] = {
	    {.node_ip = GW_ADDR_V4(node_ip(3))}, /* the source */
	    {.ifindex = (uint32_t)te.port_ifindex[4]},
	};
	struct captures c;
	struct frame f;
	uint64_t before[GW_CNT__MAX];
	const uint8_t mark = GW_HANDOFF_DSCP << 2;

	(void)state;
	fdb_put(VNI_A, 4, incoming, 2); /* replication: port 4 migrates in from node 3 */
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

	/* Marked, but from a node that is not the port's source. */
	counters_read(before);
	assert_int_equal(inject_vxlan_from(node_ip(2), VNI_A, mark, &f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	counters_expect("marked frame from another node", before,
			(const struct cnt_delta[]){
			    {GW_CNT_RX_FABRIC, 1}, {GW_CNT_DROP_HANDOFF_FOREIGN, 1}, {0, 0}});
	expect_quiet(&c);

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

/* frame f as a primer (bpf/abi.h): the same bytes, the primer ethertype. */
static void as_primer(struct frame *primer, const struct frame *f)
{
	*primer = *f;
	primer->data[12] = GW_PRIMER_ETHERTYPE >> 8;
	primer->data[13] = GW_PRIMER_ETHERTYPE & 0xff;
}

/* The source during its transfer: VM 6 still runs here (port 6 primed, fdb
 * M6 -> {port 6, node .3}). Every frame into its tap comes after GW_PRIMERS
 * primers; the target's copy and broadcast copies come as they are. */
void test_primed_source(void **state)
{
	struct captures c;
	struct frame f, primer;
	uint64_t before[GW_CNT__MAX];

	(void)state;
	port_set_state(6, GW_PORT_PRIMED);
	captures_open(&c);

	/* From a local port: primers, the frame; the replicated copy unmarked. */
	f_replicate(&f, NULL);
	as_primer(&primer, &f);
	counters_read(before);
	assert_int_equal(inject(te.vm_ifindex[1], &f), 0);
	counter_wait(before, GW_CNT_FWD_REMOTE, 1);
	for (int i = 0; i < GW_PRIMERS; i++)
		expect_on_vm(&c, 6, &primer);
	expect_on_vm(&c, 6, &f);
	expect_on_wire(&c, VNI_A, node_ip(3), &f);
	expect_quiet(&c);
	counters_expect("a frame into a primed port", before,
			(const struct cnt_delta[]){{GW_CNT_RX_PORT, 1},
						   {GW_CNT_FWD_LOCAL, 1},
						   {GW_CNT_FWD_REMOTE, 1},
						   {GW_CNT_PRIMER, GW_PRIMERS},
						   {0, 0}});

	/* From the fabric: the same. */
	frame_ipv4_udp(&f, MAC(6), MAC(10), vm_ip(10), vm_ip(6), 3000, 4000);
	as_primer(&primer, &f);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_FWD_LOCAL, 1);
	for (int i = 0; i < GW_PRIMERS; i++)
		expect_on_vm(&c, 6, &primer);
	expect_on_vm(&c, 6, &f);
	expect_quiet(&c);
	counters_expect("a fabric frame into a primed port", before,
			(const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1},
						   {GW_CNT_FWD_LOCAL, 1},
						   {GW_CNT_PRIMER, GW_PRIMERS},
						   {0, 0}});

	/* Broadcast: into the primed port too (it is active), as it is. */
	f_arp_unknown_target(&f, NULL);
	memcpy(f.data + 6, MAC(10), 6);
	counters_read(before);
	assert_int_equal(inject_vxlan(VNI_A, &f), 0);
	counter_wait(before, GW_CNT_FLOOD, 1);
	expect_on_vm(&c, 1, &f);
	expect_on_vm(&c, 2, &f);
	expect_on_vm(&c, 6, &f);
	expect_quiet(&c);
	assert_int_equal(port_get(6).state, GW_PORT_PRIMED);
	captures_close(&c);
}
