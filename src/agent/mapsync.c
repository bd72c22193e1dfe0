/* SPDX-License-Identifier: MIT */
#include "agent/mapsync.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t sort_key_size;

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sort_key_size);
}

int map_sync(int fd, void *entries, size_t n, size_t stride, size_t key_size, size_t val_off,
	     size_t val_size, map_merge_fn merge)
{
	uint8_t *keys = NULL, *old = NULL, *want = NULL, *p;
	size_t n_keys = 0, cap = 0;
	int changes = 0, r = 0;

	old = malloc(val_size);
	want = malloc(val_size);
	if (!old || !want) {
		r = -ENOMEM;
		goto cleanup;
	}
	sort_key_size = key_size; /* the reconciler runs on one thread */
	if (n > 0) /* entries may be NULL then */
		qsort(entries, n, stride, cmp_key);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)entries + i * stride;

		/* Read right before the write: what the datapath changed up to
		 * now is merged in (an activation can only be lost in the few
		 * instructions between this lookup and the update). */
		memcpy(want, e + val_off, val_size);
		if (bpf_map_lookup_elem(fd, e, old) == 0) {
			if (merge)
				merge(want, old, e);
			if (memcmp(want, old, val_size) == 0)
				continue;
		}
		if (bpf_map_update_elem(fd, e, want, BPF_ANY) < 0) {
			r = -errno;
			goto cleanup;
		}
		changes++;
	}
	/* Dump the keys, then delete those nobody wants. */
	for (;;) {
		if (n_keys == cap) {
			cap = cap ? cap * 2 : 64;
			p = realloc(keys, cap * key_size);
			if (!p) {
				r = -ENOMEM;
				goto cleanup;
			}
			keys = p;
		}
		r = bpf_map_get_next_key(fd, n_keys ? keys + (n_keys - 1) * key_size : NULL,
					 keys + n_keys * key_size);
		if (r < 0)
			break;
		n_keys++;
	}
	if (r != -ENOENT)
		goto cleanup;
	r = 0;
	for (size_t i = 0; i < n_keys; i++) {
		sort_key_size = key_size;
		if (n > 0 && bsearch(keys + i * key_size, entries, n, stride, cmp_key))
			continue;
		if (bpf_map_delete_elem(fd, keys + i * key_size) < 0 && errno != ENOENT) {
			r = -errno;
			goto cleanup;
		}
		changes++;
	}
cleanup:
	free(keys);
	free(old);
	free(want);
	return r < 0 ? r : changes;
}
