/* SPDX-License-Identifier: MIT */
/*
 * The Network kind: spec cidr, gateway, vni (allocated by ipam.c unless
 * given), dhcp, gatewayNode. cidr and gateway never change; a changed vni is
 * reallocated; gatewayNode (the node that routes the network to the outside,
 * src/agent/gateway.h) may change or go: like dhcp it is what the request
 * says, so a PUT without it has no gateway node. It may name a node not
 * registered yet (the CLI's describe says so). A network goes only once it
 * has no ports (but the tunnel Ports the controller made in it, tunnel.h,
 * which go with it).
 */
#include "kind_network.h"
#include "bpf/abi.h"
#include "ipam.h"
#include "tunnel.h"
#include "lib/addr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VNI_MAX 16777215

#define DEFAULT_NETWORK	     "default"
#define DEFAULT_NETWORK_FLAG "default_network_created"
/* Below the automatic range (IPAM_VNI_FIRST), so other networks keep their numbers. */
#define DEFAULT_NETWORK_VNI 1

static int network_validate(const json_t *spec, const char *name, json_t *out,
			    struct api_error *err)
{
	(void)name;
	static const char *const allowed[] = {"cidr", "vni",	     "gateway",
					      "dhcp", "gatewayNode", NULL};
	const char *cidr, *gateway;
	uint32_t net, gw, mask;
	unsigned len;
	json_t *j;
	char buf[24];
	int r;

	r = api_check_fields(spec, "spec", allowed, err);
	if (r < 0)
		return r;
	r = api_require(spec, "cidr", "spec.cidr", err);
	if (r == 0)
		r = api_get_string(spec, "cidr", "spec.cidr", &cidr, err);
	if (r < 0)
		return r;
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

	r = api_get_ipv4(spec, "gateway", "spec.gateway", &gateway, &gw, err);
	if (r < 0)
		return r;
	if (gateway) {
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

	/* The gateway (spec.gateway, given or defaulted above) is where it routes. */
	return api_copy_name(spec, "gatewayNode", "spec.gatewayNode", "a node name", out, err);
}

/* spec.vni (given or the lowest free); on update cidr and gateway stay. */
static int network_allocate(struct txn *t, json_t *obj, const json_t *old, const json_t *body,
			    struct api_error *err)
{
	struct store *s = t->store;
	json_t *spec = obj_spec(obj);
	json_int_t want = json_integer_value(json_object_get(spec, "vni"));
	json_int_t had = old ? json_integer_value(json_object_get(obj_spec(old), "vni")) : 0;
	uint32_t vni;
	int r;

	if (old) {
		if (strcmp(obj_spec_str(obj, "cidr"), obj_spec_str(old, "cidr")) != 0)
			return api_error_set(err, 422, "spec.cidr",
					     "spec.cidr is immutable (network %s has %s)",
					     obj_name(old), obj_spec_str(old, "cidr"));
		if (!body_gives(body, "gateway"))
			json_object_set(spec, "gateway", json_object_get(obj_spec(old), "gateway"));
		else if (strcmp(obj_spec_str(obj, "gateway"), obj_spec_str(old, "gateway")) != 0)
			return api_error_set(err, 422, "spec.gateway",
					     "spec.gateway is immutable (network %s has %s)",
					     obj_name(old), obj_spec_str(old, "gateway"));
		if (!want || want == had) {
			json_object_set_new(spec, "vni", json_integer(had));
			return 0;
		}
		r = ipam_vni_release(s, obj_name(old), (uint32_t)had);
		if (r < 0)
			return r;
	}
	r = ipam_vni_acquire(s, obj_name(obj), want, &vni, err);
	if (r < 0)
		return r;
	json_object_set_new(spec, "vni", json_integer(vni));
	return 0;
}

static int network_create(struct txn *t, json_t *obj, struct api_error *err)
{
	return network_allocate(t, obj, NULL, NULL, err);
}

static int network_update(struct txn *t, json_t *obj, const json_t *old, const json_t *body,
			  struct api_error *err)
{
	return network_allocate(t, obj, old, body, err);
}

/* The tunnel Ports the controller made in network (tunnel.h) go with it. */
static int delete_tunnel_ports(struct txn *t, const char *network, struct api_error *err)
{
	json_t *ports = NULL, *p;
	size_t i;
	int r;

	r = txn_list(t, KIND_PORT, &ports);
	if (r < 0)
		return r;
	json_array_foreach(ports, i, p)
	{
		const char *net = obj_str(p, "spec", "network");

		if (!net || strcmp(net, network) != 0 || !tunnel_port_is_system(p))
			continue;
		r = txn_delete(t, KIND_PORT, p, err);
		if (r < 0)
			break;
	}
	json_decref(ports);
	return r;
}

static int network_release(struct txn *t, const json_t *old, struct api_error *err)
{
	const char *name = obj_name(old);
	bool in_use;
	int r;

	r = delete_tunnel_ports(t, name, err);
	if (r < 0)
		return r;
	r = ipam_network_in_use(t->store, name, &in_use);
	if (r < 0)
		return r;
	if (in_use)
		return api_error_set(err, 409, NULL,
				     "network %s still has ports; delete them first", name);
	r = ipam_vni_release(t->store, name,
			     (uint32_t)json_integer_value(json_object_get(obj_spec(old), "vni")));
	if (r < 0)
		return r;
	return ipam_network_drop(t->store, name);
}

int network_create_default(struct txn *t, const char *cidr, bool *created, struct api_error *err)
{
	struct store *s = t->store;
	json_t *body = NULL, *net = NULL, *existing = NULL;
	bool made = false;
	int64_t done = 0;
	int r;

	r = s->ops->flag_get(s, DEFAULT_NETWORK_FLAG, &done);
	if (r == 0) {
		*created = false;
		return 0;
	}
	if (r != -ENOENT)
		return r;
	body = json_pack("{s:{s:s}, s:{s:s, s:b}}", "metadata", "name", DEFAULT_NETWORK, "spec",
			 "cidr", cidr, "dhcp", 1);
	if (!body)
		return -ENOMEM;
	r = txn_validate(t, KIND_NETWORK, body, NULL, &net, err);
	if (r < 0)
		goto cleanup;
	r = txn_get(t, KIND_NETWORK, DEFAULT_NETWORK, &existing);
	if (r == -ENOENT) {
		json_t *vni = NULL;
		char *holder = NULL;
		bool held = false;

		/* The fixed VNI when free (an old store may hold it), else the next free one. */
		r = s->ops->alloc_get(s, "vni", DEFAULT_NETWORK_VNI, &holder, &held);
		free(holder);
		if ((r == 0 && !held) || r == -ENOENT)
			vni = json_integer(DEFAULT_NETWORK_VNI);
		if (vni)
			json_object_set_new(obj_spec(net), "vni", vni);
		r = txn_create(t, KIND_NETWORK, net, err);
		made = r == 0;
	}
	if (r == 0)
		r = s->ops->flag_set(s, DEFAULT_NETWORK_FLAG, 1);
	if (r == 0)
		*created = made;
cleanup:
	json_decref(existing);
	json_decref(body);
	json_decref(net);
	return r;
}

const struct kind_ops kind_network = {
    .kind = KIND_NETWORK,
    .stored_status = true,
    .validate = network_validate,
    .create = network_create,
    .datapath_limit = GW_MAX_VNIS,
    .datapath_table = "flood lists, one per network: " GW_MAP_FLOOD,
    .update = network_update,
    .release = network_release,
};
