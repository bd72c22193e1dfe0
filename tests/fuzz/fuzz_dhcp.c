/* SPDX-License-Identifier: MIT */
/* libFuzzer: the agent's DHCP parser (whole frames and bare messages) and,
 * for every request it accepts, the decision and the reply it builds. */
#include "agent/dhcp_proto.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void answer(const struct dhcp_request *req, uint8_t prefixlen)
{
	struct dhcp_lease lease = {.ipv4 = htonl(0x0a000007),
				   .gateway = htonl(0x0a000001),
				   .prefixlen = prefixlen,
				   .mtu = 1450,
				   .lease_s = 86400};
	uint8_t out[DHCP_REPLY_MAX];
	int type, len;

	memcpy(lease.mac, req->chaddr, 6); /* so that the decision goes on */
	type = dhcp_decide(req, &lease);
	if (type < 0)
		return;
	if (type != DHCP_OFFER && type != DHCP_ACK && type != DHCP_NAK)
		abort();
	len = dhcp_build_reply(req, &lease, type, out, sizeof(out));
	if (len < 14 + 20 + 8 + DHCP_BOOTP_MIN || len > DHCP_REPLY_MAX)
		abort();
	/* the IPv4 header checksum verifies */
	if (dhcp_csum_fold(dhcp_csum_add(0, out + 14, 20)) != 0xffff)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exact size, so ASan sees overreads */
	struct dhcp_request req;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (dhcp_parse_frame(copy, size, &req) == 0) {
		memcpy(req.src_mac, req.chaddr, 6);
		answer(&req, size ? (uint8_t)(copy[0] % 33) : 24);
	}
	if (dhcp_parse_message(copy, size, &req) == 0) {
		memcpy(req.src_mac, req.chaddr, 6);
		answer(&req, 24);
	}
	free(copy);
	return 0;
}
