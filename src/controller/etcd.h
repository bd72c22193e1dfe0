/* SPDX-License-Identifier: MIT */
/*
 * etcd: the few calls of etcd's v3 API the etcd store (store_etcd.c) makes,
 * over etcd's JSON gateway (/v3/kv/range, /v3/kv/txn; etcd 3.4 as Debian 12
 * ships it) with lib/apiclient's libcurl client.
 *
 * Design
 * - Keys and values are text (the store writes JSON and decimal numbers);
 *   the gateway carries them base64-encoded and its int64 fields as decimal
 *   strings: etcd_decode.c turns its replies into the structs below and
 *   refuses, naming the field, a reply that is not what etcd sends (a fuzz
 *   target feeds it arbitrary text).
 * - Several endpoints (members of one cluster): a call goes to the current
 *   one and, when that one cannot be reached, to the next, with a log line;
 *   an answer of etcd's (even an error) is not retried elsewhere. A
 *   transaction retried on another member after a timeout may have been
 *   applied by the first: the store's compare-and-swap on its revision key
 *   then refuses the second, so nothing is written twice.
 * - Not thread-safe: the store calls it under its lock.
 * Functions return 0 or -errno: -ECONNREFUSED/-ETIMEDOUT when no endpoint
 * answers, -EIO for an error answer of etcd's (logged with its message),
 * -EPROTO for a reply that is not etcd's.
 */
#ifndef GODWIT_CONTROLLER_ETCD_H
#define GODWIT_CONTROLLER_ETCD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETCD_MAX_ENDPOINTS 8

struct etcd;

struct etcd_kv {
	char *key;
	char *value; /* "" for a keys-only range */
	int64_t create_revision, mod_revision;
};

struct etcd_range {
	struct etcd_kv *kvs;
	size_t n;
	int64_t count;	  /* keys in the range (more than n when limited) */
	int64_t revision; /* etcd's revision the range was read at */
};

/*
 * godwitd's --store etcd://HOST:PORT[,HOST:PORT...][/PREFIX/] into the
 * endpoints ("http://HOST:PORT,...") and the prefix of every key ("/godwit/"
 * when none is given), both newly allocated. -EINVAL, with a message naming
 * what is wrong, for anything else.
 */
int etcd_parse_url(const char *url, char **endpoints, char **prefix);

/* endpoints: "http://HOST:PORT[,http://HOST:PORT...]". */
int etcd_open(const char *endpoints, struct etcd **out);
void etcd_close(struct etcd *e); /* accepts NULL */

/* The endpoint calls go to now (for messages). */
const char *etcd_endpoint(const struct etcd *e);

/* A range read in [key, range_end) (range_end NULL: the key alone; limit 0:
 * all); at etcd's revision at_revision (0: the latest); count_only: only
 * out->count. */
struct etcd_range_req {
	const char *key, *range_end;
	int64_t limit, at_revision;
	bool count_only;
};
int etcd_range(struct etcd *e, const struct etcd_range_req *req, struct etcd_range *out);
void etcd_range_free(struct etcd_range *r);

/*
 * One transaction: compare and success are JSON arrays of the gateway's
 * Compare and RequestOp objects (built with the helpers below); the
 * failure branch is empty. *succeeded says whether the compares held,
 * *revision is etcd's revision after it.
 */
int etcd_txn(struct etcd *e, json_t *compare, json_t *success, bool *succeeded, int64_t *revision);

/* Compare: key's mod_revision == mod_revision (0: the key does not exist). */
json_t *etcd_cmp_mod(const char *key, int64_t mod_revision);
/* RequestOps: put key=value; delete key (range_end NULL) or [key, range_end). */
json_t *etcd_op_put(const char *key, const char *value);
json_t *etcd_op_delete(const char *key, const char *range_end);

/* RequestOp: put key=value bound to a lease (the key goes when it expires). */
json_t *etcd_op_put_leased(const char *key, const char *value, int64_t lease);

/* A lease of ttl_s seconds (etcd may give more: *ttl_s then says so). */
int etcd_lease_grant(struct etcd *e, int64_t *ttl_s, int64_t *id);
/* One keep-alive of lease id: *ttl_s left, 0 when the lease is gone. */
int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_s);
int etcd_lease_revoke(struct etcd *e, int64_t id);

/* A put outside any transaction. */
int etcd_put(struct etcd *e, const char *key, const char *value);

/* The replies' decoders (etcd_decode.c; the fuzz target's entry points).
 * On failure they log what was wrong and leave the outputs untouched. */
int etcd_decode_range(const json_t *reply, struct etcd_range *out);
int etcd_decode_txn(const json_t *reply, bool *succeeded, int64_t *revision);
/* A lease grant's or keep-alive's reply (the latter inside "result"). */
int etcd_decode_lease(const json_t *reply, int64_t *id, int64_t *ttl_s);

/* The first key after every key that starts with prefix (a range's end). */
char *etcd_prefix_end(const char *prefix);

#endif
