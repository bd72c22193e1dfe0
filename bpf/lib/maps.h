/* SPDX-License-Identifier: MIT */
/*
 * The datapath maps. Names match the GW_MAP_* pin names of abi.h; every map is
 * pinned by name so a restarted agent (pin_root_path) reuses the live maps.
 */
#ifndef GODWIT_BPF_LIB_MAPS_H
#define GODWIT_BPF_LIB_MAPS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_MAX_PORTS);
	__type(key, __u32); /* ifindex */
	__type(value, struct gw_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_MAX_FDB);
	__type(key, struct gw_fdb_key);
	__type(value, struct gw_fdb_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_MAX_NEIGH);
	__type(key, struct gw_neigh_key);
	__type(value, struct gw_neigh);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_neigh SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_MAX_VNIS);
	__type(key, __u32); /* vni */
	__type(value, struct gw_flood);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_flood SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GW_MAX_NODES);
	__type(key, union gw_addr);
	__type(value, struct gw_node);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GW_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gw_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gw_events SEC(".maps");

static __always_inline void count(enum gw_counter idx)
{
	__u32 key = idx;
	__u64 *val = bpf_map_lookup_elem(&gw_counters, &key);

	if (val)
		*val += 1; /* per-CPU: no atomics needed */
}

static __always_inline struct gw_config *config_get(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&gw_config, &key);
}

#endif
