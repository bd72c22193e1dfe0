/* SPDX-License-Identifier: MIT */
/*
 * tunnel: where a stream of the API goes (docs/API.md, "Streams"): the
 * controller's half of `godwit port-forward`, `godwit ssh` and
 * `godwit console`. http_stream.c turns the request into the byte stream;
 * this module finds its far end and opens the agent's side of it
 * (agent/streams.h, lib/streamproto.h).
 *
 * Port-forward (POST /v1/vms/NAME/portforward/PORT, and
 * /v1/ports/NAME/portforward/PORT for any Port, e.g. a lab endpoint)
 * - The subject's Port gives the network and the IPv4 to connect to.
 * - The serving node is the network's gateway node (spec.gatewayNode, where
 *   Networks have one) when it is ready and not a location of the Port, else
 *   the first ready node by name that is not a location of the Port (a
 *   migrating Port has two: neither serves), so the far end
 *   of the connection does not move when the VM moves and the connection
 *   survives a migration like any other connection over the fabric. With no
 *   such node the VM's own node serves it (logged: the stream then ends when
 *   the VM leaves that node).
 * - On the serving node the connection starts from a tunnel namespace
 *   holding a system-made Port of the network: name and namespace
 *   "gwt-" + 12 hex digits of a hash of (cluster, network, node), type veth,
 *   spec.netns that namespace, one location (the node). It is created at the
 *   first stream through that node and kept (one address of the network per
 *   serving node) until the network is deleted (kind_network.c deletes them); the agent makes the
 * namespace and its port plumbing does the rest as for any veth port. The cluster's id in the hash
 * keeps the namespaces of two clusters on one machine (labs) apart. Console (POST
 * /v1/vms/NAME/console): the agent of the VM's node connects to the VM's console socket.
 *
 * Errors name the subject and what is missing: 404 it does not exist, 409
 * it is stopped, not running yet, or has no address or console yet, 503 no
 * ready node can serve it, 502 the serving agent cannot be reached or could
 * not connect (its message is passed on).
 */
#ifndef GODWIT_CONTROLLER_TUNNEL_H
#define GODWIT_CONTROLLER_TUNNEL_H

#include "api_objects.h"
#include "registry.h"

#define TUNNEL_PREFIX	       "gwt-"
#define TUNNEL_AGENT_DIAL_MS   3000
#define TUNNEL_AGENT_ANSWER_MS 25000 /* the agent waits up to 15 s for a new port's plumbing */

enum tunnel_kind {
	TUNNEL_PORTFORWARD,
	TUNNEL_CONSOLE,
};

struct tunnel_request {
	enum tunnel_kind kind;
	enum kind subject; /* KIND_VM or KIND_PORT */
	const char *name;
	unsigned port; /* port-forward */
};

/*
 * Parses the path's action segments: "portforward" + PORT or "console";
 * -ENOENT when they are not a stream's path, -EINVAL with err (400) for a bad port.
 */
int tunnel_parse(enum kind subject, const char *name, const char *action, const char *arg,
		 struct tunnel_request *out, struct api_error *err);

/* Opens the agent's side of the stream: 0 and *fd ready to relay, or -errno with err set.
 * token: the admin token, presented to an agent that has no stream secret (auth.h). */
int tunnel_open(struct registry *reg, const char *token, const struct tunnel_request *req, int *fd,
		struct api_error *err);

/* Whether port is a tunnel Port this module made (name, netns and owner alike). */
bool tunnel_port_is_system(const json_t *port);

/* The tunnel Port's (and namespace's) name for network on node, into buf (>= 17 bytes). */
void tunnel_port_name(const char *cluster, const char *network, const char *node, char *buf,
		      size_t len);

#endif
