/* SPDX-License-Identifier: MIT */
#include "agent/ports.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/proc.h"

/* Sets MAC (NULL: leave) and MTU (0: leave) of a link; its up/down state is
 * what it was before, unless up is set (then it ends up). */
static int link_ensure(struct nl_sock *nl, const struct nl_link *link, const uint8_t *mac,
		       uint32_t mtu, bool up)
{
	bool mac_ok = !mac || (link->has_mac && memcmp(link->mac, mac, 6) == 0);
	bool was_up = link->flags & IFF_UP;
	int r;

	if (!mac_ok) {
		/* Not every driver changes its address while up. */
		r = nl_link_set(nl, link->ifindex, mac, 0, NULL);
		if (r < 0 && was_up) {
			r = nl_link_set_up(nl, link->ifindex, false);
			if (r == 0)
				r = nl_link_set(nl, link->ifindex, mac, 0, NULL);
			if (r < 0)
				return r;
			r = nl_link_set_up(nl, link->ifindex, true);
		}
		if (r < 0)
			return r;
	}
	if (mtu && link->mtu != mtu) {
		r = nl_link_set(nl, link->ifindex, NULL, mtu, NULL);
		if (r < 0)
			return r;
	}
	if (up && !was_up)
		return nl_link_set_up(nl, link->ifindex, true);
	return 0;
}

static int write_sysctl(const char *path, const char *value)
{
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		r = -errno;
	close(fd);
	return r;
}

int ports_ipv6_off(const char *netns)
{
	static const char *const paths[] = {
		"/proc/sys/net/ipv6/conf/default/disable_ipv6",
		"/proc/sys/net/ipv6/conf/all/disable_ipv6",
	};
	int saved, r;

	/* /proc/sys/net shows the netns of the thread that opens the file. */
	r = proc_netns_enter(netns, &saved);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && r == 0; i++) {
		r = write_sysctl(paths[i], "1");
		if (r == -ENOENT)
			r = 0; /* no IPv6 in this kernel */
	}
	if (proc_netns_leave(saved) < 0) {
		perror("ports_ipv6_off: cannot return to the original network namespace");
		abort();
	}
	return r;
}

struct find_ifindex {
	int ifindex;
	struct nl_link found;
	bool ok;
};

static int match_ifindex(const struct nl_link *link, void *data)
{
	struct find_ifindex *f = data;

	if (link->ifindex == f->ifindex) {
		f->found = *link;
		f->ok = true;
	}
	return 0;
}

/* The peer of the host end in the endpoint netns: -ENODEV when it is not there. */
static int find_peer(struct nl_sock *ep, const struct nl_link *host, struct nl_link *peer)
{
	struct find_ifindex f = { .ifindex = host->link };
	int r;

	if (host->link <= 0)
		return -ENODEV;
	r = nl_link_dump(ep, match_ifindex, &f);
	if (r < 0)
		return r;
	if (!f.ok || strcmp(f.found.kind, "veth") != 0)
		return -ENODEV;
	*peer = f.found;
	return 0;
}

/* The name a new peer gets in the endpoint netns. */
static int peer_name(struct nl_sock *ep, const struct desired_port *p, const char **name)
{
	struct nl_link l;

	if (nl_link_get(ep, PORTS_PEER_NAME, &l) == -ENODEV) {
		*name = PORTS_PEER_NAME;
		return 0;
	}
	/* An eth0 already there is someone else's (the source's link when
	 * this node is the migration target). */
	if (p->standby && nl_link_get(ep, PORTS_PEER_NAME_ALT, &l) == -ENODEV) {
		*name = PORTS_PEER_NAME_ALT;
		return 0;
	}
	return -EEXIST;
}

/* First-time setup of a new peer (see ports.h). */
static int peer_setup(struct nl_sock *ep, const struct desired_port *p, const char *name)
{
	struct nl_link peer, lo;
	int r;

	if (nl_link_get(ep, "lo", &lo) == 0 && !(lo.flags & IFF_UP)) {
		r = nl_link_set_up(ep, lo.ifindex, true);
		if (r < 0)
			return r;
	}
	if (p->standby)
		return 0; /* down, no address */
	r = nl_link_get(ep, name, &peer);
	if (r < 0)
		return r;
	if (p->ipv4) {
		r = nl_addr_add(ep, peer.ifindex, p->ipv4, p->prefixlen);
		if (r < 0)
			return r;
	}
	r = nl_link_set_up(ep, peer.ifindex, true);
	/* Off-subnet traffic to the network's gateway (gateway.h), as DHCP's router. */
	if (r == 0 && p->ipv4 && p->gateway && p->gateway != p->ipv4)
		r = nl_route_default(ep, peer.ifindex, p->gateway);
	return r;
}

