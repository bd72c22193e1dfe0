/* SPDX-License-Identifier: MIT */
#include "api_objects.h"
#include "lib/addr.h"
#include "lib/base64.h"
#include "lib/catalog.h"
#include "lib/phases.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VNI_MAX		 16777215
#define NETNS_NAME_MAX	 64
#define COUNTERS_MAX	 256
#define COUNTER_NAME_MAX 64

int api_error_set(struct api_error *err, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

json_t *api_error_json(const struct api_error *err)
{
	json_t *j = json_pack("{s:s}", "error", err->message);

	if (j && err->field[0])
		json_object_set_new(j, "field", json_string(err->field));
	return j;
}

int api_body_decode(const char *body, size_t len, json_t **out, struct api_error *err)
{
	json_error_t jerr;
	json_t *j;

	if (len > API_MAX_BODY)
		return api_error_set(err, 413, NULL, "body is larger than %d bytes", API_MAX_BODY);
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return api_error_set(err, 400, NULL, "body is not JSON: %s at line %d column %d",
				     jerr.text, jerr.line, jerr.column);
	if (!json_is_object(j)) {
		json_decref(j);
		return api_error_set(err, 400, NULL, "body is not a JSON object");
	}
	*out = j;
	return 0;
}

static const char *type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

/* Rejects any key of obj not in allowed (NULL-terminated); prefix names obj. */
static int check_known_fields(const json_t *obj, const char *prefix, const char *const *allowed,
			      struct api_error *err)
{
	const char *key;
	json_t *value;
	char field[64];

	json_object_foreach((json_t *)obj, key, value)
	{
		bool known = false;

		for (size_t i = 0; allowed[i]; i++)
			known = known || strcmp(key, allowed[i]) == 0;
		if (!known) {
			snprintf(field, sizeof(field), "%s%s%.40s", prefix, prefix[0] ? "." : "",
				 key);
			return api_error_set(err, 400, field, "unknown field \"%s%s%.200s\"",
					     prefix, prefix[0] ? "." : "", key);
		}
	}
	return 0;
}

static int expect_type(const json_t *j, json_type type, const char *field, struct api_error *err)
{
	static const char *const names[] = {
	    [JSON_OBJECT] = "an object",   [JSON_ARRAY] = "an array", [JSON_STRING] = "a string",
	    [JSON_INTEGER] = "an integer", [JSON_REAL] = "a number",  [JSON_TRUE] = "a boolean",
	};

	if (json_typeof(j) == type || (type == JSON_TRUE && json_is_boolean(j)))
		return 0;
	return api_error_set(err, 400, field, "%s: expected %s, got %s", field, names[type],
			     type_name(j));
}

/* Optional string field; *out stays NULL when absent. */
static int get_string(const json_t *obj, const char *key, const char *field, const char **out,
		      struct api_error *err)
{
	json_t *j = json_object_get(obj, key);
	int r;

	*out = NULL;
	if (!j)
		return 0;
	r = expect_type(j, JSON_STRING, field, err);
	if (r < 0)
		return r;
	*out = json_string_value(j);
	return 0;
}

static int validate_network_spec(const json_t *spec, json_t *out, struct api_error *err)
{
	static const char *const allowed[] = {"cidr", "vni", "gateway", "dhcp", NULL};
	const char *cidr, *gateway;
	uint32_t net, gw, mask;
	unsigned len;
	json_t *j;
	char buf[24];
	int r;

	r = check_known_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = get_string(spec, "cidr", "spec.cidr", &cidr, err);
	if (r < 0)
		return r;
	if (!cidr)
		return api_error_set(err, 400, "spec.cidr", "spec.cidr is required");
	if (addr_ipv4_parse_cidr(cidr, &net, &len) < 0)
		return api_error_set(err, 400, "spec.cidr",
				     "spec.cidr: \"%.64s\" is not an IPv4 CIDR", cidr);
	if (len < 8 || len > 30)
		return api_error_set(err, 400, "spec.cidr",
				     "spec.cidr: \"%s\": prefix length must be 8..30", cidr);
	mask = addr_ipv4_mask(len);
	if (net & ~mask)
		return api_error_set(err, 400, "spec.cidr", "spec.cidr: \"%s\" has host bits set",
				     cidr);
	json_object_set_new(out, "cidr", json_string(cidr));

	j = json_object_get(spec, "vni");
	if (j) {
		r = expect_type(j, JSON_INTEGER, "spec.vni", err);
		if (r < 0)
			return r;
		if (json_integer_value(j) < 1 || json_integer_value(j) > VNI_MAX)
			return api_error_set(err, 400, "spec.vni",
					     "spec.vni: %lld is out of range 1..%d",
					     (long long)json_integer_value(j), VNI_MAX);
		json_object_set_new(out, "vni", json_integer(json_integer_value(j)));
	}

	r = get_string(spec, "gateway", "spec.gateway", &gateway, err);
	if (r < 0)
		return r;
	if (gateway) {
		if (addr_ipv4_parse(gateway, &gw) < 0)
			return api_error_set(err, 400, "spec.gateway",
					     "spec.gateway: \"%.64s\" is not an IPv4 address",
					     gateway);
		if ((gw & mask) != net || gw == net || gw == (net | ~mask))
			return api_error_set(err, 400, "spec.gateway",
					     "spec.gateway: \"%s\" is not a host address of %s",
					     gateway, cidr);
	} else {
		gw = net + 1;
	}
	addr_ipv4_format(gw, buf);
	json_object_set_new(out, "gateway", json_string(buf));

	j = json_object_get(spec, "dhcp");
	if (j && (r = expect_type(j, JSON_TRUE, "spec.dhcp", err)) < 0)
		return r;
	json_object_set_new(out, "dhcp", json_boolean(j && json_is_true(j)));
	return 0;
}

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
	r = expect_type(locs, JSON_ARRAY, "spec.locations", err);
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

static int validate_choice(const json_t *spec, const char *key, const char *field,
			   const char *const *choices, json_t *out, struct api_error *err)
{
	const char *v;
	int r;

	r = get_string(spec, key, field, &v, err);
	if (r < 0)
		return r;
	if (!v)
		v = choices[0];
	for (size_t i = 0; choices[i]; i++) {
		if (strcmp(v, choices[i]) == 0) {
			json_object_set_new(out, key, json_string(v));
			return 0;
		}
	}
	return api_error_set(err, 400, field, "%s: \"%.64s\" is not one of %s|%s", field, v,
			     choices[0], choices[1]);
}

static int validate_port_spec(const json_t *spec, const char *name, json_t *out,
			      struct api_error *err)
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

	r = check_known_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = get_string(spec, "network", "spec.network", &network, err);
	if (r < 0)
		return r;
	if (!network)
		return api_error_set(err, 400, "spec.network", "spec.network is required");
	if (!object_name_valid(network))
		return api_error_set(err, 400, "spec.network",
				     "spec.network: \"%.64s\" is not a valid name", network);
	json_object_set_new(out, "network", json_string(network));

	r = get_string(spec, "owner", "spec.owner", &owner, err);
	if (r < 0)
		return r;
	if (owner && !object_name_valid(owner))
		return api_error_set(err, 400, "spec.owner",
				     "spec.owner: \"%.64s\" is not a valid name", owner);
	json_object_set_new(out, "owner", json_string(owner ? owner : name));

	r = validate_locations(spec, out, err);
	if (r < 0)
		return r;

	r = get_string(spec, "mac", "spec.mac", &mac, err);
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

	r = get_string(spec, "ipv4", "spec.ipv4", &ipv4, err);
	if (r < 0)
		return r;
	if (ipv4) {
		if (addr_ipv4_parse(ipv4, &addr) < 0)
			return api_error_set(err, 400, "spec.ipv4",
					     "spec.ipv4: \"%.64s\" is not an IPv4 address", ipv4);
		json_object_set_new(out, "ipv4", json_string(ipv4));
	}

	r = validate_choice(spec, "type", "spec.type", types, out, err);
	if (r < 0)
		return r;

	r = get_string(spec, "netns", "spec.netns", &netns, err);
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
	r = get_string(spec, "ifname", "spec.ifname", &ifname, err);
	if (r < 0)
		return r;
	if (ifname)
		json_object_set_new(out, "ifname", json_string(ifname));

	j = json_object_get(spec, "security");
	if (j && (r = expect_type(j, JSON_TRUE, "spec.security", err)) < 0)
		return r;
	json_object_set_new(out, "security", json_boolean(!j || json_is_true(j)));

	/* Set by the controller through a migration; the registry refuses changes. */
	r = get_string(spec, "target", "spec.target", &target, err);
	if (r < 0)
		return r;
	if (target) {
		if (!object_name_valid(target))
			return api_error_set(err, 400, "spec.target",
					     "spec.target: \"%.64s\" is not a node name", target);
		json_object_set_new(out, "target", json_string(target));
	}

	return validate_choice(spec, "strategy", "spec.strategy", strategy_names, out, err);
}

