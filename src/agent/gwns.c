/* SPDX-License-Identifier: MIT */
#include "agent/gwns.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/gateway.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"

#define IP_TIMEOUT_MS 5000

struct gwns {
	char *prefix;
	char *uplink;
	bool warned_no_uplink;
	char *node_rules; /* the node's table as last applied; NULL: not yet */
	char **ready;	  /* gateway namespaces configured by this process */
	size_t n_ready;
};

int gwns_new(const char *prefix, const char *uplink, struct gwns **out)
{
	struct gwns *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->prefix = strdup(prefix);
	g->uplink = uplink ? strdup(uplink) : NULL;
	if (!g->prefix || (uplink && !g->uplink)) {
		gwns_free(g);
		return -ENOMEM;
	}
	*out = g;
	return 0;
}

void gwns_free(struct gwns *g)
{
	if (!g)
		return;
	free(g->prefix);
	free(g->uplink);
	free(g->node_rules);
	proc_strv_free(g->ready, g->n_ready);
	free(g);
}

/* ip netns add|del NAME (iproute2 makes /run/netns a shared mount as needed). */
static int ip_netns(const char *verb, const char *name)
{
	static const char *const paths[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
	const char *ip = NULL;
	int status, r;
	pid_t pid;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !ip; i++)
		if (access(paths[i], X_OK) == 0)
			ip = paths[i];
	if (!ip)
		return -ENOENT;
	r = proc_spawn((const char *const[]){ip, "netns", verb, name, NULL},
		       &(struct proc_spawn_opts){.out = "/dev/null"}, &pid);
	if (r < 0)
		return r;
	r = proc_wait_exit(pid, clock_mono_ms() + IP_TIMEOUT_MS, &status);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		proc_wait_exit(pid, clock_mono_ms() + IP_TIMEOUT_MS, NULL);
	}
	if (r < 0)
		return r;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Runs an nftables script in netns (NULL: ours), as one transaction. */
