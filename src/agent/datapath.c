/* SPDX-License-Identifier: MIT */
/* Loader of the godwit tc programs; the design note is in datapath.h. */
#include "agent/datapath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/bpffs.h"
#include "godwit.skel.h"
#include "lib/log.h"
#include "lib/proc.h"

/* Fixed so that a restarted agent replaces its own filter in place. */
#define DP_TC_HANDLE   1
#define DP_TC_PRIORITY 1

struct datapath {
	struct godwit_bpf *skel;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG;
	char buf[512];
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	/* bpf_tc_hook_create() on an existing clsact is expected (EEXIST),
	 * yet libbpf reports the kernel's extack as a warning. */
	if (strstr(buf, "Exclusivity flag on"))
		lvl = LOG_LVL_DEBUG;
	log_msg(lvl, "%s", buf);
	return 0;
}

static int bpffs_ensure(void)
{
	int r;

	if (proc_bpffs_mounted())
		return 0;
	r = proc_bpffs_mount();
	if (r < 0)
		return log_error_errno(r, "Failed to mount bpffs on %s", BPFFS_ROOT);
	log_info("Mounted bpffs on %s", BPFFS_ROOT);
	return 0;
}

/* Whether the pinned map at path has the shape this build's map has: what
 * libbpf checks before it reuses a pin. */
static int pin_matches(const struct bpf_map *map, const char *path, bool *matches)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	int fd, r = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		r = -errno;
		goto cleanup;
	}
	*matches = info.type == (__u32)bpf_map__type(map) &&
		   info.key_size == bpf_map__key_size(map) &&
		   info.value_size == bpf_map__value_size(map) &&
		   info.max_entries == bpf_map__max_entries(map) &&
		   info.map_flags == bpf_map__map_flags(map);
cleanup:
	close(fd);
	return r;
}

/* Removes the pins of maps whose layout differs from this build's (an agent
 * upgraded in place: bpf/abi.h "Upgrades"), so that the load makes them anew
 * instead of failing; the reconciler refills them. The old programs keep
 * their maps until the new ones replace them on the devices. */
static int drop_stale_pins(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
	{
		const char *path = bpf_map__pin_path(map);
		bool matches = true;
		int r;

		if (!path)
			continue;
		r = pin_matches(map, path, &matches);
		if (r == -ENOENT || (r == 0 && matches))
			continue;
		if (r < 0)
			return log_error_errno(r, "Failed to read the pinned map %s", path);
		log_warn("Pinned map %s has another layout (an older agent's): removed, "
			 "it is made anew and refilled",
			 path);
		if (unlink(path) < 0 && errno != ENOENT)
			return log_error_errno(-errno, "Failed to remove %s", path);
	}
	return 0;
}

int datapath_open(const char *pin_dir, struct datapath **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct godwit_bpf *skel = NULL;
	struct datapath *dp = NULL;
	int r;

	libbpf_set_print(libbpf_log);
	r = bpffs_ensure();
	if (r < 0)
		goto cleanup;
	r = proc_mkdir_p(pin_dir, 0700);
	if (r < 0) {
		log_error_errno(r, "Failed to create pin directory '%s'", pin_dir);
		goto cleanup;
	}
	skel = godwit_bpf__open_opts(&opts);
	if (!skel) {
		r = log_error_errno(-errno, "Failed to open the datapath programs");
		goto cleanup;
	}
	r = drop_stale_pins(skel->obj);
	if (r < 0)
		goto cleanup;
	r = godwit_bpf__load(skel);
	if (r < 0) {
		log_error_errno(r, "Failed to load the datapath programs (pins in '%s')", pin_dir);
		goto cleanup;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		r = -ENOMEM;
		goto cleanup;
	}
	dp->skel = skel;
	skel = NULL;
	*out = dp;
	dp = NULL;
	r = 0;
cleanup:
	godwit_bpf__destroy(skel);
	free(dp);
	return r;
}

void datapath_close(struct datapath *dp)
{
	if (!dp)
		return;
	godwit_bpf__destroy(dp->skel);
	free(dp);
}

static int attach(int ifindex, int prog_fd, const char *what)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int r;

	if (ifindex <= 0)
		return log_error_errno(-EINVAL, "Cannot attach %s: bad ifindex %d", what, ifindex);
	r = bpf_tc_hook_create(&hook);
	if (r < 0 && r != -EEXIST)
		return log_error_errno(r, "Failed to create clsact on ifindex %d", ifindex);
	r = bpf_tc_attach(&hook, &opts);
	if (r < 0)
		return log_error_errno(r, "Failed to attach %s to ifindex %d", what, ifindex);
	return 0;
}

int datapath_attach_port(struct datapath *dp, int ifindex)
{
	return attach(ifindex, bpf_program__fd(dp->skel->progs.from_port), "from_port");
}

