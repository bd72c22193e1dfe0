/* SPDX-License-Identifier: MIT */
#include "streamframe.h"

#include <errno.h>
#include <string.h>

void streamframe_head(uint8_t head[STREAMFRAME_HEAD], uint32_t len)
{
	head[0] = (uint8_t)(len >> 24);
	head[1] = (uint8_t)(len >> 16);
	head[2] = (uint8_t)(len >> 8);
	head[3] = (uint8_t)len;
}

int streamframe_read(struct streamframe_reader *r, const uint8_t *in, size_t len, uint8_t *out,
		     size_t *out_len)
{
	size_t got = 0;
	int ret = r->ended ? 1 : 0;

	while (len) {
		if (r->ended) {
			ret = -EPROTO;
			break;
		}
		if (r->left) {
			size_t n = len < r->left ? len : r->left;

			memcpy(out + got, in, n);
			got += n;
			in += n;
			len -= n;
			r->left -= (uint32_t)n;
			continue;
		}
		r->head[r->head_have++] = *in++;
		len--;
		if (r->head_have < STREAMFRAME_HEAD)
			continue;
		r->head_have = 0;
		r->left = (uint32_t)r->head[0] << 24 | (uint32_t)r->head[1] << 16 |
			  (uint32_t)r->head[2] << 8 | r->head[3];
		if (r->left > STREAMFRAME_MAX) {
			ret = -EPROTO;
			break;
		}
		if (r->left == 0) {
			r->ended = true;
			ret = 1;
		}
	}
	*out_len = got;
	return ret;
}
