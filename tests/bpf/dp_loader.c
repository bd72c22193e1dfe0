/* SPDX-License-Identifier: MIT */
/*
 * The loader: reopening reuses the pinned maps; detaching removes the programs.
 */
#include "dptest.h"

void test_reopen_reuses_maps(void **state)
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

void test_detach(void **state)
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
