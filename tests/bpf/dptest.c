/* SPDX-License-Identifier: MIT */
/* The datapath tests' shared state, helpers and main() (dptest.h). */
#include "dptest.h"

struct testenv te;
struct datapath *dp;
char pin_dir[64];
int prog_port_fd = -1;
int prog_fabric_fd = -1;

/* ---- baseline ------------------------------------------------------------ */

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

void fdb_put(uint32_t vni, int mac, const struct gw_location *locs, uint32_t n)
{
	struct gw_fdb_key key = {.vni = vni};
	struct gw_fdb_entry e = {.count = n};

	mac_n(key.mac, mac);
	memcpy(e.loc, locs, n * sizeof(*locs));
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_FDB), &key, &e, BPF_ANY),
			 0);
}

void fdb_put_port_ifindex(uint32_t vni, int mac, int ifindex)
{
	struct gw_location loc = {.ifindex = (uint32_t)ifindex};

	fdb_put(vni, mac, &loc, 1);
}

void fdb_put_port(uint32_t vni, int mac, int port)
{
	fdb_put_port_ifindex(vni, mac, te.port_ifindex[port]);
}

void neigh_put(uint32_t vni, int ip, int mac)
{
	struct gw_neigh_key key = {
	    .vni = vni, .family = GW_FAMILY_IPV4, .ip = GW_ADDR_V4(vm_ip(ip))};
	struct gw_neigh n = {0};

	mac_n(n.mac, mac);
	assert_int_equal(bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_NEIGH), &key, &n, BPF_ANY),
			 0);
}

struct gw_port port_get(int n)
{
	uint32_t key = (uint32_t)te.port_ifindex[n];
	struct gw_port p;

	assert_int_equal(bpf_map_lookup_elem(datapath_map_fd(dp, DP_MAP_PORTS), &key, &p), 0);
	return p;
}

