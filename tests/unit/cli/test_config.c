/* SPDX-License-Identifier: MIT */
/* Server/token resolution order: flags > env > config file context; context edits. */
#include "config.h"
#include "yamljson.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];
static char cfg_path[128];
static char tok_path[128];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char text[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/godwit-cli-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/config", dir);
	snprintf(tok_path, sizeof(tok_path), "%s/token", dir);
	write_file(tok_path, "filetoken\n");
	snprintf(text, sizeof(text),
		 "{\"current-context\": \"lab-a\", \"contexts\": {"
		 "\"lab-a\": {\"server\": \"unix:/run/a.sock\", \"token-file\": \"%s\"},"
		 "\"lab-b\": {\"server\": \"http://10.0.0.2:7480\", \"token\": \"btoken\"}}}",
		 tok_path);
	write_file(cfg_path, text);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void resolve(const struct config_input *in, const char *server, const char *token)
{
	struct config_target t = {0};
	char err[256] = "";

	if (config_resolve(in, &t, err, sizeof(err)))
		fail_msg("resolve failed: %s", err);
	assert_string_equal(t.server, server);
	if (token)
		assert_string_equal(t.token, token);
	else
		assert_null(t.token);
	config_target_free(&t);
}

static void test_order(void **state)
{
	struct config_input in = {.env_config = cfg_path};

	(void)state;
	/* file: the current context, token from its token-file */
	resolve(&in, "unix:/run/a.sock", "filetoken");
	/* env beats the file */
	in.env_server = "http://env:1";
	in.env_token = "envtoken";
	resolve(&in, "http://env:1", "envtoken");
	/* resolved independently: server from the flag (beats env), token from env */
	in.flag_server = "http://flag:2";
	resolve(&in, "http://flag:2", "envtoken");
	/* --lab is a flag: it selects its context ahead of env */
	in = (struct config_input){.env_config = cfg_path,
				   .flag_lab = "b",
				   .env_server = "http://env:1",
				   .env_token = "envtoken"};
	resolve(&in, "http://10.0.0.2:7480", "btoken");
	/* ... but --server still wins */
	in.flag_server = "http://flag:2";
	resolve(&in, "http://flag:2", "btoken");
}

static void test_errors(void **state)
{
	struct config_input in = {.env_config = cfg_path, .flag_lab = "zz"};
	struct config_target t = {0};
	char err[256] = "", missing[160];

	(void)state;
	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no context lab-zz"));
	assert_null(t.server);

	snprintf(missing, sizeof(missing), "%s/none", dir);
	in = (struct config_input){.env_config = missing};
	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "godwit lab up"));
	assert_non_null(strstr(err, "GODWIT_SERVER"));

	/* flags alone need no file at all */
	in.flag_server = "http://x:1";
	resolve(&in, "http://x:1", NULL);

	write_file(missing, "{not json");
	in.flag_server = NULL;
	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 1"));
}

/* The CA file: --ca > GODWIT_CA > the ca-file of the context the server came from. */
static void test_ca(void **state)
{
	char path[160];
	struct config_input in = {0};
	struct config_target t = {0};
	char err[256] = "";
	json_t *cfg = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/ca/config", dir);
	in.env_config = path;
	assert_int_equal(config_set_context(path, "prod", "https://10.0.0.1:7480", tok_path,
					    "/etc/godwit/ca.crt", true),
			 0);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(cfg, "contexts"), "prod"), "ca-file")),
	    "/etc/godwit/ca.crt");
	json_decref(cfg);

	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), 0);
	assert_string_equal(t.server, "https://10.0.0.1:7480");
	assert_string_equal(t.ca_file, "/etc/godwit/ca.crt");
	config_target_free(&t);

	in.env_ca = "/env/ca.crt";
	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), 0);
	assert_string_equal(t.ca_file, "/env/ca.crt");
	config_target_free(&t);

	in.flag_ca = "/flag/ca.crt";
	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), 0);
	assert_string_equal(t.ca_file, "/flag/ca.crt");
	config_target_free(&t);

	/* a server from the environment takes no CA from the file: another cluster's */
	in = (struct config_input){.env_config = path, .env_server = "https://other:7480"};
	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), 0);
	assert_null(t.ca_file);
	config_target_free(&t);

	/* a context without a CA (a unix socket) has none */
	assert_int_equal(config_set_context(path, "lab-z", "unix:/z.sock", tok_path, NULL, true),
			 0);
	in = (struct config_input){.env_config = path};
	assert_int_equal(config_resolve(&in, &t, err, sizeof(err)), 0);
	assert_null(t.ca_file);
	config_target_free(&t);
}

