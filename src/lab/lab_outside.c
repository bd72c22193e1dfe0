/* SPDX-License-Identifier: MIT */
/*
 * The lab's outside world: <lab>-outside stands for the Internet behind the
 * gateway node. It is linked to the gateway node's namespace by a veth
 * (uplink0 there, 203.0.113.1/24: the node's uplink address, what SNAT gives
 * the VMs' traffic; eth0 here, 203.0.113.8/24: the lab's stand-in for a
 * public host such as 8.8.8.8, answering ping and TCP echo). Both are
 * TEST-NET-3 documentation addresses (RFC 5737). Nothing routes further:
 * the outside namespace has no default route and the gateway node none
 * either, so nothing the lab does can leave the machine.
 */
#include "lab.h"

#include "netns.h"

#include "lib/apiclient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define IP(...) run_cmd((const char *const[]){"ip", __VA_ARGS__, NULL}, false)

int lab_outside_build(const struct lab *lab)
{
	char out[48], node[48];
	int r;

	snprintf(out, sizeof(out), "%s-%s", lab->name, LAB_OUTSIDE);
	snprintf(node, sizeof(node), "%s-%s", lab->name, LAB_GATEWAY_NODE);
	if ((r = IP("netns", "add", out)) || (r = IP("-n", out, "link", "set", "lo", "up")) ||
	    (r = IP("-n", node, "link", "add", LAB_UPLINK_IFNAME, "type", "veth", "peer", "name",
		    "eth0", "netns", out)) ||
	    (r = IP("-n", node, "addr", "add", LAB_UPLINK_ADDR "/24", "dev", LAB_UPLINK_IFNAME)) ||
	    (r = IP("-n", node, "link", "set", LAB_UPLINK_IFNAME, "up")) ||
	    (r = IP("-n", out, "addr", "add", LAB_OUTSIDE_HOST "/24", "dev", "eth0")) ||
	    (r = IP("-n", out, "link", "set", "eth0", "up")))
		return r;
	return 0;
}

int lab_outside_route_default(struct api_client *api)
{
	json_t *net = NULL, *reply = NULL;
	long status;
	int r;

	r = api_request(api, "GET", "/v1/networks/default", NULL, &status, &net);
	if (r == 0 && status == 404) {
		json_decref(net);
		return 0; /* the controller made no network "default" */
	}
	if (r == 0 && status != 200)
		r = -EIO;
	if (r == 0) {
		json_object_set_new(json_object_get(net, "spec"), "gatewayNode",
				    json_string(LAB_GATEWAY_NODE));
		json_object_del(net, "status");
		r = api_request(api, "PUT", "/v1/networks/default", net, &status, &reply);
		if (r == 0 && status != 200) {
			fprintf(stderr, "godwit lab up: network default: gatewayNode: %ld %s\n",
				status, api_error_text(reply));
			r = -EIO;
		}
	}
	json_decref(net);
	json_decref(reply);
	return r;
}
