/* SPDX-License-Identifier: MIT */
/* The CLI's side of the API: server resolution, connection errors, reading inputs. */
#include "cli.h"

#include "lib/apiclient.h"
#include "lib/stream.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INPUT_MAX (16u << 20)

static int cli_resolve(struct cli *cli)
{
	char err[512];
	int r;

	if (cli->target.server)
		return 0;
	r = config_resolve(&cli->cfg, &cli->target, err, sizeof(err));
	if (r)
		fprintf(stderr, "godwit: %s\n", r == -ENOMEM ? strerror(ENOMEM) : err);
	return r;
}

int cli_server(struct cli *cli, const char **server, const char **token)
{
	int r = cli_resolve(cli);

	if (r)
		return r;
	*server = cli->target.server;
	*token = cli->target.token;
	return 0;
}

int cli_stream_open(struct cli *cli, const char *path, int *fd)
{
	char err[1024];
	int r = cli_resolve(cli), status = 0;

	if (r)
		return r;
	r = stream_open(cli->target.server, cli->target.token, cli->target.ca_file, path, fd,
			&status, err, sizeof(err));
	if (r == -EPROTO)
		fprintf(stderr, "Error: %s\n", err);
	else if (r)
		fprintf(stderr, "godwit: cannot reach the controller at %s (from %s): %s\n",
			cli->target.server, cli->target.server_source, err);
	return r;
}

static int cli_connect(struct cli *cli)
{
	int r;

	if (cli->api)
		return 0;
	r = cli_resolve(cli);
	if (r)
		return r;
	r = api_client_new(cli->target.server, cli->target.token, cli->target.ca_file, &cli->api);
	if (r)
		fprintf(stderr, "godwit: bad server '%s' (from %s): %s\n", cli->target.server,
			cli->target.server_source, strerror(-r));
	return r;
}

int cli_request(struct cli *cli, const char *method, const char *path, const json_t *body,
		long *status, json_t **reply)
{
	int r = cli_connect(cli);

	if (r)
		return r;
	r = api_request(cli->api, method, path, body, status, reply);
	if (r == -EPROTO) {
		fprintf(stderr,
			"godwit: the server at %s answered %s %s with something that is "
			"not JSON (is it a godwit controller?)\n",
			cli->target.server, method, path);
	} else if (r == -EPERM || r == -ENOENT) { /* the certificate or the CA file */
		fprintf(stderr, "godwit: cannot trust the controller at %s (from %s): %s\n",
			cli->target.server, cli->target.server_source, api_client_error(cli->api));
		fprintf(stderr, "hint: give its CA (STATE/tls/ca.crt of godwitd) with --ca FILE, "
				"GODWIT_CA or `godwit config set-context ... --ca FILE`\n");
	} else if (r) {
		fprintf(stderr, "godwit: cannot reach the controller at %s (from %s): %s\n",
			cli->target.server, cli->target.server_source,
			*api_client_error(cli->api) ? api_client_error(cli->api) : strerror(-r));
		fprintf(stderr, "hint: is it running? `godwit lab status` shows the lab's daemons; "
				"`godwit lab up` starts one\n");
	}
	return r;
}

void cli_usage(const struct cli_verb *verb, FILE *f)
{
	fprintf(f, "usage: godwit [--server URL] [--lab NAME] %s\n\n%s\n", verb->usage,
		verb->description);
}

int cli_bad_flag(const struct cli_verb *verb, int opt, char **argv)
{
	const char *flag = argv[optind - 1];

	if (opt == ':')
		fprintf(stderr, "godwit %s: flag '%s' needs a value\n", verb->name, flag);
	else if (optopt && optopt != '?')
		fprintf(stderr, "godwit %s: unknown flag '-%c'\n", verb->name, optopt);
	else
		fprintf(stderr, "godwit %s: unknown flag '%s'\n", verb->name, flag);
	fprintf(stderr, "run `godwit %s --help` for its usage\n", verb->name);
	return EXIT_USAGE;
}

int cli_strategy_arg(const char *who, const char *text, enum strategy *out)
{
	enum strategy s;

	if (strategy_parse(text, &s) < 0) {
		fprintf(stderr, "godwit %s: --strategy '%s': expected one of %s\n", who, text,
			strategy_choices);
		return EXIT_USAGE;
	}
	if (out)
		*out = s;
	return 0;
}

const struct option cli_filename_flag = {"filename", required_argument, NULL, 'f'};

int cli_flags(const struct cli_verb *verb, int argc, char **argv, const struct option *flag,
	      const char **value)
{
	struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}, {0}};
	char optstring[] = ":h?:";
	int opt;

	if (flag) {
		opts[1] = *flag;
		optstring[2] = (char)flag->val;
		*value = NULL;
	} else {
		optstring[2] = '\0';
	}
	optind = 0;
	while ((opt = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage(verb, stdout);
			return 0;
		}
		if (!flag || opt != flag->val)
			return cli_bad_flag(verb, opt, argv);
		*value = optarg;
	}
	return CLI_GO_ON;
}

int cli_operands(const struct cli_verb *verb, int argc, char **argv, int operands)
{
	int r = cli_flags(verb, argc, argv, NULL, NULL);

	if (r != CLI_GO_ON)
		return r;
	if (argc - optind != operands) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	return CLI_GO_ON;
}

int read_input(const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *data = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			char *grown;

			cap = cap ? cap * 2 : 65536;
			grown = realloc(data, cap);
			if (!grown) {
				r = -ENOMEM;
				goto cleanup;
			}
			data = grown;
		}
		got = fread(data + n, 1, cap - n - 1, f);
		n += got;
		if (n > INPUT_MAX) {
			r = -EFBIG;
			goto cleanup;
		}
		if (got == 0) {
			if (ferror(f))
				r = -EIO;
			break;
		}
	}
cleanup:
	if (f != stdin)
		fclose(f);
	if (r) {
		free(data);
		return r;
	}
	data[n] = '\0';
	*buf = data;
	*len = n;
	return 0;
}

void cli_free(struct cli *cli)
{
	api_client_free(cli->api);
	cli->api = NULL;
	config_target_free(&cli->target);
}
