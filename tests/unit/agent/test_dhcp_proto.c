/* SPDX-License-Identifier: MIT */
/* The DHCP wire format (dhcp_proto.c): parse tables, decisions, byte-checked replies. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agent/dhcp_proto.h"

static const uint8_t port_mac[6] = {0x0a, 0x58, 0x00, 0x00, 0x00, 0x07};
static const uint8_t other_mac[6] = {0x0a, 0x58, 0x00, 0x00, 0x00, 0x99};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct dhcp_lease lease(void)
{
	struct dhcp_lease l = {.ipv4 = ip("10.0.0.7"),
			       .gateway = ip("10.0.0.1"),
			       .prefixlen = 24,
			       .mtu = 1450,
			       .lease_s = 86400};

	memcpy(l.mac, port_mac, 6);
	return l;
}

/* ---- a client frame builder ---------------------------------------------- */

struct frame {
	uint8_t b[1600];
	size_t len;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (ihl 5) + UDP 68 -> 67 + BOOTREQUEST with the given
 * options (raw bytes, written after the cookie; the caller ends them). */
static void client_frame(struct frame *f, const uint8_t *src, uint32_t ciaddr, const uint8_t *opts,
			 size_t n_opts)
{
	uint8_t *ipp = f->b + 14, *udp = ipp + 20, *m = udp + 8;
	size_t msg_len = 240 + n_opts;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, bcast_mac, 6);
	memcpy(f->b + 6, src, 6);
	put16(f->b + 12, 0x0800);
	ipp[0] = 0x45;
	put16(ipp + 2, (unsigned)(20 + 8 + msg_len));
	ipp[8] = 64;
	ipp[9] = 17;
	memcpy(ipp + 12, &ciaddr, 4);
	memset(ipp + 16, 0xff, 4);
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (unsigned)(8 + msg_len));
	m[0] = 1;
	m[1] = 1;
	m[2] = 6;
	m[4] = 0xde, m[5] = 0xad, m[6] = 0xbe, m[7] = 0xef;
	memcpy(m + 12, &ciaddr, 4);
	memcpy(m + 28, src, 6);
	m[236] = 99, m[237] = 130, m[238] = 83, m[239] = 99;
	memcpy(m + 240, opts, n_opts);
	f->len = 14 + 20 + 8 + msg_len;
}

#define OPTS(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* ---- parsing ------------------------------------------------------------- */

static void test_parse_discover(void **state)
{
	struct dhcp_request req;
	struct frame f;

	(void)state;
	client_frame(&f, port_mac, 0, OPTS(53, 1, 1, 50, 4, 10, 0, 0, 9, 255));
	assert_int_equal(dhcp_parse_frame(f.b, f.len, &req), 0);
	assert_int_equal(req.type, DHCP_DISCOVER);
	assert_memory_equal(req.chaddr, port_mac, 6);
	assert_memory_equal(req.src_mac, port_mac, 6);
	assert_int_equal(req.xid, htonl(0xdeadbeef));
	assert_int_equal(req.requested_ip, ip("10.0.0.9"));
	assert_int_equal(req.server_id, 0);
	assert_int_equal(req.ciaddr, 0);
}

enum mutation {
	M_NONE,
	M_TRUNCATE_MSG,	   /* the UDP payload cut below 240 bytes */
	M_IP_LEN_PAST_END, /* IPv4 total length beyond the frame */
	M_UDP_LEN_PAST_IP, /* UDP length beyond the IPv4 packet */
	M_BAD_COOKIE,
	M_WRONG_OP,
	M_WRONG_HLEN,
	M_TCP,
	M_FRAGMENT,
	M_WRONG_SRC_PORT,
	M_ARP,
	M_IP_OPTIONS, /* ihl 6: still parsed */
	M_SHORT_ETH,
};

