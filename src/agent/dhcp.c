/* SPDX-License-Identifier: MIT */
#include "agent/dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/log.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define STOP_ID		 0 /* epoll data of the stop eventfd; sockets count from 1 */
#define READS_PER_WAKEUP 16
#define RATE_INTERVAL_NS (1000000000ULL / DHCP_RATE)

struct dhcp_sock {
	struct dhcp_port port;
	int fd;
	uint64_t id;	 /* epoll data: unique, unlike fd numbers */
	uint64_t tat_ns; /* rate limit (GCRA): theoretical arrival time */
};

struct dhcp_server {
	pthread_mutex_t lock; /* socks, stats */
	pthread_t thread;
	int epoll_fd, stop_fd;
	struct dhcp_sock *socks;
	size_t n_socks;
	uint64_t next_id;
	struct dhcp_stats stats;
};

/* Accepts IPv4, UDP, not a later fragment, destination port 67. */
static const struct sock_filter dhcp_filter[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), /* ethertype */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9), /* IP protocol */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14 + 6), /* fragment offset */
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),	/* X = IP header length */
    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14 + 2), /* UDP destination port */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_SERVER_PORT, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

/* A packet socket on ifindex that sees only received DHCP-server traffic. */
static int open_socket(int ifindex, int *out)
{
	struct sock_fprog prog = {
	    .len = sizeof(dhcp_filter) / sizeof(dhcp_filter[0]),
	    .filter = (struct sock_filter *)dhcp_filter,
	};
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ALL),
	    .sll_ifindex = ifindex,
	};
	int one = 1, fd, r;

	/* Protocol 0: receives nothing until bound, i.e. after the filter. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

static bool rate_allow(struct dhcp_sock *sk, uint64_t now)
{
	uint64_t tat = sk->tat_ns > now ? sk->tat_ns : now;

	if (tat - now > (DHCP_RATE - 1) * RATE_INTERVAL_NS)
		return false;
	sk->tat_ns = tat + RATE_INTERVAL_NS;
	return true;
}

static void format_ip(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	addr_ipv4_format(ntohl(a), buf); /* a: network byte order */
}

static void count_reply(struct dhcp_stats *st, int type)
{
	if (type == DHCP_OFFER)
		st->offers++;
	else if (type == DHCP_ACK)
		st->acks++;
	else
		st->naks++;
}

static void send_reply(struct dhcp_server *s, struct dhcp_sock *sk, const struct dhcp_request *req,
		       int type)
{
	const struct dhcp_lease *lease = &sk->port.lease;
	struct sockaddr_ll to = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_IP),
	    .sll_ifindex = sk->port.ifindex,
	    .sll_halen = 6,
	};
	uint8_t frame[DHCP_REPLY_MAX];
	char want[INET_ADDRSTRLEN], have[INET_ADDRSTRLEN];
	int len = dhcp_build_reply(req, lease, type, frame, sizeof(frame));

	if (len < 0) {
		s->stats.send_errors++;
		return;
	}
	memcpy(to.sll_addr, frame, 6);
	if (sendto(sk->fd, frame, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		s->stats.send_errors++;
		log_debug("port %s: cannot send a DHCP %s: %s", sk->port.name, dhcp_type_name(type),
			  strerror(errno));
		return;
	}
	count_reply(&s->stats, type);
	format_ip(lease->ipv4, have);
	format_ip(req->requested_ip ? req->requested_ip : req->ciaddr, want);
	if (type == DHCP_NAK)
		log_info("port %s: DHCP NAK for %s (its lease is %s)", sk->port.name, want, have);
	else if (type == DHCP_ACK)
		log_info("port %s: DHCP ACK %s (%s)", sk->port.name, have,
			 dhcp_type_name(req->type));
	else
		log_debug("port %s: DHCP OFFER %s", sk->port.name, have);
}

static void handle_frame(struct dhcp_server *s, struct dhcp_sock *sk, const uint8_t *f, size_t len)
{
	struct dhcp_request req;
	char ip[INET_ADDRSTRLEN];
	int r;

	s->stats.received++;
	if (len > DHCP_MAX_FRAME) {
		s->stats.oversized++;
		return;
	}
	if (!rate_allow(sk, (uint64_t)clock_mono_ns())) {
		s->stats.rate_limited++;
		return;
	}
	r = dhcp_parse_frame(f, len, &req);
	if (r == DHCP_ERR_NOT_DHCP)
		return; /* e.g. UDP to 67 from a port other than 68 */
	if (r < 0) {
		s->stats.malformed++;
		log_debug("port %s: malformed DHCP frame (%zu bytes) ignored", sk->port.name, len);
		return;
	}
	r = dhcp_decide(&req, &sk->port.lease);
	if (r == DHCP_ERR_MAC) {
		s->stats.ignored_mac++;
		log_debug("port %s: DHCP %s for chaddr %02x:%02x:%02x:%02x:%02x:%02x, "
			  "not the port's MAC: ignored",
			  sk->port.name, dhcp_type_name(req.type), req.chaddr[0], req.chaddr[1],
			  req.chaddr[2], req.chaddr[3], req.chaddr[4], req.chaddr[5]);
		return;
	}
	if (r < 0) {
		s->stats.no_answer++;
		format_ip(req.ciaddr ? req.ciaddr : req.requested_ip, ip);
		if (req.type == DHCP_RELEASE || req.type == DHCP_DECLINE)
			log_info("port %s: DHCP %s of %s", sk->port.name, dhcp_type_name(req.type),
				 ip);
		return;
	}
	send_reply(s, sk, &req, r);
}