int datapath_attach_fabric(struct datapath *dp, int ifindex)
{
	return attach(ifindex, bpf_program__fd(dp->skel->progs.from_fabric), "from_fabric");
}

int datapath_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int r;

	r = bpf_tc_hook_destroy(&hook);
	if (r == -ENOENT || r == -EINVAL) /* no clsact there (EINVAL on older kernels) */
		return 0;
	if (r < 0)
		return log_error_errno(r, "Failed to remove clsact from ifindex %d", ifindex);
	return 0;
}

int datapath_map_fd(const struct datapath *dp, enum datapath_map map)
{
	const struct bpf_map *m;

	switch (map) {
	case DP_MAP_PORTS:
		m = dp->skel->maps.gw_ports;
		break;
	case DP_MAP_FDB:
		m = dp->skel->maps.gw_fdb;
		break;
	case DP_MAP_NEIGH:
		m = dp->skel->maps.gw_neigh;
		break;
	case DP_MAP_FLOOD:
		m = dp->skel->maps.gw_flood;
		break;
	case DP_MAP_NODES:
		m = dp->skel->maps.gw_nodes;
		break;
	case DP_MAP_COUNTERS:
		m = dp->skel->maps.gw_counters;
		break;
	case DP_MAP_CONFIG:
		m = dp->skel->maps.gw_config;
		break;
	case DP_MAP_EVENTS:
		m = dp->skel->maps.gw_events;
		break;
	default:
		return -EINVAL;
	}
	return bpf_map__fd(m);
}

/* Whether a source port may go from state from to state to. */
static bool source_step_allowed(uint32_t from, uint32_t to)
{
	switch (to) {
	case GW_PORT_PRIMED:
		return from == GW_PORT_ACTIVE;
	case GW_PORT_HANDOFF:
		return from == GW_PORT_ACTIVE || from == GW_PORT_PRIMED;
	case GW_PORT_ACTIVE:
		return from == GW_PORT_PRIMED || from == GW_PORT_HANDOFF;
	default:
		return false;
	}
}

int datapath_set_source_state(const struct datapath *dp, uint32_t ifindex, uint32_t to)
{
	int fd = bpf_map__fd(dp->skel->maps.gw_ports);
	struct gw_port p;

	if (to != GW_PORT_PRIMED && to != GW_PORT_HANDOFF && to != GW_PORT_ACTIVE)
		return -EINVAL;
	if (bpf_map_lookup_elem(fd, &ifindex, &p) < 0)
		return -errno;
	if (p.state == to)
		return 0;
	if (!source_step_allowed(p.state, to))
		return -EBUSY;
	/* The datapath changes standby entries only, and the reconciler
	 * rewrites an entry only when a field other than the state changed,
	 * which a migrating port's do not: this read-modify-write is alone. */
	p.state = to;
	if (bpf_map_update_elem(fd, &ifindex, &p, BPF_EXIST) < 0)
		return -errno;
	return 0;
}

int datapath_handoff_target(const struct datapath *dp, uint32_t ifindex, uint32_t *vni,
			    uint32_t *node_ip)
{
	struct gw_fdb_key key = {0};
	struct gw_fdb_entry e;
	struct gw_port p;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.gw_ports), &ifindex, &p) < 0)
		return -errno;
	key.vni = p.vni;
	memcpy(key.mac, p.mac, sizeof(key.mac));
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.gw_fdb), &key, &e) < 0)
		return -errno;
	for (uint32_t i = 0; i < e.count && i < GW_FDB_MAX_LOC; i++) {
		if (e.loc[i].node_ip.v4) {
			*vni = p.vni;
			*node_ip = e.loc[i].node_ip.v4;
			return 0;
		}
	}
	return -ENOENT;
}

int datapath_read_counters(const struct datapath *dp, uint64_t out[GW_CNT__MAX])
{
	int fd = bpf_map__fd(dp->skel->maps.gw_counters);
	int ncpus = libbpf_num_possible_cpus();
	uint64_t sums[GW_CNT__MAX] = {0};
	uint64_t *vals = NULL;
	int r;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t key = 0; key < GW_CNT__MAX; key++) {
		if (bpf_map_lookup_elem(fd, &key, vals) < 0) {
			r = -errno;
			goto cleanup;
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			sums[key] += vals[cpu];
	}
	memcpy(out, sums, sizeof(sums));
	r = 0;
cleanup:
	free(vals);
	return r;
}

int datapath_unpin(const char *pin_dir)
{
	struct dirent *de;
	DIR *dir;
	int r = 0;

	dir = opendir(pin_dir);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			goto cleanup;
		}
	}
	if (rmdir(pin_dir) < 0 && errno != ENOENT)
		r = -errno;
cleanup:
	closedir(dir);
	return r;
}
