/* SPDX-License-Identifier: MIT */
#include "tls.h"
#include "lib/addr.h"
#include "lib/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY_S (24 * 3600)

/* The wanted or found subject alternative names, as "IP:addr" / "DNS:name", sorted. */
struct san_set {
	char *name[TLS_MAX_SANS];
	int n;
};

struct keypair {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

static void san_set_clear(struct san_set *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->name[i]);
	s->n = 0;
}

static int san_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds "IP:..." for an address in text or "DNS:..." for a name; duplicates are dropped. */
static int san_add(struct san_set *s, const char *value)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN], *entry = NULL;
	int r;

	if (inet_pton(AF_INET, value, bin) == 1)
		r = asprintf(&entry, "IP:%s", inet_ntop(AF_INET, bin, text, sizeof(text)));
	else if (inet_pton(AF_INET6, value, bin) == 1)
		r = asprintf(&entry, "IP:%s", inet_ntop(AF_INET6, bin, text, sizeof(text)));
	else
		r = asprintf(&entry, "DNS:%s", value);
	if (r < 0)
		return -ENOMEM;
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->name[i], entry) == 0) {
			free(entry);
			return 0;
		}
	if (s->n == TLS_MAX_SANS) {
		free(entry);
		return -E2BIG;
	}
	s->name[s->n++] = entry;
	return 0;
}

bool tls_san_valid(const char *name)
{
	unsigned char bin[sizeof(struct in6_addr)];
	size_t n = strlen(name);

	if (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1)
		return true;
	if (n == 0 || n > 253 || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* Every address of the host's interfaces of family (AF_UNSPEC: both). */
static int add_interface_addresses(struct san_set *s, int family)
{
	struct ifaddrs *ifa = NULL;
	char text[INET6_ADDRSTRLEN];
	int r = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (struct ifaddrs *i = ifa; i && r == 0; i = i->ifa_next) {
		const void *a;

		if (!i->ifa_addr || (family != AF_UNSPEC && i->ifa_addr->sa_family != family))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		else
			continue;
		if (i->ifa_addr->sa_family == AF_INET6 &&
		    IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)a))
			continue; /* needs a scope; no client names it */
		inet_ntop(i->ifa_addr->sa_family, a, text, sizeof(text));
		r = san_add(s, text);
	}
	freeifaddrs(ifa);
	return r;
}

/* The host of a TCP "HOST:PORT" or "[V6]:PORT" listen address. */
static int listen_host(const char *addr, char *host, size_t cap)
{
	uint16_t port;

	return addr_hostport_split(addr, host, cap, &port);
}

static int wanted_sans(const struct tls_config *cfg, struct san_set *s)
{
	char host[256];
	int r = 0;

	for (int i = 0; i < cfg->n_listen && r == 0; i++) {
		if (strncmp(cfg->listen[i], "unix:", 5) == 0)
			continue;
		r = listen_host(cfg->listen[i], host, sizeof(host));
		if (r < 0)
			break;
		if (strcmp(host, "0.0.0.0") == 0)
			r = add_interface_addresses(s, AF_INET);
		else if (strcmp(host, "::") == 0)
			r = add_interface_addresses(s, AF_UNSPEC);
		else
			r = san_add(s, host);
	}
	if (r == 0 && gethostname(host, sizeof(host)) == 0 && tls_san_valid(host))
		r = san_add(s, host);
	for (int i = 0; i < cfg->n_extra_sans && r == 0; i++)
		r = san_add(s, cfg->extra_sans[i]);
	if (r < 0) {
		log_error_errno(r, "cannot make the certificate's list of names");
		san_set_clear(s);
		return r;
	}
	qsort(s->name, (size_t)s->n, sizeof(s->name[0]), san_cmp);
	return 0;
}

static int found_sans(gnutls_x509_crt_t crt, struct san_set *s)
{
	char text[INET6_ADDRSTRLEN], *entry;
	int r = 0;

	for (unsigned seq = 0; r == 0; seq++) {
		unsigned char buf[256];
		size_t size = sizeof(buf) - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type < 0 || s->n == TLS_MAX_SANS)
			return -EINVAL;
		entry = NULL;
		buf[size] = '\0';
		if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16))
			r = asprintf(
			    &entry, "IP:%s",
			    inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, text, sizeof(text)));
		else if (type == GNUTLS_SAN_DNSNAME)
			r = asprintf(&entry, "DNS:%s", buf);
		else
			r = asprintf(&entry, "other:%d", type);
		if (r < 0)
			return -ENOMEM;
		s->name[s->n++] = entry;
		r = 0;
	}
	qsort(s->name, (size_t)s->n, sizeof(s->name[0]), san_cmp);
	return 0;
}