/* A port's host end says nothing on its own: no IPv6 autoconfiguration
 * (router solicitations, DAD, MLD) towards the VM or endpoint. Before it is up. */
static int host_ipv6_off(const char *ifname)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	r = write_sysctl(path, "1");
	return r == -ENOENT ? 0 : r; /* a kernel without IPv6 */
}

static int create_pair(struct nl_sock *nl, struct nl_sock *ep, const struct desired_port *p,
		       uint32_t mtu)
{
	struct nl_link host;
	const char *name;
	int fd, r;

	r = peer_name(ep, p, &name);
	if (r < 0)
		return r;
	r = ports_ipv6_off(p->netns);
	if (r < 0)
		return r;
	r = proc_netns_open(p->netns, &fd);
	if (r < 0)
		return r;
	r = nl_veth_create(nl, p->ifname, name, fd, p->mac, mtu);
	close(fd);
	if (r < 0)
		return r;
	r = host_ipv6_off(p->ifname);
	if (r == 0)
		r = peer_setup(ep, p, name);
	/* Half set up: gone, so that the next attempt creates it afresh. */
	if (r < 0 && nl_link_get(nl, p->ifname, &host) == 0)
		nl_link_del(nl, host.ifindex);
	return r;
}

int ports_plumb_veth(struct nl_sock *nl, const struct desired_port *p, uint32_t mtu, int *ifindex)
{
	struct nl_sock *ep = NULL;
	struct nl_link host, peer;
	int r;

	r = nl_open_netns(p->netns, &ep);
	if (r < 0)
		return r;
	r = nl_link_get(nl, p->ifname, &host);
	if (r == 0 && strcmp(host.kind, "veth") != 0) {
		r = -EEXIST; /* a gw* device of another kind: never ours */
		goto cleanup;
	}
	if (r == 0) {
		r = find_peer(ep, &host, &peer);
		/* Host end without its peer in the endpoint netns: make the pair again. */
		if (r == -ENODEV) {
			r = nl_link_del(nl, host.ifindex);
			if (r < 0)
				goto cleanup;
			r = -ENODEV;
		} else if (r == 0) {
			r = link_ensure(ep, &peer, p->mac, mtu, false);
			if (r < 0)
				goto cleanup;
		}
	}
	if (r == -ENODEV) {
		r = create_pair(nl, ep, p, mtu);
		if (r < 0)
			goto cleanup;
		r = nl_link_get(nl, p->ifname, &host);
	}
	if (r < 0)
		goto cleanup;
	r = link_ensure(nl, &host, NULL, mtu, true);
	if (r < 0)
		goto cleanup;
	*ifindex = host.ifindex;
cleanup:
	nl_close(ep);
	return r;
}

static int tap_create(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd, r = 0;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0)
		r = -errno;
	close(fd);
	return r;
}

int ports_plumb_tap(struct nl_sock *nl, const struct desired_port *p, uint32_t mtu, int *ifindex)
{
	struct nl_link link;
	int r;

	r = nl_link_get(nl, p->ifname, &link);
	if (r == 0 && strcmp(link.kind, "tun") != 0)
		return -EEXIST; /* a gw* device of another kind: never ours */
	if (r == -ENODEV) {
		r = tap_create(p->ifname);
		if (r < 0)
			return r;
		r = host_ipv6_off(p->ifname);
		if (r < 0)
			return r;
		r = nl_link_get(nl, p->ifname, &link);
	}
	if (r < 0)
		return r;
	r = link_ensure(nl, &link, NULL, mtu, true);
	if (r < 0)
		return r;
	*ifindex = link.ifindex;
	return 0;
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
		/* veth pairs and persistent taps alike go with RTM_DELLINK */
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
