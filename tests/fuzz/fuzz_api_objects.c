/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: request bodies through the controller's decoding and the
 * validation of every kind (and of node status reports); no I/O. A valid
 * object must validate again to itself (normalisation is idempotent).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_objects.h"

static void check_idempotent(enum kind kind, const json_t *out)
{
	struct api_error err = {0};
	json_t *again = NULL;

	if (api_object_validate(kind, out, NULL, &again, &err) < 0 || !json_equal(out, again))
		abort();
	json_decref(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_error err = {0};
	json_t *body = NULL, *out = NULL;

	if (api_body_decode((const char *)data, size, &body, &err) < 0) {
		if (err.status != 400 && err.status != 413)
			abort();
		return 0;
	}
	for (int k = 0; k < KIND__COUNT; k++) {
		for (int put = 0; put < 2; put++) {
			out = NULL;
			if (api_object_validate((enum kind)k, body, put ? "fuzz" : NULL, &out,
						&err) == 0) {
				check_idempotent((enum kind)k, out);
				json_decref(out);
			} else if (err.status < 400 || err.status > 499 || !err.message[0]) {
				abort();
			}
		}
	}
	if (api_node_status_validate(body, &out, &err) == 0)
		json_decref(out);
	json_decref(body);
	return 0;
}