static int validate_node_spec(const json_t *spec, json_t *out, struct api_error *err)
{
	static const char *const allowed[] = {"underlay_ip", NULL};
	const char *ip;
	uint32_t addr;
	int r;

	r = check_known_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = get_string(spec, "underlay_ip", "spec.underlay_ip", &ip, err);
	if (r < 0)
		return r;
	if (!ip)
		return api_error_set(err, 400, "spec.underlay_ip", "spec.underlay_ip is required");
	if (addr_ipv4_parse(ip, &addr) < 0)
		return api_error_set(err, 400, "spec.underlay_ip",
				     "spec.underlay_ip: \"%.64s\" is not an IPv4 address", ip);
	json_object_set_new(out, "underlay_ip", json_string(ip));
	return 0;
}

/* An optional name field; *out stays NULL when absent. */
static int get_name(const json_t *spec, const char *key, const char *field, const char *what,
		    const char **out, struct api_error *err)
{
	int r = get_string(spec, key, field, out, err);

	if (r < 0)
		return r;
	if (*out && !object_name_valid(*out))
		return api_error_set(err, 400, field, "%s: \"%.64s\" is not %s", field, *out, what);
	return 0;
}

static int validate_migration_spec(const json_t *spec, json_t *out, struct api_error *err)
{
	static const char *const allowed[] = {"port",
					      "vm",
					      "target",
					      "strategy",
					      "timeout_s",
					      "downtime_ms",
					      "max_bandwidth_mib",
					      "replicate",
					      "progress_timeout_s",
					      "completion_timeout_per_gib_s",
					      NULL};
	/* The knobs of a VM migration: the hypervisor's (read by the source
	 * agent) and the transfer's bounds (migration_vm.h). */
	static const struct {
		const char *key, *field;
		json_int_t max;
	} knobs[] = {{"downtime_ms", "spec.downtime_ms", 60000},
		     {"max_bandwidth_mib", "spec.max_bandwidth_mib", 1048576},
		     {"progress_timeout_s", "spec.progress_timeout_s", 86400},
		     {"completion_timeout_per_gib_s", "spec.completion_timeout_per_gib_s", 86400}};
	const char *port, *vm, *target, *strategy;
	json_int_t timeout = MIGRATION_TIMEOUT_DEFAULT_S;
	json_t *j;
	int r;

	r = check_known_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	/*
	 * The subject: a port, or a VM (whose port the migration moves). For a
	 * VM the controller fills spec.port with the VM's port; a normalised VM
	 * migration therefore carries both, and must have both equal.
	 */
	r = get_name(spec, "port", "spec.port", "a valid name", &port, err);
	if (r < 0)
		return r;
	r = get_name(spec, "vm", "spec.vm", "a valid name", &vm, err);
	if (r < 0)
		return r;
	if (!port && !vm)
		return api_error_set(err, 400, "spec.port",
				     "spec.port or spec.vm is required (what to migrate)");
	if (port && vm && strcmp(port, vm) != 0)
		return api_error_set(err, 400, "spec.vm",
				     "spec.vm: \"%s\" and spec.port \"%s\" differ (a VM's port "
				     "has the VM's name); give one of them",
				     vm, port);
	if (port)
		json_object_set_new(out, "port", json_string(port));
	if (vm)
		json_object_set_new(out, "vm", json_string(vm));

	r = get_string(spec, "target", "spec.target", &target, err);
	if (r < 0)
		return r;
	if (target) {
		if (!object_name_valid(target))
			return api_error_set(err, 400, "spec.target",
					     "spec.target: \"%.64s\" is not a node name", target);
		json_object_set_new(out, "target", json_string(target));
	}

	/* Absent: the port's own strategy (filled in by the registry). */
	r = get_string(spec, "strategy", "spec.strategy", &strategy, err);
	if (r < 0)
		return r;
	if (strategy) {
		r = validate_choice(spec, "strategy", "spec.strategy", strategy_names, out, err);
		if (r < 0)
			return r;
	}

	j = json_object_get(spec, "replicate");
	if (j) {
		if (!json_is_boolean(j))
			return api_error_set(err, 400, "spec.replicate",
					     "spec.replicate: must be true or false");
		json_object_set(out, "replicate", j);
	}
	j = json_object_get(spec, "timeout_s");
	if (j) {
		r = expect_type(j, JSON_INTEGER, "spec.timeout_s", err);
		if (r < 0)
			return r;
		timeout = json_integer_value(j);
		if (timeout < 1 || timeout > MIGRATION_TIMEOUT_MAX_S)
			return api_error_set(err, 400, "spec.timeout_s",
					     "spec.timeout_s: %lld is out of range 1..%d",
					     (long long)timeout, MIGRATION_TIMEOUT_MAX_S);
	}
	json_object_set_new(out, "timeout_s", json_integer(timeout));
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		j = json_object_get(spec, knobs[i].key);
		if (!j)
			continue;
		r = expect_type(j, JSON_INTEGER, knobs[i].field, err);
		if (r < 0)
			return r;
		if (json_integer_value(j) < 1 || json_integer_value(j) > knobs[i].max)
			return api_error_set(err, 400, knobs[i].field,
					     "%s: %lld is out of range 1..%lld", knobs[i].field,
					     (long long)json_integer_value(j),
					     (long long)knobs[i].max);
		json_object_set(out, knobs[i].key, j);
	}
	return 0;
}

