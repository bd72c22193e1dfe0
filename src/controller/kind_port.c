/* SPDX-License-Identifier: MIT */
/*
 * The Port kind: a network attachment at one or two locations, its MAC,
 * IPv4 and device name allocated by ipam.c (kept for its whole life).
 * spec.target belongs to migrations (a client's change: 422) and, while a
 * migration runs (status.migration), so do spec.locations and spec.strategy
 * (409); such a port is deleted only once the migration is aborted. A VM's
 * Port goes with its VM (kind_vm.h).
 */
#include "kind.h"
#include "bpf/abi.h"
#include "ipam.h"
#include "kind_vm.h"
#include "lib/addr.h"

#include <errno.h>
#include <string.h>

#define NETNS_NAME_MAX 64

static bool netns_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len < 1 || len > NETNS_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static int validate_locations(const json_t *spec, json_t *out, struct api_error *err)
{
	json_t *locs = json_object_get(spec, "locations"), *copy, *item;
	size_t i;
	int r;

	r = api_require(spec, "locations", "spec.locations", err);
	if (r == 0)
		r = api_expect_type(locs, JSON_ARRAY, "spec.locations", err);
	if (r < 0)
		return r;
	if (json_array_size(locs) < 1 || json_array_size(locs) > 2)
		return api_error_set(err, 400, "spec.locations",
				     "spec.locations: needs 1 or 2 node names, got %zu",
				     json_array_size(locs));
	json_array_foreach(locs, i, item)
	{
		if (!json_is_string(item) || !object_name_valid(json_string_value(item)))
			return api_error_set(err, 400, "spec.locations",
					     "spec.locations[%zu]: not a node name", i);
	}
	if (json_array_size(locs) == 2 &&
	    json_equal(json_array_get(locs, 0), json_array_get(locs, 1)))
		return api_error_set(err, 400, "spec.locations",
				     "spec.locations: \"%s\" is listed twice",
				     json_string_value(json_array_get(locs, 0)));
	copy = json_deep_copy(locs);
	if (!copy || json_object_set_new(out, "locations", copy) < 0)
		return -ENOMEM;
	return 0;
}

static int port_validate(const json_t *spec, const char *name, json_t *out, struct api_error *err)
{
	static const char *const allowed[] = {"network",  "owner",    "locations", "mac",
					      "ipv4",	  "type",     "netns",	   "ifname",
					      "security", "strategy", "target",	   NULL};
	static const char *const types[] = {"veth", "tap", NULL};
	const char *owner, *mac, *ipv4, *netns, *ifname;
	uint64_t mac_value;
	uint32_t addr;
	char buf[18];
	json_t *j;
	int r;

	r = api_check_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = api_require(spec, "network", "spec.network", err);
	if (r == 0)
		r = api_copy_name(spec, "network", "spec.network", "a valid name", out, err);
	if (r < 0)
		return r;

	r = api_get_name(spec, "owner", "spec.owner", "a valid name", &owner, err);
	if (r < 0)
		return r;
	json_object_set_new(out, "owner", json_string(owner ? owner : name));

	r = validate_locations(spec, out, err);
	if (r < 0)
		return r;

	r = api_get_string(spec, "mac", "spec.mac", &mac, err);
	if (r < 0)
		return r;
	if (mac) {
		if (addr_mac_parse_u64(mac, &mac_value) < 0)
			return api_error_set(err, 400, "spec.mac",
					     "spec.mac: \"%.64s\" is not a MAC address", mac);
		if (mac_value == 0 || (mac_value >> 40) & 1)
			return api_error_set(err, 400, "spec.mac",
					     "spec.mac: \"%s\" is not a unicast address", mac);
		addr_mac_format_u64(mac_value, buf);
		json_object_set_new(out, "mac", json_string(buf));
	}

	r = api_get_ipv4(spec, "ipv4", "spec.ipv4", &ipv4, &addr, err);
	if (r < 0)
		return r;
	if (ipv4)
		json_object_set_new(out, "ipv4", json_string(ipv4));

	r = api_get_choice(spec, "type", "spec.type", types, out, err);
	if (r < 0)
		return r;

	r = api_get_string(spec, "netns", "spec.netns", &netns, err);
	if (r < 0)
		return r;
	if (netns) {
		if (!netns_name_valid(netns))
			return api_error_set(err, 400, "spec.netns",
					     "spec.netns: \"%.64s\" is not a namespace name",
					     netns);
		json_object_set_new(out, "netns", json_string(netns));
	}

	/* Server-assigned; a client may echo it back (port_create refuses it, port_update
	 * compares). */
	r = api_get_string(spec, "ifname", "spec.ifname", &ifname, err);
	if (r < 0)
		return r;
	if (ifname)
		json_object_set_new(out, "ifname", json_string(ifname));

	j = json_object_get(spec, "security");
	if (j && (r = api_expect_type(j, JSON_TRUE, "spec.security", err)) < 0)
		return r;
	json_object_set_new(out, "security", json_boolean(!j || json_is_true(j)));

	/* Set by the controller through a migration; port_create and port_update refuse changes. */
	r = api_copy_name(spec, "target", "spec.target", "a node name", out, err);
	if (r < 0)
		return r;

	return api_get_strategy(spec, true, out, err);
}