static void test_contexts(void **state)
{
	char path[160], name[32];
	struct config_input in = {0};
	json_t *cfg = NULL;
	char err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/sub/config", dir);
	in.env_config = path;
	assert_int_equal(config_set_context(path, "lab-x", "unix:/x.sock", tok_path, NULL, true),
			 0);
	assert_int_equal(config_set_context(path, "lab-y", "unix:/y.sock", tok_path, NULL, false),
			 0);
	resolve(&in, "unix:/x.sock", "filetoken");
	assert_int_equal(config_lab_name(&in, name, sizeof(name)), 0);
	assert_string_equal(name, "x");
	in.flag_lab = "y";
	resolve(&in, "unix:/y.sock", "filetoken");
	assert_int_equal(config_lab_name(&in, name, sizeof(name)), 0);
	assert_string_equal(name, "y");

	assert_int_equal(config_remove_context(path, "lab-x"), 0);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), 0);
	assert_null(json_object_get(cfg, "current-context"));
	assert_null(json_object_get(json_object_get(cfg, "contexts"), "lab-x"));
	assert_non_null(json_object_get(json_object_get(cfg, "contexts"), "lab-y"));
	json_decref(cfg);
	in.flag_lab = NULL;
	assert_int_equal(config_lab_name(&in, name, sizeof(name)), 0);
	assert_string_equal(name, "godwit");
	/* removing what is not there is fine */
	assert_int_equal(config_remove_context(path, "lab-x"), 0);
}

/* kubectl's kubeconfig (lab up): YAML that reads back, 0600, rewritten in place. */
static void test_kubeconfig(void **state)
{
	const char *token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char path[160], *text = NULL, err[256] = "";
	struct yaml_docs docs = {0};
	struct stat st;
	json_t *kc, *c;
	size_t len = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/kube/kubeconfig", dir);
	assert_int_equal(config_write_kubeconfig(path, "lab-x", "https://10.254.0.1:7480",
						 "/run/godwit/labs/x/ca.crt", "old"),
			 0);
	assert_int_equal(config_write_kubeconfig(path, "lab-x", "https://10.254.0.1:7480",
						 "/run/godwit/labs/x/ca.crt", token),
			 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(getdelim(&text, &len, '\0', f) > 0, 1);
	fclose(f);
	if (yaml_parse_docs(text, strlen(text), &docs, err, sizeof(err)) < 0)
		fail_msg("kubeconfig does not parse: %s:\n%s", err, text);
	assert_int_equal(docs.n, 1);
	kc = docs.docs[0].value;
	assert_string_equal(json_string_value(json_object_get(kc, "kind")), "Config");
	assert_string_equal(json_string_value(json_object_get(kc, "apiVersion")), "v1");
	assert_string_equal(json_string_value(json_object_get(kc, "current-context")), "lab-x");
	c = json_object_get(json_array_get(json_object_get(kc, "clusters"), 0), "cluster");
	assert_string_equal(json_string_value(json_object_get(c, "server")),
			    "https://10.254.0.1:7480");
	assert_string_equal(json_string_value(json_object_get(c, "certificate-authority")),
			    "/run/godwit/labs/x/ca.crt");
	c = json_object_get(json_array_get(json_object_get(kc, "users"), 0), "user");
	assert_string_equal(json_string_value(json_object_get(c, "token")), token);
	c = json_array_get(json_object_get(kc, "contexts"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "lab-x");
	c = json_object_get(c, "context");
	assert_string_equal(json_string_value(json_object_get(c, "cluster")), "lab-x");
	assert_string_equal(json_string_value(json_object_get(c, "user")), "lab-x");
	assert_string_equal(json_string_value(json_object_get(c, "namespace")), "default");
	yaml_docs_free(&docs);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),      cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_contexts),   cmocka_unit_test(test_ca),
	    cmocka_unit_test(test_kubeconfig),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