/* An optional integer in lo..hi, default def when absent. */
static int get_int_range(const json_t *spec, const char *key, const char *field, json_int_t lo,
			 json_int_t hi, json_int_t def, json_t *out, struct api_error *err)
{
	json_t *j = json_object_get(spec, key);
	json_int_t v = def;
	int r;

	if (j) {
		r = expect_type(j, JSON_INTEGER, field, err);
		if (r < 0)
			return r;
		v = json_integer_value(j);
		if (v < lo || v > hi)
			return api_error_set(err, 400, field, "%s: %lld is out of range %lld..%lld",
					     field, (long long)v, (long long)lo, (long long)hi);
	}
	return json_object_set_new(out, key, json_integer(v)) < 0 ? -ENOMEM : 0;
}

static int get_bool(const json_t *spec, const char *key, const char *field, bool def, json_t *out,
		    struct api_error *err)
{
	json_t *j = json_object_get(spec, key);
	int r;

	if (j && (r = expect_type(j, JSON_TRUE, field, err)) < 0)
		return r;
	return json_object_set_new(out, key, json_boolean(j ? json_is_true(j) : def)) < 0 ? -ENOMEM
											  : 0;
}

static int validate_user_data(const json_t *spec, json_t *out, struct api_error *err)
{
	static const char *const encodings[] = {"text", "base64", NULL};
	const char *data, *encoding;
	size_t len;
	int r;

	r = get_string(spec, "user_data", "spec.user_data", &data, err);
	if (r < 0)
		return r;
	r = get_string(spec, "user_data_encoding", "spec.user_data_encoding", &encoding, err);
	if (r < 0)
		return r;
	if (!data) {
		if (encoding)
			return api_error_set(err, 400, "spec.user_data_encoding",
					     "spec.user_data_encoding: given without "
					     "spec.user_data");
		return 0;
	}
	r = validate_choice(spec, "user_data_encoding", "spec.user_data_encoding", encodings, out,
			    err);
	if (r < 0)
		return r;
	len = strlen(data);
	if (encoding && strcmp(encoding, "base64") == 0) {
		if (len > VM_USER_DATA_BASE64_MAX)
			return api_error_set(err, 400, "spec.user_data",
					     "spec.user_data: %zu bytes of base64, more than %d",
					     len, VM_USER_DATA_BASE64_MAX);
		if (!base64_valid(data))
			return api_error_set(err, 400, "spec.user_data",
					     "spec.user_data: not valid base64 (A-Z a-z 0-9 + /, "
					     "padded with = to a multiple of 4)");
	} else if (len > VM_USER_DATA_TEXT_MAX) {
		return api_error_set(err, 400, "spec.user_data",
				     "spec.user_data: %zu bytes of text, more than %d", len,
				     VM_USER_DATA_TEXT_MAX);
	}
	return json_object_set_new(out, "user_data", json_string(data)) < 0 ? -ENOMEM : 0;
}

