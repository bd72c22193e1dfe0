/* SPDX-License-Identifier: MIT */
/* lib/addr: strict MAC/IPv4/CIDR parsing, formatting round trips, IPv6 by family. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/addr.h"

static void test_mac(void **state)
{
	static const char *const bad[] = {
	    "",
	    "0a:58:0a:ff:00",
	    "0a:58:0a:ff:00:01:02",
	    "0a-58-0a-ff-00-01",
	    "a:58:0a:ff:00:01",
	    " a:58:0a:ff:00:01",
	    "0a:58:0a:ff:00:1",
	    "0a:58:0a:ff:00:0g",
	    "0x:58:0a:ff:00:01",
	    "+a:58:0a:ff:00:01",
	    "0a:58:0a:ff:00:01 ",
	    "0a:58:0a:ff:000:1",
	    "1:2:3:4:5:6",
	    "0a:58:0a:ff:00:01\n",
	};
	uint8_t mac[6] = {1, 2, 3, 4, 5, 6}, keep[6];
	uint64_t m = 7;
	char text[ADDR_MAC_STRLEN];

	(void)state;
	memcpy(keep, mac, sizeof(mac));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(addr_mac_parse(bad[i], mac), -EINVAL);
		assert_int_equal(addr_mac_parse_u64(bad[i], &m), -EINVAL);
	}
	assert_int_equal(addr_mac_parse(NULL, mac), -EINVAL);
	assert_memory_equal(mac, keep, sizeof(mac)); /* untouched on failure */
	assert_int_equal(m, 7);

	assert_int_equal(addr_mac_parse("0a:58:0A:ff:00:01", mac), 0);
	assert_memory_equal(mac, ((uint8_t[]){0x0a, 0x58, 0x0a, 0xff, 0x00, 0x01}), 6);
	addr_mac_format(mac, text);
	assert_string_equal(text, "0a:58:0a:ff:00:01");

	assert_int_equal(addr_mac_parse_u64("FF:fe:00:00:00:01", &m), 0);
	assert_true(m == 0xfffe00000001ULL);
	addr_mac_format_u64(m, text);
	assert_string_equal(text, "ff:fe:00:00:00:01");
}

