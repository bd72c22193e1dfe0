/* SPDX-License-Identifier: MIT */
/* The controller's certificates (tls.h): a CA made once and kept, a server
 * certificate that verifies against it and names every TCP listen address,
 * keys 0600, reused at the next start, re-issued when its names change; a
 * CA without its key refused; the operator's own certificate used as given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "tls.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_init("test_tls", LOG_LVL_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/godwit-tls-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(const char *file, char *out)
{
	snprintf(out, PATH_MAX, "%s/tls/%s", dir, file);
}

static char *slurp(const char *file)
{
	char path[PATH_MAX], *text = NULL;
	size_t n = 0;
	FILE *f;

	path_of(file, path);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(getdelim(&text, &n, '\0', f) > 0);
	fclose(f);
	return text;
}

static gnutls_x509_crt_t load_crt(const char *pem)
{
	gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)strlen(pem)};
	gnutls_x509_crt_t crt;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
	return crt;
}

static mode_t mode_of(const char *file)
{
	char path[PATH_MAX];
	struct stat st;

	path_of(file, path);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 0777;
}

static void prepare(const char *const *sans, int n_sans, struct tls_creds *out)
{
	static const char *const listen[] = {"127.0.0.1:7480", "unix:/tmp/none.sock", "[::1]:7480"};
	struct tls_config cfg = {.state_dir = dir,
				 .listen = listen,
				 .n_listen = 3,
				 .extra_sans = sans,
				 .n_extra_sans = n_sans};

	assert_int_equal(tls_prepare(&cfg, out), 0);
}

/* The server certificate in creds verifies against ca.crt, for name. */
static void assert_verifies(const struct tls_creds *creds, const char *name)
{
	char *ca_pem = slurp("ca.crt");
	gnutls_x509_crt_t ca = load_crt(ca_pem), crt = load_crt(creds->cert_pem);
	unsigned status = 1;

	assert_int_equal(gnutls_x509_crt_verify(crt, &ca, 1, 0, &status), 0);
	assert_int_equal(status, 0);
	assert_true(gnutls_x509_crt_check_hostname(crt, name));
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	free(ca_pem);
}

static void test_made_reused_reissued(void **state)
{
	const char *sans[] = {"ctrl.example", "10.9.8.7"};
	struct tls_creds first = {0}, again = {0}, changed = {0};
	char *ca1, *ca2, *srv1;

	(void)state;
	prepare(sans, 1, &first);
	assert_true(first.issued);
	assert_non_null(strstr(first.key_pem, "PRIVATE KEY"));
	assert_int_equal(mode_of("ca.key"), 0600);
	assert_int_equal(mode_of("server.key"), 0600);
	assert_verifies(&first, "127.0.0.1"); /* the listen IPs */
	assert_verifies(&first, "::1");
	assert_verifies(&first, "ctrl.example"); /* --tls-san */
	ca1 = slurp("ca.crt");
	srv1 = slurp("server.crt");
	assert_string_equal(srv1, first.cert_pem);

	/* The next start: nothing new. */
	prepare(sans, 1, &again);
	assert_false(again.issued);
	assert_string_equal(again.cert_pem, first.cert_pem);
	ca2 = slurp("ca.crt");
	assert_string_equal(ca1, ca2);
	free(ca2);

	/* Another name: a new server certificate from the same CA. */
	prepare(sans, 2, &changed);
	assert_true(changed.issued);
	assert_string_not_equal(changed.cert_pem, first.cert_pem);
	ca2 = slurp("ca.crt");
	assert_string_equal(ca1, ca2);
	assert_verifies(&changed, "10.9.8.7");
	assert_verifies(&changed, "127.0.0.1");

	free(ca1);
	free(ca2);
	free(srv1);
	tls_creds_free(&first);
	tls_creds_free(&again);
	tls_creds_free(&changed);
}

static void test_own_certificate(void **state)
{
	static const char *const listen[] = {"127.0.0.1:7480"};
	char crt[PATH_MAX], key[PATH_MAX], *want;
	struct tls_creds creds = {0}, issued = {0};
	struct tls_config cfg = {.state_dir = dir, .listen = listen, .n_listen = 1};

	(void)state;
	prepare(NULL, 0, &issued);
	path_of("server.crt", crt);
	path_of("server.key", key);
	cfg.cert_file = crt;
	cfg.key_file = key;
	assert_int_equal(tls_prepare(&cfg, &creds), 0);
	assert_false(creds.issued);
	want = slurp("server.crt");
	assert_string_equal(creds.cert_pem, want);
	free(want);
	tls_creds_free(&creds);
	tls_creds_free(&issued);

	cfg.cert_file = "/nonexistent/cert.pem";
	assert_int_equal(tls_prepare(&cfg, &creds), -EIO);
	assert_null(creds.cert_pem);
}

static void test_ca_without_key(void **state)
{
	char key[PATH_MAX], moved[PATH_MAX + 8];
	struct tls_creds creds = {0};

	(void)state;
	prepare(NULL, 0, &creds);
	tls_creds_free(&creds);
	path_of("ca.key", key);
	snprintf(moved, sizeof(moved), "%s.away", key);
	assert_int_equal(rename(key, moved), 0);
	{
		static const char *const listen[] = {"127.0.0.1:7480"};
		struct tls_config cfg = {.state_dir = dir, .listen = listen, .n_listen = 1};

		assert_int_equal(tls_prepare(&cfg, &creds), -ENOENT);
		assert_null(creds.cert_pem);
	}
	assert_int_equal(rename(moved, key), 0);
}

static void test_san_valid(void **state)
{
	(void)state;
	assert_true(tls_san_valid("10.0.0.1"));
	assert_true(tls_san_valid("fd00::1"));
	assert_true(tls_san_valid("ctrl-1.example.org"));
	assert_false(tls_san_valid(""));
	assert_false(tls_san_valid("-x"));
	assert_false(tls_san_valid("a b"));
	assert_false(tls_san_valid("a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_made_reused_reissued),
	    cmocka_unit_test(test_own_certificate),
	    cmocka_unit_test(test_ca_without_key),
	    cmocka_unit_test(test_san_valid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
