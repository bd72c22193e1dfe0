/* SPDX-License-Identifier: MIT */
/*
 * The user-space half of the zero-loss handoff (agent/handoff.h):
 * - handoff_frame() on virtio-net headers: plain, checksum to complete,
 *   GSO, malformed;
 * - in a private network namespace (root): a tap opened the way QEMU opens
 *   it, found and duplicated through /proc/self/fdinfo, the primer written
 *   into it, and the drain sending what is queued to a VXLAN port on
 *   loopback with the handoff mark.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <cmocka.h>

#include "agent/handoff.h"
#include "bpf/abi.h"

#define VNET_HDR_LEN 12 /* what QEMU sets for virtio 1.0 */

/* An Ethernet + IPv4 + UDP frame after a zeroed vnet header; returns its length. */
static size_t udp_frame(uint8_t *buf, size_t hdr_len)
{
	static const uint8_t eth[14] = {0x0a, 0x58, 0, 0, 0, 9, 0x0a, 0x58, 0, 0, 0, 8, 0x08, 0};
	static const uint8_t ip[20] = {0x45, 0, 0,  32, 0, 0, 0,  0, 64, 17,
				       0,    0, 10, 0,	0, 8, 10, 0, 0,	 9};
	uint8_t *p = buf + hdr_len;

	memset(buf, 0, hdr_len);
	memcpy(p, eth, sizeof(eth));
	memcpy(p + 14, ip, sizeof(ip));
	p[34] = 0x30, p[35] = 0x39; /* sport 12345 */
	p[36] = 0x00, p[37] = 0x35; /* dport 53 */
	p[38] = 0, p[39] = 12;	    /* length */
	memcpy(p + 42, "ping", 4);
	return hdr_len + 46;
}

/* One's complement sum over data (16-bit big-endian words), folded. */
static uint16_t sum16(const uint8_t *d, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)d[i] << 8 | d[i + 1];
	if (len & 1)
		sum += (uint32_t)d[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_frame_plain_and_no_header(void **state)
{
	uint8_t buf[128];
	const uint8_t *f;
	size_t n = udp_frame(buf, VNET_HDR_LEN), len;

	(void)state;
	assert_int_equal(handoff_frame(buf, n, VNET_HDR_LEN, &f, &len), 0);
	assert_ptr_equal(f, buf + VNET_HDR_LEN);
	assert_int_equal(len, n - VNET_HDR_LEN);
	n = udp_frame(buf, 0);
	assert_int_equal(handoff_frame(buf, n, 0, &f, &len), 0);
	assert_ptr_equal(f, buf);
	assert_int_equal(len, n);
}

static void test_frame_checksum_completed(void **state)
{
	uint8_t buf[128];
	size_t n = udp_frame(buf, VNET_HDR_LEN), len;
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				   .csum_start = htole16(34),
				   .csum_offset = htole16(6)};
	uint8_t *udp = buf + VNET_HDR_LEN + 34;
	const uint8_t *f;
	uint32_t pseudo;

	(void)state;
	memcpy(buf, &h, sizeof(h));
	/* As a sender with checksum offload leaves it: the pseudo-header sum. */
	pseudo = sum16(buf + VNET_HDR_LEN + 26, 8, 17 + 12);
	udp[6] = (uint8_t)(pseudo >> 8);
	udp[7] = (uint8_t)pseudo;
	assert_int_equal(handoff_frame(buf, n, VNET_HDR_LEN, &f, &len), 0);
	/* A correct UDP checksum sums (with the pseudo header) to 0xffff. */
	assert_int_equal(sum16(udp, 12, sum16(buf + VNET_HDR_LEN + 26, 8, 17 + 12)), 0xffff);
	assert_false(udp[6] == 0 && udp[7] == 0);
}

static void test_frame_refused(void **state)
{
	uint8_t buf[128];
	size_t n = udp_frame(buf, VNET_HDR_LEN), len;
	struct virtio_net_hdr h = {.gso_type = VIRTIO_NET_HDR_GSO_TCPV4};
	const uint8_t *f = NULL;

	(void)state;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(handoff_frame(buf, n, VNET_HDR_LEN, &f, &len), -EOPNOTSUPP);
	/* the checksum field would lie past the frame */
	h = (struct virtio_net_hdr){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .csum_start = htole16(40),
				    .csum_offset = htole16(5)};
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(handoff_frame(buf, n, VNET_HDR_LEN, &f, &len), -EINVAL);
	h.csum_start = htole16(4000);
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(handoff_frame(buf, n, VNET_HDR_LEN, &f, &len), -EINVAL);
	/* shorter than a header and an Ethernet header; a header too small */
	assert_int_equal(handoff_frame(buf, VNET_HDR_LEN + 13, VNET_HDR_LEN, &f, &len), -EINVAL);
	assert_int_equal(handoff_frame(buf, n, 4, &f, &len), -EINVAL);
	assert_null(f);
}

/* ---- a real tap ---------------------------------------------------------- */

