/* SPDX-License-Identifier: MIT */
/* `get`, `describe`, `delete KIND NAME`. */
#include "cli.h"
#include "manifest.h"
#include "views.h"

#include "lib/apiclient.h"
#include "lib/kinds.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int apply_delete_file(struct cli *cli, const char *file);

static const struct kind_info *kind_arg(const char *verb, const char *word)
{
	const struct kind_info *k = kind_lookup(word);

	if (!k)
		fprintf(stderr,
			"godwit %s: unknown kind '%s' (expected network|net, port, node, "
			"migration|mig, vm)\n",
			verb, word);
	return k;
}

/* GET path expecting 200; prints the server's error otherwise. Returns exit status. */
static int get_json(struct cli *cli, const char *path, const char *what, json_t **out)
{
	long status;
	json_t *reply = NULL;

	if (cli_request(cli, "GET", path, NULL, &status, &reply))
		return 1;
	if (status == 200 && reply) {
		*out = reply;
		return 0;
	}
	if (status == 404)
		fprintf(stderr, "Error: %s not found\n", what);
	else
		fprintf(stderr, "Error: GET %s: %ld %s\n", path, status, api_error_text(reply));
	json_decref(reply);
	return 1;
}

int cmd_get(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option output_flag = {"output", required_argument, NULL, 'o'};
	const char *output;
	const struct kind_info *k;
	json_t *reply = NULL, *ports = NULL;
	char path[256], what[160];
	int r, ret = 1;

	r = cli_flags(verb, argc, argv, &output_flag, &output);
	if (r != CLI_GO_ON)
		return r;
	if (output && strcmp(output, "wide") && strcmp(output, "json") && strcmp(output, "yaml")) {
		fprintf(stderr, "godwit get: unknown output format '%s' (wide, json, yaml)\n",
			output);
		return EXIT_USAGE;
	}
	if (argc - optind < 1 || argc - optind > 2) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	k = kind_arg("get", argv[optind]);
	if (!k)
		return EXIT_USAGE;
	if (argc - optind == 2) {
		snprintf(path, sizeof(path), "/v1/%s/%s", k->plural, argv[optind + 1]);
		snprintf(what, sizeof(what), "%s/%s", k->singular, argv[optind + 1]);
	} else {
		snprintf(path, sizeof(path), "/v1/%s", k->plural);
		snprintf(what, sizeof(what), "%s", k->plural);
	}
	if (get_json(cli, path, what, &reply))
		return 1;

	if (output && (strcmp(output, "json") == 0 || strcmp(output, "yaml") == 0)) {
		bool list = argc - optind == 1, yaml = strcmp(output, "yaml") == 0;
		json_t *v = list ? json_object_get(reply, "items") : reply;
		json_t *doc = list && !yaml ? view_list(reply) : json_incref(v);

		ret = view_dump(doc ? doc : json_null(), list && yaml, yaml, stdout) ? 1 : 0;
		json_decref(doc);
	} else {
		json_t *items = argc - optind == 1 ? json_incref(json_object_get(reply, "items"))
						   : json_pack("[O]", reply);

		if (kind_of(k) == KIND_NETWORK) {
			json_t *pl = NULL;

			if (get_json(cli, "/v1/ports", "ports", &pl) == 0)
				ports = json_incref(json_object_get(pl, "items"));
			json_decref(pl);
		}
		if (json_array_size(items) == 0) {
			fprintf(stderr, "No %s found.\n", k->plural);
			ret = 0;
		} else if (view_print_table(k, items, ports, output != NULL, stdout) == 0) {
			ret = 0;
		}
		json_decref(items);
	}
	json_decref(ports);
	json_decref(reply);
	return ret;
}

/* The readiness of a network's gateway node; 1 when the API cannot tell. */
static int describe_gateway_node(struct cli *cli, const json_t *net)
{
	const char *name = obj_str(net, "spec", "gatewayNode");
	json_t *node = NULL;
	char path[160];
	long status;

	if (!name)
		return 0;
	snprintf(path, sizeof(path), "/v1/nodes/%s", name);
	if (cli_request(cli, "GET", path, NULL, &status, &node))
		return 1;
	if (status != 200 && status != 404) {
		fprintf(stderr, "Error: GET %s: %ld %s\n", path, status, api_error_text(node));
		json_decref(node);
		return 1;
	}
	view_gateway_node(net, status == 200 ? node : NULL, stdout);
	json_decref(node);
	return 0;
}

int cmd_describe(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	const struct kind_info *k;
	json_t *obj = NULL, *ports = NULL;
	char path[256], what[160];
	int r, ret = 0;

	r = cli_operands(verb, argc, argv, 2);
	if (r != CLI_GO_ON)
		return r;
	k = kind_arg("describe", argv[optind]);
	if (!k)
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/%s/%s", k->plural, argv[optind + 1]);
	snprintf(what, sizeof(what), "%s/%s", k->singular, argv[optind + 1]);
	if (get_json(cli, path, what, &obj))
		return 1;
	if (kind_of(k) == KIND_NETWORK) {
		json_t *pl = NULL;

		if (get_json(cli, "/v1/ports", "ports", &pl) == 0)
			ports = json_incref(json_object_get(pl, "items"));
		json_decref(pl);
	}
	view_describe(k, obj, ports, stdout);
	if (kind_of(k) == KIND_NETWORK && describe_gateway_node(cli, obj))
		ret = 1;
	json_decref(ports);
	json_decref(obj);
	return ret;
}

int cmd_delete(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	const char *file;
	const struct kind_info *k;
	json_t *reply = NULL;
	char path[256];
	long status;
	int ret;

	ret = cli_flags(verb, argc, argv, &cli_filename_flag, &file);
	if (ret != CLI_GO_ON)
		return ret;
	if (file) {
		if (argc - optind != 0) {
			cli_usage(verb, stderr);
			return EXIT_USAGE;
		}
		return apply_delete_file(cli, file);
	}
	if (argc - optind != 2) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	k = kind_arg("delete", argv[optind]);
	if (!k)
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/%s/%s", k->plural, argv[optind + 1]);
	if (cli_request(cli, "DELETE", path, NULL, &status, &reply))
		return 1;
	if (status == 200) {
		printf("%s/%s deleted\n", k->singular, argv[optind + 1]);
		ret = 0;
	} else if (status == 404) {
		fprintf(stderr, "Error: %s/%s not found\n", k->singular, argv[optind + 1]);
		ret = 1;
	} else {
		fprintf(stderr, "Error: %s/%s: %s\n", k->singular, argv[optind + 1],
			api_error_text(reply));
		ret = 1;
	}
	json_decref(reply);
	return ret;
}