/*
 * docs/VM.md. The catalog (spec.image), the network's existence and spec.node
 * are checked by the registry, which has the store.
 */
static int validate_vm_spec(const json_t *spec, json_t *out, struct api_error *err)
{
	static const char *const allowed[] = {
	    "running", "memory_mib", "cpus", "image",  "user_data", "user_data_encoding",
	    "network", "migratable", "node", "target", NULL};
	const char *image, *network, *node, *target;
	int r;

	r = check_known_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = get_bool(spec, "running", "spec.running", true, out, err);
	if (r < 0)
		return r;
	if (!json_object_get(spec, "memory_mib"))
		return api_error_set(err, 400, "spec.memory_mib", "spec.memory_mib is required");
	r = get_int_range(spec, "memory_mib", "spec.memory_mib", 1, VM_MEMORY_MIB_MAX, 0, out, err);
	if (r < 0)
		return r;
	r = get_int_range(spec, "cpus", "spec.cpus", 1, VM_CPUS_MAX, 1, out, err);
	if (r < 0)
		return r;
	r = get_string(spec, "image", "spec.image", &image, err);
	if (r < 0)
		return r;
	if (!image || !image[0])
		return api_error_set(err, 400, "spec.image", "spec.image is required");
	if (strlen(image) > VM_IMAGE_MAX)
		return api_error_set(err, 400, "spec.image", "spec.image: longer than %d bytes",
				     VM_IMAGE_MAX);
	json_object_set_new(out, "image", json_string(image));
	r = validate_user_data(spec, out, err);
	if (r < 0)
		return r;
	r = get_name(spec, "network", "spec.network", "a valid name", &network, err);
	if (r < 0)
		return r;
	json_object_set_new(out, "network", json_string(network ? network : "default"));
	r = get_bool(spec, "migratable", "spec.migratable", false, out, err);
	if (r < 0)
		return r;
	/* Set by the controller (scheduler, migrations); the registry checks changes. */
	r = get_name(spec, "node", "spec.node", "a node name", &node, err);
	if (r < 0)
		return r;
	if (node)
		json_object_set_new(out, "node", json_string(node));
	r = get_name(spec, "target", "spec.target", "a node name", &target, err);
	if (r < 0)
		return r;
	if (target)
		json_object_set_new(out, "target", json_string(target));
	return 0;
}

