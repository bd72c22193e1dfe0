/* SPDX-License-Identifier: MIT */
/* The cluster id of a store (store.h), for both backends. */
#include "store.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

bool store_cluster_id_valid(const char *id)
{
	if (strlen(id) != STORE_CLUSTER_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int store_cluster_id_make(char id[STORE_CLUSTER_ID_LEN + 1])
{
	unsigned char raw[STORE_CLUSTER_ID_LEN / 2];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return log_error_errno(-errno, "cannot make a cluster id");
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(id + 2 * i, "%02x", raw[i]);
	return 0;
}
