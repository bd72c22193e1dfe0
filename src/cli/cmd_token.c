/* SPDX-License-Identifier: MIT */
/*
 * `godwit token create --node NAME [--ttl 1h]` and `godwit token revoke
 * --node NAME`: join tokens and node credentials (docs/API.md,
 * "Identities"; controller auth.h), kubeadm's `token create`. A join token
 * is printed once, alone on stdout (`> FILE` gives the agent its
 * --join-token-file); what it is goes to stderr.
 */
#include "cli.h"

#include "lib/apiclient.h"
#include "lib/num.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TTL_MAX_S (30L * 24 * 3600) /* the controller's AUTH_JOIN_TTL_MAX_S */

/* "90", "90s", "30m", "1h", "7d" in seconds (1..TTL_MAX_S); errors printed. */
int token_parse_ttl(const char *text, long *out)
{
	static const struct {
		char suffix;
		long scale;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	char digits[32];
	size_t n = strlen(text);
	long scale = 1, v;

	if (n == 0 || n >= sizeof(digits))
		goto bad;
	memcpy(digits, text, n + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (digits[n - 1] == units[i].suffix) {
			scale = units[i].scale;
			digits[--n] = '\0';
			break;
		}
	if (num_parse_long(digits, 1, TTL_MAX_S, &v) < 0 || v > TTL_MAX_S / scale)
		goto bad;
	*out = v * scale;
	return 0;
bad:
	fprintf(stderr,
		"godwit token: --ttl: '%s' is not a duration of 1 s to 30 d (90, 90s, 30m, 1h, "
		"7d)\n",
		text);
	return -EINVAL;
}

int cmd_token(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
					     {"ttl", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *node = NULL, *sub;
	json_t *reply = NULL, *body = NULL;
	char path[128], when[64];
	long ttl = 3600, code = 0;
	time_t expires;
	int opt, ret = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (opt == 'n')
			node = optarg;
		else if (opt == 't') {
			if (token_parse_ttl(optarg, &ttl) < 0)
				return EXIT_USAGE;
		} else if (opt == 'h') {
			cli_usage(verb, stdout);
			return 0;
		} else
			return cli_bad_flag(verb, opt, argv);
	}
	if (argc - optind != 1 || !node ||
	    (strcmp(argv[optind], "create") != 0 && strcmp(argv[optind], "revoke") != 0)) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	sub = argv[optind];
	if (strcmp(sub, "create") == 0) {
		body = json_pack("{s:s, s:I}", "node", node, "ttl_s", (json_int_t)ttl);
		if (!body || cli_request(cli, "POST", "/v1/tokens", body, &code, &reply))
			goto cleanup;
		if (code != 201) {
			fprintf(stderr, "Error: token for node %s: %s\n", node,
				api_error_text(reply));
			goto cleanup;
		}
		expires = (time_t)(json_integer_value(json_object_get(reply, "expires_ms")) / 1000);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&expires));
		printf("%s\n", json_string_value(json_object_get(reply, "token")) ?: "");
		fprintf(stderr,
			"a join token for node %s, good for one join until %s: give it to the "
			"agent in a file (godwit-agent --join-token-file FILE)\n",
			node, when);
		ret = 0;
		goto cleanup;
	}
	snprintf(path, sizeof(path), "/v1/tokens/%s", node);
	if (cli_request(cli, "DELETE", path, NULL, &code, &reply))
		goto cleanup;
	if (code != 200) {
		fprintf(stderr, "Error: revoke node %s: %s\n", node, api_error_text(reply));
		goto cleanup;
	}
	printf("node %s: %lld credentials and join tokens revoked; its agent needs a new join "
	       "token\n",
	       node, (long long)json_integer_value(json_object_get(reply, "revoked")));
	ret = 0;
cleanup:
	json_decref(body);
	json_decref(reply);
	return ret;
}
