/* SPDX-License-Identifier: MIT */
#include "lib/base64.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool base64_valid(const char *s)
{
	size_t len = strlen(s), pad = 0;

	if (len % 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return pad <= 2;
}

char *base64_encode(const char *s)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), j = 0;
	char *out = malloc((n + 2) / 3 * 4 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[j++] = tbl[(v >> 18) & 63];
		out[j++] = tbl[(v >> 12) & 63];
		out[j++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		out[j++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[j] = '\0';
	return out;
}

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : 63; /* base64_valid let only '/' through */
}

int base64_decode(const char *s, char **out)
{
	size_t len = strlen(s), j = 0;
	char *text;

	if (!base64_valid(s))
		return -EINVAL;
	text = malloc(len / 4 * 3 + 1);
	if (!text)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int n = 0;

		for (int k = 0; k < 4; k++) {
			v <<= 6;
			if (s[i + k] != '=') {
				v |= (uint32_t)sextet(s[i + k]);
				n++;
			}
		}
		for (int k = 0; k < n - 1; k++)
			text[j++] = (char)((v >> (16 - 8 * k)) & 0xff);
	}
	text[j] = '\0';
	if (strlen(text) != j) { /* a NUL inside: not text */
		free(text);
		return -EINVAL;
	}
	*out = text;
	return 0;
}
