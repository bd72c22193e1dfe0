/* SPDX-License-Identifier: MIT */
/* The JSON gateway's replies into etcd.h's structs; anything else refused. */
#include "etcd.h"
#include "lib/base64.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The gateway writes int64 as a decimal string and leaves out zero values. */
static int int64_field(const json_t *obj, const char *field, int64_t *out)
{
	const json_t *v = json_object_get(obj, field);
	const char *s;
	char *end;
	long long n;

	if (!v) {
		*out = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else {
		s = json_string_value(v);
		if (!s || !*s)
			goto bad;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno || *end)
			goto bad;
	}
	if (n < 0)
		goto bad;
	*out = n;
	return 0;
bad:
	log_error("etcd: the reply's %s is not a revision or count", field);
	return -EPROTO;
}

/* A base64 field as text (absent: ""). */
static int text_field(const json_t *obj, const char *field, char **out)
{
	const json_t *v = json_object_get(obj, field);
	int r;

	if (!v) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	if (!json_is_string(v)) {
		log_error("etcd: the reply's %s is not a string", field);
		return -EPROTO;
	}
	r = base64_decode(json_string_value(v), out);
	if (r == -EINVAL) {
		log_error("etcd: the reply's %s is not base64 of text", field);
		return -EPROTO;
	}
	return r;
}

static int header_revision(const json_t *reply, int64_t *revision)
{
	const json_t *h = json_object_get(reply, "header");

	if (!json_is_object(h)) {
		log_error("etcd: the reply has no header");
		return -EPROTO;
	}
	return int64_field(h, "revision", revision);
}

static int decode_kv(const json_t *item, struct etcd_kv *kv)
{
	struct etcd_kv k = {0};
	int r;

	if (!json_is_object(item)) {
		log_error("etcd: the reply's kvs holds a non-object");
		return -EPROTO;
	}
	r = text_field(item, "key", &k.key);
	if (r == 0)
		r = text_field(item, "value", &k.value);
	if (r == 0)
		r = int64_field(item, "create_revision", &k.create_revision);
	if (r == 0)
		r = int64_field(item, "mod_revision", &k.mod_revision);
	if (r == 0 && !k.key[0]) {
		log_error("etcd: the reply's kvs holds an empty key");
		r = -EPROTO;
	}
	if (r < 0) {
		free(k.key);
		free(k.value);
		return r;
	}
	*kv = k;
	return 0;
}

void etcd_range_free(struct etcd_range *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->kvs[i].key);
		free(r->kvs[i].value);
	}
	free(r->kvs);
	*r = (struct etcd_range){0};
}

int etcd_decode_range(const json_t *reply, struct etcd_range *out)
{
	struct etcd_range res = {0};
	const json_t *kvs = json_object_get(reply, "kvs"), *item;
	size_t i;
	int r;

	r = header_revision(reply, &res.revision);
	if (r == 0)
		r = int64_field(reply, "count", &res.count);
	if (r < 0)
		return r;
	if (kvs && !json_is_array(kvs)) {
		log_error("etcd: the reply's kvs is not an array");
		return -EPROTO;
	}
	if (json_array_size(kvs)) {
		res.kvs = calloc(json_array_size(kvs), sizeof(*res.kvs));
		if (!res.kvs)
			return -ENOMEM;
	}
	json_array_foreach(kvs, i, item)
	{
		r = decode_kv(item, &res.kvs[i]);
		if (r < 0)
			break;
		res.n++;
	}
	if (r == 0 && (int64_t)res.n > res.count) {
		log_error("etcd: the reply holds more keys than its count");
		r = -EPROTO;
	}
	if (r < 0) {
		etcd_range_free(&res);
		return r;
	}
	*out = res;
	return 0;
}

int etcd_decode_txn(const json_t *reply, bool *succeeded, int64_t *revision)
{
	const json_t *ok = json_object_get(reply, "succeeded");
	int64_t rev;
	int r = header_revision(reply, &rev);

	if (r < 0)
		return r;
	if (ok && !json_is_boolean(ok)) {
		log_error("etcd: the reply's succeeded is not a boolean");
		return -EPROTO;
	}
	*succeeded = json_is_true(ok); /* the gateway leaves out false */
	*revision = rev;
	return 0;
}

char *etcd_prefix_end(const char *prefix)
{
	char *end = strdup(prefix);
	size_t n = strlen(prefix);

	/* Every byte of the store's keys is printable ASCII: the last one + 1. */
	if (end && n)
		end[n - 1]++;
	return end;
}

int etcd_decode_lease(const json_t *reply, int64_t *id, int64_t *ttl_s)
{
	const json_t *res = json_object_get(reply, "result");
	int64_t lid, ttl;
	int r;

	if (res && !json_is_object(res)) {
		log_error("etcd: the lease reply's result is not an object");
		return -EPROTO;
	}
	if (!res)
		res = reply;
	r = header_revision(res, &lid); /* an answer of etcd's has its header */
	if (r == 0)
		r = int64_field(res, "ID", &lid);
	if (r == 0)
		r = int64_field(res, "TTL", &ttl);
	if (r == 0 && !lid) {
		log_error("etcd: the lease reply has no ID");
		r = -EPROTO;
	}
	if (r < 0)
		return r;
	*id = lid;
	*ttl_s = ttl;
	return 0;
}