static int validate_metadata(const json_t *in, const char *path_name, json_t *out,
			     const char **name, struct api_error *err)
{
	static const char *const allowed[] = {"name", "revision", "created", NULL};
	json_t *meta = json_object_get(in, "metadata"), *rev;
	const char *n = NULL;
	int r;

	if (meta) {
		r = expect_type(meta, JSON_OBJECT, "metadata", err);
		if (r < 0)
			return r;
		r = check_known_fields(meta, "metadata", allowed, err);
		if (r < 0)
			return r;
		r = get_string(meta, "name", "metadata.name", &n, err);
		if (r < 0)
			return r;
		rev = json_object_get(meta, "revision");
		if (rev) {
			r = expect_type(rev, JSON_INTEGER, "metadata.revision", err);
			if (r < 0)
				return r;
			if (json_integer_value(rev) < 0)
				return api_error_set(err, 400, "metadata.revision",
						     "metadata.revision: must not be negative");
			json_object_set_new(out, "revision", json_integer(json_integer_value(rev)));
		}
		if (json_object_get(meta, "created") &&
		    (r = expect_type(json_object_get(meta, "created"), JSON_INTEGER,
				     "metadata.created", err)) < 0)
			return r;
	}
	if (!n && !path_name)
		return api_error_set(err, 400, "metadata.name", "metadata.name is required");
	if (n && path_name && strcmp(n, path_name) != 0)
		return api_error_set(err, 400, "metadata.name",
				     "metadata.name: \"%.64s\" does not match the path (\"%s\")", n,
				     path_name);
	if (!n)
		n = path_name;
	if (!object_name_valid(n))
		return api_error_set(err, 400, "metadata.name",
				     "metadata.name: \"%.64s\" is not a DNS label "
				     "([a-z0-9]([-a-z0-9]*[a-z0-9])?, 1-63 chars)",
				     n);
	json_object_set_new(out, "name", json_string(n));
	*name = json_string_value(json_object_get(out, "name"));
	return 0;
}

