/* SPDX-License-Identifier: MIT */
/* libFuzzer: lib/addr's parsers (MAC, IPv4, CIDR, either family) on arbitrary
 * text. What one accepts must format back to text it accepts again, equal. */
#include "lib/addr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), out[ADDR_STRLEN];
	struct addr a, b;
	struct addr_prefix p;
	uint8_t mac[6], mac2[6];
	uint32_t v4, v4b;
	unsigned len;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (addr_mac_parse(text, mac) == 0) {
		addr_mac_format(mac, out);
		if (addr_mac_parse(out, mac2) < 0 || memcmp(mac, mac2, 6))
			abort();
	}
	if (addr_ipv4_parse(text, &v4) == 0) {
		addr_ipv4_format(v4, out);
		if (strcmp(out, text)) /* the strict form is the only form */
			abort();
	}
	if (addr_ipv4_parse_cidr(text, &v4, &len) == 0 && len > 32)
		abort();
	if (addr_parse(text, &a) == 0) {
		if (addr_format(&a, out, sizeof(out)) < 0 || addr_parse(out, &b) < 0 ||
		    a.family != b.family ||
		    (a.family == ADDR_IPV4 ? a.ipv4 != b.ipv4 : memcmp(a.ipv6, b.ipv6, 16)))
			abort();
		if (a.family == ADDR_IPV4 && (addr_ipv4_parse(text, &v4b) < 0 || v4b != a.ipv4))
			abort();
	}
	if (addr_prefix_parse(text, &p) == 0 && p.len > (p.addr.family == ADDR_IPV4 ? 32u : 128u))
		abort();
	free(text);
	return 0;
}
