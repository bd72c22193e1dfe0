/* SPDX-License-Identifier: MIT */
/* etcd's v3 JSON gateway over lib/apiclient, with endpoint failover. */
#include "etcd.h"
#include "lib/addr.h"
#include "lib/apiclient.h"
#include "lib/base64.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ETCD_TIMEOUT_MS 5000
#define URL_SCHEME	"etcd://"

int etcd_parse_url(const char *url, char **endpoints, char **prefix)
{
	const char *hosts, *slash;
	char *list = NULL, *eps = NULL, *pre = NULL, *save = NULL, *hp, host[256];
	size_t n = 0, len;
	uint16_t port;
	int r = 0;

	if (strncmp(url, URL_SCHEME, strlen(URL_SCHEME)) != 0) {
		log_error("--store %s: not etcd://HOST:PORT[,HOST:PORT...][/PREFIX/]", url);
		return -EINVAL;
	}
	hosts = url + strlen(URL_SCHEME);
	slash = strchr(hosts, '/');
	len = slash ? (size_t)(slash - hosts) : strlen(hosts);
	pre = strdup(slash ? slash : "/godwit/");
	list = strndup(hosts, len);
	eps = calloc(1, len * 2 + sizeof("http://") * (len + 1));
	if (!pre || !list || !eps) {
		r = -ENOMEM;
		goto cleanup;
	}
	if (!len || list[0] == ',' || list[len - 1] == ',' || strstr(list, ",,")) {
		log_error("--store %s: an empty HOST:PORT", url);
		r = -EINVAL;
	}
	for (hp = strtok_r(list, ",", &save); hp && r == 0; hp = strtok_r(NULL, ",", &save)) {
		if (addr_hostport_split(hp, host, sizeof(host), &port) < 0 || !host[0] || !port) {
			log_error("--store %s: \"%s\" is not HOST:PORT", url, hp);
			r = -EINVAL;
		} else if (++n > ETCD_MAX_ENDPOINTS) {
			log_error("--store %s: more than %d endpoints", url, ETCD_MAX_ENDPOINTS);
			r = -E2BIG;
		} else {
			strcat(eps, n > 1 ? ",http://" : "http://");
			strcat(eps, hp);
		}
	}
	if (r == 0 && (pre[strlen(pre) - 1] != '/' || strstr(pre, "//"))) {
		log_error("--store %s: the prefix %s must end in / (and have no //)", url, pre);
		r = -EINVAL;
	}
cleanup:
	free(list);
	if (r < 0) {
		free(eps);
		free(pre);
		return r;
	}
	*endpoints = eps;
	*prefix = pre;
	return 0;
}

struct etcd {
	struct api_client *clients[ETCD_MAX_ENDPOINTS];
	char *urls[ETCD_MAX_ENDPOINTS];
	size_t n, current;
};

void etcd_close(struct etcd *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		api_client_free(e->clients[i]);
		free(e->urls[i]);
	}
	free(e);
}

int etcd_open(const char *endpoints, struct etcd **out)
{
	struct etcd *e = calloc(1, sizeof(*e));
	char *list = strdup(endpoints), *save = NULL, *url;
	int r = 0;

	if (!e || !list) {
		r = -ENOMEM;
		goto cleanup;
	}
	for (url = strtok_r(list, ",", &save); url && r == 0; url = strtok_r(NULL, ",", &save)) {
		if (e->n == ETCD_MAX_ENDPOINTS) {
			log_error("etcd: more than %d endpoints in %s", ETCD_MAX_ENDPOINTS,
				  endpoints);
			r = -E2BIG;
		} else if (strncmp(url, "http://", 7) != 0) {
			log_error("etcd: endpoint %s: not http://HOST:PORT", url);
			r = -EINVAL;
		} else {
			e->urls[e->n] = strdup(url);
			r = e->urls[e->n] ? api_client_new(url, NULL, NULL, &e->clients[e->n])
					  : -ENOMEM;
			if (r == 0)
				api_client_set_timeout_ms(e->clients[e->n], ETCD_TIMEOUT_MS);
			e->n++;
		}
	}
	if (r == 0 && e->n == 0) {
		log_error("etcd: no endpoint in \"%s\"", endpoints);
		r = -EINVAL;
	}
cleanup:
	free(list);
	if (r < 0) {
		etcd_close(e);
		return r;
	}
	*out = e;
	return 0;
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->urls[e->current];
}

/* POSTs body to path on the current endpoint, then the others in turn while
 * none can be reached; *reply is etcd's answer, status its HTTP status. */
static int post(struct etcd *e, const char *path, const json_t *body, long *status, json_t **reply)
{
	int r = -ECONNREFUSED;

	for (size_t tried = 0; tried < e->n; tried++) {
		struct api_client *c = e->clients[e->current];

		r = api_request(c, "POST", path, body, status, reply);
		if (r == 0 || r == -EPROTO)
			break;
		log_warn("etcd: %s: %s; trying the next endpoint", e->urls[e->current],
			 api_client_error(c));
		e->current = (e->current + 1) % e->n;
	}
	if (r == -EPROTO)
		log_error("etcd: %s%s: the reply is not JSON", e->urls[e->current], path);
	return r;
}

/*
 * post(), again on another member while the cluster answers 503 (gRPC's
 * Unavailable: no leader for a moment, after a member died), for up to
 * UNAVAILABLE_MS. A transaction sent twice is applied at most once: the
 * store's compare refuses the second.
 */
#define UNAVAILABLE_MS 5000

