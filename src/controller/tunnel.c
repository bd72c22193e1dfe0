/* SPDX-License-Identifier: MIT */
#include "tunnel.h"
#include "auth.h"
#include "kind.h"
#include "kind_node.h"
#include "migration.h"
#include "vm.h"

#include "lib/log.h"
#include "lib/num.h"
#include "lib/pskpipe.h"
#include "lib/stream.h"
#include "lib/streamproto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int tunnel_parse(enum kind subject, const char *name, const char *action, const char *arg,
		 struct tunnel_request *out, struct api_error *err)
{
	long port;

	if (!action)
		return -ENOENT;
	if (strcmp(action, "console") == 0 && !arg && subject == KIND_VM) {
		*out = (struct tunnel_request){
		    .kind = TUNNEL_CONSOLE, .subject = subject, .name = name};
		return 0;
	}
	if (strcmp(action, "portforward") != 0 || !arg ||
	    (subject != KIND_VM && subject != KIND_PORT))
		return -ENOENT;
	if (num_parse_long(arg, 1, 65535, &port) < 0)
		return api_error_set(err, 400, NULL, "port \"%.16s\" is not a number in 1..65535",
				     arg);
	*out = (struct tunnel_request){
	    .kind = TUNNEL_PORTFORWARD, .subject = subject, .name = name, .port = (unsigned)port};
	return 0;
}