static bool san_set_equal(const struct san_set *a, const struct san_set *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->name[i], b->name[i]) != 0)
			return false;
	return true;
}

static int gnutls_errno(int gr)
{
	switch (gr) {
	case GNUTLS_E_MEMORY_ERROR:
		return -ENOMEM;
	case GNUTLS_E_FILE_ERROR:
		return -EIO;
	default:
		return -EINVAL;
	}
}

/* Writes data to path (mode) through a temporary file and a rename. */
static int write_file(const char *path, const gnutls_datum_t *data, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return log_error_errno(-ENAMETOOLONG, "%s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return log_error_errno(-errno, "cannot create %s", tmp);
	errno = EIO; /* a short write sets none */
	if (fchmod(fd, mode) < 0 || write(fd, data->data, data->size) != (ssize_t)data->size ||
	    fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return log_error_errno(r, "cannot write %s", path);
	}
	return 0;
}

static void keypair_free(struct keypair *kp)
{
	if (kp->crt)
		gnutls_x509_crt_deinit(kp->crt);
	if (kp->key)
		gnutls_x509_privkey_deinit(kp->key);
	kp->crt = NULL;
	kp->key = NULL;
}

static int load_keypair(const char *crt_path, const char *key_path, struct keypair *out)
{
	gnutls_datum_t d = {0};
	struct keypair kp = {0};
	const char *what = crt_path;
	int gr;

	gr = gnutls_load_file(crt_path, &d);
	if (gr == 0) {
		gr = gnutls_x509_crt_init(&kp.crt);
		if (gr == 0)
			gr = gnutls_x509_crt_import(kp.crt, &d, GNUTLS_X509_FMT_PEM);
		gnutls_free(d.data);
		d.data = NULL;
	}
	if (gr == 0) {
		what = key_path;
		gr = gnutls_load_file(key_path, &d);
	}
	if (gr == 0) {
		gr = gnutls_x509_privkey_init(&kp.key);
		if (gr == 0)
			gr = gnutls_x509_privkey_import(kp.key, &d, GNUTLS_X509_FMT_PEM);
		gnutls_free(d.data);
	}
	if (gr < 0) {
		keypair_free(&kp);
		log_error("cannot load %s: %s", what, gnutls_strerror(gr));
		return gnutls_errno(gr);
	}
	*out = kp;
	return 0;
}

static int save_keypair(const struct keypair *kp, const char *crt_path, const char *key_path)
{
	gnutls_datum_t c = {0}, k = {0};
	int gr, r;

	gr = gnutls_x509_crt_export2(kp->crt, GNUTLS_X509_FMT_PEM, &c);
	if (gr == 0)
		gr = gnutls_x509_privkey_export2(kp->key, GNUTLS_X509_FMT_PEM, &k);
	if (gr < 0) {
		log_error("cannot encode %s: %s", crt_path, gnutls_strerror(gr));
		r = gnutls_errno(gr);
		goto cleanup;
	}
	/* The key first: a certificate is never on disk without its key. */
	r = write_file(key_path, &k, 0600);
	if (r == 0)
		r = write_file(crt_path, &c, 0644);
cleanup:
	gnutls_free(c.data);
	gnutls_free(k.data);
	return r;
}

/* The fields both certificates share: serial, validity, key, subject. */
static int crt_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, int days)
{
	unsigned char serial[16];
	time_t now = time(NULL);
	int gr;

	gr = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f; /* a positive number */
	if (gr == 0)
		gr = gnutls_x509_crt_set_version(crt, 3);
	if (gr == 0)
		gr = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (gr == 0)
		gr = gnutls_x509_crt_set_activation_time(crt, now - 3600); /* clock skew */
	if (gr == 0)
		gr = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * DAY_S);
	if (gr == 0)
		gr = gnutls_x509_crt_set_key(crt, key);
	if (gr == 0)
		gr = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						   (unsigned)strlen(cn));
	if (gr == 0) {
		unsigned char id[64];
		size_t n = sizeof(id);

		gr = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &n);
		if (gr == 0)
			gr = gnutls_x509_crt_set_subject_key_id(crt, id, n);
	}
	return gr;
}