static int call(struct etcd *e, const char *path, const json_t *body, json_t **reply)
{
	long status = 0;
	json_t *rep = NULL;
	int r;

	for (int waited = 0;; waited += 100) {
		r = post(e, path, body, &status, &rep);
		if (r < 0)
			return r;
		if (status != 503 || waited >= UNAVAILABLE_MS)
			break;
		log_warn("etcd: %s unavailable (%s): trying again", e->urls[e->current],
			 json_string_value(json_object_get(rep, "error")) ?: "no error text");
		json_decref(rep);
		rep = NULL;
		e->current = (e->current + 1) % e->n;
		usleep(100 * 1000);
	}
	if (status != 200) {
		log_error("etcd: %s%s: HTTP %ld: %s", e->urls[e->current], path, status,
			  json_string_value(json_object_get(rep, "error")) ?: "no error text");
		json_decref(rep);
		return -EIO;
	}
	if (!json_is_object(rep)) {
		log_error("etcd: %s%s: the reply is not an object", e->urls[e->current], path);
		json_decref(rep);
		return -EPROTO;
	}
	*reply = rep;
	return 0;
}

static json_t *b64(const char *text)
{
	char *enc = base64_encode(text);
	json_t *s = enc ? json_string(enc) : NULL;

	free(enc);
	return s;
}

int etcd_range(struct etcd *e, const struct etcd_range_req *req, struct etcd_range *out)
{
	json_t *body = json_pack("{s:o}", "key", b64(req->key)), *reply = NULL;
	int r;

	if (!body)
		return -ENOMEM;
	if (req->range_end)
		json_object_set_new(body, "range_end", b64(req->range_end));
	if (req->limit)
		json_object_set_new(body, "limit", json_integer(req->limit));
	if (req->at_revision)
		json_object_set_new(body, "revision", json_integer(req->at_revision));
	if (req->count_only)
		json_object_set_new(body, "count_only", json_true());
	r = call(e, "/v3/kv/range", body, &reply);
	json_decref(body);
	if (r == 0)
		r = etcd_decode_range(reply, out);
	json_decref(reply);
	return r;
}

int etcd_txn(struct etcd *e, json_t *compare, json_t *success, bool *succeeded, int64_t *revision)
{
	json_t *body =
		   json_pack("{s:O, s:O, s:[]}", "compare", compare, "success", success, "failure"),
	       *reply = NULL;
	int r;

	if (!body)
		return -ENOMEM;
	r = call(e, "/v3/kv/txn", body, &reply);
	json_decref(body);
	if (r == 0)
		r = etcd_decode_txn(reply, succeeded, revision);
	json_decref(reply);
	return r;
}

json_t *etcd_cmp_mod(const char *key, int64_t mod_revision)
{
	return json_pack("{s:o, s:s, s:s, s:I}", "key", b64(key), "target", "MOD", "result",
			 "EQUAL", "mod_revision", (json_int_t)mod_revision);
}

json_t *etcd_op_put(const char *key, const char *value)
{
	return json_pack("{s:{s:o, s:o}}", "request_put", "key", b64(key), "value", b64(value));
}

json_t *etcd_op_delete(const char *key, const char *range_end)
{
	json_t *op = json_pack("{s:{s:o}}", "request_delete_range", "key", b64(key));

	if (op && range_end)
		json_object_set_new(json_object_get(op, "request_delete_range"), "range_end",
				    b64(range_end));
	return op;
}

json_t *etcd_op_put_leased(const char *key, const char *value, int64_t lease)
{
	return json_pack("{s:{s:o, s:o, s:I}}", "request_put", "key", b64(key), "value", b64(value),
			 "lease", (json_int_t)lease);
}

/* A lease call: body to path, the reply's ID and TTL. */
static int lease_call(struct etcd *e, const char *path, json_t *body, int64_t *id, int64_t *ttl_s)
{
	json_t *reply = NULL;
	int r = body ? call(e, path, body, &reply) : -ENOMEM;

	json_decref(body);
	if (r == 0)
		r = etcd_decode_lease(reply, id, ttl_s);
	json_decref(reply);
	return r;
}

int etcd_lease_grant(struct etcd *e, int64_t *ttl_s, int64_t *id)
{
	int64_t lid, ttl;
	int r = lease_call(e, "/v3/lease/grant", json_pack("{s:I}", "TTL", (json_int_t)*ttl_s),
			   &lid, &ttl);

	if (r == 0 && ttl <= 0) {
		log_error("etcd: %s granted a lease of no time", e->urls[e->current]);
		r = -EPROTO;
	}
	if (r < 0)
		return r;
	*id = lid;
	*ttl_s = ttl;
	return 0;
}

int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_s)
{
	int64_t lid;

	return lease_call(e, "/v3/lease/keepalive", json_pack("{s:I}", "ID", (json_int_t)id), &lid,
			  ttl_s);
}

int etcd_lease_revoke(struct etcd *e, int64_t id)
{
	json_t *body = json_pack("{s:I}", "ID", (json_int_t)id), *reply = NULL;
	int r = body ? call(e, "/v3/lease/revoke", body, &reply) : -ENOMEM;

	json_decref(body);
	json_decref(reply);
	return r;
}

int etcd_put(struct etcd *e, const char *key, const char *value)
{
	json_t *body = json_pack("{s:o, s:o}", "key", b64(key), "value", b64(value)), *reply = NULL;
	int r;

	if (!body)
		return -ENOMEM;
	r = call(e, "/v3/kv/put", body, &reply);
	json_decref(body);
	json_decref(reply);
	return r;
}
