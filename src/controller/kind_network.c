/* SPDX-License-Identifier: MIT */
/* The Network kind: cidr, gateway, vni, dhcp. */
#include "kind.h"
#include "lib/addr.h"

#include <errno.h>
#include <string.h>

#define VNI_MAX 16777215

static int network_validate(const json_t *spec, const char *name, json_t *out,
			    struct api_error *err)
{
	(void)name;
	static const char *const allowed[] = {"cidr", "vni", "gateway", "dhcp", NULL};
	const char *cidr, *gateway;
	uint32_t net, gw, mask;
	unsigned len;
	json_t *j;
	char buf[24];
	int r;

	r = api_check_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = api_get_string(spec, "cidr", "spec.cidr", &cidr, err);
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
		r = api_expect_type(j, JSON_INTEGER, "spec.vni", err);
		if (r < 0)
			return r;
		if (json_integer_value(j) < 1 || json_integer_value(j) > VNI_MAX)
			return api_error_set(err, 400, "spec.vni",
					     "spec.vni: %lld is out of range 1..%d",
					     (long long)json_integer_value(j), VNI_MAX);
		json_object_set_new(out, "vni", json_integer(json_integer_value(j)));
	}

	r = api_get_string(spec, "gateway", "spec.gateway", &gateway, err);
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
	if (j && (r = api_expect_type(j, JSON_TRUE, "spec.dhcp", err)) < 0)
		return r;
	json_object_set_new(out, "dhcp", json_boolean(j && json_is_true(j)));
	return 0;
}

const struct kind_ops kind_network = {
    .kind = KIND_NETWORK,
    .validate = network_validate,
};
