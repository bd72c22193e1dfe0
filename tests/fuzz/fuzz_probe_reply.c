/* SPDX-License-Identifier: MIT */
/* libFuzzer: the probe's ICMP reply parser, in both forms (datagram socket: ICMP
 * only; raw socket: with the IPv4 header). Accepted replies must be consistent. */
#include "icmp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct icmp_expect exp = {.check_id = true, .id = 0x1234, .nonce = 0x0123456789abcdefULL};
	struct icmp_reply r;
	uint8_t *copy = malloc(size ? size : 1); /* exact size, so ASan sees overreads */

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	for (int raw = 0; raw < 2; raw++) {
		exp.raw = raw;
		exp.src = raw ? htonl(0x7f000001) : 0;
		memset(&r, 0, sizeof(r));
		if (icmp_parse_reply(copy, size, &exp, &r) == 0 && (uint16_t)r.seq != r.wire_seq)
			abort();
	}
	free(copy);
	return 0;
}