static int port_create(struct txn *t, json_t *obj, struct api_error *err)
{
	struct store *s = t->store;
	json_t *spec = obj_spec(obj), *network = NULL;
	const char *name = obj_name(obj), *owner = obj_spec_str(obj, "owner");
	struct ipam_network n;
	char ifname[16], text[18];
	uint32_t addr;
	uint64_t mac;
	int r;

	if (obj_spec_str(obj, "ifname"))
		return api_error_set(err, 400, "spec.ifname",
				     "spec.ifname is set by the server; leave it out");
	if (obj_spec_str(obj, "target"))
		return api_error_set(err, 422, "spec.target",
				     "spec.target is set by the controller through a migration; "
				     "leave it out (POST /v1/migrations)");
	r = txn_get_ref(t, KIND_NETWORK, obj_spec_str(obj, "network"), "spec.network", &network,
			err);
	if (r < 0)
		return r;
	r = ipam_network_from_object(network, &n);
	if (r < 0)
		goto cleanup;
	r = ipam_ipv4_acquire(s, &n, owner, obj_spec_str(obj, "ipv4"), &addr, err);
	if (r < 0)
		goto cleanup;
	r = ipam_mac_acquire(s, n.name, owner, obj_spec_str(obj, "mac"), &mac, err);
	if (r < 0)
		goto cleanup;
	r = ipam_ifname_acquire(s, name, ifname, err);
	if (r < 0)
		goto cleanup;
	addr_ipv4_format(addr, text);
	json_object_set_new(spec, "ipv4", json_string(text));
	addr_mac_format_u64(mac, text);
	json_object_set_new(spec, "mac", json_string(text));
	json_object_set_new(spec, "ifname", json_string(ifname));
cleanup:
	json_decref(network);
	return r;
}

/* The name of the migration a port is in, or NULL. */
static const char *port_migration(const json_t *port)
{
	return obj_str(port, "status", "migration");
}

/*
 * spec.target belongs to migrations: left out = kept, changed = 422. While a
 * migration runs, so do locations and strategy (left out = kept, changed = 409).
 */
static int port_merge_migration(json_t *obj, const json_t *old, const json_t *body,
				struct api_error *err)
{
	static const char *const owned[] = {"locations", "strategy"};
	json_t *spec = obj_spec(obj), *was = json_object_get(obj_spec(old), "target");
	const char *migration = port_migration(old);

	if (!body_gives(body, "target")) {
		if (was)
			json_object_set(spec, "target", was);
	} else if (!was || !json_equal(was, json_object_get(spec, "target"))) {
		return api_error_set(err, 422, "spec.target",
				     "spec.target is set by the controller through a migration "
				     "(port %s has %s%s%s); leave it out",
				     obj_name(old), was ? "\"" : "",
				     was ? json_string_value(was) : "none", was ? "\"" : "");
	}
	if (!migration)
		return 0;
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		json_t *had = json_object_get(obj_spec(old), owned[i]);

		if (!body_gives(body, owned[i]) && had) {
			json_object_set(spec, owned[i], had);
		} else if (!json_equal(had, json_object_get(spec, owned[i]))) {
			char field[32];

			snprintf(field, sizeof(field), "spec.%s", owned[i]);
			return api_error_set(err, 409, field,
					     "%s: port %s is being migrated by %s; it changes "
					     "through the migration",
					     field, obj_name(old), migration);
		}
	}
	return 0;
}

/* On update the addresses and identity of a port stay; the rest may change. */
static int port_update(struct txn *t, json_t *obj, const json_t *old, const json_t *body,
		       struct api_error *err)
{
	static const char *const fixed[] = {"network", "owner", "mac", "ipv4", "ifname"};
	json_t *spec = obj_spec(obj);
	int r;

	(void)t;
	r = port_merge_migration(obj, old, body, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		const char *key = fixed[i], *was = obj_spec_str(old, key);
		char field[32];

		if (!body_gives(body, key)) {
			json_object_set_new(spec, key, json_string(was));
			continue;
		}
		if (strcmp(obj_spec_str(obj, key), was) != 0) {
			snprintf(field, sizeof(field), "spec.%s", key);
			return api_error_set(err, 422, field,
					     "%s is immutable (port %s has \"%s\")", field,
					     obj_name(old), was);
		}
	}
	return 0;
}

static int port_release_addresses(struct store *s, const json_t *port)
{
	const char *network = obj_spec_str(port, "network"), *owner = obj_spec_str(port, "owner");
	uint32_t addr;
	uint64_t mac;
	int r;

	if (addr_ipv4_parse(obj_spec_str(port, "ipv4"), &addr) < 0 ||
	    addr_mac_parse_u64(obj_spec_str(port, "mac"), &mac) < 0)
		return -EIO;
	r = ipam_ipv4_release(s, network, addr, owner);
	if (r < 0)
		return r;
	r = ipam_mac_release(s, network, mac, owner);
	if (r < 0)
		return r;
	return ipam_ifname_release(s, obj_name(port), obj_spec_str(port, "ifname"));
}

/* Every delete: not while a migration moves the port; its addresses are released. */
static int port_release(struct txn *t, const json_t *old, struct api_error *err)
{
	if (port_migration(old))
		return api_error_set(err, 409, NULL,
				     "port %s is being migrated by %s; abort the migration first",
				     obj_name(old), port_migration(old));
	return port_release_addresses(t->store, old);
}

const struct kind_ops kind_port = {
    .kind = KIND_PORT,
    .stored_status = true,
    .validate = port_validate,
    .create = port_create,
    .update = port_update,
    /* every agent programs every port: one entry each in its FDB and ARP tables */
    .datapath_limit = GW_MAX_FDB < GW_MAX_NEIGH ? GW_MAX_FDB : GW_MAX_NEIGH,
    .datapath_table = "forwarding table: " GW_MAP_FDB,
    .check_delete = vm_port_guard,
    .release = port_release,
};
