/* SPDX-License-Identifier: MIT */
/* The drain of a stopped source's tap; the design note is in handoff.h. */
#include "agent/handoff.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpf/abi.h"
#include "lib/addr.h"

#define VXLAN_HDR_LEN 8
#define TAP_READ_MAX  (65536 + 64)

/* Whether /proc/PID/fdinfo/FD names the tap ifname ("iff:\tNAME"). */
static bool fdinfo_names_tap(int dir_fd, const char *fd_name, const char *ifname)
{
	char buf[1024], want[64];
	ssize_t n;
	int fd = openat(dir_fd, fd_name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "\niff:\t%s\n", ifname);
	return strstr(buf, want) != NULL;
}

int handoff_tap_fd(pid_t pid, const char *ifname)
{
	char path[64];
	struct dirent *e;
	int pidfd, target = -1, r;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && fdinfo_names_tap(dirfd(d), e->d_name, ifname)) {
			target = atoi(e->d_name);
			break;
		}
	closedir(d);
	if (target < 0)
		return -ENOENT;
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		return -errno;
	r = pidfd_getfd(pidfd, target, 0);
	if (r < 0)
		r = -errno;
	close(pidfd);
	return r;
}

int handoff_prime(const char *ifname, const char *mac)
{
	static const char note[] = "godwit: handoff primer";
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_halen = ETH_ALEN};
	uint8_t frame[ETH_ZLEN] = {0};
	uint8_t b[ETH_ALEN];
	int fd, r = 0;

	if (addr_mac_parse(mac, b) < 0)
		return -EINVAL;
	to.sll_ifindex = (int)if_nametoindex(ifname);
	if (to.sll_ifindex == 0)
		return -errno;
	for (int i = 0; i < ETH_ALEN; i++)
		frame[i] = to.sll_addr[i] = b[i];
	/* source: a locally administered address no port has */
	memcpy(frame + ETH_ALEN, (const uint8_t[ETH_ALEN]){0x0a, 0x58, 0xff, 0xff, 0xff, 0xfe},
	       ETH_ALEN);
	frame[12] = GW_PRIMER_ETHERTYPE >> 8;
	frame[13] = GW_PRIMER_ETHERTYPE & 0xff;
	memcpy(frame + ETH_HLEN, note, sizeof(note));
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* The Internet checksum of data, folded, not complemented. */
static uint16_t csum_fold(const uint8_t *data, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)data[i] << 8 | data[i + 1];
	if (i < len)
		sum += (uint32_t)data[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int handoff_frame(uint8_t *buf, size_t len, size_t vnet_hdr_len, const uint8_t **frame,
		  size_t *frame_len)
{
	struct virtio_net_hdr h = {0};
	uint8_t *eth;
	size_t eth_len;

	if ((vnet_hdr_len && vnet_hdr_len < sizeof(h)) || len < vnet_hdr_len + 14)
		return -EINVAL;
	if (vnet_hdr_len)
		memcpy(&h, buf, sizeof(h));
	eth = buf + vnet_hdr_len;
	eth_len = len - vnet_hdr_len;
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return -EOPNOTSUPP;
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* The field holds the pseudo-header sum; the rest is ours. */
		size_t start = le16toh(h.csum_start), off = le16toh(h.csum_offset);
		uint16_t c;

		if (start >= eth_len || off > eth_len - start || eth_len - start - off < 2)
			return -EINVAL;
		c = (uint16_t)~csum_fold(eth + start, eth_len - start);
		eth[start + off] = (uint8_t)(c >> 8);
		eth[start + off + 1] = (uint8_t)c;
	}
	*frame = eth;
	*frame_len = eth_len;
	return 0;
}

/* The tap's virtio-net header length: 0 without IFF_VNET_HDR. */
static int vnet_hdr_len(int tap_fd, size_t *out)
{
	struct ifreq ifr = {0};
	int sz = 0;

	if (ioctl(tap_fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	if (ifr.ifr_flags & IFF_VNET_HDR) {
		if (ioctl(tap_fd, TUNGETVNETHDRSZ, &sz) < 0)
			return -errno;
		if (sz < (int)sizeof(struct virtio_net_hdr) || sz > 64)
			return -EPROTO;
	}
	*out = (size_t)sz;
	return 0;
}

/* One frame to the target as a marked VXLAN datagram. */
static int send_marked(int sock, uint32_t vni, uint32_t target_ip, const uint8_t *frame, size_t len)
{
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons(GW_VXLAN_PORT), .sin_addr.s_addr = target_ip};
	uint8_t hdr[VXLAN_HDR_LEN] = {0x08}; /* flags: VNI valid */
	uint32_t vni_be = htonl(vni << 8);
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)frame, len}};
	struct msghdr msg = {
	    .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov, .msg_iovlen = 2};

	memcpy(hdr + 4, &vni_be, 4);
	return sendmsg(sock, &msg, 0) < 0 ? -errno : 0;
}

int handoff_drain(int tap_fd, uint32_t vni, uint32_t target_ip, struct handoff_drain_stats *stats)
{
	struct handoff_drain_stats st = {0};
	int tos = GW_HANDOFF_DSCP << 2, sock = -1, r;
	uint8_t *buf = NULL;
	size_t hdr_len = 0;

	r = vnet_hdr_len(tap_fd, &hdr_len);
	if (r < 0)
		return r;
	/* QEMU keeps its tap non-blocking too (the flag is the shared file's). */
	if (fcntl(tap_fd, F_SETFL, fcntl(tap_fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	buf = malloc(TAP_READ_MAX);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!buf || sock < 0) {
		r = buf ? -errno : -ENOMEM;
		goto cleanup;
	}
	if (setsockopt(sock, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0) {
		r = -errno;
		goto cleanup;
	}
	for (;;) {
		const uint8_t *frame;
		size_t frame_len;
		ssize_t n = read(tap_fd, buf, TAP_READ_MAX);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			r = -errno;
			goto cleanup;
		}
		if (handoff_frame(buf, (size_t)n, hdr_len, &frame, &frame_len) < 0) {
			st.skipped++;
			continue;
		}
		if (frame[12] == GW_PRIMER_ETHERTYPE >> 8 && frame[13] == (GW_PRIMER_ETHERTYPE & 0xff)) {
			st.primers++;
			continue;
		}
		r = send_marked(sock, vni, target_ip, frame, frame_len);
		if (r < 0)
			goto cleanup;
		st.sent++;
	}
	r = 0;
	*stats = st;
cleanup:
	if (sock >= 0)
		close(sock);
	free(buf);
	return r;
}
