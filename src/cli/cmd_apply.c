/* SPDX-License-Identifier: MIT */
/* `apply -f FILE` and `delete -f FILE`. */
#include "cli.h"
#include "manifest.h"

#include "lib/apiclient.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int apply_delete_file(struct cli *cli, const char *file);

static int load_manifest(const char *file, bool warn, struct manifest *m)
{
	char *buf = NULL;
	char err[512];
	size_t len;
	int r;

	r = read_input(file, &buf, &len);
	if (r) {
		fprintf(stderr, "godwit: cannot read %s: %s\n", strcmp(file, "-") ? file : "stdin",
			strerror(-r));
		return r;
	}
	r = manifest_parse(buf, len, m, err, sizeof(err));
	if (r)
		fprintf(stderr, "%s: %s\n", strcmp(file, "-") ? file : "stdin",
			r == -ENOMEM ? strerror(ENOMEM) : err);
	for (size_t i = 0; warn && r == 0 && i < json_array_size(m->warnings); i++)
		fprintf(stderr, "%s: warning: %s\n", strcmp(file, "-") ? file : "stdin",
			json_string_value(json_array_get(m->warnings, i)));
	free(buf);
	return r;
}

/* "FILE: document N: line L: spec.cidr: network/blue: <server text>" */
static void server_error(const char *file, const struct manifest_obj *o, long status,
			 const json_t *reply)
{
	const char *field = json_string_value(json_object_get(reply, "field"));
	int line = field ? manifest_field_line(o, field) : 0;

	fprintf(stderr, "%s: document %d: ", strcmp(file, "-") ? file : "stdin", o->doc);
	if (line > 0)
		fprintf(stderr, "line %d: ", line);
	fprintf(stderr, "%s/%s: %s (HTTP %ld)\n", o->kind->singular, o->name, api_error_text(reply),
		status);
}

/* POST or PUT of o's body; 0 (and "network/blue created"), 1 refused, -1 unreachable. */
static int send_one(struct cli *cli, const char *file, const struct manifest_obj *o,
		    const char *method, const char *path, const json_t *body, const char *done)
{
	json_t *reply = NULL;
	long status;
	int ret = 1;

	if (cli_request(cli, method, path, body, &status, &reply))
		return -1;
	if (status == 200 || status == 201) {
		printf("%s/%s %s\n", o->kind->singular, o->name, done);
		ret = 0;
	} else {
		server_error(file, o, status, reply);
	}
	json_decref(reply);
	return ret;
}

static int apply_one(struct cli *cli, const char *file, const struct manifest_obj *o)
{
	char path[256];
	json_t *stored = NULL, *put = NULL;
	long status;
	int ret = 1;

	snprintf(path, sizeof(path), "/v1/%s/%s", o->kind->plural, o->name);
	if (cli_request(cli, "GET", path, NULL, &status, &stored))
		return -1;
	if (status == 404) {
		snprintf(path, sizeof(path), "/v1/%s", o->kind->plural);
		ret = send_one(cli, file, o, "POST", path, o->body, "created");
		goto cleanup;
	}
	if (status != 200) {
		server_error(file, o, status, stored);
		goto cleanup;
	}
	if (manifest_update_body(o->body, stored, &put)) {
		fprintf(stderr, "godwit: out of memory\n");
		goto cleanup;
	}
	if (!put) {
		printf("%s/%s unchanged\n", o->kind->singular, o->name);
		ret = 0;
		goto cleanup;
	}
	ret = send_one(cli, file, o, "PUT", path, put, "configured");
cleanup:
	json_decref(put);
	json_decref(stored);
	return ret;
}

int cmd_apply(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	const char *file;
	struct manifest m;
	int r, failed = 0;

	r = cli_flags(verb, argc, argv, &cli_filename_flag, &file);
	if (r != CLI_GO_ON)
		return r;
	if (!file || optind != argc) {
		fprintf(stderr, "godwit apply: %s\n",
			file ? "unexpected arguments" : "-f FILE is required");
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	if (load_manifest(file, true, &m))
		return 1;
	for (size_t i = 0; i < m.n; i++) {
		r = apply_one(cli, file, &m.objs[i]);
		if (r < 0) { /* the controller is unreachable: stop */
			failed = 1;
			break;
		}
		failed |= r;
	}
	manifest_free(&m);
	return failed ? 1 : 0;
}

int apply_delete_file(struct cli *cli, const char *file)
{
	struct manifest m;
	int failed = 0;

	if (load_manifest(file, false, &m))
		return 1;
	/* Reverse order: ports listed after their network go first (a network with ports is 409).
	 */
	for (size_t i = m.n; i-- > 0;) {
		const struct manifest_obj *o = &m.objs[i];
		json_t *reply = NULL;
		char path[256];
		long status;

		snprintf(path, sizeof(path), "/v1/%s/%s", o->kind->plural, o->name);
		if (cli_request(cli, "DELETE", path, NULL, &status, &reply)) {
			failed = 1;
			break;
		}
		if (status == 200) {
			printf("%s/%s deleted\n", o->kind->singular, o->name);
		} else if (status == 404) {
			fprintf(stderr, "%s/%s not found\n", o->kind->singular, o->name);
			failed = 1;
		} else {
			server_error(file, o, status, reply);
			failed = 1;
		}
		json_decref(reply);
	}
	manifest_free(&m);
	return failed;
}