static struct dhcp_sock *find_id(struct dhcp_server *s, uint64_t id)
{
	for (size_t i = 0; i < s->n_socks; i++)
		if (s->socks[i].id == id)
			return &s->socks[i];
	return NULL;
}

static void drain(struct dhcp_server *s, struct dhcp_sock *sk)
{
	uint8_t buf[2048];

	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		/* MSG_TRUNC: the frame's real length, to refuse oversized ones */
		ssize_t n = recv(sk->fd, buf, sizeof(buf), MSG_TRUNC);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("port %s: DHCP socket: %s", sk->port.name,
					  strerror(errno));
			return;
		}
		handle_frame(s, sk, buf, (size_t)n);
	}
}

static void *serve(void *arg)
{
	struct dhcp_server *s = arg;
	struct epoll_event evs[16];

	for (;;) {
		int n = epoll_wait(s->epoll_fd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(-errno, "DHCP server: epoll_wait");
			return NULL;
		}
		for (int i = 0; i < n; i++)
			if (evs[i].data.u64 == STOP_ID)
				return NULL;
		pthread_mutex_lock(&s->lock);
		for (int i = 0; i < n; i++) {
			struct dhcp_sock *sk = find_id(s, evs[i].data.u64);

			if (sk) /* else closed since epoll_wait returned */
				drain(s, sk);
		}
		pthread_mutex_unlock(&s->lock);
	}
}

int dhcp_server_start(struct dhcp_server **out)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STOP_ID};
	struct dhcp_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->next_id = STOP_ID + 1;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epoll_fd < 0 || s->stop_fd < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->stop_fd, &ev) < 0) {
		r = -errno;
		goto cleanup;
	}
	pthread_mutex_init(&s->lock, NULL);
	r = -pthread_create(&s->thread, NULL, serve, s);
	if (r < 0) {
		pthread_mutex_destroy(&s->lock);
		goto cleanup;
	}
	*out = s;
	return 0;
cleanup:
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
	return r;
}

void dhcp_server_stop(struct dhcp_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn_errno(-errno, "cannot stop the DHCP thread");
	else
		pthread_join(s->thread, NULL);
	for (size_t i = 0; i < s->n_socks; i++)
		close(s->socks[i].fd);
	free(s->socks);
	close(s->epoll_fd);
	close(s->stop_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct dhcp_port *find_port(const struct dhcp_port *ports, size_t n, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i].ifindex == ifindex)
			return &ports[i];
	return NULL;
}

static int add_socket(struct dhcp_server *s, const struct dhcp_port *p)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct dhcp_sock *socks, *sk;
	int fd = -1, r;

	socks = realloc(s->socks, (s->n_socks + 1) * sizeof(*socks));
	if (!socks)
		return -ENOMEM;
	s->socks = socks;
	r = open_socket(p->ifindex, &fd);
	if (r < 0)
		return r;
	ev.data.u64 = s->next_id;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	sk = &s->socks[s->n_socks++];
	*sk = (struct dhcp_sock){.port = *p, .fd = fd, .id = s->next_id++};
	log_info("port %s: serving DHCP on ifindex %d", p->name, p->ifindex);
	return 0;
}

int dhcp_server_set_ports(struct dhcp_server *s, const struct dhcp_port *ports, size_t n)
{
	int result = 0, r;
	size_t i, j;

	pthread_mutex_lock(&s->lock);
	/* Close what is no longer wanted; update the leases of the rest. */
	for (i = 0, j = 0; i < s->n_socks; i++) {
		const struct dhcp_port *p = find_port(ports, n, s->socks[i].port.ifindex);

		if (!p) {
			log_info("port %s: no longer serving DHCP", s->socks[i].port.name);
			close(s->socks[i].fd); /* leaves the epoll set with it */
			continue;
		}
		s->socks[i].port = *p;
		s->socks[j++] = s->socks[i];
	}
	s->n_socks = j;
	for (i = 0; i < n; i++) {
		const struct dhcp_port *p = &ports[i];
		bool known = false;

		for (j = 0; j < s->n_socks && !known; j++)
			known = s->socks[j].port.ifindex == p->ifindex;
		if (known || find_port(ports, i, p->ifindex)) /* served, or a duplicate */
			continue;
		r = add_socket(s, p);
		if (r < 0) {
			log_warn_errno(r, "port %s: cannot serve DHCP on ifindex %d", p->name,
				       p->ifindex);
			if (!result)
				result = r;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return result;
}

void dhcp_server_stats(struct dhcp_server *s, struct dhcp_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->lock);
}