static void mutate(struct frame *f, enum mutation m)
{
	uint8_t *ipp = f->b + 14;

	switch (m) {
	case M_NONE:
		break;
	case M_TRUNCATE_MSG:
		f->len = 14 + 20 + 8 + 239;
		put16(ipp + 2, 20 + 8 + 239);
		put16(ipp + 20 + 4, 8 + 239);
		break;
	case M_IP_LEN_PAST_END:
		put16(ipp + 2, (unsigned)(f->len - 14 + 1));
		break;
	case M_UDP_LEN_PAST_IP:
		put16(ipp + 24, (unsigned)(f->len - 14 - 20 + 1));
		break;
	case M_BAD_COOKIE:
		ipp[28 + 236] = 98;
		break;
	case M_WRONG_OP:
		ipp[28] = 2;
		break;
	case M_WRONG_HLEN:
		ipp[28 + 2] = 8;
		break;
	case M_TCP:
		ipp[9] = 6;
		break;
	case M_FRAGMENT:
		put16(ipp + 6, 0x0010);
		break;
	case M_WRONG_SRC_PORT:
		put16(ipp + 20, 1000);
		break;
	case M_ARP:
		put16(f->b + 12, 0x0806);
		break;
	case M_SHORT_ETH:
		f->len = 13;
		break;
	case M_IP_OPTIONS:
		memmove(ipp + 24, ipp + 20, f->len - 34);
		memset(ipp + 20, 1, 4); /* four NOP options */
		ipp[0] = 0x46;
		f->len += 4;
		put16(ipp + 2, (unsigned)(f->len - 14));
		break;
	}
}

struct parse_case {
	const char *desc;
	const uint8_t *opts;
	size_t n_opts;
	enum mutation mutation;
	int want; /* 0 or a dhcp_error */
	int type; /* when want == 0 */
};

#define DISCOVER_OPTS OPTS(53, 1, 1, 255)

static const struct parse_case parse_cases[] = {
    {"discover", DISCOVER_OPTS, M_NONE, 0, DHCP_DISCOVER},
    {"message under 240 bytes", DISCOVER_OPTS, M_TRUNCATE_MSG, DHCP_ERR_MALFORMED, 0},
    {"IPv4 length past the frame", DISCOVER_OPTS, M_IP_LEN_PAST_END, DHCP_ERR_MALFORMED, 0},
    {"UDP length past the packet", DISCOVER_OPTS, M_UDP_LEN_PAST_IP, DHCP_ERR_MALFORMED, 0},
    {"bad magic cookie", DISCOVER_OPTS, M_BAD_COOKIE, DHCP_ERR_MALFORMED, 0},
    {"wrong op (BOOTREPLY)", DISCOVER_OPTS, M_WRONG_OP, DHCP_ERR_MALFORMED, 0},
    {"hardware address length 8", DISCOVER_OPTS, M_WRONG_HLEN, DHCP_ERR_MALFORMED, 0},
    {"TCP", DISCOVER_OPTS, M_TCP, DHCP_ERR_NOT_DHCP, 0},
    {"a later fragment", DISCOVER_OPTS, M_FRAGMENT, DHCP_ERR_NOT_DHCP, 0},
    {"source port 1000", DISCOVER_OPTS, M_WRONG_SRC_PORT, DHCP_ERR_NOT_DHCP, 0},
    {"ARP", DISCOVER_OPTS, M_ARP, DHCP_ERR_NOT_DHCP, 0},
    {"13 bytes", DISCOVER_OPTS, M_SHORT_ETH, DHCP_ERR_MALFORMED, 0},
    {"IPv4 options", DISCOVER_OPTS, M_IP_OPTIONS, 0, DHCP_DISCOVER},
    {"no options at all", OPTS(255), M_NONE, DHCP_ERR_MALFORMED, 0},
    {"missing type", OPTS(50, 4, 10, 0, 0, 7, 255), M_NONE, DHCP_ERR_MALFORMED, 0},
    {"type of length 2", OPTS(53, 2, 1, 1, 255), M_NONE, DHCP_ERR_MALFORMED, 0},
    {"type 0", OPTS(53, 1, 0, 255), M_NONE, DHCP_ERR_MALFORMED, 0},
    {"option past the end", OPTS(53, 1, 1, 12, 9, 'h', 'o'), M_NONE, DHCP_ERR_MALFORMED, 0},
    {"option without a length byte", OPTS(53, 1, 1, 12), M_NONE, DHCP_ERR_MALFORMED, 0},
    {"requested IP of length 3", OPTS(53, 1, 3, 50, 3, 10, 0, 0, 255), M_NONE, DHCP_ERR_MALFORMED,
     0},
    {"server id of length 5", OPTS(53, 1, 3, 54, 5, 10, 0, 0, 1, 0, 255), M_NONE,
     DHCP_ERR_MALFORMED, 0},
    {"pads around the type", OPTS(0, 0, 53, 1, 3, 0, 255), M_NONE, 0, DHCP_REQUEST},
    {"garbage after END is ignored", OPTS(53, 1, 8, 255, 12, 200, 1), M_NONE, 0, DHCP_INFORM},
    {"type after END is not seen", OPTS(255, 53, 1, 1), M_NONE, DHCP_ERR_MALFORMED, 0},
    {"no END: the buffer's end stops", OPTS(53, 1, 7), M_NONE, 0, DHCP_RELEASE},
    {"last type wins", OPTS(53, 1, 1, 53, 1, 3, 255), M_NONE, 0, DHCP_REQUEST},
    {"unknown type 42 parses (and gets no answer)", OPTS(53, 1, 42, 255), M_NONE, 0, 42},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct dhcp_request req;
		struct frame f;
		int r;

		memset(&req, 0xaa, sizeof(req));
		client_frame(&f, port_mac, 0, c->opts, c->n_opts);
		mutate(&f, c->mutation);
		r = dhcp_parse_frame(f.b, f.len, &req);
		if (r != c->want)
			fail_msg("%s: parse returned %d, expected %d", c->desc, r, c->want);
		if (r == 0 && req.type != c->type)
			fail_msg("%s: type %d, expected %d", c->desc, req.type, c->type);
		if (r < 0 && req.type != 0xaa)
			fail_msg("%s: output written on failure", c->desc);
	}
}

