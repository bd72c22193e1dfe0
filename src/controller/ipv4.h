/* SPDX-License-Identifier: MIT */
/* Strict IPv4 address, CIDR and MAC text parsing (host byte order). */
#ifndef GODWIT_CONTROLLER_IPV4_H
#define GODWIT_CONTROLLER_IPV4_H

#include <stdbool.h>
#include <stdint.h>

/* "a.b.c.d", decimal, no leading zeros, nothing around it. */
bool ipv4_parse(const char *text, uint32_t *addr);
/* "a.b.c.d/len" with 0 <= len <= 32 (callers bound len further). */
bool ipv4_parse_cidr(const char *text, uint32_t *addr, unsigned *len);
void ipv4_format(uint32_t addr, char buf[16]);
uint32_t ipv4_mask(unsigned len);

/* "xx:xx:xx:xx:xx:xx" (hex, either case) as a 48-bit integer. */
bool mac_parse(const char *text, uint64_t *mac);
void mac_format(uint64_t mac, char buf[18]);

#endif
