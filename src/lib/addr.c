/* SPDX-License-Identifier: MIT */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int addr_mac_parse(const char *text, uint8_t mac[6])
{
	uint8_t m[6];

	if (!text || strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(text[i * 3]), lo = hex_value(text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, sizeof(m));
	return 0;
}

int addr_mac_parse_u64(const char *text, uint64_t *mac)
{
	uint8_t m[6];
	uint64_t v = 0;
	int r = addr_mac_parse(text, m);

	if (r < 0)
		return r;
	for (int i = 0; i < 6; i++)
		v = v << 8 | m[i];
	*mac = v;
	return 0;
}

void addr_mac_format(const uint8_t mac[6], char buf[ADDR_MAC_STRLEN])
{
	snprintf(buf, ADDR_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

void addr_mac_format_u64(uint64_t mac, char buf[ADDR_MAC_STRLEN])
{
	uint8_t m[6];

	for (int i = 5; i >= 0; i--, mac >>= 8)
		m[i] = (uint8_t)(mac & 0xff);
	addr_mac_format(m, buf);
}

/* A decimal number of 1..3 digits, no leading zero, at most max. */
static bool parse_decimal(const char **p, uint32_t max, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;
	int digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 4) {
		v = v * 10 + (uint32_t)(*s - '0');
		s++;
		digits++;
	}
	if (digits == 0 || digits > 3 || v > max || (digits > 1 && **p == '0'))
		return false;
	*out = v;
	*p = s;
	return true;
}

static bool parse_ipv4_prefix(const char **p, uint32_t *addr)
{
	uint32_t a = 0, octet;

	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (**p != '.')
				return false;
			(*p)++;
		}
		if (!parse_decimal(p, 255, &octet))
			return false;
		a = a << 8 | octet;
	}
	*addr = a;
	return true;
}

int addr_ipv4_parse(const char *text, uint32_t *addr)
{
	const char *p = text;
	uint32_t a;

	if (!text || !parse_ipv4_prefix(&p, &a) || *p != '\0')
		return -EINVAL;
	*addr = a;
	return 0;
}

/* A port in decimal, 1..65535, nothing around it. */
static int parse_port(const char *text, uint16_t *port)
{
	uint32_t v = 0;
	const char *p;

	if (*text == '\0' || *text == '0')
		return -EINVAL;
	for (p = text; *p; p++) {
		if (*p < '0' || *p > '9' || p - text >= 5)
			return -EINVAL;
		v = v * 10 + (uint32_t)(*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int addr_hostport_split(const char *text, char *host, size_t cap, uint16_t *port)
{
	const char *colon = text ? strrchr(text, ':') : NULL;
	const char *h = text;
	size_t n;
	uint16_t p;

	if (!colon || parse_port(colon + 1, &p) < 0)
		return -EINVAL;
	n = (size_t)(colon - text);
	if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
		h++;
		n -= 2;
		if (!memchr(h, ':', n))
			return -EINVAL; /* brackets are for an IPv6 host only */
	} else if (memchr(text, ':', n) || memchr(text, '[', n) || memchr(text, ']', n)) {
		return -EINVAL; /* an IPv6 host without its brackets, or half of them */
	}
	if (n == 0 || n >= cap)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = p;
	return 0;
}

int addr_ipv4_port_parse(const char *text, uint32_t *addr, uint16_t *port)
{
	char host[ADDR_IPV4_STRLEN];
	uint16_t p;
	uint32_t a;

	if (addr_hostport_split(text, host, sizeof(host), &p) < 0 || addr_ipv4_parse(host, &a) < 0)
		return -EINVAL;
	*addr = a;
	*port = p;
	return 0;
}

int addr_ipv4_parse_cidr(const char *text, uint32_t *addr, unsigned *len)
{
	struct addr_prefix pfx;
	int r = addr_prefix_parse(text, &pfx);

	if (r < 0)
		return r;
	if (pfx.addr.family != ADDR_IPV4)
		return -EINVAL;
	*addr = pfx.addr.ipv4;
	*len = pfx.len;
	return 0;
}

void addr_ipv4_format(uint32_t addr, char buf[ADDR_IPV4_STRLEN])
{
	snprintf(buf, ADDR_IPV4_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
		 (addr >> 8) & 0xff, addr & 0xff);
}

uint32_t addr_ipv4_mask(unsigned len)
{
	return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

/* IPv6 in the form inet_pton takes, from text of n bytes (not terminated). */
static int parse_ipv6(const char *text, size_t n, uint8_t out[16])
{
	char buf[ADDR_STRLEN];

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -EINVAL;
}

int addr_parse(const char *text, struct addr *out)
{
	struct addr a = {0};

	if (!text)
		return -EINVAL;
	if (addr_ipv4_parse(text, &a.ipv4) == 0)
		a.family = ADDR_IPV4;
	else if (strchr(text, ':') && parse_ipv6(text, strlen(text), a.ipv6) == 0)
		a.family = ADDR_IPV6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

int addr_prefix_parse(const char *text, struct addr_prefix *out)
{
	struct addr_prefix pfx = {0};
	const char *slash, *p;
	uint32_t len;

	if (!text || !(slash = strchr(text, '/')))
		return -EINVAL;
	p = text;
	if (parse_ipv4_prefix(&p, &pfx.addr.ipv4) && p == slash)
		pfx.addr.family = ADDR_IPV4;
	else if (parse_ipv6(text, (size_t)(slash - text), pfx.addr.ipv6) == 0)
		pfx.addr.family = ADDR_IPV6;
	else
		return -EINVAL;
	p = slash + 1;
	if (!parse_decimal(&p, pfx.addr.family == ADDR_IPV4 ? 32 : 128, &len) || *p != '\0')
		return -EINVAL;
	pfx.len = len;
	*out = pfx;
	return 0;
}

int addr_format(const struct addr *a, char *buf, size_t len)
{
	char text[ADDR_STRLEN];

	switch (a->family) {
	case ADDR_IPV4:
		addr_ipv4_format(a->ipv4, text);
		break;
	case ADDR_IPV6:
		if (!inet_ntop(AF_INET6, a->ipv6, text, sizeof(text)))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (strlen(text) >= len)
		return -ENOSPC;
	memcpy(buf, text, strlen(text) + 1);
	return 0;
}
