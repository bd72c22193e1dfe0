/* SPDX-License-Identifier: MIT */
/*
 * config: which controller the CLI talks to, and with which token.
 *
 * Order: flags (--server, global, before the verb), then the environment
 * (GODWIT_SERVER/GODWIT_TOKEN), then a kubeconfig-style file
 * ($GODWIT_CONFIG or ~/.godwit/config):
 *   {"current-context": "lab-x",
 *    "contexts": {"lab-x": {"server": "unix:/run/godwit/labs/x/api.sock",
 *                           "token-file": "/run/godwit/labs/x/token"}}}
 * `--lab NAME` is a flag, so it selects context lab-NAME ahead of the
 * environment. Server and token are resolved independently by that order.
 * The CA that an https:// server's certificate is verified against comes
 * from --ca FILE, else GODWIT_CA, else the "ca-file" of the context the
 * server came from (a server from a flag or the environment takes no CA
 * from the file: it may be another cluster's).
 * A token is never a flag (a command line is visible to every user of the
 * host): the environment or a context's token-file only.
 * The inputs are passed in (not read from getenv) so tests can drive it.
 */
#ifndef GODWIT_CLI_CONFIG_H
#define GODWIT_CLI_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct config_input {
	const char *flag_server, *flag_lab, *flag_ca;
	const char *env_server, *env_token, *env_config, *home, *env_ca;
};

struct config_target {
	char *server;
	char *token;	     /* NULL when none was found */
	char *ca_file;	     /* NULL: none given (the system's CAs) */
	char *server_source; /* "--server", "GODWIT_SERVER" or "context lab-x (path)" */
};

/* $GODWIT_CONFIG or HOME/.godwit/config (malloc'd; NULL on ENOMEM). */
char *config_path(const struct config_input *in);

/* Reads the file: a missing file gives an empty config; bad JSON is -EINVAL with err. */
int config_load(const char *path, json_t **out, char *err, size_t errlen);

int config_resolve(const struct config_input *in, struct config_target *out, char *err,
		   size_t errlen);
void config_target_free(struct config_target *t);

/* The lab the lab/endpoint verbs act on: --lab, else the current lab-* context, else "godwit". */
int config_lab_name(const struct config_input *in, char *buf, size_t len);

/* Adds/replaces context name (optionally current) / removes it; atomic rewrite, mode 0600.
 * token_file and ca_file may be NULL (not stored). */
int config_set_context(const char *path, const char *name, const char *server,
		       const char *token_file, const char *ca_file, bool make_current);
int config_remove_context(const char *path, const char *name);

/*
 * Writes path, a kubeconfig for kubectl (YAML; atomic rewrite, mode 0600:
 * the token is in it): cluster, user and context name, current, namespace
 * default; the cluster's server (an https:// URL: kubectl sends a bearer
 * token over https only) verified against ca_file (a PEM CA).
 */
int config_write_kubeconfig(const char *path, const char *name, const char *server,
			    const char *ca_file, const char *token);

#endif