/* ---- decisions ----------------------------------------------------------- */

struct decide_case {
	const char *desc;
	uint8_t type;
	const uint8_t *chaddr, *src;
	const char *requested, *server_id, *ciaddr;
	int want;
};

static const struct decide_case decide_cases[] = {
    {"discover", DHCP_DISCOVER, port_mac, port_mac, NULL, NULL, NULL, DHCP_OFFER},
    {"discover asking for another address", DHCP_DISCOVER, port_mac, port_mac, "10.0.0.9", NULL,
     NULL, DHCP_OFFER},
    {"request (selecting) for the lease", DHCP_REQUEST, port_mac, port_mac, "10.0.0.7", "10.0.0.1",
     NULL, DHCP_ACK},
    {"request (init-reboot) for the lease", DHCP_REQUEST, port_mac, port_mac, "10.0.0.7", NULL,
     NULL, DHCP_ACK},
    {"request for another address", DHCP_REQUEST, port_mac, port_mac, "10.0.0.9", NULL, NULL,
     DHCP_NAK},
    {"renewal (ciaddr)", DHCP_REQUEST, port_mac, port_mac, NULL, NULL, "10.0.0.7", DHCP_ACK},
    {"renewal of another address", DHCP_REQUEST, port_mac, port_mac, NULL, NULL, "10.0.0.8",
     DHCP_NAK},
    {"request without any address", DHCP_REQUEST, port_mac, port_mac, NULL, NULL, NULL, DHCP_NAK},
    {"request selecting another server", DHCP_REQUEST, port_mac, port_mac, "10.0.0.7", "10.0.0.2",
     NULL, DHCP_ERR_NO_ANSWER},
    {"inform", DHCP_INFORM, port_mac, port_mac, NULL, NULL, "10.0.0.7", DHCP_ACK},
    {"release", DHCP_RELEASE, port_mac, port_mac, NULL, "10.0.0.1", "10.0.0.7", DHCP_ERR_NO_ANSWER},
    {"decline", DHCP_DECLINE, port_mac, port_mac, "10.0.0.7", NULL, NULL, DHCP_ERR_NO_ANSWER},
    {"an OFFER from a client", DHCP_OFFER, port_mac, port_mac, NULL, NULL, NULL,
     DHCP_ERR_NO_ANSWER},
    {"chaddr of another MAC", DHCP_DISCOVER, other_mac, port_mac, NULL, NULL, NULL, DHCP_ERR_MAC},
    {"frame from another MAC", DHCP_DISCOVER, port_mac, other_mac, NULL, NULL, NULL, DHCP_ERR_MAC},
};

static void test_decide_table(void **state)
{
	struct dhcp_lease l = lease();

	(void)state;
	for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		const struct decide_case *c = &decide_cases[i];
		struct dhcp_request req = {.type = c->type};
		int r;

		memcpy(req.chaddr, c->chaddr, 6);
		memcpy(req.src_mac, c->src, 6);
		req.requested_ip = c->requested ? ip(c->requested) : 0;
		req.server_id = c->server_id ? ip(c->server_id) : 0;
		req.ciaddr = c->ciaddr ? ip(c->ciaddr) : 0;
		r = dhcp_decide(&req, &l);
		if (r != c->want)
			fail_msg("%s: decided %d, expected %d", c->desc, r, c->want);
	}
}

