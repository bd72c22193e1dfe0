/* SPDX-License-Identifier: MIT */
#include "agent/dhcp_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#define ETH_HLEN_   14
#define IP_HLEN	    20
#define UDP_HLEN    8
#define BOOTP_OFF   (ETH_HLEN_ + IP_HLEN + UDP_HLEN) /* in a reply: no IP options */
#define COOKIE_OFF  236
#define OPTIONS_OFF 240
#define BOOTREQUEST 1
#define BOOTREPLY   2

static const uint8_t magic_cookie[4] = {99, 130, 83, 99};
static const uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t dhcp_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t dhcp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void dhcp_gateway_mac(uint32_t gateway, uint8_t mac[6])
{
	mac[0] = 0x0a;
	mac[1] = 0x58;
	memcpy(mac + 2, &gateway, 4); /* network order: a.b.c.d -> 0a:58:a:b:c:d */
}

const char *dhcp_type_name(int type)
{
	static const char *const names[] = {"?",   "DISCOVER", "OFFER",	  "REQUEST", "DECLINE",
					    "ACK", "NAK",      "RELEASE", "INFORM"};

	return type > 0 && type <= DHCP_INFORM ? names[type] : "?";
}

/* Options: PAD skipped, END (or the end of the buffer) stops, every other
 * option must fit. The option overload of sname/file (52) is not honoured. */
static int parse_options(const uint8_t *p, size_t len, struct dhcp_request *req)
{
	bool have_type = false;
	size_t i = 0;

	while (i < len) {
		uint8_t code = p[i++], olen;
		const uint8_t *data;

		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			break;
		if (i >= len)
			return DHCP_ERR_MALFORMED; /* no length byte */
		olen = p[i++];
		if (olen > len - i)
			return DHCP_ERR_MALFORMED; /* runs past the message */
		data = p + i;
		i += olen;
		switch (code) {
		case DHCP_OPT_MSG_TYPE:
			if (olen != 1)
				return DHCP_ERR_MALFORMED;
			req->type = data[0];
			have_type = true;
			break;
		case DHCP_OPT_REQUESTED_IP:
			if (olen != 4)
				return DHCP_ERR_MALFORMED;
			memcpy(&req->requested_ip, data, 4);
			break;
		case DHCP_OPT_SERVER_ID:
			if (olen != 4)
				return DHCP_ERR_MALFORMED;
			memcpy(&req->server_id, data, 4);
			break;
		default:
			break;
		}
	}
	/* A plain BOOTP client (no type) is not served. */
	return have_type && req->type != 0 ? 0 : DHCP_ERR_MALFORMED;
}

int dhcp_parse_message(const uint8_t *msg, size_t len, struct dhcp_request *out)
{
	struct dhcp_request req = {0};
	int r;

	if (len < OPTIONS_OFF)
		return DHCP_ERR_MALFORMED;
	if (msg[0] != BOOTREQUEST || msg[1] != 1 /* Ethernet */ || msg[2] != 6)
		return DHCP_ERR_MALFORMED;
	if (memcmp(msg + COOKIE_OFF, magic_cookie, 4) != 0)
		return DHCP_ERR_MALFORMED;
	memcpy(&req.xid, msg + 4, 4);
	req.flags = get16(msg + 10);
	memcpy(&req.ciaddr, msg + 12, 4);
	memcpy(req.chaddr, msg + 28, 6);
	r = parse_options(msg + OPTIONS_OFF, len - OPTIONS_OFF, &req);
	if (r < 0)
		return r;
	*out = req;
	return 0;
}

