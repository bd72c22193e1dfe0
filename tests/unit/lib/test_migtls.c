/* SPDX-License-Identifier: MIT */
/* lib/migtls and secret_wrap: a migration's key, wrapped by the controller
 * once per node, unwraps to the same key at the source and the target with
 * their own secrets only; other secrets, swapped roles and malformed
 * transports give no key. The DH parameters for QEMU's server are the RFC
 * 7919 ffdhe2048 group in PEM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "lib/migtls.h"
#include "lib/secret.h"

#define S1 "stream-secret-of-node-1"
#define S2 "stream-secret-of-node-2"

static void test_wrap_is_its_own_inverse(void **state)
{
	char in[SECRET_HEX_LEN + 1], once[SECRET_HEX_LEN + 1], twice[SECRET_HEX_LEN + 1];

	(void)state;
	assert_int_equal(secret_random(in), 0);
	assert_int_equal(secret_wrap(S1, "ctx", in, once), 0);
	assert_string_not_equal(in, once);
	assert_int_equal(secret_wrap(S1, "ctx", once, twice), 0);
	assert_string_equal(in, twice);
	assert_int_equal(secret_wrap(S1, "other ctx", once, twice), 0);
	assert_string_not_equal(in, twice);
	assert_int_equal(secret_wrap(S1, "ctx", "abc", once), -EINVAL);
	memset(in, 'G', SECRET_HEX_LEN); /* not hex */
	assert_int_equal(secret_wrap(S1, "ctx", in, once), -EINVAL);
}

static void test_both_nodes_get_the_key(void **state)
{
	char src[SECRET_HEX_LEN + 1], tgt[SECRET_HEX_LEN + 1], other[SECRET_HEX_LEN + 1];
	json_t *t = NULL, *t2 = NULL;

	(void)state;
	assert_int_equal(migtls_transport_new(S1, S2, &t), 0);
	assert_int_equal(migtls_key_of(t, MIGTLS_ROLE_SOURCE, S1, src), 0);
	assert_int_equal(migtls_key_of(t, MIGTLS_ROLE_TARGET, S2, tgt), 0);
	assert_string_equal(src, tgt);
	assert_int_equal(strlen(src), SECRET_HEX_LEN);
	/* the stored copies are not the key */
	assert_string_not_equal(json_string_value(json_object_get(t, "source_key")), src);
	assert_string_not_equal(json_string_value(json_object_get(t, "target_key")), src);
	/* another node's secret, or the other role's copy, gives another key */
	assert_int_equal(migtls_key_of(t, MIGTLS_ROLE_TARGET, "a third node", other), 0);
	assert_string_not_equal(other, src);
	assert_int_equal(migtls_key_of(t, MIGTLS_ROLE_SOURCE, S2, other), 0);
	assert_string_not_equal(other, src);
	/* every migration its own key */
	assert_int_equal(migtls_transport_new(S1, S2, &t2), 0);
	assert_int_equal(migtls_key_of(t2, MIGTLS_ROLE_SOURCE, S1, other), 0);
	assert_string_not_equal(other, src);
	json_decref(t);
	json_decref(t2);
}

static void test_malformed_transport(void **state)
{
	static const char *const bad[] = {
	    "{}",
	    "{\"nonce\": \"ab\", \"target_key\": \"00\"}",
	    "{\"nonce\": 5, \"target_key\": "
	    "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
	    "{\"nonce\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
	    "\"target_key\": \"zz00000000000000000000000000000000000000000000000000000000000000\"}",
	    "{\"nonce\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
	    "\"source_key\": \"0000000000000000000000000000000000000000000000000000000000000000\"}",
	};
	char key[SECRET_HEX_LEN + 1] = "untouched";

	(void)state;
	assert_int_equal(migtls_key_of(NULL, MIGTLS_ROLE_TARGET, S1, key), -ENOENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *t = json_loads(bad[i], 0, NULL);

		assert_non_null(t);
		assert_int_equal(migtls_key_of(t, MIGTLS_ROLE_TARGET, S1, key), -EINVAL);
		assert_string_equal(key, "untouched");
		json_decref(t);
	}
}

static void test_dh_params_are_ffdhe2048(void **state)
{
	gnutls_datum_t data, prime = {0}, generator = {0};
	gnutls_dh_params_t params;
	unsigned bits = 0;
	char *pem = NULL;

	(void)state;
	assert_int_equal(migtls_dh_params_pem(&pem), 0);
	assert_non_null(strstr(pem, "-----BEGIN DH PARAMETERS-----"));
	data = (gnutls_datum_t){.data = (unsigned char *)pem, .size = (unsigned)strlen(pem)};
	assert_int_equal(gnutls_dh_params_init(&params), 0);
	assert_int_equal(gnutls_dh_params_import_pkcs3(params, &data, GNUTLS_X509_FMT_PEM), 0);
	assert_int_equal(gnutls_dh_params_export_raw(params, &prime, &generator, &bits), 0);
	assert_int_equal(prime.size, gnutls_ffdhe_2048_group_prime.size);
	assert_memory_equal(prime.data, gnutls_ffdhe_2048_group_prime.data, prime.size);
	assert_int_equal(generator.size, gnutls_ffdhe_2048_group_generator.size);
	assert_memory_equal(generator.data, gnutls_ffdhe_2048_group_generator.data, generator.size);
	gnutls_free(prime.data);
	gnutls_free(generator.data);
	gnutls_dh_params_deinit(params);
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wrap_is_its_own_inverse),
	    cmocka_unit_test(test_both_nodes_get_the_key),
	    cmocka_unit_test(test_malformed_transport),
	    cmocka_unit_test(test_dh_params_are_ffdhe2048),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