int api_object_validate(enum kind kind, const json_t *in, const char *path_name, json_t **out,
			struct api_error *err)
{
	static const char *const allowed[] = {"apiVersion", "kind",   "metadata",
					      "spec",	    "status", NULL};
	json_t *obj = NULL, *meta = NULL, *spec_out = NULL, *spec;
	const char *s, *name = NULL;
	int r;

	r = expect_type(in, JSON_OBJECT, "body", err);
	if (r < 0)
		return r;
	r = check_known_fields(in, "", allowed, err);
	if (r < 0)
		return r;
	r = get_string(in, "apiVersion", "apiVersion", &s, err);
	if (r < 0)
		return r;
	if (s && strcmp(s, API_VERSION) != 0)
		return api_error_set(err, 400, "apiVersion",
				     "apiVersion: \"%.64s\" is not supported (use \"%s\")", s,
				     API_VERSION);
	r = get_string(in, "kind", "kind", &s, err);
	if (r < 0)
		return r;
	if (s && strcmp(s, kind_str(kind)) != 0)
		return api_error_set(err, 400, "kind",
				     "kind: \"%.64s\" does not match the path (/v1/%s takes %s)", s,
				     kind_plural(kind), kind_str(kind));

	meta = json_object();
	spec_out = json_object();
	if (!meta || !spec_out) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = validate_metadata(in, path_name, meta, &name, err);
	if (r < 0)
		goto cleanup;

