/* SPDX-License-Identifier: MIT */
/* libFuzzer: handoff_frame(), the parser of what a stopped source's tap holds
 * (a virtio-net header and a frame from the network). The first byte picks
 * the header length (0, the legacy 10, the virtio 1.0 12, or a bad one). */
#include "agent/handoff.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t hdr_lens[4] = {0, 10, 12, 4};
	const uint8_t *frame = NULL;
	size_t hdr_len, frame_len = 0;
	uint8_t *copy;
	int r;

	if (size < 1)
		return 0;
	hdr_len = hdr_lens[data[0] & 3];
	copy = malloc(size - 1 ? size - 1 : 1); /* exact size, so ASan sees overreads */
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	r = handoff_frame(copy, size - 1, hdr_len, &frame, &frame_len);
	if (r == 0 &&
	    (frame != copy + hdr_len || frame_len + hdr_len != size - 1 || frame_len < 14))
		abort();
	if (r != 0 && r != -EINVAL && r != -EOPNOTSUPP)
		abort();
	free(copy);
	return 0;
}
