/* SPDX-License-Identifier: MIT */
/*
 * cli: the shared state of one `godwit` invocation and the verb table.
 *
 * Like WireGuard's `wg`, every verb is a row {name, handler, description,
 * usage}; handlers get the arguments after the verb and return the process
 * exit status: 0 success, 1 failure (message printed), 2 bad usage.
 *
 * The CLI is three static libraries ("wings") that call downwards only:
 *   main.c (the verb table: the one file that knows every wing)
 *     -> src/demo (demo_core: `lab demo`, its report and picture, `drill`)
 *     -> src/lab  (lab_core: lab up/down/status/list, endpoints, their verbs)
 *     -> src/cli  (cli_core: this header, client, config, tables, views,
 *                  manifests, migclient, the API verbs) -> src/lib
 * A verb that lives above the wing that parses its parent (`lab demo`) is
 * handed down by main.c (lab/lab_verbs.h).
 */
#ifndef GODWIT_CLI_CLI_H
#define GODWIT_CLI_CLI_H

#include "config.h"
#include "lib/phases.h"

#include <jansson.h>
#include <stdio.h>

#define EXIT_USAGE 2

struct api_client;

struct cli {
	struct config_input cfg;
	struct config_target target;
	struct api_client *api; /* connected lazily by cli_request() */
};

struct cli_verb {
	const char *name;
	int (*handler)(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
	const char *description;
	const char *usage; /* the lines after "usage: godwit " */
};

/* Verb handlers of this wing (argv[0] is the verb); the lab's are in lab/lab_verbs.h,
 * the demo's in demo/demo.h and demo/drill.h. */
int cmd_apply(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_get(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_describe(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_delete(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_console(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_migrate(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_port_forward(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_ssh(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_migrate_cancel(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_power(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_config(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
int cmd_token(struct cli *cli, const struct cli_verb *verb, int argc, char **argv);
/* A --ttl of `godwit token create` ("90", "30m", "1h", "7d") in seconds; errors printed. */
int token_parse_ttl(const char *text, long *out);

/* Prints "usage: godwit ..." of verb to f. */
void cli_usage(const struct cli_verb *verb, FILE *f);

/*
 * Handles getopt_long's '?' / ':' answers: prints a clear error naming the
 * flag and returns EXIT_USAGE. optstring must start with "+:" or ":".
 */
int cli_bad_flag(const struct cli_verb *verb, int opt, char **argv);

/*
 * The flags of a verb that has -h/--help and at most one other flag, which
 * takes a value: flag is its option (NULL: none), *value what it was given
 * (NULL when absent). Returns CLI_GO_ON when the operands stand at
 * argv[optind]; otherwise the verb's exit status, its message printed: 0
 * after -h (usage on stdout), EXIT_USAGE after a bad flag.
 */
#define CLI_GO_ON (-1)
struct option;
int cli_flags(const struct cli_verb *verb, int argc, char **argv, const struct option *flag,
	      const char **value);
/* A --strategy value (lib/phases.h) into *out (may be NULL); EXIT_USAGE after
 * "godwit WHO: --strategy 'x': expected one of first-frame|rarp". */
int cli_strategy_arg(const char *who, const char *text, enum strategy *out);

/* -f/--filename FILE, of apply and delete. */
extern const struct option cli_filename_flag;
/* cli_flags() of a verb with -h only and exactly `operands` operands (EXIT_USAGE
 * after another count). */
int cli_operands(const struct cli_verb *verb, int argc, char **argv, int operands);

/*
 * One API call via the resolved server. Transport failures are printed
 * ("cannot reach the controller at URL: ...") and returned as -errno.
 */
int cli_request(struct cli *cli, const char *method, const char *path, const json_t *body,
		long *status, json_t **reply);

/* The resolved server and token (token may be NULL); errors are printed. */
int cli_server(struct cli *cli, const char **server, const char **token);

/*
 * Opens a stream of the API (lib/stream.h) at path: 0 and *fd, or -errno
 * with the controller's refusal ("Error: vm/x does not exist") or the
 * transport failure printed.
 */
int cli_stream_open(struct cli *cli, const char *path, int *fd);

/* Reads a whole file ("-" = stdin), bounded to 16 MiB. */
int read_input(const char *path, char **buf, size_t *len);

void cli_free(struct cli *cli);

#endif
