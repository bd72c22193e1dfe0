/* SPDX-License-Identifier: MIT */
#include "icmp.h"

#include <endian.h>
#include <errno.h>
#include <linux/icmp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ICMP_TYPE_ECHOREPLY 0
#define ICMP_TYPE_ECHO	    8

static void put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

uint16_t icmp_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void icmp_build_echo(uint8_t buf[ICMP_PROBE_LEN], uint16_t id, uint64_t seq, uint64_t nonce,
		     uint64_t send_ns)
{
	uint16_t csum;

	memset(buf, 0, ICMP_PROBE_LEN);
	buf[0] = ICMP_TYPE_ECHO;
	buf[4] = id >> 8;
	buf[5] = id & 0xff;
	buf[6] = (seq >> 8) & 0xff;
	buf[7] = seq & 0xff;
	put_be64(buf + 8, nonce);
	put_be64(buf + 16, seq);
	put_be64(buf + 24, send_ns);
	for (size_t i = 32; i < ICMP_PROBE_LEN; i++)
		buf[i] = (uint8_t)i;
	csum = icmp_checksum(buf, ICMP_PROBE_LEN);
	buf[2] = csum >> 8;
	buf[3] = csum & 0xff;
}

int icmp_parse_reply(const uint8_t *buf, size_t len, const struct icmp_expect *exp,
		     struct icmp_reply *out)
{
	struct icmp_reply r;
	uint16_t id;

	if (exp->raw) {
		size_t ihl;
		uint32_t src;

		if (len < 20 || (buf[0] >> 4) != 4)
			return -EBADMSG;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl)
			return -EBADMSG;
		if (buf[9] != IPPROTO_ICMP)
			return -ENOMSG;
		memcpy(&src, buf + 12, sizeof(src));
		if (exp->src && src != exp->src)
			return -ESRCH;
		buf += ihl;
		len -= ihl;
	}
	if (len < 8)
		return -EBADMSG;
	if (buf[0] != ICMP_TYPE_ECHOREPLY || buf[1] != 0)
		return -ENOMSG;
	if (len != ICMP_PROBE_LEN)
		return -EBADMSG;
	if (icmp_checksum(buf, len) != 0)
		return -EILSEQ;
	id = (uint16_t)(buf[4] << 8 | buf[5]);
	if (exp->check_id && id != exp->id)
		return -ESRCH;
	if (get_be64(buf + 8) != exp->nonce)
		return -ESRCH;
	r.wire_seq = (uint16_t)(buf[6] << 8 | buf[7]);
	r.seq = get_be64(buf + 16);
	r.send_ns = get_be64(buf + 24);
	if ((uint16_t)r.seq != r.wire_seq)
		return -ESRCH;
	*out = r;
	return 0;
}

static int set_bufs(int fd)
{
	int size = 1 << 20;

	/* best effort: a larger queue absorbs bursts of replies after an outage */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	return 0;
}

int icmp_open(struct icmp_sock *s, uint16_t wanted_id)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct icmp_filter filt = {.data = ~(1U << ICMP_TYPE_ECHOREPLY)};
	int fd, ret;

	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd >= 0) {
		/* only echo replies reach us, not our own requests on loopback */
		if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)) < 0) {
			ret = -errno;
			close(fd);
			return ret;
		}
		set_bufs(fd);
		*s = (struct icmp_sock){.fd = fd, .raw = true, .id = wanted_id};
		return 0;
	}
	if (errno != EPERM && errno != EACCES)
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	set_bufs(fd);
	*s = (struct icmp_sock){.fd = fd, .raw = false, .id = ntohs(sin.sin_port)};
	return 0;
}

void icmp_close(struct icmp_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
