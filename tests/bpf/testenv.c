/* SPDX-License-Identifier: MIT */
#include "testenv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

const uint8_t mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r != 0) {
		fprintf(stderr, "command failed (%d): %s\n", r, cmd);
		return -EIO;
	}
	return 0;
}

static int write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int r = 0;

	if (!f)
		return -errno;
	if (fputs(value, f) < 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

static int ifindex_of(const char *name, int *out)
{
	unsigned int idx = if_nametoindex(name);

	if (!idx)
		return -errno;
	*out = (int)idx;
	return 0;
}

static int peer_setup(struct testenv *te);

int testenv_setup(struct testenv *te)
{
	char name[IFNAMSIZ];
	int r;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	/* IPv6 would send router solicitations and MLD reports on every link. */
	r = write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (r == 0)
		r = write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	if (r < 0 && r != -ENOENT)
		return r;
	if (sh("ip link set lo up"))
		return -EIO;
	for (int n = 1; n <= TE_NPORTS; n++) {
		if (sh("ip link add gwh%d type veth peer name gwv%d && ip link set gwh%d up && "
		       "ip link set gwv%d up",
		       n, n, n, n))
			return -EIO;
		snprintf(name, sizeof(name), "gwh%d", n);
		if ((r = ifindex_of(name, &te->port_ifindex[n])) < 0)
			return r;
		snprintf(name, sizeof(name), "gwv%d", n);
		if ((r = ifindex_of(name, &te->vm_ifindex[n])) < 0)
			return r;
	}
	if (sh("ip link add gwvx type vxlan external dstport %d nolearning && ip link set gwvx up",
	       4789))
		return -EIO;
	if (sh("ip link add gwu0 type veth peer name gwu1 && ip addr add 192.0.2.1/24 dev gwu0 && "
	       "ip link set gwu0 up && ip link set gwu1 up"))
		return -EIO;
	for (int n = 2; n <= 3; n++)
		if (sh("ip neigh replace 192.0.2.%d lladdr 02:00:00:00:ff:%02x dev gwu0 "
		       "nud permanent",
		       n, n))
			return -EIO;
	if ((r = ifindex_of("gwvx", &te->vxlan_ifindex)) < 0)
		return r;
	if ((r = ifindex_of("gwu0", &te->underlay_ifindex)) < 0)
		return r;
	if ((r = ifindex_of("gwu1", &te->wire_ifindex)) < 0)
		return r;
	return peer_setup(te);
}

/* A child in a new network namespace keeps it alive until teardown. */
static int spawn_ns_holder(pid_t *out)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed test leaves nothing */
		c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		if (write(fds[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1 || c != 'y') {
		close(fds[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -EIO;
	}
	close(fds[0]);
	*out = pid;
	return 0;
}

static int peer_setup(struct testenv *te)
{
	char path[64];
	pid_t pid = 0;
	int r;

	te->host_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (te->host_ns_fd < 0)
		return -errno;
	if ((r = spawn_ns_holder(&pid)) < 0)
		return r;
	te->peer_ns_holder = pid;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	te->peer_ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (te->peer_ns_fd < 0)
		return -errno;
	if (sh("ip link add gwh8 type veth peer name gwv8 && ip link set gwh8 up && "
	       "ip link set gwv8 netns %d",
	       (int)pid))
		return -EIO;
	if ((r = ifindex_of("gwh8", &te->peer_port_ifindex)) < 0)
		return r;
	if (setns(te->peer_ns_fd, CLONE_NEWNET) < 0)
		return -errno;
	r = write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	if (sh("ip link set lo up && ip link set gwv8 up"))
		r = -EIO;
	else
		r = ifindex_of("gwv8", &te->peer_vm_ifindex);
	if (setns(te->host_ns_fd, CLONE_NEWNET) < 0)
		return -errno;
	return r == -ENOENT ? 0 : r;
}

void testenv_teardown(struct testenv *te)
{
	if (te->peer_ns_holder > 0) {
		kill(te->peer_ns_holder, SIGKILL);
		waitpid(te->peer_ns_holder, NULL, 0);
		te->peer_ns_holder = 0;
	}
}

int capture_open_in(const struct testenv *te, int ns_fd, int ifindex)
{
	int fd, r;

	if (setns(ns_fd, CLONE_NEWNET) < 0)
		return -errno;
	fd = capture_open(ifindex);
	r = setns(te->host_ns_fd, CLONE_NEWNET) < 0 ? -errno : 0;
	if (r < 0 && fd >= 0)
		close(fd);
	return r < 0 ? r : fd;
}

void mac_n(uint8_t mac[6], int n)
{
	const uint8_t m[6] = {0x02, 0, 0, 0, 0, (uint8_t)n};

	memcpy(mac, m, 6);
}

uint32_t vm_ip(int n)
{
	return htonl(0xc6336400U | (uint32_t)n);
}

uint32_t node_ip(int n)
{
	return htonl(0xc0000200U | (uint32_t)n);
}

static void put(struct frame *f, const void *p, size_t len)
{
	memcpy(f->data + f->len, p, len);
	f->len += len;
}

static void put16(struct frame *f, uint16_t host)
{
	uint16_t be = htons(host);

	put(f, &be, 2);
}

void frame_eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t proto)
{
	f->len = 0;
	put(f, dst, 6);
	put(f, src, 6);
	put16(f, proto);
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void frame_ipv4_udp(struct frame *f, const uint8_t *dst, const uint8_t *src, uint32_t saddr,
		    uint32_t daddr, uint16_t sport, uint16_t dport)
{
	static const char payload[] = "godwit-test-0123"; /* 16 bytes + NUL */
	const size_t plen = sizeof(payload) - 1;
	size_t ip_off;

	frame_eth(f, dst, src, ETH_P_IP);
	ip_off = f->len;
	put16(f, 0x4500); /* version 4, ihl 5, tos 0 */
	put16(f, (uint16_t)(20 + 8 + plen));
	put16(f, 0x1234);	/* id */
	put16(f, 0x4000);	/* DF */
	put16(f, 64 << 8 | 17); /* ttl 64, UDP */
	put16(f, 0);		/* checksum, below */
	put(f, &saddr, 4);
	put(f, &daddr, 4);
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + plen));
	put16(f, 0); /* no UDP checksum */
	put(f, payload, plen);
	uint16_t csum = htons(ip_checksum(f->data + ip_off, 20));
	memcpy(f->data + ip_off + 10, &csum, 2);
}

static void put_arp_body(struct frame *f, uint16_t op, const uint8_t *sha, uint32_t spa,
			 const uint8_t *tha, uint32_t tpa)
{
	put16(f, 1);	  /* Ethernet */
	put16(f, 0x0800); /* IPv4 */
	put16(f, 6 << 8 | 4);
	put16(f, op);
	put(f, sha, 6);
	put(f, &spa, 4);
	put(f, tha, 6);
	put(f, &tpa, 4);
}

void frame_arp(struct frame *f, uint16_t op, const uint8_t *eth_dst, const uint8_t *eth_src,
	       const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	frame_eth(f, eth_dst, eth_src, ETH_P_ARP);
	put_arp_body(f, op, sha, spa, tha, tpa);
}

/* What QEMU sends after a migration: RARP request reverse (op 3). */
void frame_rarp(struct frame *f, const uint8_t *mac)
{
	frame_eth(f, mac_broadcast, mac, 0x8035);
	put_arp_body(f, 3, mac, 0, mac, 0);
}

int capture_open(int ifindex)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ALL),
	    .sll_ifindex = ifindex,
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int capture_next(int fd, uint8_t *buf, size_t size, int timeout_ms)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)timeout_ms * 1000000ULL;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, size, 0, (struct sockaddr *)&from, &fromlen);
		uint64_t now;

		if (n >= 0) {
			if (from.sll_pkttype == PACKET_OUTGOING)
				continue;
			return (int)n;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		now = monotonic_ns();
		if (now >= deadline)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		poll(&pfd, 1, (int)((deadline - now) / 1000000ULL) + 1);
	}
}