void tunnel_port_name(const char *cluster, const char *network, const char *node, char *buf,
		      size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	const char *parts[] = {cluster ? cluster : "", "/", network, "/", node};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(buf, len, TUNNEL_PREFIX "%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

bool tunnel_port_is_system(const json_t *port)
{
	const char *name = obj_name(port), *netns = obj_str(port, "spec", "netns"),
		   *owner = obj_str(port, "spec", "owner");

	return name && strncmp(name, TUNNEL_PREFIX, strlen(TUNNEL_PREFIX)) == 0 && netns &&
	       strcmp(netns, name) == 0 && owner && strcmp(owner, name) == 0;
}

static const char *subject_word(enum kind k)
{
	return k == KIND_VM ? "vm" : "port";
}

/* Port-forward: the subject's Port (a VM's own), checked for what a
 * port-forward needs. Console: the VM, checked for a console. */
static int subject_port(struct registry *reg, const struct tunnel_request *req, json_t **port,
			struct api_error *err)
{
	const char *sw = subject_word(req->subject), *phase, *reason;
	struct api_error e2 = {0};
	json_t *vm = NULL;
	int r;

	if (req->subject == KIND_PORT) {
		r = registry_get(reg, KIND_PORT, req->name, port, &e2);
		if (r == -ENOENT || e2.status == 404)
			return api_error_set(err, 404, NULL, "port/%s does not exist", req->name);
		if (r < 0)
			return r;
		goto address;
	}
	r = registry_get(reg, KIND_VM, req->name, &vm, &e2);
	if (r == -ENOENT || e2.status == 404)
		return api_error_set(err, 404, NULL, "vm/%s does not exist", req->name);
	if (r < 0)
		return r;
	phase = obj_str(vm, "status", "phase");
	reason = obj_str(vm, "status", "reason");
	if (json_is_false(json_object_get(json_object_get(vm, "spec"), "running")) ||
	    (phase && strcmp(phase, "Stopped") == 0)) {
		r = api_error_set(err, 409, NULL,
				  "vm/%s is stopped (spec.running is false): `godwit start %s` "
				  "first",
				  req->name, req->name);
		goto cleanup;
	}
	if (phase && strcmp(phase, "Failed") == 0) {
		r = api_error_set(err, 409, NULL, "vm/%s has failed: %s", req->name,
				  reason ? reason : "no reason reported");
		goto cleanup;
	}
	if (req->kind == TUNNEL_CONSOLE && !obj_str(vm, "status", "console")) {
		r = api_error_set(err, 409, NULL, "vm/%s has no console yet (phase %s)", req->name,
				  phase ? phase : "unknown");
		goto cleanup;
	}
	if (req->kind == TUNNEL_PORTFORWARD) {
		r = registry_get(reg, KIND_PORT, vm_port_name(vm), port, &e2);
		if (r == -ENOENT || e2.status == 404)
			r = api_error_set(err, 409, NULL, "vm/%s has no address yet (no port %s)",
					  req->name, vm_port_name(vm));
		if (r < 0)
			goto cleanup;
	}
	/* A console is there from QEMU's start on (a boot can be watched). */
	if (req->kind == TUNNEL_PORTFORWARD &&
	    (!phase || (strcmp(phase, "Running") != 0 && strcmp(phase, "Migrating") != 0))) {
		r = api_error_set(err, 409, NULL, "vm/%s is not running yet (phase %s)", req->name,
				  phase ? phase : "unknown");
		goto cleanup;
	}
	if (req->kind == TUNNEL_CONSOLE) {
		*port = json_incref(vm); /* the console needs the VM itself */
		goto cleanup;
	}
	json_decref(vm);
	vm = NULL;
address:
	if (!obj_str(*port, "spec", "ipv4") || !obj_str(*port, "spec", "network")) {
		r = api_error_set(err, 409, NULL, "%s/%s has no address yet", sw, req->name);
		json_decref(*port);
		*port = NULL;
	}
cleanup:
	if (r < 0 && req->kind == TUNNEL_PORTFORWARD && *port && req->subject == KIND_VM) {
		json_decref(*port);
		*port = NULL;
	}
	json_decref(vm);
	return r;
}

static bool is_location(const json_t *port, const char *node)
{
	const json_t *locs = json_object_get(json_object_get(port, "spec"), "locations"), *l;
	size_t i;

	json_array_foreach(locs, i, l)
	{
		if (json_is_string(l) && strcmp(json_string_value(l), node) == 0)
			return true;
	}
	return false;
}

/* The network's gateway node, when Networks have one (spec.gatewayNode). */
static const char *gateway_node(struct registry *reg, const char *network, json_t **net)
{
	struct api_error e2 = {0};
	const char *gw;

	if (registry_get(reg, KIND_NETWORK, network, net, &e2) < 0)
		return NULL;
	gw = obj_str(*net, "spec", "gatewayNode");
	return gw ? gw : obj_str(*net, "spec", "gateway_node");
}

/* The serving node (a new reference) for a port-forward to port: the
 * network's gateway node when it is ready and not the port's, else the
 * first ready node that is not the port's, else the port's own. */
static int pick_node(struct registry *reg, const json_t *nodes, const json_t *port,
		     const struct tunnel_request *req, json_t **out, struct api_error *err)
{
	const json_t *n, *own = NULL;
	json_t *net = NULL;
	const char *gw = gateway_node(reg, obj_str(port, "spec", "network"), &net);
	size_t i;

	n = gw ? migration_find_node(nodes, gw) : NULL;
	if (n && migration_node_ready(n) && !is_location(port, gw)) {
		*out = json_incref((json_t *)n);
		json_decref(net);
		return 0;
	}
	json_decref(net);
	json_array_foreach(nodes, i, n)
	{
		if (!migration_node_ready(n))
			continue;
		if (!is_location(port, obj_name(n))) {
			*out = json_incref((json_t *)n);
			return 0;
		}
		if (!own)
			own = n;
	}
	if (own) {
		log_info("tunnel to %s/%s: no other ready node; its own node %s serves it (the "
			 "stream ends when it leaves that node)",
			 subject_word(req->subject), req->name, obj_name(own));
		*out = json_incref((json_t *)own);
		return 0;
	}
	return api_error_set(err, 503, NULL,
			     "no node can serve the tunnel to %s/%s (%zu node(s) registered, "
			     "none ready)",
			     subject_word(req->subject), req->name, json_array_size(nodes));
}

/* The tunnel Port of network on node exists (created when missing). */
static int ensure_tunnel_port(struct registry *reg, const char *network, const char *node,
			      char *name, size_t len, struct api_error *err)
{
	struct api_error e2 = {0};
	json_t *body, *out = NULL;
	int r;

	tunnel_port_name(reg->store->ops->cluster_id(reg->store), network, node, name, len);
	r = registry_get(reg, KIND_PORT, name, &out, &e2);
	json_decref(out);
	out = NULL;
	if (r == 0)
		return 0;
	body = kind_object_new(KIND_PORT, name,
			       json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "network", network, "owner",
					 name, "type", "veth", "netns", name, "locations", node));
	if (!body)
		return -ENOMEM;
	memset(&e2, 0, sizeof(e2));
	r = registry_create(reg, KIND_PORT, body, &out, &e2);
	json_decref(body);
	json_decref(out);
	if (r == 0) {
		log_info("made tunnel port %s of network %s on node %s", name, network, node);
		return 0;
	}
	if (e2.status == 409) /* made by a concurrent stream */
		return 0;
	if (e2.status)
		return api_error_set(err, e2.status == 507 ? 507 : 503, NULL,
				     "cannot make the tunnel port of network %s on node %s: %s",
				     network, node, e2.message);
	return r;
}

static int dial_agent(const char *ip, int *out)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(STREAMPROTO_AGENT_PORT)};
	struct pollfd p = {.events = POLLOUT};
	socklen_t len = sizeof(int);
	int fd, r, soerr = 0;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	p.fd = fd;
	r = poll(&p, 1, TUNNEL_AGENT_DIAL_MS);
	if (r <= 0) {
		r = r == 0 ? -ETIMEDOUT : -errno;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
		r = soerr ? -soerr : -errno;
		goto fail;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*out = fd;
	return 0;
fail:
	close(fd);
	return r;
}

