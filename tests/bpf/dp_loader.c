/* SPDX-License-Identifier: MIT */
/*
 * The loader: reopening reuses the pinned maps, and replaces those of an
 * older layout; detaching removes the programs.
 */
#include "dptest.h"

#include <sys/stat.h>
#include <unistd.h>

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

/* An agent upgraded in place finds pins of the layout before union gw_addr
 * (a 32-byte gw_port): those are made anew, a pin of the same shape is kept. */
void test_reopen_replaces_stale_pins(void **state)
{
	struct gw_config cfg = {.vxlan_ifindex = 4711}, got;
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info), key = 0;
	struct datapath *dp2 = NULL;
	char dir[96], path[128];
	int old_ports, config;

	(void)state;
	snprintf(dir, sizeof(dir), "%s-upgrade", pin_dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	old_ports = bpf_map_create(BPF_MAP_TYPE_HASH, GW_MAP_PORTS, 4, 32, GW_MAX_PORTS, NULL);
	config = bpf_map_create(BPF_MAP_TYPE_ARRAY, GW_MAP_CONFIG, 4, sizeof(cfg), 1, NULL);
	assert_true(old_ports >= 0 && config >= 0);
	assert_int_equal(bpf_map_update_elem(config, &key, &cfg, BPF_ANY), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, GW_MAP_PORTS);
	assert_int_equal(bpf_obj_pin(old_ports, path), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, GW_MAP_CONFIG);
	assert_int_equal(bpf_obj_pin(config, path), 0);

	assert_int_equal(datapath_open(dir, &dp2), 0);
	assert_int_equal(bpf_obj_get_info_by_fd(datapath_map_fd(dp2, DP_MAP_PORTS), &info, &len),
			 0);
	assert_int_equal(info.value_size, sizeof(struct gw_port));
	assert_int_not_equal(map_id(datapath_map_fd(dp2, DP_MAP_PORTS)), map_id(old_ports));
	assert_int_equal(map_id(datapath_map_fd(dp2, DP_MAP_CONFIG)), map_id(config));
	assert_int_equal(bpf_map_lookup_elem(datapath_map_fd(dp2, DP_MAP_CONFIG), &key, &got), 0);
	assert_int_equal(got.vxlan_ifindex, 4711);

	datapath_close(dp2);
	close(old_ports);
	close(config);
	assert_int_equal(datapath_unpin(dir), 0);
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
