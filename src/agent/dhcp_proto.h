/* SPDX-License-Identifier: MIT */
/*
 * dhcp_proto: the DHCPv4 wire format of the agent's server (RFC 2131/2132),
 * pure functions on byte buffers (no sockets; unit tested and fuzzed).
 *
 * The server has exactly one answer per port: the lease is the port's
 * spec.ipv4, the server identifier and router are the network's gateway.
 * So the decision is a function of the request and that lease alone:
 *   DISCOVER -> OFFER; REQUEST for the lease (option 50, else ciaddr) -> ACK,
 *   for another address -> NAK, naming another server (option 54) ->
 *   nothing (the client chose someone else); INFORM -> ACK without yiaddr or
 *   lease time; RELEASE/DECLINE -> nothing (the caller logs them).
 *   A chaddr other than the port's MAC gets nothing (DHCP_ERR_MAC).
 * Replies are whole Ethernet frames: from the gateway's virtual MAC
 * (dhcp_gateway_mac) and address, UDP 67 -> 68, to the client MAC and
 * yiaddr (ciaddr when set), or broadcast when the client asks for it
 * (flag 0x8000) and for every NAK; IPv4 and UDP checksums filled in;
 * the BOOTP part padded to 300 bytes as old clients expect.
 */
#ifndef GODWIT_AGENT_DHCP_PROTO_H
#define GODWIT_AGENT_DHCP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT    67
#define DHCP_CLIENT_PORT    68
#define DHCP_MAX_FRAME	    1514 /* Ethernet header + 1500: larger frames are ignored */
#define DHCP_REPLY_MAX	    400	 /* every reply fits */
#define DHCP_BOOTP_FIXED    236	 /* op .. file */
#define DHCP_BOOTP_MIN	    300	 /* BOOTP minimum message size (RFC 951) */
#define DHCP_FLAG_BROADCAST 0x8000
#define DHCP_LEASE_SECONDS  86400

enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

enum dhcp_option {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_MTU = 26,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_END = 255,
};

/* Why a frame gets no answer (negative, like -errno; never overlaps it). */
enum dhcp_error {
	DHCP_ERR_NOT_DHCP = -1001,  /* not IPv4/UDP 68 -> 67: not for us at all */
	DHCP_ERR_MALFORMED = -1002, /* truncated, bad lengths, bad cookie, bad options */
	DHCP_ERR_MAC = -1003,	    /* chaddr (or the frame's source) is not the port's MAC */
	DHCP_ERR_NO_ANSWER = -1004, /* RELEASE, DECLINE, a server-side type, another server */
};

/* What the client asked. Addresses in network order. */
struct dhcp_request {
	uint8_t src_mac[6]; /* Ethernet source */
	uint8_t chaddr[6];
	uint8_t type;	/* enum dhcp_msg_type */
	uint32_t xid;	/* as on the wire (copied back unchanged) */
	uint16_t flags; /* host order */
	uint32_t ciaddr;
	uint32_t requested_ip; /* option 50, 0 when absent */
	uint32_t server_id;    /* option 54, 0 when absent */
};

/* The one answer a port has. Addresses in network order. */
struct dhcp_lease {
	uint8_t mac[6];	   /* the port's MAC: the only chaddr served */
	uint32_t ipv4;	   /* the port's spec.ipv4 */
	uint32_t gateway;  /* the network's spec.gateway: server id and router */
	uint8_t prefixlen; /* of the network's CIDR, 1..30 */
	uint16_t mtu;
	uint32_t lease_s;
};

/* Parses a whole Ethernet frame. 0 and *out filled, or a dhcp_error. */
int dhcp_parse_frame(const uint8_t *frame, size_t len, struct dhcp_request *out);

/* Parses the BOOTP/DHCP payload of a UDP datagram (from op on). */
int dhcp_parse_message(const uint8_t *msg, size_t len, struct dhcp_request *out);

/* The reply type for req (OFFER, ACK, NAK), or a dhcp_error. */
int dhcp_decide(const struct dhcp_request *req, const struct dhcp_lease *lease);

/* Builds the reply frame of type reply_type (from dhcp_decide) into buf.
 * Returns its length (> 0), or -ENOSPC / -EINVAL. */
int dhcp_build_reply(const struct dhcp_request *req, const struct dhcp_lease *lease, int reply_type,
		     uint8_t *buf, size_t size);

/* 0a:58:<gateway IPv4 bytes>: the source MAC of replies. */
void dhcp_gateway_mac(uint32_t gateway, uint8_t mac[6]);

/* The Internet checksum (RFC 1071) of len bytes, folded, not inverted, added to sum. */
uint32_t dhcp_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t dhcp_csum_fold(uint32_t sum);

const char *dhcp_type_name(int type);

#endif
