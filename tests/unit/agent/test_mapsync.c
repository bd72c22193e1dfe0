/* SPDX-License-Identifier: MIT */
/* map_sync (reconcile.c) on a real BPF hash map: adds missing entries, fixes
 * changed ones, deletes stale ones (first: a full map takes new entries),
 * keeps merged fields, goes on past a refused entry. Needs root (77). */
#include <bpf/bpf.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/mapsync.h"

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

struct entry {
	uint32_t key;
	uint64_t val;
};

/* Keeps the top byte of the old value (like a port's datapath-owned state). */
static void keep_top(void *want, const void *old, const void *entry)
{
	(void)entry;
	uint64_t *w = want;
	const uint64_t *o = old;

	*w = (*w & 0x00ffffffffffffffULL) | (*o & 0xff00000000000000ULL);
}

int main(void)
{
	struct entry want[] = { { 3, 30 }, { 1, 10 }, { 2, 20 } };
	uint32_t k;
	uint64_t v;
	int fd;

	if (geteuid() != 0)
		return 77;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_mapsync", 4, 8, 64, NULL);
	if (fd < 0) {
		fprintf(stderr, "skip: bpf_map_create: %s\n", strerror(errno));
		return 77;
	}
	k = 2, v = 0x0500000000000099ULL; /* changed value, datapath-owned top byte */
	CHECK(bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0);
	k = 9, v = 90; /* stale */
	CHECK(bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0);
	k = 3, v = 30; /* already right */
	CHECK(bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0);

	/* 1 added, 2 fixed, 9 deleted; 3 untouched. */
	CHECK(map_sync(fd, want, 3, sizeof(struct entry), 4, offsetof(struct entry, val), 8,
		       keep_top) == 3);
	k = 1;
	CHECK(bpf_map_lookup_elem(fd, &k, &v) == 0 && v == 10);
	k = 2;
	CHECK(bpf_map_lookup_elem(fd, &k, &v) == 0 && v == 0x0500000000000014ULL);
	k = 9;
	CHECK(bpf_map_lookup_elem(fd, &k, &v) < 0 && errno == ENOENT);
	/* A second pass finds nothing to do. */
	CHECK(map_sync(fd, want, 3, sizeof(struct entry), 4, offsetof(struct entry, val), 8,
		       keep_top) == 0);
	/* Nothing wanted: everything goes. */
	CHECK(map_sync(fd, want, 0, sizeof(struct entry), 4, offsetof(struct entry, val), 8,
		       NULL) == 3);
	CHECK(bpf_map_get_next_key(fd, NULL, &k) == -ENOENT);
	close(fd);

	/* A full map: the stale entries go first, so the new ones fit. */
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_mapsync_full", 4, 8, 4, NULL);
	CHECK(fd >= 0);
	for (k = 11; k <= 14; k++) {
		v = k;
		CHECK(bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0);
	}
	struct entry fresh[] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}};
	CHECK(map_sync(fd, fresh, 4, sizeof(struct entry), 4, offsetof(struct entry, val), 8,
		       NULL) == 8);
	/* One entry too many: refused alone, the others are still written. Key 0
	 * sorts first, so an agent that gave up there would write nothing. */
	struct entry more[] = {{1, 100}, {2, 200}, {3, 300}, {4, 400}, {0, 1}};
	CHECK(map_sync(fd, more, 5, sizeof(struct entry), 4, offsetof(struct entry, val), 8,
		       NULL) == -E2BIG);
	for (k = 1; k <= 4; k++)
		CHECK(bpf_map_lookup_elem(fd, &k, &v) == 0 && v == k * 100);
	close(fd);
	printf("ok\n");
	return 0;
}
