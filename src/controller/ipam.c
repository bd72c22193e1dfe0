/* SPDX-License-Identifier: MIT */
#include "ipam.h"
#include "lib/addr.h"
#include "lib/kinds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VNI_MAX		   16777215u
#define IFNAME_PERTURB_MAX 1000

static void ipv4_pool(const char *network, char pool[96])
{
	snprintf(pool, 96, "ipv4/%s", network);
}

static void mac_owner(const char *network, const char *owner, char key[160])
{
	snprintf(key, 160, "%s/%s", network, owner);
}

int ipam_network_from_object(const json_t *network, struct ipam_network *out)
{
	const json_t *spec = json_object_get(network, "spec");
	const char *name = obj_name(network);
	const char *cidr = json_string_value(json_object_get(spec, "cidr"));
	const char *gw = json_string_value(json_object_get(spec, "gateway"));
	struct ipam_network n = {.name = name};

	if (!name || !cidr || !gw || addr_ipv4_parse_cidr(cidr, &n.net, &n.len) < 0 ||
	    addr_ipv4_parse(gw, &n.gateway) < 0 || n.len < 8 || n.len > 30)
		return -EINVAL;
	*out = n;
	return 0;
}

static int describe_holder(struct store *s, const char *pool, uint64_t value, char **owner,
			   bool *held)
{
	int r = s->ops->alloc_get(s, pool, value, owner, held);

	if (r == -ENOENT) {
		*owner = NULL;
		*held = false;
		return 0;
	}
	return r;
}

/*
 * The next value in [lo, hi] that is not held and not `skip`, scanning from
 * cursor round-robin. -ENOSPC when every value is taken.
 */
static int next_free(struct store *s, const char *pool, uint64_t lo, uint64_t hi, uint64_t skip,
		     uint64_t cursor, uint64_t *out)
{
	uint64_t c = cursor < lo || cursor > hi ? lo : cursor, held;
	uint64_t size = hi - lo + 1;
	int r;

	for (uint64_t tried = 0; tried < size; tried++) {
		if (c != skip) {
			r = s->ops->alloc_next_held(s, pool, c, &held);
			if (r == -ENOENT || (r == 0 && held != c)) {
				*out = c;
				return 0;
			}
			if (r < 0)
				return r;
		}
		c = c == hi ? lo : c + 1;
	}
	return -ENOSPC;
}

int ipam_ipv4_acquire(struct store *s, const struct ipam_network *n, const char *owner,
		      const char *requested, uint32_t *addr, struct api_error *err)
{
	uint32_t mask = addr_ipv4_mask(n->len), lo = n->net + 1, hi = (n->net | ~mask) - 1, a = 0;
	char pool[96], text[16], cidr[24];
	uint64_t value, cursor;
	char *holder = NULL;
	bool held;
	int r;

	ipv4_pool(n->name, pool);
	addr_ipv4_format(n->net, text);
	snprintf(cidr, sizeof(cidr), "%s/%u", text, n->len);

	r = s->ops->alloc_find_owner(s, pool, owner, &value, &held);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && held) {
		addr_ipv4_format((uint32_t)value, text);
		return api_error_set(err, 409, "spec.owner",
				     "spec.owner: \"%s\" already holds %s in network %s", owner,
				     text, n->name);
	}
	bool owner_had = r == 0;

	if (requested) {
		if (addr_ipv4_parse(requested, &a) < 0 || (a & mask) != n->net || a < lo ||
		    a > hi || a == n->gateway)
			return api_error_set(err, 400, "spec.ipv4",
					     "spec.ipv4: \"%s\" is not a free host address of %s "
					     "(network %s, gateway %s excluded)",
					     requested, cidr, n->name,
					     (addr_ipv4_format(n->gateway, text), text));
		r = describe_holder(s, pool, a, &holder, &held);
		if (r < 0)
			return r;
		if (held) {
			r = api_error_set(err, 409, "spec.ipv4",
					  "spec.ipv4: %s is in use by \"%s\" in network %s",
					  requested, holder, n->name);
			free(holder);
			return r;
		}
		free(holder);
	} else if (owner_had) {
		a = (uint32_t)value; /* still free: a new holder would have replaced the owner */
	} else {
		r = s->ops->cursor_get(s, pool, &cursor);
		if (r < 0)
			return r;
		r = next_free(s, pool, lo, hi, n->gateway, cursor, &value);
		if (r == -ENOSPC)
			return api_error_set(err, 507, "spec.ipv4",
					     "network %s: no free IPv4 address in %s", n->name,
					     cidr);
		if (r < 0)
			return r;
		a = (uint32_t)value;
		r = s->ops->cursor_set(s, pool, a == hi ? lo : a + 1);
		if (r < 0)
			return r;
	}
	r = s->ops->alloc_set(s, pool, a, owner, true);
	if (r < 0)
		return r;
	*addr = a;
	return 0;
}

int ipam_ipv4_release(struct store *s, const char *network, uint32_t addr, const char *owner)
{
	char pool[96];

	ipv4_pool(network, pool);
	return s->ops->alloc_set(s, pool, addr, owner, false);
}

