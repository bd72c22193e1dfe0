/* SPDX-License-Identifier: MIT */
/* auth.h: the authorization table, identities, join tokens, revocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth.h"
#include "k8s.h"
#include "kind.h"
#include "lib/clock.h"
#include "lib/secret.h"
#include "tmpstore.h"

#define ADMIN "admin-token-of-the-test"

/* {description, method, target, kind, what a node credential gets} */
static const struct {
	const char *what;
	const char *method;
	enum auth_target target;
	int kind;
	enum auth_rule rule;
} table_cases[] = {
    {"list networks", "GET", AUTH_T_OBJECTS, KIND_NETWORK, AUTH_ALLOW},
    {"read a VM", "GET", AUTH_T_OBJECTS, KIND_VM, AUTH_ALLOW},
    {"watch", "GET", AUTH_T_WATCH, AUTH_ANY_KIND, AUTH_ALLOW},
    {"kubectl's discovery", "GET", AUTH_T_DISCOVERY, AUTH_ANY_KIND, AUTH_ALLOW},
    {"read a node's status", "GET", AUTH_T_NODE_STATUS, KIND_NODE, AUTH_ALLOW},
    {"register a node", "PUT", AUTH_T_OBJECTS, KIND_NODE, AUTH_OWN_NODE},
    {"report a node's status", "PUT", AUTH_T_NODE_STATUS, KIND_NODE, AUTH_OWN_NODE},
    {"act on a migration", "POST", AUTH_T_MIGRATION_ACTION, KIND_MIGRATION, AUTH_MIGRATION_PARTY},
    {"create a network", "POST", AUTH_T_OBJECTS, KIND_NETWORK, AUTH_DENY},
    {"create a VM", "POST", AUTH_T_OBJECTS, KIND_VM, AUTH_DENY},
    {"create a migration", "POST", AUTH_T_OBJECTS, KIND_MIGRATION, AUTH_DENY},
    {"update a port", "PUT", AUTH_T_OBJECTS, KIND_PORT, AUTH_DENY},
    {"delete a node", "DELETE", AUTH_T_OBJECTS, KIND_NODE, AUTH_DENY},
    {"delete a port", "DELETE", AUTH_T_OBJECTS, KIND_PORT, AUTH_DENY},
    {"open a stream", "POST", AUTH_T_STREAM, KIND_VM, AUTH_DENY},
    {"read the metrics", "GET", AUTH_T_METRICS, AUTH_ANY_KIND, AUTH_DENY},
    {"make a join token", "POST", AUTH_T_TOKENS, AUTH_ANY_KIND, AUTH_DENY},
    {"revoke a node", "DELETE", AUTH_T_TOKENS, AUTH_ANY_KIND, AUTH_DENY},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table_cases) / sizeof(table_cases[0]); i++) {
		struct auth_request req = {.method = table_cases[i].method,
					   .target = table_cases[i].target,
					   .kind = table_cases[i].kind,
					   .url = "/v1/x"};

		if (auth_rule_for(&req, NULL) != table_cases[i].rule)
			fail_msg("%s: rule %d, want %d", table_cases[i].what,
				 auth_rule_for(&req, NULL), table_cases[i].rule);
	}
}

static void put_obj(struct store *s, enum kind kind, const char *json)
{
	json_t *obj = json_loads(json, 0, NULL);
	int64_t rev;

	assert_non_null(obj);
	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(s->ops->put(s, kind_str(kind), obj_name(obj), "ADDED", obj), 0);
	assert_int_equal(s->ops->commit(s), 0);
	json_decref(obj);
}

static int check(struct registry *reg, const char *node, const char *method,
		 enum auth_target target, int kind, const char *name, struct api_error *err)
{
	struct auth_principal p = {.role = AUTH_NODE};
	struct auth_request req = {method, target, kind, name, "/v1/test"};

	snprintf(p.node, sizeof(p.node), "%s", node);
	memset(err, 0, sizeof(*err));
	return auth_check(reg, &p, &req, err);
}

/* A node writes only its own Node and status, acts only on its migrations;
 * the admin passes everything. */
