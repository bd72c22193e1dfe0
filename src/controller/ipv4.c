/* SPDX-License-Identifier: MIT */
#include "ipv4.h"

#include <stdio.h>
#include <string.h>

static bool parse_octet(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;
	int digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 4) {
		v = v * 10 + (uint32_t)(*s - '0');
		s++;
		digits++;
	}
	if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && **p == '0'))
		return false;
	*out = v;
	*p = s;
	return true;
}

static bool parse_addr_prefix(const char **p, uint32_t *addr)
{
	uint32_t a = 0, octet;

	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (**p != '.')
				return false;
			(*p)++;
		}
		if (!parse_octet(p, &octet))
			return false;
		a = a << 8 | octet;
	}
	*addr = a;
	return true;
}

bool ipv4_parse(const char *text, uint32_t *addr)
{
	const char *p = text;
	uint32_t a;

	if (!parse_addr_prefix(&p, &a) || *p != '\0')
		return false;
	*addr = a;
	return true;
}

bool ipv4_parse_cidr(const char *text, uint32_t *addr, unsigned *len)
{
	const char *p = text;
	uint32_t a, l;

	if (!parse_addr_prefix(&p, &a) || *p != '/')
		return false;
	p++;
	if (!parse_octet(&p, &l) || l > 32 || *p != '\0')
		return false;
	*addr = a;
	*len = l;
	return true;
}

void ipv4_format(uint32_t addr, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
}

uint32_t ipv4_mask(unsigned len)
{
	return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

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

bool mac_parse(const char *text, uint64_t *mac)
{
	uint64_t m = 0;

	if (strlen(text) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(text[i * 3]), lo = hex_value(text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
			return false;
		m = m << 8 | (uint64_t)(hi << 4 | lo);
	}
	*mac = m;
	return true;
}

void mac_format(uint64_t mac, char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(mac >> 40) & 0xff,
		 (unsigned)(mac >> 32) & 0xff, (unsigned)(mac >> 24) & 0xff,
		 (unsigned)(mac >> 16) & 0xff, (unsigned)(mac >> 8) & 0xff, (unsigned)mac & 0xff);
}