/* ---- replies ------------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* IPv4 header and UDP (pseudo header) checksums of a reply verify. */
static void check_checksums(const uint8_t *f, int len)
{
	const uint8_t *ipp = f + 14, *udp = ipp + 20;
	uint16_t udp_len = get16(udp + 4);
	uint32_t sum;

	assert_int_equal(get16(ipp + 2), len - 14);
	assert_int_equal(udp_len, len - 14 - 20);
	assert_int_equal(dhcp_csum_fold(dhcp_csum_add(0, ipp, 20)), 0xffff);
	assert_int_not_equal(get16(udp + 6), 0); /* 0 would mean "no checksum" */
	sum = dhcp_csum_add(0, ipp + 12, 8);	 /* source and destination */
	sum += 17 + udp_len;
	sum = dhcp_csum_add(sum, udp, udp_len);
	assert_int_equal(dhcp_csum_fold(sum), 0xffff);
}

static int reply_for(const uint8_t *opts, size_t n_opts, uint32_t ciaddr, uint16_t flags,
		     int want_type, uint8_t *out)
{
	struct dhcp_lease l = lease();
	struct dhcp_request req;
	struct frame f;
	int type, len;

	client_frame(&f, port_mac, ciaddr, opts, n_opts);
	put16(f.b + 42 + 10, flags);
	assert_int_equal(dhcp_parse_frame(f.b, f.len, &req), 0);
	type = dhcp_decide(&req, &l);
	assert_int_equal(type, want_type);
	len = dhcp_build_reply(&req, &l, type, out, DHCP_REPLY_MAX);
	assert_true(len > 0);
	check_checksums(out, len);
	return len;
}

static void test_offer_bytes(void **state)
{
	static const uint8_t gw_mac[6] = {0x0a, 0x58, 10, 0, 0, 1};
	static const uint8_t want_opts[] = {
	    53,	 1, 2,			    /* OFFER */
	    54,	 4, 10,	  0,	0,    1,    /* server id: the gateway */
	    51,	 4, 0,	  1,	0x51, 0x80, /* 86400 s */
	    1,	 4, 255,  255,	255,  0,    /* mask */
	    3,	 4, 10,	  0,	0,    1,    /* router */
	    26,	 2, 0x05, 0xaa,		    /* MTU 1450 */
	    28,	 4, 10,	  0,	0,    255,  /* broadcast */
	    255,
	};
	uint8_t out[DHCP_REPLY_MAX], zeros[300] = {0};
	const uint8_t *ipp = out + 14, *udp = ipp + 20, *m = udp + 8;
	int len;

	(void)state;
	len = reply_for(OPTS(53, 1, 1, 255), 0, 0, DHCP_OFFER, out);
	assert_int_equal(len, 14 + 20 + 8 + 300);
	/* Ethernet: to the client, from the gateway's virtual MAC */
	assert_memory_equal(out, port_mac, 6);
	assert_memory_equal(out + 6, gw_mac, 6);
	assert_int_equal(get16(out + 12), 0x0800);
	/* IPv4: gateway -> yiaddr, TTL 64, UDP */
	assert_int_equal(ipp[0], 0x45);
	assert_int_equal(ipp[8], 64);
	assert_int_equal(ipp[9], 17);
	assert_memory_equal(ipp + 12, ((uint8_t[]){10, 0, 0, 1}), 4);
	assert_memory_equal(ipp + 16, ((uint8_t[]){10, 0, 0, 7}), 4);
	/* UDP 67 -> 68 */
	assert_int_equal(get16(udp), 67);
	assert_int_equal(get16(udp + 2), 68);
	/* BOOTP */
	assert_int_equal(m[0], 2);
	assert_int_equal(m[1], 1);
	assert_int_equal(m[2], 6);
	assert_memory_equal(m + 4, ((uint8_t[]){0xde, 0xad, 0xbe, 0xef}), 4);
	assert_memory_equal(m + 12, zeros, 4);			    /* ciaddr */
	assert_memory_equal(m + 16, ((uint8_t[]){10, 0, 0, 7}), 4); /* yiaddr */
	assert_memory_equal(m + 20, zeros, 8);			    /* siaddr, giaddr */
	assert_memory_equal(m + 28, port_mac, 6);
	assert_memory_equal(m + 34, zeros, 236 - 34);
	assert_memory_equal(m + 236, ((uint8_t[]){99, 130, 83, 99}), 4);
	assert_memory_equal(m + 240, want_opts, sizeof(want_opts));
	assert_memory_equal(m + 240 + sizeof(want_opts), zeros, 300 - 240 - sizeof(want_opts));
}