/* Sends req to the agent of node and reads its answer. */
static int ask_agent(const json_t *node, const struct streamproto_request *req,
		     const struct tunnel_request *treq, int *out, struct api_error *err)
{
	const char *ip = obj_str(node, "spec", "underlay_ip"), *name = obj_name(node);
	char *line = NULL, answer[STREAMPROTO_LINE_MAX], msg[512];
	int fd = -1, n, r;

	if (!ip)
		return api_error_set(err, 503, NULL, "node %s has no underlay address", name);
	r = dial_agent(ip, &fd);
	if (r < 0)
		return api_error_set(err, 502, NULL,
				     "cannot reach the stream service of node %s at %s:%d: %s",
				     name, ip, STREAMPROTO_AGENT_PORT, strerror(-r));
	/* TLS with the node's stream secret (lib/pskpipe.h); fd becomes its plain end */
	r = pskpipe_client(fd, name, req->token, &fd, msg, sizeof(msg));
	if (r < 0)
		return api_error_set(err, 502, NULL, "the stream service of node %s at %s:%d: %s",
				     name, ip, STREAMPROTO_AGENT_PORT, msg);
	stream_set_timeout(fd, TUNNEL_AGENT_ANSWER_MS);
	n = streamproto_request_format(req, &line);
	r = n < 0 ? n : stream_write_all(fd, line, (size_t)n);
	free(line);
	if (r == 0)
		r = streamproto_read_line(fd, answer, sizeof(answer));
	if (r < 0) {
		close(fd);
		return api_error_set(err, 502, NULL, "the stream service of node %s: %s", name,
				     r == -EAGAIN ? "no answer in time" : strerror(-r));
	}
	r = streamproto_reply_parse(answer, (size_t)r, msg, sizeof(msg));
	if (r < 0) {
		close(fd);
		return api_error_set(err, 502, NULL, "node %s cannot open the stream to %s/%s: %s",
				     name, subject_word(treq->subject), treq->name,
				     r == -EPROTO ? msg : "a malformed answer");
	}
	stream_set_timeout(fd, 0);
	*out = fd;
	return 0;
}

int tunnel_open(struct registry *reg, const char *token, const struct tunnel_request *req, int *fd,
		struct api_error *err)
{
	struct streamproto_request sreq = {
	    .kind = req->kind == TUNNEL_CONSOLE ? STREAMPROTO_CONSOLE : STREAMPROTO_PORTFORWARD,
	    .port = (uint16_t)req->port};
	json_t *subj = NULL, *nodes = NULL, *node = NULL;
	const char *node_name;
	char *secret = NULL;
	int r;

	r = subject_port(reg, req, &subj, err);
	if (r < 0)
		goto cleanup;
	r = node_list(reg, &nodes);
	if (r < 0)
		goto cleanup;
	if (req->kind == TUNNEL_CONSOLE) {
		node_name = obj_str(subj, "status", "node");
		if (!node_name)
			node_name = obj_str(subj, "spec", "node");
		node =
		    node_name ? json_incref((json_t *)migration_find_node(nodes, node_name)) : NULL;
		if (!obj_str(subj, "status", "console") || !node) {
			r = api_error_set(err, 409, NULL, "vm/%s has no console yet (phase %s)",
					  req->name, obj_str(subj, "status", "phase") ?: "unknown");
			goto cleanup;
		}
		snprintf(sreq.vm, sizeof(sreq.vm), "%s", req->name);
	} else {
		r = pick_node(reg, nodes, subj, req, &node, err);
		if (r < 0)
			goto cleanup;
		r = ensure_tunnel_port(reg, obj_str(subj, "spec", "network"), obj_name(node),
				       sreq.netns, sizeof(sreq.netns), err);
		if (r < 0)
			goto cleanup;
		r = -EINVAL;
		if (inet_pton(AF_INET, obj_str(subj, "spec", "ipv4"), &sreq.ipv4) != 1)
			goto cleanup;
		sreq.ipv4 = ntohl(sreq.ipv4);
	}
	/* What this node's agent takes (auth.h, "Streams"). */
	r = auth_stream_secret(reg->store, obj_name(node), token, &secret);
	if (r < 0)
		goto cleanup;
	r = -E2BIG;
	if (strlen(secret) >= sizeof(sreq.token))
		goto cleanup;
	strcpy(sreq.token, secret);
	r = ask_agent(node, &sreq, req, fd, err);
cleanup:
	memset(sreq.token, 0, sizeof(sreq.token));
	if (secret)
		memset(secret, 0, strlen(secret));
	free(secret);
	json_decref(subj);
	json_decref(nodes);
	json_decref(node);
	return r;
}
