// SPDX-License-Identifier: MIT
#include "migtls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int wrap(const char *secret, const char *role, const char *nonce, const char *in,
		char out[SECRET_HEX_LEN + 1])
{
	char context[128];

	snprintf(context, sizeof(context), "godwit-migration/%s/%s", role, nonce);
	return secret_wrap(secret, context, in, out);
}

int migtls_transport_new(const char *source_secret, const char *target_secret, json_t **out)
{
	char key[SECRET_HEX_LEN + 1], nonce[SECRET_HEX_LEN + 1];
	char for_source[SECRET_HEX_LEN + 1], for_target[SECRET_HEX_LEN + 1];
	json_t *t;
	int r;

	r = secret_random(key);
	if (r == 0)
		r = secret_random(nonce);
	if (r == 0)
		r = wrap(source_secret, MIGTLS_ROLE_SOURCE, nonce, key, for_source);
	if (r == 0)
		r = wrap(target_secret, MIGTLS_ROLE_TARGET, nonce, key, for_target);
	memset(key, 0, sizeof(key));
	if (r < 0)
		return r;
	t = json_pack("{s:s, s:s, s:s}", "nonce", nonce, "source_key", for_source, "target_key",
		      for_target);
	if (!t)
		return -ENOMEM;
	*out = t;
	return 0;
}

int migtls_key_of(const json_t *transport, const char *role, const char *secret,
		  char key[SECRET_HEX_LEN + 1])
{
	char field[32];
	const char *nonce, *wrapped;

	if (!transport)
		return -ENOENT;
	snprintf(field, sizeof(field), "%s_key", role);
	nonce = json_string_value(json_object_get(transport, "nonce"));
	wrapped = json_string_value(json_object_get(transport, field));
	if (!nonce || !wrapped || strlen(nonce) != SECRET_HEX_LEN)
		return -EINVAL;
	return wrap(secret, role, nonce, wrapped, key);
}

int migtls_dh_params_pem(char **out)
{
	gnutls_dh_params_t params = NULL;
	gnutls_datum_t pem = {0};
	char *text;
	int r = -ENOMEM;

	if (gnutls_dh_params_init(&params) < 0)
		return -ENOMEM;
	if (gnutls_dh_params_import_raw(params, &gnutls_ffdhe_2048_group_prime,
					&gnutls_ffdhe_2048_group_generator) < 0 ||
	    gnutls_dh_params_export2_pkcs3(params, GNUTLS_X509_FMT_PEM, &pem) < 0) {
		r = -EINVAL;
		goto cleanup;
	}
	text = strndup((const char *)pem.data, pem.size);
	if (!text)
		goto cleanup;
	*out = text;
	r = 0;
cleanup:
	gnutls_free(pem.data);
	gnutls_dh_params_deinit(params);
	return r;
}