static void test_ipv4(void **state)
{
	static const char *const bad[] = {
	    "",	      "1.2.3",	"1.2.3.4.5", "256.1.1.1", "01.2.3.4",  "1.2.3.4 ",   " 1.2.3.4",
	    "1..3.4", "1.2.3.", "a.b.c.d",   "1.2.3.4/8", "1.2.3.0x1", "1234.1.1.1", "::1",
	};
	uint32_t a = 42;
	char text[ADDR_IPV4_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_ipv4_parse(bad[i], &a), -EINVAL);
	assert_int_equal(addr_ipv4_parse(NULL, &a), -EINVAL);
	assert_int_equal(a, 42);

	assert_int_equal(addr_ipv4_parse("10.244.0.1", &a), 0);
	assert_int_equal(a, 0x0af40001);
	addr_ipv4_format(a, text);
	assert_string_equal(text, "10.244.0.1");
	assert_int_equal(addr_ipv4_parse("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(addr_ipv4_parse("255.255.255.255", &a), 0);
	addr_ipv4_format(a, text);
	assert_string_equal(text, "255.255.255.255");

	assert_int_equal(addr_ipv4_mask(0), 0);
	assert_int_equal(addr_ipv4_mask(8), 0xff000000u);
	assert_int_equal(addr_ipv4_mask(24), 0xffffff00u);
	assert_int_equal(addr_ipv4_mask(32), 0xffffffffu);
}

static void test_cidr(void **state)
{
	static const char *const bad[] = {
	    "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/024", "10.0.0.0/8 ",
	    "10.0.0/8", "/8",	     "10.0.0.0/-1", "10.0.0.0/8/8", "fd00::/64",
	};
	uint32_t a = 1;
	unsigned len = 2;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_ipv4_parse_cidr(bad[i], &a, &len), -EINVAL);
	assert_int_equal(addr_ipv4_parse_cidr(NULL, &a, &len), -EINVAL);
	assert_int_equal(a, 1);
	assert_int_equal(len, 2);
	assert_int_equal(addr_ipv4_parse_cidr("10.244.0.0/16", &a, &len), 0);
	assert_int_equal(a, 0x0af40000);
	assert_int_equal(len, 16);
	assert_int_equal(addr_ipv4_parse_cidr("0.0.0.0/0", &a, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(addr_ipv4_parse_cidr("1.2.3.4/32", &a, &len), 0);
	assert_int_equal(len, 32);
}

/* Socket addresses: HOST:PORT and [V6]:PORT split; a.b.c.d:PORT strictly. */
static void test_hostport(void **state)
{
	static const char *const bad[] = {
	    "",	       ":80",	   "host",	    "host:",	   "host:0",	 "host:65536",
	    "host:08", "host:+80", "host:80 ",	    "host:123456", "fd00::1:80", "[fd00::1:80",
	    "[]:80",   "a]:80",	   "[10.0.0.1]:80", "[host]:80",
	};
	static const char *const bad_v4[] = {"10.0.0.1", "10.0.0.1:0",	 "10.0.0:80",
					     "host:80",	 "[fd00::1]:80", " 10.0.0.1:80"};
	char host[16] = "untouched";
	uint16_t port = 7;
	uint32_t a = 9;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_hostport_split(bad[i], host, sizeof(host), &port), -EINVAL);
	assert_int_equal(addr_hostport_split(NULL, host, sizeof(host), &port), -EINVAL);
	assert_string_equal(host, "untouched");
	assert_int_equal(port, 7);
	assert_int_equal(addr_hostport_split("0.0.0.0:7480", host, sizeof(host), &port), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 7480);
	assert_int_equal(addr_hostport_split("[::1]:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 65535);
	assert_int_equal(addr_hostport_split("ctl.example:1", host, sizeof(host), &port), 0);
	assert_string_equal(host, "ctl.example");
	assert_int_equal(addr_hostport_split("a-very-long-host-name:1", host, sizeof(host), &port),
			 -EINVAL); /* does not fit */

	for (size_t i = 0; i < sizeof(bad_v4) / sizeof(bad_v4[0]); i++)
		assert_int_equal(addr_ipv4_port_parse(bad_v4[i], &a, &port), -EINVAL);
	assert_int_equal(a, 9);
	assert_int_equal(addr_ipv4_port_parse("192.168.100.12:7481", &a, &port), 0);
	assert_int_equal(a, 0xc0a8640c);
	assert_int_equal(port, 7481);
}

/* struct addr: both families parse and format back to the same text. */
static void test_family(void **state)
{
	static const char *const good[] = {"10.0.0.1", "fd00::1",
					   "::", "2001:db8::8:800:200c:417a"};
	struct addr a = {.family = ADDR_IPV4, .ipv4 = 9};
	struct addr_prefix p = {0};
	char text[ADDR_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(addr_parse(good[i], &a), 0);
		assert_int_equal(addr_format(&a, text, sizeof(text)), 0);
		assert_string_equal(text, good[i]);
	}
	assert_int_equal(addr_parse("10.0.0.1", &a), 0);
	assert_int_equal(a.family, ADDR_IPV4);
	assert_int_equal(addr_format(&a, text, 8), -ENOSPC);
	assert_int_equal(addr_parse("fd00::1", &a), 0);
	assert_int_equal(a.family, ADDR_IPV6);
	assert_int_equal(a.ipv6[0], 0xfd);
	assert_int_equal(a.ipv6[15], 1);
	assert_int_equal(addr_parse("fd00::1::2", &a), -EINVAL);
	assert_int_equal(addr_parse("fd00::1 ", &a), -EINVAL);
	assert_int_equal(addr_parse("", &a), -EINVAL);
	assert_int_equal(a.family, ADDR_IPV6); /* untouched */
	a.family = 0;
	assert_int_equal(addr_format(&a, text, sizeof(text)), -EINVAL);

	assert_int_equal(addr_prefix_parse("fd00:10::/64", &p), 0);
	assert_int_equal(p.addr.family, ADDR_IPV6);
	assert_int_equal(p.len, 64);
	assert_int_equal(addr_prefix_parse("fd00::/129", &p), -EINVAL);
	assert_int_equal(addr_prefix_parse("10.0.0.0/24", &p), 0);
	assert_int_equal(p.addr.family, ADDR_IPV4);
	assert_int_equal(p.len, 24);
	assert_int_equal(addr_prefix_parse("10.0.0.0/64", &p), -EINVAL);
	assert_int_equal(p.len, 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mac),	   cmocka_unit_test(test_ipv4),
	    cmocka_unit_test(test_cidr),   cmocka_unit_test(test_hostport),
	    cmocka_unit_test(test_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