int dhcp_parse_frame(const uint8_t *f, size_t len, struct dhcp_request *out)
{
	struct dhcp_request req;
	size_t ihl, ip_len, udp_len;
	const uint8_t *ip, *udp;
	int r;

	if (len < ETH_HLEN_)
		return DHCP_ERR_MALFORMED;
	if (get16(f + 12) != 0x0800)
		return DHCP_ERR_NOT_DHCP;
	ip = f + ETH_HLEN_;
	if (len < ETH_HLEN_ + IP_HLEN || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
		return DHCP_ERR_MALFORMED;
	if (ip[9] != 17 /* UDP */ || (get16(ip + 6) & 0x3fff) /* a fragment */)
		return DHCP_ERR_NOT_DHCP;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	ip_len = get16(ip + 2);
	if (ip_len < ihl + UDP_HLEN || ip_len > len - ETH_HLEN_)
		return DHCP_ERR_MALFORMED;
	udp = ip + ihl;
	if (get16(udp) != DHCP_CLIENT_PORT || get16(udp + 2) != DHCP_SERVER_PORT)
		return DHCP_ERR_NOT_DHCP;
	udp_len = get16(udp + 4);
	if (udp_len < UDP_HLEN || udp_len > ip_len - ihl)
		return DHCP_ERR_MALFORMED;
	r = dhcp_parse_message(udp + UDP_HLEN, udp_len - UDP_HLEN, &req);
	if (r < 0)
		return r;
	memcpy(req.src_mac, f + 6, 6);
	*out = req;
	return 0;
}

int dhcp_decide(const struct dhcp_request *req, const struct dhcp_lease *lease)
{
	uint32_t wanted;

	if (memcmp(req->chaddr, lease->mac, 6) != 0 || memcmp(req->src_mac, lease->mac, 6) != 0)
		return DHCP_ERR_MAC;
	switch (req->type) {
	case DHCP_DISCOVER:
		return DHCP_OFFER;
	case DHCP_REQUEST:
		if (req->server_id && req->server_id != lease->gateway)
			return DHCP_ERR_NO_ANSWER; /* SELECTING another server */
		/* SELECTING/INIT-REBOOT name it in option 50; RENEWING and
		 * REBINDING in ciaddr. */
		wanted = req->requested_ip ? req->requested_ip : req->ciaddr;
		return wanted == lease->ipv4 ? DHCP_ACK : DHCP_NAK;
	case DHCP_INFORM:
		return DHCP_ACK;
	default:
		return DHCP_ERR_NO_ANSWER;
	}
}

static uint8_t *put_opt(uint8_t *o, uint8_t code, const void *data, uint8_t len)
{
	o[0] = code;
	o[1] = len;
	memcpy(o + 2, data, len);
	return o + 2 + len;
}

static uint8_t *put_opt32(uint8_t *o, uint8_t code, uint32_t net_order)
{
	return put_opt(o, code, &net_order, 4);
}

/* Writes the options after the cookie; returns the end. */
static uint8_t *put_options(uint8_t *o, const struct dhcp_request *req,
			    const struct dhcp_lease *lease, int type)
{
	uint32_t mask = lease->prefixlen ? htonl(~0U << (32 - lease->prefixlen)) : 0;
	uint8_t t = (uint8_t)type, mtu[2];

	o = put_opt(o, DHCP_OPT_MSG_TYPE, &t, 1);
	o = put_opt32(o, DHCP_OPT_SERVER_ID, lease->gateway);
	if (type != DHCP_NAK) {
		/* RFC 2131 4.3.5: no lease time in the answer to an INFORM */
		if (req->type != DHCP_INFORM)
			o = put_opt32(o, DHCP_OPT_LEASE_TIME, htonl(lease->lease_s));
		o = put_opt32(o, DHCP_OPT_SUBNET_MASK, mask);
		o = put_opt32(o, DHCP_OPT_ROUTER, lease->gateway);
		put16(mtu, lease->mtu);
		o = put_opt(o, DHCP_OPT_MTU, mtu, 2);
		o = put_opt32(o, DHCP_OPT_BROADCAST, (lease->ipv4 & mask) | ~mask);
	}
	*o++ = DHCP_OPT_END;
	return o;
}

int dhcp_build_reply(const struct dhcp_request *req, const struct dhcp_lease *lease, int reply_type,
		     uint8_t *buf, size_t size)
{
	bool inform = req->type == DHCP_INFORM;
	uint32_t yiaddr = 0, dst_ip = 0, sum;
	uint8_t *ip = buf + ETH_HLEN_, *udp = ip + IP_HLEN, *bootp = udp + UDP_HLEN;
	size_t bootp_len;
	bool bcast;

	if (reply_type != DHCP_OFFER && reply_type != DHCP_ACK && reply_type != DHCP_NAK)
		return -EINVAL;
	if (size < DHCP_REPLY_MAX)
		return -ENOSPC;
	memset(buf, 0, DHCP_REPLY_MAX);
	if (reply_type != DHCP_NAK && !inform)
		yiaddr = lease->ipv4;
	/* RFC 2131 4.1: ciaddr when the client has one (renewal, INFORM),
	 * else yiaddr; broadcast when asked for, and for every NAK. */
	bcast = reply_type == DHCP_NAK || (req->flags & DHCP_FLAG_BROADCAST);
	if (!bcast)
		dst_ip = req->ciaddr ? req->ciaddr : yiaddr;
	if (!dst_ip) {
		bcast = true;
		dst_ip = 0xffffffffU;
	}

	/* BOOTP */
	bootp[0] = BOOTREPLY;
	bootp[1] = 1;
	bootp[2] = 6;
	memcpy(bootp + 4, &req->xid, 4);
	put16(bootp + 10, req->flags & DHCP_FLAG_BROADCAST);
	if (reply_type == DHCP_ACK)
		memcpy(bootp + 12, &req->ciaddr, 4);
	memcpy(bootp + 16, &yiaddr, 4);
	memcpy(bootp + 28, req->chaddr, 6);
	memcpy(bootp + COOKIE_OFF, magic_cookie, 4);
	bootp_len = (size_t)(put_options(bootp + OPTIONS_OFF, req, lease, reply_type) - bootp);
	if (bootp_len < DHCP_BOOTP_MIN)
		bootp_len = DHCP_BOOTP_MIN; /* padded with zeros (PAD) */

	/* UDP, checksummed over the pseudo header */
	put16(udp, DHCP_SERVER_PORT);
	put16(udp + 2, DHCP_CLIENT_PORT);
	put16(udp + 4, (uint16_t)(UDP_HLEN + bootp_len));
	sum = dhcp_csum_add(0, (const uint8_t *)&lease->gateway, 4);
	sum = dhcp_csum_add(sum, (const uint8_t *)&dst_ip, 4);
	sum += 17 + UDP_HLEN + bootp_len;
	sum = dhcp_csum_add(sum, udp, UDP_HLEN + bootp_len);
	put16(udp + 6, (uint16_t)~dhcp_csum_fold(sum) ?: 0xffff);

	/* IPv4 */
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HLEN + UDP_HLEN + bootp_len));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &lease->gateway, 4);
	memcpy(ip + 16, &dst_ip, 4);
	put16(ip + 10, (uint16_t)~dhcp_csum_fold(dhcp_csum_add(0, ip, IP_HLEN)));

	/* Ethernet */
	memcpy(buf, bcast ? broadcast_mac : req->chaddr, 6);
	dhcp_gateway_mac(lease->gateway, buf + 6);
	put16(buf + 12, 0x0800);
	return (int)(BOOTP_OFF + bootp_len);
}
