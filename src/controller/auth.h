/* SPDX-License-Identifier: MIT */
/*
 * auth: who makes a request (its bearer credential) and what it may do
 * (docs/API.md, "Identities").
 *
 * Identities
 * - admin: the token of the controller's token file (token.h), the CLI's.
 *   It may do everything.
 * - node N: the credential N's agent got once, like `kubeadm join`, by
 *   POST /v1/join {"node": N, "token": T} with a join token an admin made
 *   (POST /v1/tokens {"node": N, "ttl_s": S}: printed once, valid once,
 *   until it expires). The agent keeps the credential 0600 in its state dir
 *   and uses it from then on; a restart reuses it.
 * - Stored (auth_join.c, in the store's credentials: store.h) are SHA-256s
 *   (lib/secret.h), never a token: the key of a join token's or a
 *   credential's record is the hash of its secret. A copy of the store
 *   gives nobody a credential.
 * - Revoked by DELETE /v1/tokens/N (`godwit token revoke --node N`) or the
 *   delete of Node N: every record of N goes, its requests get 401.
 *
 * Streams. The controller connects to an agent's stream listener (agent
 * streams.h) and must prove it is the controller, which a node credential
 * cannot do: the controller holds only its hash. So each join also makes a
 * stream secret for N, returned with the credential (the agent keeps it
 * beside it) and kept by the controller in the clear, under the key
 * "stream:N" (a secret worth only the streams of N's agent). The controller
 * presents it at every stream through N; an agent started with an older
 * credential file and no stream secret (e.g. the admin token) is presented
 * the admin token, as before.
 *
 * Authorization: one table (auth.c), the first row that matches a request
 * (method, target, kind) decides what a node credential may do; no row:
 * refused. The admin passes every row. A node reads what an agent reads
 * (lists, objects, the watch), writes only its own Node and status
 * (reports of ports and VMs not placed on it are dropped from its status:
 * auth_status_placed), and acts only on migrations whose source or target
 * it is. A refusal is 403 naming the credential's node and what it may not
 * do; a missing, unknown or revoked credential is 401.
 */
#ifndef GODWIT_CONTROLLER_AUTH_H
#define GODWIT_CONTROLLER_AUTH_H

#include "api_objects.h"
#include "registry.h"

#include <stdbool.h>

#define AUTH_JOIN_TTL_DEFAULT_S 3600
#define AUTH_JOIN_TTL_MAX_S	(30 * 24 * 3600)

enum auth_role { AUTH_ADMIN, AUTH_NODE };

struct auth_principal {
	enum auth_role role;
	char node[64]; /* AUTH_NODE: the node's name */
};

enum auth_target {
	AUTH_T_OBJECTS,		 /* /v1/{kind} and /v1/{kind}/{name} */
	AUTH_T_NODE_STATUS,	 /* /v1/nodes/{name}/status */
	AUTH_T_MIGRATION_ACTION, /* /v1/migrations/{name}/{action} */
	AUTH_T_STREAM,		 /* port-forward, console */
	AUTH_T_WATCH,
	AUTH_T_METRICS,
	AUTH_T_TOKENS,	  /* /v1/tokens[/{node}] */
	AUTH_T_DISCOVERY, /* the Kubernetes API's /api, /apis, /version, /openapi (k8s.h) */
};

#define AUTH_ANY_KIND (-1)

struct auth_request {
	const char *method;
	enum auth_target target;
	int kind;	  /* enum kind, or AUTH_ANY_KIND where the path has none */
	const char *name; /* the object's name; NULL for a collection */
	const char *url;  /* for messages */
};

/* What a node credential may do with a request the table matched. */
enum auth_rule {
	AUTH_DENY,
	AUTH_ALLOW,
	AUTH_OWN_NODE,	      /* name is the credential's node */
	AUTH_MIGRATION_PARTY, /* the migration's source or target is its node */
};

/* The table's decision for a node credential; *what (may be NULL) says the
 * row's act, for messages. */
enum auth_rule auth_rule_for(const struct auth_request *req, const char **what);

/*
 * Who the Authorization header value (NULL when absent) is: the admin when
 * it carries admin_token, else the node whose credential it carries; a
 * negative errno with err (401) otherwise.
 */
int auth_identify(struct store *s, const char *admin_token, const char *header,
		  struct auth_principal *p, struct api_error *err);

/* 0 when p may make req; a negative errno with err (403) naming p's node
 * otherwise. */
int auth_check(struct registry *reg, const struct auth_principal *p, const struct auth_request *req,
	       struct api_error *err);

/*
 * Drops from the body of a status report of node (PUT
 * /v1/nodes/N/status, before its validation) the "ports" and "vms"
 * entries not placed on it: a Port whose locations
 * or spec.target name it, a VM whose spec.node or spec.target does. An
 * agent's report trails a move by a heartbeat, so an entry is dropped, not
 * the report refused. *dropped: how many.
 */
int auth_status_placed(struct registry *reg, const char *node, json_t *body, int *dropped);

/* The credentials (auth_join.c). */

/*
 * POST /v1/tokens {"node": N, "ttl_s": S (default AUTH_JOIN_TTL_DEFAULT_S)}:
 * a new join token for N; *out {"node", "token", "expires_ms"} (the only
 * time the token is shown).
 */
int auth_token_create(struct registry *reg, const json_t *body, json_t **out,
		      struct api_error *err);

/*
 * POST /v1/join {"node": N, "token": T}: T's record is used up, every
 * earlier credential of N goes, and *out is {"node", "credential",
 * "stream_secret", "cluster"}. 401 for an unknown, used or expired token or
 * one made for another node, each saying which.
 */
int auth_join(struct registry *reg, const json_t *body, json_t **out, struct api_error *err);

/* DELETE /v1/tokens/N: every credential and join token of N (404: none). */
int auth_revoke(struct registry *reg, const char *node, json_t **out, struct api_error *err);

/* The secret the controller presents at node's stream listener (above):
 * its stream secret, else admin_token. *out malloc'ed. */
int auth_stream_secret(struct store *s, const char *node, const char *admin_token, char **out);

#endif
