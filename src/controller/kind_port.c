/* SPDX-License-Identifier: MIT */
/* The Port kind: a network attachment at one or two locations. */
#include "kind.h"
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

	if (!locs)
		return api_error_set(err, 400, "spec.locations", "spec.locations is required");
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
	const char *network, *owner, *mac, *ipv4, *netns, *ifname, *target;
	uint64_t mac_value;
	uint32_t addr;
	char buf[18];
	json_t *j;
	int r;

	r = api_check_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = api_get_string(spec, "network", "spec.network", &network, err);
	if (r < 0)
		return r;
	if (!network)
		return api_error_set(err, 400, "spec.network", "spec.network is required");
	if (!object_name_valid(network))
		return api_error_set(err, 400, "spec.network",
				     "spec.network: \"%.64s\" is not a valid name", network);
	json_object_set_new(out, "network", json_string(network));

	r = api_get_string(spec, "owner", "spec.owner", &owner, err);
	if (r < 0)
		return r;
	if (owner && !object_name_valid(owner))
		return api_error_set(err, 400, "spec.owner",
				     "spec.owner: \"%.64s\" is not a valid name", owner);
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

	r = api_get_string(spec, "ipv4", "spec.ipv4", &ipv4, err);
	if (r < 0)
		return r;
	if (ipv4) {
		if (addr_ipv4_parse(ipv4, &addr) < 0)
			return api_error_set(err, 400, "spec.ipv4",
					     "spec.ipv4: \"%.64s\" is not an IPv4 address", ipv4);
		json_object_set_new(out, "ipv4", json_string(ipv4));
	}

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

	/* Server-assigned; a client may echo it back (the registry compares). */
	r = api_get_string(spec, "ifname", "spec.ifname", &ifname, err);
	if (r < 0)
		return r;
	if (ifname)
		json_object_set_new(out, "ifname", json_string(ifname));

	j = json_object_get(spec, "security");
	if (j && (r = api_expect_type(j, JSON_TRUE, "spec.security", err)) < 0)
		return r;
	json_object_set_new(out, "security", json_boolean(!j || json_is_true(j)));

	/* Set by the controller through a migration; the registry refuses changes. */
	r = api_get_string(spec, "target", "spec.target", &target, err);
	if (r < 0)
		return r;
	if (target) {
		if (!object_name_valid(target))
			return api_error_set(err, 400, "spec.target",
					     "spec.target: \"%.64s\" is not a node name", target);
		json_object_set_new(out, "target", json_string(target));
	}

	return api_get_strategy(spec, true, out, err);
}

const struct kind_ops kind_port = {
    .kind = KIND_PORT,
    .validate = port_validate,
};