int baseline(void **state)
{
	int ports = datapath_map_fd(dp, DP_MAP_PORTS);
	struct gw_flood fl = {0};
	uint32_t key;

	(void)state;
	map_clear(ports, sizeof(uint32_t));
	map_clear(datapath_map_fd(dp, DP_MAP_FDB), sizeof(struct gw_fdb_key));
	map_clear(datapath_map_fd(dp, DP_MAP_NEIGH), sizeof(struct gw_neigh_key));
	map_clear(datapath_map_fd(dp, DP_MAP_FLOOD), sizeof(uint32_t));
	map_clear(datapath_map_fd(dp, DP_MAP_NODES), sizeof(union gw_addr));

	for (int n = 1; n <= TE_NPORTS; n++) {
		struct gw_port p = {
		    .vni = port_defs[n].vni,
		    .ip = GW_ADDR_V4(vm_ip(n)),
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
	struct gw_location remote = {.node_ip = GW_ADDR_V4(node_ip(2))};
	fdb_put(VNI_A, 10, &remote, 1);
	struct gw_location migrating[2] = {
	    {.ifindex = (uint32_t)te.port_ifindex[6]},
	    {.node_ip = GW_ADDR_V4(node_ip(3))},
	};
	fdb_put(VNI_A, 6, migrating, 2);

	/* The other nodes: VXLAN is taken from these only. */
	for (int n = 2; n <= 3; n++) {
		union gw_addr node = GW_ADDR_V4(node_ip(n));
		struct gw_node known = {0};

		assert_int_equal(
		    bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_NODES), &node, &known, BPF_ANY),
		    0);
	}

	neigh_put(VNI_A, 2, 2);
	neigh_put(VNI_A, 10, 10);

	fl.n_local = 5;
	fl.local_ifindex[0] = (uint32_t)te.port_ifindex[1];
	fl.local_ifindex[1] = (uint32_t)te.port_ifindex[2];
	fl.local_ifindex[2] = (uint32_t)te.port_ifindex[4];
	fl.local_ifindex[3] = (uint32_t)te.port_ifindex[5];
	fl.local_ifindex[4] = (uint32_t)te.port_ifindex[6];
	fl.n_remote = 2;
	fl.remote_ip[0].v4 = node_ip(2);
	fl.remote_ip[1].v4 = node_ip(3);
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

const char *const counter_names[] = GW_COUNTER_NAMES;

void counters_read(uint64_t c[GW_CNT__MAX])
{
	assert_int_equal(datapath_read_counters(dp, c), 0);
}

/* Every counter must have moved by exactly its listed delta (others by 0). */
void counters_expect(const char *what, const uint64_t before[GW_CNT__MAX],
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
void counter_wait(const uint64_t before[GW_CNT__MAX], enum gw_counter idx, uint64_t delta)
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

int run_port_as(const char *what, int port, const struct frame *in, struct frame *out)
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

int run_port(int port, const struct frame *in, struct frame *out)
{
	return run_port_as("from_port", port, in, out);
}

void expect_bytes(const char *what, const struct frame *got, const struct frame *want)
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

static int on_event(void *ctx, void *data, size_t size)
{
	struct events *evs = ctx;

	assert_int_equal(size, sizeof(struct gw_event));
	if (evs->n < 8)
		memcpy(&evs->ev[evs->n++], data, sizeof(struct gw_event));
	return 0;
}

struct ring_buffer *events_open(struct events *evs)
{
	struct ring_buffer *rb =
	    ring_buffer__new(datapath_map_fd(dp, DP_MAP_EVENTS), on_event, evs, NULL);

	assert_non_null(rb);
	ring_buffer__consume(rb); /* forget earlier tests' events */
	evs->n = 0;
	return rb;
}

void captures_open(struct captures *c)
{
	for (int n = 1; n <= TE_NPORTS; n++) {
		c->vm[n] = capture_open(te.vm_ifindex[n]);
		assert_true(c->vm[n] >= 0);
	}
	c->wire = capture_open(te.wire_ifindex);
	assert_true(c->wire >= 0);
}

void captures_close(struct captures *c)
{
	for (int n = 1; n <= TE_NPORTS; n++)
		close(c->vm[n]);
	close(c->wire);
}

/* Expects exactly f on VM n. */
void expect_on_vm(struct captures *c, int n, const struct frame *f)
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
void expect_on_wire_dscp(struct captures *c, uint32_t vni, uint32_t dst, uint8_t dscp,
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

void expect_on_wire(struct captures *c, uint32_t vni, uint32_t dst, const struct frame *f)
{
	expect_on_wire_dscp(c, vni, dst, 0, f);
}

/* No (further) frame on any capture within a short window. */
void expect_quiet(struct captures *c)
{
	uint8_t buf[2048];

	for (int n = 1; n <= TE_NPORTS; n++)
		if (capture_next(c->vm[n], buf, sizeof(buf), n == 1 ? 100 : 0) != 0)
			fail_msg("unexpected frame on gwv%d", n);
	if (capture_next(c->wire, buf, sizeof(buf), 0) != 0)
		fail_msg("unexpected packet on the wire");
}

/* A fabric frame that must be dropped for `reason`, delivering nothing. */
void fabric_drop(struct captures *c, uint32_t vni, const struct frame *f, enum gw_counter reason)
{
	uint64_t before[GW_CNT__MAX];

	counters_read(before);
	assert_int_equal(inject_vxlan(vni, f), 0);
	counter_wait(before, GW_CNT_RX_FABRIC, 1);
	counters_expect(counter_names[reason], before,
			(const struct cnt_delta[]){{GW_CNT_RX_FABRIC, 1}, {reason, 1}, {0, 0}});
	expect_quiet(c);
}

void port_set_state(int n, uint32_t state)
{
	uint32_t key = (uint32_t)te.port_ifindex[n];
	struct gw_port p = port_get(n);

	p.state = state;
	assert_int_equal(
	    bpf_map_update_elem(datapath_map_fd(dp, DP_MAP_PORTS), &key, &p, BPF_EXIST), 0);
}

uint32_t map_id(int fd)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

uint32_t attached_prog_id(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

	assert_int_equal(bpf_tc_query(&hook, &opts), 0);
	return opts.prog_id;
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
	    cmocka_unit_test_setup(test_fabric_unknown_node, baseline),
	    cmocka_unit_test_setup(test_fabric_not_underlay, baseline),
	    cmocka_unit_test_setup(test_fabric_without_tunnel_key, baseline),
	    cmocka_unit_test_setup(test_live_redirect_peer, baseline),
	    cmocka_unit_test_setup(test_handoff_source, baseline),
	    cmocka_unit_test_setup(test_handoff_target, baseline),
	    cmocka_unit_test_setup(test_primed_source, baseline),
	    cmocka_unit_test_setup(test_reopen_reuses_maps, baseline),
	    cmocka_unit_test_setup(test_reopen_replaces_stale_pins, baseline),
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
