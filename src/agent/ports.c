/* SPDX-License-Identifier: MIT */
#include "agent/ports.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

static int link_ensure(struct nl_sock *nl, const struct nl_link *link, const uint8_t *mac,
		       uint32_t mtu)
{
	bool mac_ok = !mac || (link->has_mac && memcmp(link->mac, mac, 6) == 0);
	int r;

	if (!mac_ok) {
		/* Not every driver changes its address while up. */
		r = nl_link_set(nl, link->ifindex, mac, 0, NULL);
		if (r < 0) {
			r = nl_link_set_up(nl, link->ifindex, false);
			if (r == 0)
				r = nl_link_set(nl, link->ifindex, mac, 0, NULL);
			if (r < 0)
				return r;
			return nl_link_set_up(nl, link->ifindex, true);
		}
	}
	if (mtu && link->mtu != mtu) {
		r = nl_link_set(nl, link->ifindex, NULL, mtu, NULL);
		if (r < 0)
			return r;
	}
	if (!(link->flags & IFF_UP))
		return nl_link_set_up(nl, link->ifindex, true);
	return 0;
}

static int create_pair(struct nl_sock *nl, struct nl_sock *ep, const struct desired_port *p,
		       uint32_t mtu)
{
	struct nl_link peer;
	char path[128];
	int fd, r;

	/* An eth0 already in the endpoint netns is someone else's device. */
	if (nl_link_get(ep, PORTS_PEER_NAME, &peer) == 0)
		return -EEXIST;
	snprintf(path, sizeof(path), "/run/netns/%s", p->netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = nl_veth_create(nl, p->ifname, PORTS_PEER_NAME, fd, p->mac, mtu);
	close(fd);
	return r;
}

/* The endpoint side: eth0 with MAC/MTU/IPv4, up, and lo up. */
static int endpoint_ensure(struct nl_sock *ep, const struct desired_port *p, uint32_t mtu)
{
	struct nl_link eth0, lo;
	int r;

	r = nl_link_get(ep, PORTS_PEER_NAME, &eth0);
	if (r < 0)
		return r;
	r = link_ensure(ep, &eth0, p->mac, mtu);
	if (r < 0)
		return r;
	if (nl_link_get(ep, "lo", &lo) == 0 && !(lo.flags & IFF_UP)) {
		r = nl_link_set_up(ep, lo.ifindex, true);
		if (r < 0)
			return r;
	}
	if (p->ipv4)
		return nl_addr_add(ep, eth0.ifindex, p->ipv4, p->prefixlen);
	return 0;
}

int ports_plumb_veth(struct nl_sock *nl, const struct desired_port *p, uint32_t mtu, int *ifindex)
{
	struct nl_sock *ep = NULL;
	struct nl_link host;
	int r;

	r = nl_open_netns(p->netns, &ep);
	if (r < 0)
		return r;
	r = nl_link_get(nl, p->ifname, &host);
	if (r == 0 && strcmp(host.kind, "veth") != 0) {
		r = -EEXIST; /* a gw* device of another kind: never ours */
		goto cleanup;
	}
	/* Host end without its peer in the endpoint netns: make the pair again. */
	if (r == 0 && nl_link_get(ep, PORTS_PEER_NAME, &(struct nl_link){ 0 }) == -ENODEV) {
		r = nl_link_del(nl, host.ifindex);
		if (r < 0)
			goto cleanup;
		r = -ENODEV;
	}
	if (r == -ENODEV) {
		r = create_pair(nl, ep, p, mtu);
		if (r < 0)
			goto cleanup;
		r = nl_link_get(nl, p->ifname, &host);
	}
	if (r < 0)
		goto cleanup;
	r = link_ensure(nl, &host, NULL, mtu);
	if (r < 0)
		goto cleanup;
	r = endpoint_ensure(ep, p, mtu);
	if (r < 0)
		goto cleanup;
	*ifindex = host.ifindex;
cleanup:
	nl_close(ep);
	return r;
}

struct stale_ctx {
	const struct desired_local *want;
	int *victims;
	size_t n;
};

static int collect_stale(const struct nl_link *link, void *data)
{
	struct stale_ctx *s = data;
	int *p;

	if (!desired_ifname_valid(link->name))
		return 0;
	for (size_t i = 0; i < s->want->n; i++)
		if (strcmp(s->want->ports[i].ifname, link->name) == 0)
			return 0;
	p = realloc(s->victims, (s->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->victims = p;
	s->victims[s->n++] = link->ifindex;
	return 0;
}

int ports_delete_stale(struct nl_sock *nl, const struct desired_local *want)
{
	struct stale_ctx s = { .want = want };
	int r, deleted = 0;

	r = nl_link_dump(nl, collect_stale, &s);
	if (r < 0)
		goto cleanup;
	for (size_t i = 0; i < s.n; i++) {
		int d = nl_link_del(nl, s.victims[i]);

		/* The peer of a pair deleted just before is gone as well. */
		if (d < 0 && d != -ENODEV) {
			r = d;
			continue;
		}
		if (d == 0)
			deleted++;
	}
	if (r == 0)
		r = deleted;
cleanup:
	free(s.victims);
	return r;
}