	spec = json_object_get(in, "spec");
	if (!spec) {
		r = api_error_set(err, 400, "spec", "spec is required");
		goto cleanup;
	}
	r = expect_type(spec, JSON_OBJECT, "spec", err);
	if (r < 0)
		goto cleanup;
	switch (kind) {
	case KIND_NETWORK:
		r = validate_network_spec(spec, spec_out, err);
		break;
	case KIND_PORT:
		r = validate_port_spec(spec, name, spec_out, err);
		break;
	case KIND_MIGRATION:
		r = validate_migration_spec(spec, spec_out, err);
		break;
	case KIND_VM:
		r = validate_vm_spec(spec, spec_out, err);
		break;
	default:
		r = validate_node_spec(spec, spec_out, err);
		break;
	}
	if (r < 0)
		goto cleanup;

	obj = json_pack("{s:s, s:s, s:O, s:O}", "apiVersion", API_VERSION, "kind", kind_str(kind),
			"metadata", meta, "spec", spec_out);
	if (!obj) {
		r = -ENOMEM;
		goto cleanup;
	}
	*out = obj;
	r = 0;
cleanup:
	json_decref(meta);
	json_decref(spec_out);
	return r;
}

int api_node_status_validate(const json_t *in, json_t **out, struct api_error *err)
{
	static const char *const allowed[] = {"applied_revision", "counters", "ports",
					      "drops_standby",	  "vms",      NULL};
	static const char *const maps[] = {"ports", "vms"};
	json_t *rev, *counters, *map, *drops, *res, *copy;
	const char *key;
	json_t *value;
	int r;

	r = expect_type(in, JSON_OBJECT, "body", err);
	if (r < 0)
		return r;
	r = check_known_fields(in, "", allowed, err);
	if (r < 0)
		return r;
	rev = json_object_get(in, "applied_revision");
	if (rev) {
		r = expect_type(rev, JSON_INTEGER, "applied_revision", err);
		if (r < 0)
			return r;
		if (json_integer_value(rev) < 0)
			return api_error_set(err, 400, "applied_revision",
					     "applied_revision: must not be negative");
	}
	counters = json_object_get(in, "counters");
	if (counters) {
		r = expect_type(counters, JSON_OBJECT, "counters", err);
		if (r < 0)
			return r;
		if (json_object_size(counters) > COUNTERS_MAX)
			return api_error_set(err, 400, "counters", "counters: more than %d entries",
					     COUNTERS_MAX);
		json_object_foreach(counters, key, value)
		{
			if (strlen(key) == 0 || strlen(key) > COUNTER_NAME_MAX)
				return api_error_set(
				    err, 400, "counters",
				    "counters: name \"%.64s\" is empty or too long", key);
			if (!json_is_integer(value))
				return api_error_set(err, 400, "counters",
						     "counters.%s: expected an integer, got %s",
						     key, type_name(value));
		}
	}
	/* Maps of reports by name: {NAME: {...}}. */
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		map = json_object_get(in, maps[i]);
		if (!map)
			continue;
		r = expect_type(map, JSON_OBJECT, maps[i], err);
		if (r < 0)
			return r;
		json_object_foreach(map, key, value)
		{
			if (!json_is_object(value))
				return api_error_set(err, 400, maps[i],
						     "%s.%.64s: expected an object, got %s",
						     maps[i], key, type_name(value));
		}
	}
	drops = json_object_get(in, "drops_standby");
	if (drops && (r = expect_type(drops, JSON_INTEGER, "drops_standby", err)) < 0)
		return r;
	copy = counters ? json_deep_copy(counters) : json_object();
	res = json_pack("{s:I, s:o}", "applied_revision",
			(json_int_t)(rev ? json_integer_value(rev) : 0), "counters", copy);
	if (!res)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		map = json_object_get(in, maps[i]);
		if (map && json_object_set_new(res, maps[i], json_deep_copy(map)) < 0) {
			json_decref(res);
			return -ENOMEM;
		}
	}
	if ((drops && json_object_set_new(res, "drops_standby",
					  json_integer(json_integer_value(drops))) < 0)) {
		json_decref(res);
		return -ENOMEM;
	}
	*out = res;
	return 0;
}