/* Finds option code in a reply; its length, or -1. */
static int reply_opt(const uint8_t *f, int len, uint8_t code, const uint8_t **data)
{
	const uint8_t *o = f + 42 + 240, *end = f + len;

	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (*o == code) {
			*data = o + 2;
			return o[1];
		}
		o += 2 + o[1];
	}
	return -1;
}

static void test_nak_for_another_address(void **state)
{
	uint8_t out[DHCP_REPLY_MAX];
	const uint8_t *d = NULL;
	int len;

	(void)state;
	len = reply_for(OPTS(53, 1, 3, 50, 4, 10, 0, 0, 9, 255), 0, 0, DHCP_NAK, out);
	assert_memory_equal(out, bcast_mac, 6);
	assert_memory_equal(out + 14 + 16, bcast_mac, 4);	  /* 255.255.255.255 */
	assert_memory_equal(out + 42 + 16, ((uint8_t[4]){0}), 4); /* no yiaddr */
	assert_int_equal(reply_opt(out, len, 53, &d), 1);
	assert_int_equal(d[0], DHCP_NAK);
	assert_int_equal(reply_opt(out, len, 54, &d), 4);
	assert_int_equal(reply_opt(out, len, 51, &d), -1);
	assert_int_equal(reply_opt(out, len, 1, &d), -1);
}

static void test_ack_variants(void **state)
{
	uint8_t out[DHCP_REPLY_MAX];
	const uint8_t *d = NULL;
	int len;

	(void)state;
	/* Broadcast flag: broadcast frame and address. */
	len = reply_for(OPTS(53, 1, 3, 50, 4, 10, 0, 0, 7, 255), 0, DHCP_FLAG_BROADCAST, DHCP_ACK,
			out);
	assert_memory_equal(out, bcast_mac, 6);
	assert_memory_equal(out + 14 + 16, bcast_mac, 4);
	assert_int_equal(get16(out + 42 + 10), DHCP_FLAG_BROADCAST);
	assert_int_equal(reply_opt(out, len, 51, &d), 4);

	/* Renewal: unicast to ciaddr, ciaddr echoed. */
	len = reply_for(OPTS(53, 1, 3, 255), ip("10.0.0.7"), 0, DHCP_ACK, out);
	assert_memory_equal(out, port_mac, 6);
	assert_memory_equal(out + 14 + 16, ((uint8_t[]){10, 0, 0, 7}), 4);
	assert_memory_equal(out + 42 + 12, ((uint8_t[]){10, 0, 0, 7}), 4);
	assert_memory_equal(out + 42 + 16, ((uint8_t[]){10, 0, 0, 7}), 4);

	/* INFORM: no yiaddr, no lease time, the rest of the configuration. */
	len = reply_for(OPTS(53, 1, 8, 255), ip("10.0.0.7"), 0, DHCP_ACK, out);
	assert_memory_equal(out + 42 + 16, ((uint8_t[4]){0}), 4);
	assert_int_equal(reply_opt(out, len, 51, &d), -1);
	assert_int_equal(reply_opt(out, len, 1, &d), 4);
	assert_int_equal(reply_opt(out, len, 26, &d), 2);
	assert_int_equal(get16(d), 1450);
}

static void test_build_errors(void **state)
{
	struct dhcp_request req = {.type = DHCP_DISCOVER};
	struct dhcp_lease l = lease();
	uint8_t out[DHCP_REPLY_MAX];

	(void)state;
	assert_int_equal(dhcp_build_reply(&req, &l, DHCP_OFFER, out, DHCP_REPLY_MAX - 1), -ENOSPC);
	assert_int_equal(dhcp_build_reply(&req, &l, DHCP_DISCOVER, out, sizeof(out)), -EINVAL);
	assert_int_equal(dhcp_build_reply(&req, &l, DHCP_ERR_MAC, out, sizeof(out)), -EINVAL);
}

static void test_gateway_mac(void **state)
{
	uint8_t mac[6];

	(void)state;
	dhcp_gateway_mac(ip("10.244.0.1"), mac);
	assert_memory_equal(mac, ((uint8_t[]){0x0a, 0x58, 10, 244, 0, 1}), 6);
	assert_string_equal(dhcp_type_name(DHCP_NAK), "NAK");
	assert_string_equal(dhcp_type_name(42), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_discover),
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_decide_table),
	    cmocka_unit_test(test_offer_bytes),
	    cmocka_unit_test(test_nak_for_another_address),
	    cmocka_unit_test(test_ack_variants),
	    cmocka_unit_test(test_build_errors),
	    cmocka_unit_test(test_gateway_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
