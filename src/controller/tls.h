/* SPDX-License-Identifier: MIT */
/*
 * tls: the controller's certificates (GnuTLS). Every TCP listener of
 * godwitd serves HTTPS only; plain HTTP is left to the unix socket, whose
 * clients are local and root's.
 *
 * A cluster CA is made at the first start in STATE/tls (ca.crt, ca.key mode
 * 0600; ECDSA P-256, 10 years) and kept across restarts: agents and CLI hosts
 * are given ca.crt once (README, "TLS") and verify the controller with it.
 * From it the server certificate (server.crt, server.key 0600; 1 year) is
 * issued, whose subject alternative names are the wanted set: the IP of
 * every TCP --listen address (for 0.0.0.0 or ::, every address of the
 * host's interfaces), the host name, and every --tls-san. At each start the
 * existing server certificate is reused when it was signed by this CA,
 * carries exactly the wanted set and has more than 30 days left; otherwise a
 * new one is issued. A ca.crt without its ca.key (or the reverse) is an
 * error, never a silent new CA: every node would stop trusting the
 * controller.
 *
 * An operator's own certificate (--tls-cert/--tls-key, PEM) replaces the
 * issued one; the CA is still made, unused by the server.
 */
#ifndef GODWIT_CONTROLLER_TLS_H
#define GODWIT_CONTROLLER_TLS_H

#include <stdbool.h>

#define TLS_MAX_SANS	64
#define TLS_CA_DAYS	3650
#define TLS_SERVER_DAYS 365
#define TLS_RENEW_DAYS	30 /* a server certificate with less left is re-issued */

struct tls_config {
	const char *state_dir;	   /* STATE/tls is made here */
	const char *const *listen; /* the --listen addresses; unix: ones are skipped */
	int n_listen;
	const char *const *extra_sans; /* --tls-san: an IP or a DNS name each */
	int n_extra_sans;
	const char *cert_file; /* --tls-cert and --tls-key: both or neither */
	const char *key_file;
};

struct tls_creds {
	char *cert_pem; /* the server's certificate and key, for MHD_OPTION_HTTPS_MEM_* */
	char *key_pem;
	bool issued; /* a new server certificate was issued at this start */
};

/* Whether name is usable as a --tls-san (an IP address or a DNS name). */
bool tls_san_valid(const char *name);

/*
 * Loads or makes the CA and the server certificate (or reads the operator's);
 * fills *out. Logs what failed, naming the file. 0 or -errno.
 */
int tls_prepare(const struct tls_config *cfg, struct tls_creds *out);
void tls_creds_free(struct tls_creds *c); /* accepts a zeroed one */

#endif