static int tap_open_like_qemu(const char *name)
{
	struct ifreq ifr = {0};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK), sz = VNET_HDR_LEN, s;

	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(ioctl(fd, TUNSETVNETHDRSZ, &sz), 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
	return fd;
}

static void write_sysctl(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return; /* no IPv6 at all */
	assert_true(fputs("1", f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Waits for one frame on the tap (as QEMU would read it). */
static ssize_t tap_read(int fd, uint8_t *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	assert_int_equal(poll(&p, 1, 2000), 1);
	return read(fd, buf, size);
}

/* One datagram on the VXLAN socket: its TOS byte and payload length. */
static ssize_t vxlan_recv(int fd, uint8_t *buf, size_t size, int *tos)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, size};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recvmsg(fd, &msg, 0);
	*tos = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			*tos = *(uint8_t *)CMSG_DATA(c);
	return n;
}

/* An ordinary frame (ethertype 0x0800, 60 bytes) into the tap ifname towards
 * its reader, as the datapath would deliver one. */
static void tap_inject(const char *ifname, const uint8_t mac[6])
{
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_halen = 6};
	uint8_t frame[60] = {0};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	to.sll_ifindex = (int)if_nametoindex(ifname);
	memcpy(to.sll_addr, mac, 6);
	memcpy(frame, mac, 6);
	frame[12] = 0x08;
	frame[14] = 0x45;
	assert_int_equal(sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)sizeof(frame));
	close(fd);
}

static void test_tap_prime_and_drain(void **state)
{
	struct sockaddr_in at = {.sin_family = AF_INET,
				 .sin_port = htons(GW_VXLAN_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct handoff_drain_stats st = {99, 99, 99};
	uint8_t buf[2048];
	int qemu_fd, dup_fd, rx, on = 1, tos;
	ssize_t n;

	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		print_message("skipped: needs root and network namespaces\n");
		skip();
	}
	/* no IPv6: the tap would send its own router solicitations */
	write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6");
	write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6");
	qemu_fd = tap_open_like_qemu("gwtap0");
	assert_int_equal(handoff_tap_fd(getpid(), "gwtap1"), -ENOENT);
	dup_fd = handoff_tap_fd(getpid(), "gwtap0");
	assert_true(dup_fd >= 0);
	assert_int_not_equal(dup_fd, qemu_fd);

	/* The primer arrives at the tap's reader: to the VM, local ethertype. */
	assert_int_equal(handoff_prime("gwtap0", "0a:58:00:00:00:09"), 0);
	n = tap_read(qemu_fd, buf, sizeof(buf));
	assert_true(n >= VNET_HDR_LEN + 60);
	assert_memory_equal(buf + VNET_HDR_LEN, ((const uint8_t[]){0x0a, 0x58, 0, 0, 0, 9}), 6);
	assert_int_equal(buf[VNET_HDR_LEN + 12] << 8 | buf[VNET_HDR_LEN + 13], 0x88b5);
	assert_int_equal(handoff_prime("gwtap0", "not-a-mac"), -EINVAL);
	assert_int_equal(handoff_prime("gwnone", "0a:58:00:00:00:09"), -ENODEV);

	/* The frames left in the tap go to the target's VXLAN port, marked;
	 * primers (the datapath's, bpf/abi.h) do not. */
	rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(rx, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)), 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_int_equal(handoff_prime("gwtap0", "0a:58:00:00:00:09"), 0);
	tap_inject("gwtap0", (const uint8_t[]){0x0a, 0x58, 0, 0, 0, 9});
	assert_int_equal(handoff_prime("gwtap0", "0a:58:00:00:00:09"), 0);
	tap_inject("gwtap0", (const uint8_t[]){0x0a, 0x58, 0, 0, 0, 9});
	usleep(20000);
	assert_int_equal(handoff_drain(dup_fd, 77, htonl(INADDR_LOOPBACK), &st), 0);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.primers, 2);
	for (int i = 0; i < 2; i++) {
		n = vxlan_recv(rx, buf, sizeof(buf), &tos);
		assert_int_equal(n, 8 + 60);
		assert_int_equal(buf[0], 0x08);
		assert_int_equal((buf[4] << 16 | buf[5] << 8 | buf[6]), 77);
		assert_int_equal(buf[8 + 12] << 8 | buf[8 + 13], 0x0800);
		assert_true(GW_TOS_IS_HANDOFF(tos));
	}
	/* Nothing left: the reader (QEMU) gets nothing twice. */
	assert_int_equal(handoff_drain(dup_fd, 77, htonl(INADDR_LOOPBACK), &st), 0);
	assert_int_equal(st.sent, 0);
	assert_int_equal(read(qemu_fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	close(rx);
	close(dup_fd);
	close(qemu_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_plain_and_no_header),
	    cmocka_unit_test(test_frame_checksum_completed),
	    cmocka_unit_test(test_frame_refused),
	    cmocka_unit_test(test_tap_prime_and_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
