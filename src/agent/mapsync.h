/* SPDX-License-Identifier: MIT */
/* mapsync: makes one BPF map hold exactly a desired set of entries. */
#ifndef GODWIT_AGENT_MAPSYNC_H
#define GODWIT_AGENT_MAPSYNC_H

#include <stddef.h>

/* fd is a BPF hash map of key_size/val_size; entries is an array of n structs
 * of stride bytes with the key at offset 0 and the value at val_off (sorted in
 * place). merge (may be NULL) adjusts a wanted value from the entry already in
 * the map before they are compared (fields the datapath owns); it also gets the
 * whole desired entry (for fields that are not part of the value). An existing
 * entry is read right before it would be written and written only when it
 * still differs after the merge. Deletes keys not wanted, then adds/updates
 * what differs, going on past an entry the kernel refuses; returns the number
 * of changes, or the first error once every entry was tried. */
typedef void (*map_merge_fn)(void *want_val, const void *old_val, const void *entry);
int map_sync(int fd, void *entries, size_t n, size_t stride, size_t key_size, size_t val_off,
	     size_t val_size, map_merge_fn merge);

#endif