int ipam_mac_acquire(struct store *s, const char *network, const char *owner, const char *requested,
		     uint64_t *mac, struct api_error *err)
{
	const uint64_t lo = IPAM_MAC_PREFIX + 1, hi = IPAM_MAC_PREFIX + 0xffffffffULL;
	char key[160], *holder = NULL;
	uint64_t m = 0, value, cursor;
	bool held;
	int r;

	mac_owner(network, owner, key);
	r = s->ops->alloc_find_owner(s, "mac", key, &value, &held);
	if (r < 0 && r != -ENOENT)
		return r;
	bool owner_had = r == 0 && !held;

	if (requested) {
		if (addr_mac_parse_u64(requested, &m) < 0)
			return api_error_set(err, 400, "spec.mac",
					     "spec.mac: \"%s\" is not a MAC address", requested);
		r = describe_holder(s, "mac", m, &holder, &held);
		if (r < 0)
			return r;
		if (held) {
			r = api_error_set(err, 409, "spec.mac", "spec.mac: %s is in use by \"%s\"",
					  requested, holder);
			free(holder);
			return r;
		}
		free(holder);
	} else if (owner_had) {
		m = value;
	} else {
		r = s->ops->cursor_get(s, "mac", &cursor);
		if (r < 0)
			return r;
		r = next_free(s, "mac", lo, hi, 0, cursor, &m);
		if (r == -ENOSPC)
			return api_error_set(err, 507, "spec.mac", "no free MAC address");
		if (r < 0)
			return r;
		r = s->ops->cursor_set(s, "mac", m == hi ? lo : m + 1);
		if (r < 0)
			return r;
	}
	r = s->ops->alloc_set(s, "mac", m, key, true);
	if (r < 0)
		return r;
	*mac = m;
	return 0;
}

int ipam_mac_release(struct store *s, const char *network, uint64_t mac, const char *owner)
{
	char key[160];

	mac_owner(network, owner, key);
	return s->ops->alloc_set(s, "mac", mac, key, false);
}

int ipam_vni_acquire(struct store *s, const char *network, int64_t requested, uint32_t *vni,
		     struct api_error *err)
{
	uint64_t v = (uint64_t)requested, held_value;
	char *holder = NULL;
	bool held;
	int r;

	if (requested > 0) {
		r = describe_holder(s, "vni", v, &holder, &held);
		if (r < 0)
			return r;
		if (held && strcmp(holder, network) != 0) {
			r = api_error_set(err, 409, "spec.vni",
					  "spec.vni: %lld is in use by network %s",
					  (long long)requested, holder);
			free(holder);
			return r;
		}
		free(holder);
	} else {
		/* Lowest free: walk up while the candidate is held. */
		for (v = IPAM_VNI_FIRST; v <= VNI_MAX; v++) {
			r = s->ops->alloc_next_held(s, "vni", v, &held_value);
			if (r == -ENOENT || (r == 0 && held_value != v))
				break;
			if (r < 0)
				return r;
		}
		if (v > VNI_MAX)
			return api_error_set(err, 507, "spec.vni", "no free VNI");
	}
	r = s->ops->alloc_set(s, "vni", v, network, true);
	if (r < 0)
		return r;
	*vni = (uint32_t)v;
	return 0;
}

int ipam_vni_release(struct store *s, const char *network, uint32_t vni)
{
	return s->ops->alloc_set(s, "vni", vni, network, false);
}

/* FNV-1a 64 of name, or of "name#i" for the i-th perturbation. */
static uint64_t ifname_hash(const char *name, int i)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char buf[96];

	if (i == 0)
		snprintf(buf, sizeof(buf), "%s", name);
	else
		snprintf(buf, sizeof(buf), "%s#%d", name, i);
	for (const char *p = buf; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	return (h ^ (h >> 40)) & 0xffffffffffULL; /* 40 bits = 10 hex chars */
}

int ipam_ifname_acquire(struct store *s, const char *port, char ifname[16], struct api_error *err)
{
	char *holder = NULL;
	uint64_t h = 0;
	bool held;
	int r, i;

	for (i = 0; i < IFNAME_PERTURB_MAX; i++) {
		h = ifname_hash(port, i);
		r = describe_holder(s, "ifname", h, &holder, &held);
		if (r < 0)
			return r;
		bool mine = holder && strcmp(holder, port) == 0;

		free(holder);
		holder = NULL;
		if (!held || mine)
			break;
	}
	if (i == IFNAME_PERTURB_MAX)
		return api_error_set(err, 507, "spec.ifname", "no free device name for port %s",
				     port);
	r = s->ops->alloc_set(s, "ifname", h, port, true);
	if (r < 0)
		return r;
	snprintf(ifname, 16, "gw%010llx", (unsigned long long)h);
	return 0;
}

int ipam_ifname_release(struct store *s, const char *port, const char *ifname)
{
	unsigned long long h;

	if (sscanf(ifname, "gw%10llx", &h) != 1)
		return -EINVAL;
	return s->ops->alloc_set(s, "ifname", h, port, false);
}

int ipam_network_in_use(struct store *s, const char *network, bool *in_use)
{
	char pool[96];
	int64_t n;
	int r;

	ipv4_pool(network, pool);
	r = s->ops->alloc_count_held(s, pool, &n);
	if (r < 0)
		return r;
	*in_use = n > 0;
	return 0;
}

int ipam_network_drop(struct store *s, const char *network)
{
	char pool[96];

	ipv4_pool(network, pool);
	return s->ops->alloc_drop_pool(s, pool);
}
