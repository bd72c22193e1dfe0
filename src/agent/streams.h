/* SPDX-License-Identifier: MIT */
/*
 * streams: the agent's stream service, the far end of `godwit port-forward`,
 * `godwit ssh` and `godwit console` (docs/API.md, "Streams").
 *
 * How the controller reaches an agent
 * Agents dial the controller for everything else; for streams the agent
 * listens on its underlay address at the fixed port STREAMPROTO_AGENT_PORT
 * (lib/streamproto.h), the Node's spec.underlay_ip, and the controller
 * connects there, per stream. A listener rather than a reverse
 * connection held open towards the controller: each stream is one TCP
 * connection with its own flow control, nothing is multiplexed, a restarted
 * controller needs no agent to come back first, and a stream ends with its
 * connection. Who may ask: whoever holds this node's stream secret, made at
 * the node's join, given to the agent with its credential and kept by the
 * controller (controller auth.h, "Streams"; credential.h); an agent with no
 * stream secret takes its bearer token, as before. The connection is TLS
 * with that secret as pre-shared key (lib/pskpipe.h): the handshake proves
 * it both ways without sending it, and a console's or a port-forward's bytes
 * are encrypted on the underlay. Inside, the request line carries the secret
 * once more (compared in constant time, lib/secret.h). A handshake that
 * fails, a line that does not come within STREAMS_HEAD_TIMEOUT_MS, does not
 * parse or carries another token ends the connection (the last two with an
 * error line). At most STREAMS_MAX at a time.
 *
 * Port-forward: the agent connects to IPV4:PORT from inside the tunnel
 * namespace NETNS of this node (made here when missing, empty; the
 * controller's tunnel Port plumbs its eth0 into it as for any veth port,
 * ports.h; its name is noted in RUN_DIR/NODE/tunnels/ for whoever removes
 * the node: `godwit lab down` deletes them), so the connection runs over the fabric like any
 * endpoint's and survives the VM's migration. The socket is made inside the namespace by a thread
 * that enters it and comes back (a socket keeps its namespace). While the port is being plumbed
 * (first use) the connect is retried up to STREAMS_CONNECT_WAIT_MS.
 *
 * Console: the agent connects to the VM's console socket under its run dir
 * (RUN_DIR/NODE/VM/console.sock, vm.h), waiting up to STREAMS_CONSOLE_WAIT_MS
 * for a starting QEMU to make it.
 */
#ifndef GODWIT_AGENT_STREAMS_H
#define GODWIT_AGENT_STREAMS_H

#define STREAMS_MAX		256
#define STREAMS_HEAD_TIMEOUT_MS 5000
#define STREAMS_CONNECT_WAIT_MS 15000
#define STREAMS_CONSOLE_WAIT_MS 5000

struct streams;

struct streams_config {
	const char *underlay_ip; /* dotted quad to listen on */
	const char *token;	 /* the stream secret (credential.h) */
	const char *node;
	const char *vm_run_dir; /* the vm module's run dir (vm.h) */
	unsigned short port;	/* 0: STREAMPROTO_AGENT_PORT */
};

int streams_start(const struct streams_config *cfg, struct streams **out);
void streams_stop(struct streams *s); /* accepts NULL; streams under way go on */

#endif