static void test_check(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	struct auth_principal admin = {.role = AUTH_ADMIN};
	struct auth_request create = {"POST", AUTH_T_OBJECTS, KIND_NETWORK, NULL, "/v1/networks"};
	struct api_error err;

	put_obj(t->s, KIND_MIGRATION,
		"{\"metadata\": {\"name\": \"m1\"}, \"spec\": {\"target\": \"node-2\"},"
		" \"status\": {\"source\": \"node-1\"}}");
	assert_int_equal(
	    check(&reg, "node-1", "PUT", AUTH_T_NODE_STATUS, KIND_NODE, "node-1", &err), 0);
	assert_true((check(&reg, "node-1", "PUT", AUTH_T_NODE_STATUS, KIND_NODE, "node-2", &err)) <
		    0);
	assert_int_equal(err.status, 403);
	assert_non_null(strstr(err.message, "node-1"));
	assert_non_null(strstr(err.message, "status of a node other than its own"));
	assert_true((check(&reg, "node-3", "PUT", AUTH_T_OBJECTS, KIND_NODE, "node-1", &err)) < 0);
	/* source and target may act on m1; a third node may not */
	assert_int_equal(
	    check(&reg, "node-1", "POST", AUTH_T_MIGRATION_ACTION, KIND_MIGRATION, "m1", &err), 0);
	assert_int_equal(
	    check(&reg, "node-2", "POST", AUTH_T_MIGRATION_ACTION, KIND_MIGRATION, "m1", &err), 0);
	assert_true((check(&reg, "node-3", "POST", AUTH_T_MIGRATION_ACTION, KIND_MIGRATION, "m1",
			   &err)) < 0);
	assert_non_null(strstr(err.message, "node-3"));
	/* a missing migration is left to its handler (404) */
	assert_int_equal(
	    check(&reg, "node-3", "POST", AUTH_T_MIGRATION_ACTION, KIND_MIGRATION, "none", &err),
	    0);
	assert_true((check(&reg, "node-1", "POST", AUTH_T_OBJECTS, KIND_NETWORK, NULL, &err)) < 0);
	assert_int_equal(err.status, 403);
	assert_non_null(strstr(err.message, "only an admin"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(auth_check(&reg, &admin, &create, &err), 0);
}

/* kubectl's requests (k8s.h) go through the same table as the godwit
 * requests they stand for: a node reads, watches and discovers, and may not
 * create, apply (patch), replace or delete; the admin may. */
static void test_k8s(void **state)
{
	static const struct {
		const char *what, *method, *resource, *name;
		bool watch;
		int allowed; /* for node-1 */
	} cases[] = {
	    {"discovery", "GET", NULL, NULL, false, 1},
	    {"get vm", "GET", "virtualmachines", "vm1", false, 1},
	    {"list vms", "GET", "virtualmachines", NULL, false, 1},
	    {"watch vms", "GET", "virtualmachines", NULL, true, 1},
	    {"get vmi", "GET", "virtualmachineinstances", "vm1", false, 1},
	    {"list vmims", "GET", "virtualmachineinstancemigrations", NULL, false, 1},
	    {"create vm", "POST", "virtualmachines", NULL, false, 0},
	    {"apply vm", "PATCH", "virtualmachines", "vm1", false, 0},
	    {"replace vm", "PUT", "virtualmachines", "vm1", false, 0},
	    {"delete vm", "DELETE", "virtualmachines", "vm1", false, 0},
	    {"delete vmi", "DELETE", "virtualmachineinstances", "vm1", false, 0},
	    {"create vmim", "POST", "virtualmachineinstancemigrations", NULL, false, 0},
	    {"delete vmim of its node", "DELETE", "virtualmachineinstancemigrations", "m1", false,
	     0},
	    {"post to discovery", "POST", NULL, NULL, false, 0},
	};
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	struct auth_principal node = {.role = AUTH_NODE, .node = "node-1"};
	struct auth_principal admin = {.role = AUTH_ADMIN};
	struct auth_request areq[K8S_AUTH_MAX];
	struct api_error err;

	put_obj(t->s, KIND_MIGRATION,
		"{\"metadata\": {\"name\": \"m1\"}, \"spec\": {\"target\": \"node-2\"},"
		" \"status\": {\"source\": \"node-1\"}}");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct k8s_resource *res =
		    cases[i].resource ? k8s_resource_find(cases[i].resource) : NULL;
		size_t n = k8s_auth_requests(cases[i].method, res, cases[i].name, cases[i].watch,
					     "/apis/x", areq);
		int allowed = 1;

		assert_true(n >= 1 && n <= K8S_AUTH_MAX);
		for (size_t j = 0; j < n; j++) {
			memset(&err, 0, sizeof(err));
			if (auth_check(&reg, &node, &areq[j], &err) < 0) {
				allowed = 0;
				assert_int_equal(err.status, 403);
				assert_non_null(strstr(err.message, "node-1"));
			}
			memset(&err, 0, sizeof(err));
			assert_int_equal(auth_check(&reg, &admin, &areq[j], &err), 0);
		}
		if (allowed != cases[i].allowed)
			fail_msg("k8s %s: allowed %d, want %d", cases[i].what, allowed,
				 cases[i].allowed);
	}
	/* the kinds behind the resources; a migration's delete is its abort, then its delete */
	assert_int_equal(k8s_auth_requests("GET", k8s_resource_find("virtualmachineinstances"),
					   "vm1", false, "/apis/x", areq),
			 1);
	assert_int_equal(areq[0].kind, KIND_VM);
	assert_int_equal(areq[0].target, AUTH_T_OBJECTS);
	assert_int_equal(k8s_auth_requests("PATCH", k8s_resource_find("virtualmachines"), "vm1",
					   false, "/apis/x", areq),
			 1);
	assert_string_equal(areq[0].method, "PUT");
	assert_int_equal(k8s_auth_requests("GET", k8s_resource_find("virtualmachines"), NULL, true,
					   "/apis/x", areq),
			 1);
	assert_int_equal(areq[0].target, AUTH_T_WATCH);
	assert_int_equal(k8s_auth_requests("DELETE",
					   k8s_resource_find("virtualmachineinstancemigrations"),
					   "m1", false, "/apis/x", areq),
			 2);
	assert_int_equal(areq[0].kind, KIND_MIGRATION);
	assert_string_equal(areq[0].method, "DELETE");
	assert_int_equal(areq[1].target, AUTH_T_MIGRATION_ACTION);
}

static int identify(struct store *s, const char *token, struct auth_principal *p,
		    struct api_error *err)
{
	char header[512];

	snprintf(header, sizeof(header), "Bearer %s", token);
	memset(err, 0, sizeof(*err));
	return auth_identify(s, ADMIN, header, p, err);
}

static json_t *make_token(struct registry *reg, const char *node)
{
	json_t *body = json_pack("{s:s, s:i}", "node", node, "ttl_s", 60), *out = NULL;
	struct api_error err = {0};

	assert_int_equal(auth_token_create(reg, body, &out, &err), 0);
	json_decref(body);
	return out;
}

static int join(struct registry *reg, const char *node, const char *token, json_t **out,
		struct api_error *err)
{
	json_t *body = json_pack("{s:s, s:s}", "node", node, "token", token);
	int r;

	memset(err, 0, sizeof(*err));
	r = auth_join(reg, body, out, err);
	json_decref(body);
	return r;
}

/* A join token works once, for its node; the credential it gives names the
 * node; the store keeps hashes only. */
static void test_join(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	struct auth_principal p;
	struct api_error err;
	json_t *tok = make_token(&reg, "node-1"), *res = NULL, *again = NULL, *rec = NULL;
	const char *token = json_string_value(json_object_get(tok, "token"));
	char hash[SECRET_HEX_LEN + 1];
	const char *cred;
	char *secret = NULL, *text;

	assert_int_equal(strlen(token), SECRET_HEX_LEN);
	/* a join token is no bearer credential */
	assert_true((identify(t->s, token, &p, &err)) < 0);
	assert_int_equal(err.status, 401);
	/* for another node: refused, and not used up */
	assert_true((join(&reg, "node-2", token, &res, &err)) < 0);
	assert_int_equal(err.status, 401);
	assert_non_null(strstr(err.message, "another node"));
	assert_int_equal(join(&reg, "node-1", token, &res, &err), 0);
	cred = json_string_value(json_object_get(res, "credential"));
	assert_non_null(cred);
	assert_non_null(json_string_value(json_object_get(res, "stream_secret")));
	assert_int_equal(identify(t->s, cred, &p, &err), 0);
	assert_int_equal(p.role, AUTH_NODE);
	assert_string_equal(p.node, "node-1");
	/* stored by its hash, not in the clear */
	assert_int_equal(secret_hash(cred, hash), 0);
	assert_int_equal(t->s->ops->cred_get(t->s, hash, &rec), 0);
	text = json_dumps(rec, 0);
	assert_null(strstr(text, cred));
	free(text);
	json_decref(rec);
	/* the controller presents the node's stream secret, the admin token to others */
	assert_int_equal(auth_stream_secret(t->s, "node-1", ADMIN, &secret), 0);
	assert_string_equal(secret, json_string_value(json_object_get(res, "stream_secret")));
	free(secret);
	assert_int_equal(auth_stream_secret(t->s, "node-9", ADMIN, &secret), 0);
	assert_string_equal(secret, ADMIN);
	free(secret);
	/* the second use is refused, saying so */
	assert_true((join(&reg, "node-1", token, &again, &err)) < 0);
	assert_int_equal(err.status, 401);
	assert_non_null(strstr(err.message, "used already"));
	/* the admin token is the admin; anything else is 401 */
	assert_int_equal(identify(t->s, ADMIN, &p, &err), 0);
	assert_int_equal(p.role, AUTH_ADMIN);
	assert_true((identify(t->s, "nonsense", &p, &err)) < 0);
	assert_int_equal(err.status, 401);
	memset(&err, 0, sizeof(err));
	assert_true((auth_identify(t->s, ADMIN, NULL, &p, &err)) < 0);
	assert_int_equal(err.status, 401);
	json_decref(tok);
	json_decref(res);
}

/* An expired join token is refused, saying so. */
static void test_expired(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	char hash[SECRET_HEX_LEN + 1];
	struct api_error err;
	json_t *rec, *res = NULL;

	assert_int_equal(secret_hash("an-old-join-token", hash), 0);
	rec = json_pack("{s:s, s:s, s:I}", "type", "join", "node", "node-1", "expires_ms",
			(json_int_t)(clock_unix_ms() - 5000));
	assert_int_equal(t->s->ops->cred_put(t->s, hash, "node-1", rec), 0);
	json_decref(rec);
	assert_true((join(&reg, "node-1", "an-old-join-token", &res, &err)) < 0);
	assert_int_equal(err.status, 401);
	assert_non_null(strstr(err.message, "expired"));
	assert_true((join(&reg, "node-1", "never-made", &res, &err)) < 0);
	assert_non_null(strstr(err.message, "not a join token of this controller"));
	assert_null(res);
}

/* Revoking a node (or a second join) ends its credential: 401. */
static void test_revoke(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	struct auth_principal p;
	struct api_error err = {0};
	json_t *tok1 = make_token(&reg, "node-1"), *tok2 = make_token(&reg, "node-1");
	json_t *res1 = NULL, *res2 = NULL, *out = NULL;

	/* both tokens made first: the first join makes the second one stale */
	assert_int_equal(
	    join(&reg, "node-1", json_string_value(json_object_get(tok1, "token")), &res1, &err),
	    0);
	assert_true((join(&reg, "node-1", json_string_value(json_object_get(tok2, "token")), &res2,
			  &err)) < 0);
	json_decref(tok2);
	tok2 = make_token(&reg, "node-1");
	assert_int_equal(
	    join(&reg, "node-1", json_string_value(json_object_get(tok2, "token")), &res2, &err),
	    0);
	assert_true(
	    (identify(t->s, json_string_value(json_object_get(res1, "credential")), &p, &err)) < 0);
	assert_int_equal(
	    identify(t->s, json_string_value(json_object_get(res2, "credential")), &p, &err), 0);
	assert_int_equal(auth_revoke(&reg, "node-1", &out, &err), 0);
	json_decref(out);
	assert_true(
	    (identify(t->s, json_string_value(json_object_get(res2, "credential")), &p, &err)) < 0);
	assert_int_equal(err.status, 401);
	/* nothing left to revoke: 404 */
	memset(&err, 0, sizeof(err));
	assert_true(auth_revoke(&reg, "node-1", &out, &err) < 0);
	assert_int_equal(err.status, 404);
	json_decref(tok1);
	json_decref(tok2);
	json_decref(res1);
	json_decref(res2);
}

/* A node's status keeps the ports and VMs placed on it only. */
static void test_placed(void **state)
{
	struct tmpstore *t = *state;
	struct registry reg = {.store = t->s};
	json_t *body;
	int dropped = -1;

	put_obj(t->s, KIND_PORT,
		"{\"metadata\": {\"name\": \"p1\"}, \"spec\": {\"locations\": [\"node-1\"]}}");
	put_obj(t->s, KIND_PORT,
		"{\"metadata\": {\"name\": \"p2\"}, \"spec\": {\"locations\": [\"node-2\"],"
		" \"target\": \"node-1\"}}");
	put_obj(t->s, KIND_PORT,
		"{\"metadata\": {\"name\": \"p3\"}, \"spec\": {\"locations\": [\"node-2\"]}}");
	put_obj(t->s, KIND_VM,
		"{\"metadata\": {\"name\": \"v1\"}, \"spec\": {\"node\": \"node-1\"}}");
	put_obj(t->s, KIND_VM,
		"{\"metadata\": {\"name\": \"v2\"}, \"spec\": {\"node\": \"node-2\"}}");
	body =
	    json_loads("{\"applied_revision\": 1, \"ports\": {\"p1\": {}, \"p2\": {}, \"p3\": {},"
		       " \"gone\": {}}, \"vms\": {\"v1\": {}, \"v2\": {}}}",
		       0, NULL);
	assert_int_equal(auth_status_placed(&reg, "node-1", body, &dropped), 0);
	assert_int_equal(dropped, 3);
	assert_non_null(json_object_get(json_object_get(body, "ports"), "p1"));
	assert_non_null(json_object_get(json_object_get(body, "ports"), "p2"));
	assert_null(json_object_get(json_object_get(body, "ports"), "p3"));
	assert_null(json_object_get(json_object_get(body, "ports"), "gone"));
	assert_non_null(json_object_get(json_object_get(body, "vms"), "v1"));
	assert_null(json_object_get(json_object_get(body, "vms"), "v2"));
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test_setup_teardown(test_check, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_k8s, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_join, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_expired, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_revoke, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_placed, tmpstore_setup, tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
