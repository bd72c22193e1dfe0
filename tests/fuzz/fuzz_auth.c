/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: what reaches auth.h from outside: an Authorization
 * header (the input's first line) and a POST /v1/join or /v1/tokens body
 * (the rest) against a store in a temporary directory. Every refusal is a
 * 4xx with a message; a join that succeeds gives a credential that
 * identifies its node.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

static struct store *store;

static void setup(void)
{
	char dir[] = "/tmp/godwit-fuzz-auth-XXXXXX", path[64];

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/godwit.db", dir);
	if (store_sqlite_open(path, NULL, &store) < 0)
		abort();
}

static void expect_refusal(int r, const struct api_error *err)
{
	if (r < 0 && (err->status < 400 || err->status > 499 || !err->message[0]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - (const char *)data) : size;
	struct registry reg = {0};
	struct auth_principal p;
	struct api_error err = {0};
	json_t *body = NULL, *out = NULL;
	char header[1024];
	int r;

	if (!store)
		setup();
	reg.store = store;
	if (hlen >= sizeof(header) || memchr(data, '\0', hlen))
		return 0;
	memcpy(header, data, hlen);
	header[hlen] = '\0';
	r = auth_identify(store, "fuzz-admin", header, &p, &err);
	expect_refusal(r, &err);
	if (!nl || api_body_decode(nl + 1, size - hlen - 1, &body, &err) < 0)
		return 0;
	memset(&err, 0, sizeof(err));
	r = auth_token_create(&reg, body, &out, &err);
	expect_refusal(r, &err);
	if (r == 0) { /* the token just made joins its node once */
		json_t *join = json_pack("{s:O, s:O}", "node", json_object_get(out, "node"),
					 "token", json_object_get(out, "token"));

		json_decref(out);
		out = NULL;
		if (!join || auth_join(&reg, join, &out, &err) < 0)
			abort();
		snprintf(header, sizeof(header), "Bearer %s",
			 json_string_value(json_object_get(out, "credential")));
		if (auth_identify(store, "fuzz-admin", header, &p, &err) < 0 ||
		    strcmp(p.node, json_string_value(json_object_get(join, "node"))) != 0)
			abort();
		json_decref(join);
	}
	json_decref(out);
	out = NULL;
	memset(&err, 0, sizeof(err));
	r = auth_join(&reg, body, &out, &err);
	expect_refusal(r, &err);
	if (r == 0) /* a guessed join token: never */
		abort();
	json_decref(out);
	json_decref(body);
	return 0;
}