void capture_drain(int fd)
{
	uint8_t buf[2048];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

int inject(int ifindex, const struct frame *f)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_ifindex = ifindex,
	    .sll_halen = 6,
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	memcpy(sll.sll_addr, f->data, 6);
	if (sendto(fd, f->data, f->len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)f->len)
		r = -errno;
	close(fd);
	return r;
}

int inject_vxlan(uint32_t vni, const struct frame *f)
{
	return inject_vxlan_tos(vni, 0, f);
}

int inject_vxlan_tos(uint32_t vni, uint8_t tos, const struct frame *f)
{
	return inject_vxlan_from(node_ip(3), vni, tos, f);
}

int inject_vxlan_from(uint32_t src, uint32_t vni, uint8_t tos, const struct frame *f)
{
	return inject_vxlan_to(src, htonl(INADDR_LOOPBACK), vni, tos, f);
}

int inject_vxlan_to(uint32_t src, uint32_t dst, uint32_t vni, uint8_t tos, const struct frame *f)
{
	struct sockaddr_in to = {
	    .sin_family = AF_INET,
	    .sin_port = htons(4789),
	    .sin_addr.s_addr = dst,
	};
	struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = src};
	uint8_t buf[sizeof(f->data) + 8] = {0x08}; /* flags: VNI valid */
	uint32_t vni_be = htonl(vni << 8);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = 0, one = 1;

	int tos_opt = tos;

	if (fd < 0)
		return -errno;
	/* A source address that is not this namespace's: IP_TRANSPARENT. */
	if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    (tos && setsockopt(fd, IPPROTO_IP, IP_TOS, &tos_opt, sizeof(tos_opt)) < 0)) {
		r = -errno;
		close(fd);
		return r;
	}
	memcpy(buf + 4, &vni_be, 4);
	memcpy(buf + 8, f->data, f->len);
	if (sendto(fd, buf, f->len + 8, 0, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)(f->len + 8))
		r = -errno;
	close(fd);
	return r;
}
