/* SPDX-License-Identifier: MIT */
/* Join tokens, node credentials and stream secrets in the store (design in auth.h). */
#include "auth.h"
#include "lib/clock.h"
#include "lib/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_KEY_PREFIX "stream:"

/* body an object of the allowed fields with a node name; what names the node
 * in the message when it is missing. */
static int body_node(const json_t *body, const char *const *allowed, const char *what,
		     const char **node, struct api_error *err)
{
	int r = api_expect_type(body, JSON_OBJECT, "body", err);

	if (r == 0)
		r = api_check_fields(body, "", allowed, err);
	if (r == 0)
		r = api_get_name(body, "node", "node", "a node name", node, err);
	if (r == 0 && !*node)
		r = api_error_set(err, 400, "node", "node: required (%s)", what);
	return r;
}

int auth_token_create(struct registry *reg, const json_t *body, json_t **out, struct api_error *err)
{
	static const char *const allowed[] = {"node", "ttl_s", NULL};
	struct store *s = reg->store;
	char token[SECRET_HEX_LEN + 1], hash[SECRET_HEX_LEN + 1];
	json_t *ttl = json_object(), *rec = NULL, *res = NULL;
	const char *node;
	int64_t expires;
	int r;

	if (!ttl)
		return -ENOMEM;
	r = body_node(body, allowed, "the node that will join", &node, err);
	if (r == 0)
		r = api_get_int(body, "ttl_s", "ttl_s", 1, AUTH_JOIN_TTL_MAX_S,
				AUTH_JOIN_TTL_DEFAULT_S, ttl, err);
	if (r < 0)
		goto cleanup;
	r = secret_random(token);
	if (r == 0)
		r = secret_hash(token, hash);
	if (r < 0)
		goto cleanup;
	expires =
	    clock_unix_ms() + 1000 * (int64_t)json_integer_value(json_object_get(ttl, "ttl_s"));
	rec = json_pack("{s:s, s:s, s:I}", "type", "join", "node", node, "expires_ms",
			(json_int_t)expires);
	res = json_pack("{s:s, s:s, s:I}", "node", node, "token", token, "expires_ms",
			(json_int_t)expires);
	if (!rec || !res) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = s->ops->cred_put(s, hash, node, rec);
	if (r < 0)
		goto cleanup;
	*out = res;
	res = NULL;
cleanup:
	memset(token, 0, sizeof(token));
	json_decref(ttl);
	json_decref(rec);
	json_decref(res);
	return r;
}

/* Why the join token's record rec does not let node join now (401), or 0. */
static int join_refusal(const json_t *rec, const char *node, int64_t now, struct api_error *err)
{
	const char *for_node = json_string_value(json_object_get(rec, "node"));
	json_int_t expires = json_integer_value(json_object_get(rec, "expires_ms"));
	const json_t *used = json_object_get(rec, "used_ms");

	if (strcmp(json_string_value(json_object_get(rec, "type")) ?: "", "join") != 0)
		return api_error_set(err, 401, "token",
				     "token: not a join token (a node credential is used as the "
				     "bearer token, not to join)");
	if (!for_node || strcmp(for_node, node) != 0)
		return api_error_set(err, 401, "token",
				     "token: this join token was made for another node, not %s",
				     node);
	if (used)
		return api_error_set(err, 401, "token",
				     "token: this join token of node %s was used already (%lld s "
				     "ago); a join token works once: make another one "
				     "(godwit token create --node %s)",
				     node, (long long)((now - json_integer_value(used)) / 1000),
				     node);
	if (now >= expires)
		return api_error_set(err, 401, "token",
				     "token: this join token of node %s expired %lld s ago; make "
				     "another one (godwit token create --node %s)",
				     node, (long long)((now - expires) / 1000), node);
	return 0;
}

