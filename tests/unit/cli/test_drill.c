/* SPDX-License-Identifier: MIT */
/* The drill's announcement frames, byte for byte: QEMU's RARP after a
 * migration and a gratuitous ARP request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drill.h"

static const unsigned char mac[6] = { 0x0a, 0x58, 0x00, 0x00, 0x00, 0x07 };
static const unsigned char ip[4] = { 10, 20, 0, 7 };

static void test_rarp(void **state)
{
	static const unsigned char want[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x58, 0x00, 0x00, 0x00, 0x07, /* eth */
		0x80, 0x35,							     /* RARP */
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03, /* htype, ptype, hlen, plen, op 3 */
		0x0a, 0x58, 0x00, 0x00, 0x00, 0x07, 0, 0, 0, 0, /* sha, spa 0.0.0.0 */
		0x0a, 0x58, 0x00, 0x00, 0x00, 0x07, 0, 0, 0, 0, /* tha, tpa 0.0.0.0 */
	};
	unsigned char frame[60];
	uint32_t ipv4;

	(void)state;
	memcpy(&ipv4, ip, 4);
	assert_int_equal(drill_build_announce(DRILL_ANNOUNCE_RARP, mac, ipv4, frame), 60);
	assert_memory_equal(frame, want, sizeof(want));
	for (size_t i = sizeof(want); i < 60; i++)
		assert_int_equal(frame[i], 0); /* padding */
}

static void test_garp(void **state)
{
	static const unsigned char want[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x58, 0x00, 0x00, 0x00, 0x07, /* eth */
		0x08, 0x06,							     /* ARP */
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, /* request */
		0x0a, 0x58, 0x00, 0x00, 0x00, 0x07, 10, 20, 0, 7, /* sha, spa = own address */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 20, 0, 7, /* tha 0, tpa = own address */
	};
	unsigned char frame[60];
	uint32_t ipv4;

	(void)state;
	memcpy(&ipv4, ip, 4);
	assert_int_equal(drill_build_announce(DRILL_ANNOUNCE_GARP, mac, ipv4, frame), 60);
	assert_memory_equal(frame, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rarp),
		cmocka_unit_test(test_garp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
