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

/* The keys the map holds now, into *out (n_out of them). */
static int dump_keys(int fd, size_t key_size, uint8_t **out, size_t *n_out)
{
	uint8_t *keys = NULL, *p;
	size_t n = 0, cap = 0;
	int r;

	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			p = realloc(keys, cap * key_size);
			if (!p) {
				r = -ENOMEM;
				goto cleanup;
			}
			keys = p;
		}
		r = bpf_map_get_next_key(fd, n ? keys + (n - 1) * key_size : NULL,
					 keys + n * key_size);
		if (r < 0)
			break;
		n++;
	}
	if (r != -ENOENT)
		goto cleanup;
	*out = keys;
	*n_out = n;
	keys = NULL;
	r = 0;
cleanup:
	free(keys);
	return r;
}

/* Deletes first, so that a full map has room for what is added, and goes on
 * past an entry that fails: one entry the kernel refuses costs that entry,
 * not the rest of the map. The first error is returned once all were tried. */
int map_sync(int fd, void *entries, size_t n, size_t stride, size_t key_size, size_t val_off,
	     size_t val_size, map_merge_fn merge)
{
	uint8_t *keys = NULL, *old = NULL, *want = NULL;
	size_t n_keys = 0;
	int changes = 0, first_err = 0, r;

	old = malloc(val_size);
	want = malloc(val_size);
	if (!old || !want) {
		r = -ENOMEM;
		goto cleanup;
	}
	sort_key_size = key_size; /* the reconciler runs on one thread */
	if (n > 0) /* entries may be NULL then */
		qsort(entries, n, stride, cmp_key);
	r = dump_keys(fd, key_size, &keys, &n_keys);
	if (r < 0)
		goto cleanup;
	for (size_t i = 0; i < n_keys; i++) {
		if (n > 0 && bsearch(keys + i * key_size, entries, n, stride, cmp_key))
			continue;
		if (bpf_map_delete_elem(fd, keys + i * key_size) < 0 && errno != ENOENT) {
			first_err = first_err ?: -errno;
			continue;
		}
		changes++;
	}
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
			first_err = first_err ?: -errno;
			continue;
		}
		changes++;
	}
	r = first_err;
cleanup:
	free(keys);
	free(old);
	free(want);
	return r < 0 ? r : changes;
}