int auth_join(struct registry *reg, const json_t *body, json_t **out, struct api_error *err)
{
	static const char *const allowed[] = {"node", "token", NULL};
	struct store *s = reg->store;
	char hash[SECRET_HEX_LEN + 1], cred[SECRET_HEX_LEN + 1], cred_hash[SECRET_HEX_LEN + 1];
	char stream[SECRET_HEX_LEN + 1], stream_key[sizeof(STREAM_KEY_PREFIX) + 64];
	json_t *rec = NULL, *node_rec = NULL, *stream_rec = NULL, *res = NULL;
	const char *node, *token;
	int64_t now = clock_unix_ms(), rev;
	bool in_txn = false;
	int r;

	r = body_node(body, allowed, "the joining node's name", &node, err);
	if (r == 0)
		r = api_get_string(body, "token", "token", &token, err);
	if (r == 0 && (!token || !*token || strlen(token) > SECRET_MAX))
		r = api_error_set(err, 400, "token",
				  "token: required, the join token (1..%d characters)", SECRET_MAX);
	if (r < 0)
		return r;
	r = secret_hash(token, hash);
	if (r == 0)
		r = secret_random(cred);
	if (r == 0)
		r = secret_hash(cred, cred_hash);
	if (r == 0)
		r = secret_random(stream);
	if (r < 0)
		goto cleanup;
	r = s->ops->begin(s, &rev);
	if (r < 0)
		goto cleanup;
	in_txn = true;
	r = s->ops->cred_get(s, hash, &rec);
	if (r == -ENOENT)
		r = api_error_set(err, 401, "token",
				  "token: not a join token of this controller (mistyped, revoked, "
				  "or made on another cluster)");
	if (r == 0)
		r = join_refusal(rec, node, now, err);
	if (r < 0)
		goto cleanup;
	json_object_set_new(rec, "used_ms", json_integer(now));
	snprintf(stream_key, sizeof(stream_key), STREAM_KEY_PREFIX "%s", node);
	node_rec = json_pack("{s:s, s:s, s:I}", "type", "node", "node", node, "created_ms",
			     (json_int_t)now);
	stream_rec = json_pack("{s:s, s:s, s:s}", "type", "stream", "node", node, "secret", stream);
	res = json_pack("{s:s, s:s, s:s, s:s}", "node", node, "credential", cred, "stream_secret",
			stream, "cluster", s->ops->cluster_id(s));
	if (!node_rec || !stream_rec || !res) {
		r = -ENOMEM;
		goto cleanup;
	}
	/* A join replaces whatever N had: its older credential stops working. */
	r = s->ops->cred_del_node(s, node, NULL);
	if (r == 0)
		r = s->ops->cred_put(s, hash, node, rec);
	if (r == 0)
		r = s->ops->cred_put(s, cred_hash, node, node_rec);
	if (r == 0)
		r = s->ops->cred_put(s, stream_key, node, stream_rec);
	if (r < 0)
		goto cleanup;
	in_txn = false;
	r = s->ops->commit(s); /* which rolls back when it fails */
	if (r < 0)
		goto cleanup;
	*out = res;
	res = NULL;
cleanup:
	if (in_txn)
		s->ops->rollback(s);
	memset(cred, 0, sizeof(cred));
	memset(stream, 0, sizeof(stream));
	json_decref(rec);
	json_decref(node_rec);
	json_decref(stream_rec);
	json_decref(res);
	return r;
}

int auth_revoke(struct registry *reg, const char *node, json_t **out, struct api_error *err)
{
	struct store *s = reg->store;
	int64_t n = 0;
	json_t *res;
	int r;

	r = s->ops->cred_del_node(s, node, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return api_error_set(err, 404, NULL, "node %s has no credential or join token",
				     node);
	res = json_pack("{s:s, s:I}", "node", node, "revoked", (json_int_t)n);
	if (!res)
		return -ENOMEM;
	*out = res;
	return 0;
}

int auth_stream_secret(struct store *s, const char *node, const char *admin_token, char **out)
{
	char key[sizeof(STREAM_KEY_PREFIX) + 64];
	const char *secret = admin_token;
	json_t *rec = NULL;
	char *copy;
	int r;

	if (snprintf(key, sizeof(key), STREAM_KEY_PREFIX "%s", node) >= (int)sizeof(key))
		return -ENAMETOOLONG;
	r = s->ops->cred_get(s, key, &rec);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && json_string_value(json_object_get(rec, "secret")))
		secret = json_string_value(json_object_get(rec, "secret"));
	copy = strdup(secret);
	json_decref(rec);
	if (!copy)
		return -ENOMEM;
	*out = copy;
	return 0;
}