static int new_key(gnutls_x509_privkey_t *out)
{
	int gr = gnutls_x509_privkey_init(out);

	if (gr == 0)
		gr = gnutls_x509_privkey_generate(
		    *out, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	return gr;
}

static int make_ca(const char *crt_path, const char *key_path, struct keypair *out)
{
	struct keypair kp = {0};
	int gr, r;

	gr = new_key(&kp.key);
	if (gr == 0)
		gr = gnutls_x509_crt_init(&kp.crt);
	if (gr == 0)
		gr = crt_common(kp.crt, kp.key, "godwit cluster CA", TLS_CA_DAYS);
	if (gr == 0)
		gr = gnutls_x509_crt_set_basic_constraints(kp.crt, 1, 0);
	if (gr == 0)
		gr = gnutls_x509_crt_set_key_usage(kp.crt,
						   GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	if (gr == 0)
		gr = gnutls_x509_crt_sign2(kp.crt, kp.crt, kp.key, GNUTLS_DIG_SHA256, 0);
	if (gr < 0) {
		log_error("cannot make the cluster CA %s: %s", crt_path, gnutls_strerror(gr));
		r = gnutls_errno(gr);
		goto fail;
	}
	r = save_keypair(&kp, crt_path, key_path);
	if (r < 0)
		goto fail;
	log_info("made the cluster CA %s: give it to every agent (--ca-file) and CLI host",
		 crt_path);
	*out = kp;
	return 0;
fail:
	keypair_free(&kp);
	return r;
}

static int set_sans(gnutls_x509_crt_t crt, const struct san_set *s)
{
	int gr = 0;

	for (int i = 0; i < s->n && gr == 0; i++) {
		unsigned char bin[sizeof(struct in6_addr)];
		const char *v = strchr(s->name[i], ':') + 1;

		if (strncmp(s->name[i], "IP:", 3) == 0) {
			bool v4 = inet_pton(AF_INET, v, bin) == 1;

			if (!v4 && inet_pton(AF_INET6, v, bin) != 1)
				return GNUTLS_E_INVALID_REQUEST;
			gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, bin,
								  v4 ? 4 : 16, GNUTLS_FSAN_APPEND);
		} else {
			gr = gnutls_x509_crt_set_subject_alt_name(
			    crt, GNUTLS_SAN_DNSNAME, v, (unsigned)strlen(v), GNUTLS_FSAN_APPEND);
		}
	}
	return gr;
}

static int issue_server(const struct keypair *ca, const struct san_set *sans, const char *crt_path,
			const char *key_path, struct keypair *out)
{
	struct keypair kp = {0};
	unsigned char id[64];
	size_t n = sizeof(id);
	char cn[256] = "godwitd";
	int gr, r;

	gethostname(cn, sizeof(cn) - 1);
	gr = new_key(&kp.key);
	if (gr == 0)
		gr = gnutls_x509_crt_init(&kp.crt);
	if (gr == 0)
		gr = crt_common(kp.crt, kp.key, cn, TLS_SERVER_DAYS);
	if (gr == 0)
		gr = gnutls_x509_crt_set_basic_constraints(kp.crt, 0, -1);
	if (gr == 0)
		gr = gnutls_x509_crt_set_key_usage(kp.crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (gr == 0)
		gr = gnutls_x509_crt_set_key_purpose_oid(kp.crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (gr == 0)
		gr = set_sans(kp.crt, sans);
	if (gr == 0)
		gr = gnutls_x509_crt_get_subject_key_id(ca->crt, id, &n, NULL);
	if (gr == 0)
		gr = gnutls_x509_crt_set_authority_key_id(kp.crt, id, n);
	if (gr == 0)
		gr = gnutls_x509_crt_sign2(kp.crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0);
	if (gr < 0) {
		log_error("cannot issue the server certificate %s: %s", crt_path,
			  gnutls_strerror(gr));
		r = gnutls_errno(gr);
		goto fail;
	}
	r = save_keypair(&kp, crt_path, key_path);
	if (r < 0)
		goto fail;
	*out = kp;
	return 0;
fail:
	keypair_free(&kp);
	return r;
}

/* Why an existing server certificate cannot be kept, or NULL. */
static const char *server_stale(const struct keypair *ca, const struct keypair *srv,
				const struct san_set *want)
{
	struct san_set have = {0};
	unsigned status = 0;
	const char *why = NULL;

	if (gnutls_x509_crt_verify(srv->crt, &ca->crt, 1, 0, &status) < 0 || status != 0)
		why = "it is not signed by the cluster CA";
	else if (gnutls_x509_crt_get_expiration_time(srv->crt) <
		 time(NULL) + (time_t)TLS_RENEW_DAYS * DAY_S)
		why = "it expires soon";
	else if (found_sans(srv->crt, &have) < 0 || !san_set_equal(&have, want))
		why = "its names differ from the wanted ones";
	san_set_clear(&have);
	return why;
}

static int export_creds(const struct keypair *kp, struct tls_creds *out)
{
	gnutls_datum_t c = {0}, k = {0};
	int gr, r = 0;

	gr = gnutls_x509_crt_export2(kp->crt, GNUTLS_X509_FMT_PEM, &c);
	if (gr == 0)
		gr = gnutls_x509_privkey_export2(kp->key, GNUTLS_X509_FMT_PEM, &k);
	if (gr < 0) {
		r = gnutls_errno(gr);
		goto cleanup;
	}
	out->cert_pem = strndup((const char *)c.data, c.size);
	out->key_pem = strndup((const char *)k.data, k.size);
	if (!out->cert_pem || !out->key_pem) {
		tls_creds_free(out);
		r = -ENOMEM;
	}
cleanup:
	gnutls_free(c.data);
	gnutls_free(k.data);
	return r;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int tls_prepare(const struct tls_config *cfg, struct tls_creds *out)
{
	char dir[PATH_MAX - 32], ca_crt[PATH_MAX], ca_key[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
	struct keypair ca = {0}, srv = {0};
	struct san_set want = {0};
	struct tls_creds creds = {0};
	const char *why;
	int r;

	if (snprintf(dir, sizeof(dir), "%s/tls", cfg->state_dir) >= (int)sizeof(dir))
		return log_error_errno(-ENAMETOOLONG, "state dir %s", cfg->state_dir);
	snprintf(ca_crt, sizeof(ca_crt), "%s/ca.crt", dir);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
	snprintf(crt, sizeof(crt), "%s/server.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cannot create %s", dir);
	if (exists(ca_crt) != exists(ca_key)) {
		log_error("%s without %s: restore it, or remove both for a new CA (then every "
			  "agent and CLI host needs the new ca.crt)",
			  exists(ca_crt) ? ca_crt : ca_key, exists(ca_crt) ? ca_key : ca_crt);
		return -ENOENT;
	}
	r = exists(ca_crt) ? load_keypair(ca_crt, ca_key, &ca) : make_ca(ca_crt, ca_key, &ca);
	if (r < 0)
		goto cleanup;
	if (cfg->cert_file) {
		/* The operator's: used as given; a wrong pair fails at MHD's start. */
		r = load_keypair(cfg->cert_file, cfg->key_file, &srv);
		if (r == 0)
			r = export_creds(&srv, &creds);
		goto done;
	}
	r = wanted_sans(cfg, &want);
	if (r < 0)
		goto cleanup;
	why = "there is none";
	if (exists(crt) && exists(key)) {
		r = load_keypair(crt, key, &srv);
		if (r < 0)
			goto cleanup;
		why = server_stale(&ca, &srv, &want);
		if (why)
			keypair_free(&srv);
	}
	if (why) {
		r = issue_server(&ca, &want, crt, key, &srv);
		if (r < 0)
			goto cleanup;
		creds.issued = true;
		log_info("issued the server certificate %s (%s)", crt, why);
	}
	r = export_creds(&srv, &creds);
done:
	if (r == 0)
		*out = creds;
cleanup:
	san_set_clear(&want);
	keypair_free(&ca);
	keypair_free(&srv);
	return r;
}

void tls_creds_free(struct tls_creds *c)
{
	free(c->cert_pem);
	free(c->key_pem);
	c->cert_pem = NULL;
	c->key_pem = NULL;
}