static int nft_apply(const char *netns, const char *script)
{
	struct nft_ctx *nft;
	int saved = -1, r = 0;

	if (netns) {
		r = proc_netns_enter(netns, &saved);
		if (r < 0)
			return r;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT); /* its socket is opened here: in netns */
	if (!nft) {
		r = -ENOMEM;
	} else {
		nft_ctx_buffer_output(nft);
		nft_ctx_buffer_error(nft);
		if (nft_run_cmd_from_buffer(nft, script) != 0) {
			log_warn("nftables in %s: %s", netns ? netns : "the node's namespace",
				 nft_ctx_get_error_buffer(nft));
			r = -EIO;
		}
		nft_ctx_free(nft);
	}
	if (netns && proc_netns_leave(saved) < 0) {
		perror("gwns: cannot return to the node's network namespace");
		abort();
	}
	return r;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* net.ipv4.ip_forward = 1 in netns (NULL: ours). */
static int forwarding_on(const char *netns)
{
	int saved = -1, r;

	if (netns) {
		r = proc_netns_enter(netns, &saved);
		if (r < 0)
			return r;
	}
	r = write_file("/proc/sys/net/ipv4/ip_forward", "1");
	if (netns && proc_netns_leave(saved) < 0) {
		perror("gwns: cannot return to the node's network namespace");
		abort();
	}
	return r;
}

static bool is_ready(const struct gwns *g, const char *netns)
{
	for (size_t i = 0; i < g->n_ready; i++)
		if (strcmp(g->ready[i], netns) == 0)
			return true;
	return false;
}

static int mark_ready(struct gwns *g, const char *netns)
{
	char **v = realloc(g->ready, (g->n_ready + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	g->ready = v;
	if (!(g->ready[g->n_ready] = strdup(netns)))
		return -ENOMEM;
	g->n_ready++;
	return 0;
}

static void forget_ready(struct gwns *g, const char *netns)
{
	for (size_t i = 0; i < g->n_ready; i++) {
		if (strcmp(g->ready[i], netns) != 0)
			continue;
		free(g->ready[i]);
		g->ready[i] = g->ready[--g->n_ready];
		return;
	}
}

/* Inside the gateway namespace: lo and up0 up, up0's address, the default
 * route to the node's end, forwarding, the masquerade out of up0. */
static int setup_inside(struct gwns *g, const struct desired_port *p, uint32_t node_end,
			uint32_t ns_end)
{
	static const char rules[] =
	    "table ip " GATEWAY_NFT_TABLE " {}\n"
	    "delete table ip " GATEWAY_NFT_TABLE "\n"
	    "table ip " GATEWAY_NFT_TABLE " {\n"
	    "  chain postrouting {\n"
	    "    type nat hook postrouting priority srcnat; policy accept;\n"
	    "    oifname \"" GATEWAY_NS_UPLINK "\" masquerade\n"
	    "  }\n"
	    "}\n";
	struct nl_sock *ns = NULL;
	struct nl_link up, lo;
	int r;

	r = nl_open_netns(p->netns, &ns);
	if (r < 0)
		return r;
	r = nl_link_get(ns, "lo", &lo);
	if (r == 0 && !(lo.flags & IFF_UP))
		r = nl_link_set_up(ns, lo.ifindex, true);
	if (r == 0)
		r = nl_link_get(ns, GATEWAY_NS_UPLINK, &up);
	if (r == 0)
		r = nl_addr_add(ns, up.ifindex, ns_end, 31);
	if (r == 0 && !(up.flags & IFF_UP))
		r = nl_link_set_up(ns, up.ifindex, true);
	if (r == 0)
		r = nl_route_default(ns, up.ifindex, node_end);
	nl_close(ns);
	if (r < 0 || is_ready(g, p->netns))
		return r;
	r = forwarding_on(p->netns);
	if (r == 0)
		r = nft_apply(p->netns, rules);
	if (r == 0)
		r = mark_ready(g, p->netns);
	return r;
}

/* The namespace, its link to ours (both ends addressed and up), the inside. */
static int sync_one(struct gwns *g, struct nl_sock *nl, const struct desired_port *p,
		    const char *network_link)
{
	uint32_t node_end, ns_end;
	struct nl_link link;
	int fd, r;

	if (!proc_netns_exists(p->netns)) {
		forget_ready(g, p->netns);
		r = ip_netns("add", p->netns);
		if (r < 0)
			return r;
		log_info("gateway namespace %s created", p->netns);
	}
	gateway_link_addrs(p->vni, &node_end, &ns_end);
	r = nl_link_get(nl, network_link, &link);
	if (r == -ENODEV) {
		r = proc_netns_open(p->netns, &fd);
		if (r < 0)
			return r;
		r = nl_veth_create(nl, network_link, GATEWAY_NS_UPLINK, fd, NULL, 0);
		close(fd);
		if (r == 0)
			r = nl_link_get(nl, network_link, &link);
		forget_ready(g, p->netns);
	}
	if (r < 0)
		return r;
	r = nl_addr_add(nl, link.ifindex, node_end, 31);
	if (r == 0 && !(link.flags & IFF_UP))
		r = nl_link_set_up(nl, link.ifindex, true);
	if (r == 0)
		r = setup_inside(g, p, node_end, ns_end);
	return r;
}

/* The node's table: masquerade to the uplink, and the links reach nothing else. */
static int sync_node_rules(struct gwns *g, bool any)
{
	char rules[1024];
	int r;

	if (any)
		snprintf(rules, sizeof(rules),
			 "table ip %1$s {}\n"
			 "delete table ip %1$s\n"
			 "table ip %1$s {\n"
			 "  chain postrouting {\n"
			 "    type nat hook postrouting priority srcnat; policy accept;\n"
			 "    ip saddr 169.254.0.0/16 oifname \"%2$s\" masquerade\n"
			 "  }\n"
			 "  chain forward {\n"
			 "    type filter hook forward priority filter; policy accept;\n"
			 "    iifname \"gwup*\" oifname != \"%2$s\" drop\n"
			 "  }\n"
			 "  chain input {\n"
			 "    type filter hook input priority filter; policy accept;\n"
			 "    iifname \"gwup*\" drop\n"
			 "  }\n"
			 "}\n",
			 GATEWAY_NFT_TABLE, g->uplink);
	else
		snprintf(rules, sizeof(rules), "table ip %1$s {}\ndelete table ip %1$s\n",
			 GATEWAY_NFT_TABLE);
	if (g->node_rules && strcmp(g->node_rules, rules) == 0)
		return 0;
	if (any) {
		r = forwarding_on(NULL);
		if (r < 0)
			return r;
	}
	r = nft_apply(NULL, rules);
	/* Cleaning up what may not be there is tried once (nftables may be absent). */
	if (r < 0 && any)
		return r;
	free(g->node_rules);
	g->node_rules = strdup(rules);
	return g->node_rules ? 0 : -ENOMEM;
}

static bool wanted_netns(const struct desired_local *local, const char *name)
{
	for (size_t i = 0; i < local->n; i++)
		if (local->ports[i].gateway_port && strcmp(local->ports[i].netns, name) == 0)
			return true;
	return false;
}

struct stale_links {
	const struct desired_local *local;
	int victims[64];
	size_t n;
};

static int collect_stale_link(const struct nl_link *link, void *data)
{
	struct stale_links *s = data;
	char want[IFNAMSIZ];

	if (!gateway_link_ifname_valid(link->name) || s->n == 64)
		return 0;
	for (size_t i = 0; i < s->local->n; i++) {
		const struct desired_port *p = &s->local->ports[i];

		if (!p->gateway_port)
			continue;
		gateway_link_ifname(p->network, want);
		if (strcmp(want, link->name) == 0)
			return 0;
	}
	s->victims[s->n++] = link->ifindex;
	return 0;
}

/* Gateway namespaces and links of ours that nothing wants. */
static int delete_stale(struct gwns *g, struct nl_sock *nl, const struct desired_local *local)
{
	struct stale_links s = {.local = local};
	size_t n = 0, plen = strlen(g->prefix);
	char **names = NULL;
	int r, result = 0;

	r = proc_netns_list(&names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], g->prefix, plen) != 0 || wanted_netns(local, names[i]))
			continue;
		r = ip_netns("del", names[i]);
		if (r < 0) {
			log_warn("cannot delete gateway namespace %s: %s", names[i], strerror(-r));
			result = r;
			continue;
		}
		forget_ready(g, names[i]);
		log_info("gateway namespace %s deleted", names[i]);
	}
	proc_strv_free(names, n);
	r = nl_link_dump(nl, collect_stale_link, &s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s.n; i++)
		nl_link_del(nl, s.victims[i]); /* its peer's namespace went first: -ENODEV */
	return result;
}

int gwns_sync(struct gwns *g, struct nl_sock *nl, const struct desired_local *local)
{
	char link[IFNAMSIZ];
	bool any = false;
	int r, result = 0;

	for (size_t i = 0; i < local->n; i++) {
		const struct desired_port *p = &local->ports[i];

		if (!p->gateway_port)
			continue;
		any = true;
		gateway_link_ifname(p->network, link);
		r = sync_one(g, nl, p, link);
		if (r < 0) {
			log_warn("gateway %s (namespace %s): %s; will retry", p->name, p->netns,
				 strerror(-r));
			result = -EAGAIN;
		}
	}
	r = delete_stale(g, nl, local);
	if (r < 0)
		result = -EAGAIN;
	r = sync_node_rules(g, any);
	if (r < 0) {
		log_warn("gateway rules of the node: %s; will retry", strerror(-r));
		result = -EAGAIN;
	}
	return result;
}
