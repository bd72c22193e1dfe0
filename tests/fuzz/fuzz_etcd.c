/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: what an etcd endpoint answers the etcd store
 * (controller/etcd.h): a range, transaction or lease reply of the JSON gateway.
 * A decoded range holds only text keys and values, and no more keys than its
 * count; whatever is refused leaves the outputs as they were. The same input
 * as godwitd's --store etcd://... (etcd_parse_url) gives http:// endpoints
 * and a prefix in slashes, or a refusal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_range res = {.count = -7};
	bool ok = true;
	int64_t rev = -7;
	char *url = strndup((const char *)data, size), *eps = NULL, *prefix = NULL;
	json_t *reply;

	log_set_level(LOG_LVL_OFF); /* every refusal logs: millions of lines in a run */
	if (url && etcd_parse_url(url, &eps, &prefix) == 0) {
		if (strncmp(eps, "http://", 7) != 0 || prefix[0] != '/' ||
		    prefix[strlen(prefix) - 1] != '/')
			abort();
		free(eps);
		free(prefix);
	} else if (eps || prefix) {
		abort();
	}
	free(url);
	reply = json_loadb((const char *)data, size, 0, NULL);
	if (!reply)
		return 0;
	if (etcd_decode_range(reply, &res) == 0) {
		if ((int64_t)res.n > res.count || res.revision < 0)
			abort();
		for (size_t i = 0; i < res.n; i++)
			if (!res.kvs[i].key[0] || strlen(res.kvs[i].value) > size)
				abort();
		etcd_range_free(&res);
	} else if (res.count != -7 || res.kvs) {
		abort();
	}
	if (etcd_decode_txn(reply, &ok, &rev) < 0 && (!ok || rev != -7))
		abort();
	rev = -7;
	if (etcd_decode_lease(reply, &rev, &(int64_t){0}) == 0 ? rev <= 0 : rev != -7)
		abort();
	json_decref(reply);
	return 0;
}
