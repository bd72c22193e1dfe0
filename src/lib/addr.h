/* SPDX-License-Identifier: MIT */
/*
 * addr: the text forms of the addresses godwit handles — MAC, IPv4 and
 * prefixes (CIDR) — parsed strictly and formatted one way, for every program.
 *
 * - A MAC is exactly six groups of two hex digits (either case) separated by
 *   ':' ("0a:58:0a:f4:00:01"); it is formatted in lower case. It is held as six
 *   bytes (the datapath's form) or as a 48-bit integer (the controller's form,
 *   for arithmetic on allocated MACs).
 * - An IPv4 address is "a.b.c.d", decimal, no leading zeros, nothing around it
 *   (what inet_pton accepts); in a uint32_t it is in host byte order, and the
 *   callers that fill kernel or BPF structures convert with htonl().
 * - A socket address is "HOST:PORT" or "[IPV6]:PORT", the port decimal in
 *   1..65535; addr_hostport_split() takes it apart (brackets dropped) for the
 *   callers that resolve the host themselves.
 * - struct addr carries a family, so a caller that takes "an address" needs no
 *   change when a network gains IPv6: addr_parse() reads both families today
 *   (IPv6 in the inet_pton form), while the fabric itself is IPv4-only.
 *
 * Every parser returns 0 or -EINVAL (NULL text included) and writes its
 * output only on success.
 */
#ifndef GODWIT_LIB_ADDR_H
#define GODWIT_LIB_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_MAC_STRLEN	 18 /* "xx:xx:xx:xx:xx:xx" and NUL */
#define ADDR_IPV4_STRLEN 16 /* "255.255.255.255" and NUL */
#define ADDR_STRLEN	 46 /* either family (INET6_ADDRSTRLEN) */

enum addr_family {
	ADDR_IPV4 = 4,
	ADDR_IPV6 = 6,
};

struct addr {
	enum addr_family family;
	union {
		uint32_t ipv4;	  /* host byte order */
		uint8_t ipv6[16]; /* network byte order */
	};
};

struct addr_prefix {
	struct addr addr;
	unsigned len; /* 0..32 for IPv4, 0..128 for IPv6 */
};

/* MACs */
int addr_mac_parse(const char *text, uint8_t mac[6]);
int addr_mac_parse_u64(const char *text, uint64_t *mac);
void addr_mac_format(const uint8_t mac[6], char buf[ADDR_MAC_STRLEN]);
void addr_mac_format_u64(uint64_t mac, char buf[ADDR_MAC_STRLEN]);

/* IPv4, host byte order */
int addr_ipv4_parse(const char *text, uint32_t *addr);
/* "a.b.c.d/len", 0 <= len <= 32 (callers bound len further). */
int addr_ipv4_parse_cidr(const char *text, uint32_t *addr, unsigned *len);
void addr_ipv4_format(uint32_t addr, char buf[ADDR_IPV4_STRLEN]);
uint32_t addr_ipv4_mask(unsigned len);

/* "a.b.c.d:PORT": the address (host byte order) and the port. */
int addr_ipv4_port_parse(const char *text, uint32_t *addr, uint16_t *port);

/* "HOST:PORT" or "[V6]:PORT": a non-empty host (at most cap - 1 bytes, no
 * brackets; brackets only around a host with a ':') into host, and the port;
 * -EINVAL otherwise. */
int addr_hostport_split(const char *text, char *host, size_t cap, uint16_t *port);

/* Either family */
int addr_parse(const char *text, struct addr *out);
int addr_prefix_parse(const char *text, struct addr_prefix *out);
/* -EINVAL for an unknown family, -ENOSPC when buf is too small. */
int addr_format(const struct addr *a, char *buf, size_t len);

#endif
