/* SPDX-License-Identifier: MIT */
/*
 * credential: the agent's identity towards the controller (controller
 * auth.h, docs/API.md "Identities"), settled once at start:
 * - --token-file F: the bearer token in F (a node credential, or the admin
 *   token of an older setup) is used as given;
 * - else the credential kept in the state dir (CREDENTIAL_FILE, 0600) from
 *   an earlier join: a restart reuses it, its join token is spent;
 * - else --join-token-file F: the join token in F is exchanged once
 *   (POST /v1/join {"node", "token"}) for a node credential and a stream
 *   secret, both written 0600 to the state dir (the stream secret first:
 *   the credential's file is what says the join is done). While the
 *   controller cannot be reached the exchange is retried; a refusal (a used
 *   or expired token, one made for another node) ends the agent with the
 *   controller's reason.
 * The stream secret (STREAM_SECRET_FILE) is what the agent's stream listener
 * takes from the controller (streams.h); without one it takes the bearer
 * token itself, as before.
 */
#ifndef GODWIT_AGENT_CREDENTIAL_H
#define GODWIT_AGENT_CREDENTIAL_H

#define CREDENTIAL_FILE		     "credential"
#define STREAM_SECRET_FILE	     "stream-secret"
#define CREDENTIAL_DEFAULT_STATE_DIR "/var/lib/godwit-agent"

struct credential_config {
	const char *node;
	const char *server;
	const char *ca_file; /* the cluster CA for an https:// server; may be NULL */
	const char *state_dir;
	const char *token_file;	     /* NULL: none given */
	const char *join_token_file; /* NULL: none given */
	/* Set by a caller to stop the join's retries (a signal); may be NULL. */
	volatile int *stop;
};

/* *token and *stream_secret are malloc'ed; logs why it failed. */
int credential_obtain(const struct credential_config *cfg, char **token, char **stream_secret);

#endif
