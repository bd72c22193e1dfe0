/* SPDX-License-Identifier: MIT */
/* icmp: building requests and validating replies (truncated, wrong type, wrong id,
 * wrong nonce, bad checksum, foreign source, good reply; datagram and raw forms). */
#include "icmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ID    0x1234
#define NONCE 0x0123456789abcdefULL
#define SEQ   0x10002ULL /* wire sequence 2 */
#define SENT  987654321ULL

static const struct icmp_expect expect_dgram = {.check_id = true, .id = ID, .nonce = NONCE};

static void fix_checksum(uint8_t *icmp, size_t len)
{
	uint16_t c;

	icmp[2] = icmp[3] = 0;
	c = icmp_checksum(icmp, len);
	icmp[2] = c >> 8;
	icmp[3] = c & 0xff;
}

/* the reply a peer sends to our request: same bytes, type 0 */
static void make_reply(uint8_t pkt[ICMP_PROBE_LEN])
{
	icmp_build_echo(pkt, ID, SEQ, NONCE, SENT);
	pkt[0] = 0;
	fix_checksum(pkt, ICMP_PROBE_LEN);
}

/* the same with the IPv4 header a raw socket delivers */
static size_t make_raw_reply(uint8_t *buf, const char *src)
{
	memset(buf, 0, 20);
	buf[0] = 0x45;
	buf[8] = 64;
	buf[9] = IPPROTO_ICMP;
	inet_pton(AF_INET, src, buf + 12);
	inet_pton(AF_INET, "10.0.0.1", buf + 16);
	make_reply(buf + 20);
	return 20 + ICMP_PROBE_LEN;
}

static void test_request_layout(void **state)
{
	uint8_t pkt[ICMP_PROBE_LEN];

	(void)state;
	icmp_build_echo(pkt, ID, SEQ, NONCE, SENT);
	assert_int_equal(pkt[0], 8);
	assert_int_equal(pkt[1], 0);
	assert_int_equal(pkt[4] << 8 | pkt[5], ID);
	assert_int_equal(pkt[6] << 8 | pkt[7], 2);
	assert_int_equal(icmp_checksum(pkt, sizeof(pkt)), 0);
}

static void test_good_reply(void **state)
{
	uint8_t pkt[ICMP_PROBE_LEN];
	struct icmp_reply r;

	(void)state;
	make_reply(pkt);
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &expect_dgram, &r), 0);
	assert_int_equal(r.wire_seq, 2);
	assert_int_equal(r.seq, SEQ);
	assert_int_equal(r.send_ns, SENT);
}

static void test_truncated(void **state)
{
	uint8_t pkt[ICMP_PROBE_LEN];
	struct icmp_reply r = {.seq = 77};

	(void)state;
	make_reply(pkt);
	for (size_t len = 0; len < sizeof(pkt); len++)
		assert_int_equal(icmp_parse_reply(pkt, len, &expect_dgram, &r), -EBADMSG);
	assert_int_equal(r.seq, 77); /* untouched on failure */
}

static void test_wrong_type(void **state)
{
	uint8_t pkt[ICMP_PROBE_LEN];
	struct icmp_reply r;

	(void)state;
	icmp_build_echo(pkt, ID, SEQ, NONCE, SENT); /* a request, type 8 */
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &expect_dgram, &r), -ENOMSG);
	make_reply(pkt);
	pkt[0] = 3; /* destination unreachable */
	fix_checksum(pkt, sizeof(pkt));
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &expect_dgram, &r), -ENOMSG);
}

static void test_wrong_id_nonce_seq(void **state)
{
	uint8_t pkt[ICMP_PROBE_LEN];
	struct icmp_reply r;
	struct icmp_expect no_id = expect_dgram;

	(void)state;
	make_reply(pkt);
	pkt[5] ^= 1;
	fix_checksum(pkt, sizeof(pkt));
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &expect_dgram, &r), -ESRCH);
	no_id.check_id = false;
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &no_id, &r), 0);

	make_reply(pkt);
	pkt[15] ^= 0x40; /* nonce: another run's reply */
	fix_checksum(pkt, sizeof(pkt));
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &expect_dgram, &r), -ESRCH);

	make_reply(pkt);
	pkt[7] ^= 1; /* wire seq disagrees with the payload's */
	fix_checksum(pkt, sizeof(pkt));
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &expect_dgram, &r), -ESRCH);
}

static void test_bad_checksum(void **state)
{
	uint8_t pkt[ICMP_PROBE_LEN];
	struct icmp_reply r;

	(void)state;
	make_reply(pkt);
	pkt[40] ^= 0xff;
	assert_int_equal(icmp_parse_reply(pkt, sizeof(pkt), &expect_dgram, &r), -EILSEQ);
}

static void test_raw(void **state)
{
	uint8_t buf[20 + ICMP_PROBE_LEN];
	struct icmp_expect exp = expect_dgram;
	struct icmp_reply r;
	size_t len;

	(void)state;
	exp.raw = true;
	inet_pton(AF_INET, "10.0.0.5", &exp.src);
	len = make_raw_reply(buf, "10.0.0.5");
	assert_int_equal(icmp_parse_reply(buf, len, &exp, &r), 0);
	assert_int_equal(r.seq, SEQ);
	len = make_raw_reply(buf, "10.0.0.6"); /* someone else's echo reply */
	assert_int_equal(icmp_parse_reply(buf, len, &exp, &r), -ESRCH);
	len = make_raw_reply(buf, "10.0.0.5");
	buf[0] = 0x44; /* IHL below 5 */
	assert_int_equal(icmp_parse_reply(buf, len, &exp, &r), -EBADMSG);
	buf[0] = 0x4f; /* IHL beyond the packet */
	assert_int_equal(icmp_parse_reply(buf, 40, &exp, &r), -EBADMSG);
	buf[0] = 0x45;
	buf[9] = IPPROTO_UDP;
	assert_int_equal(icmp_parse_reply(buf, len, &exp, &r), -ENOMSG);
	assert_int_equal(icmp_parse_reply(buf, 19, &exp, &r), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_layout),
	    cmocka_unit_test(test_good_reply),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_wrong_type),
	    cmocka_unit_test(test_wrong_id_nonce_seq),
	    cmocka_unit_test(test_bad_checksum),
	    cmocka_unit_test(test_raw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
