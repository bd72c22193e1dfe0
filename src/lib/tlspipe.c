/* SPDX-License-Identifier: MIT */
#include "tlspipe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TLS_PIPE_STACK (128 * 1024)

/* Two threads, one per direction (GnuTLS allows a session's sends and
 * receives in two threads at once): a single thread blocked in a send to a
 * server that waits for its own sends to be read would never read again. */
struct pipe {
	atomic_int refs; /* the threads still running */
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	int tcp;   /* the server's side, under TLS */
	int plain; /* our end of the socketpair */
};

static void pipe_free(struct pipe *p)
{
	if (p->session)
		gnutls_deinit(p->session);
	if (p->cred)
		gnutls_certificate_free_credentials(p->cred);
	if (p->tcp >= 0)
		close(p->tcp);
	if (p->plain >= 0)
		close(p->plain);
	free(p);
}

static void pipe_put(struct pipe *p)
{
	if (atomic_fetch_sub(&p->refs, 1) == 1)
		pipe_free(p);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int tls_send_all(gnutls_session_t s, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = gnutls_record_send(s, buf, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The server's bytes to the caller, until the server's end of input. */
static void *from_server(void *data)
{
	struct pipe *p = data;
	char buf[16384];

	for (;;) {
		ssize_t n = gnutls_record_recv(p->session, buf, sizeof(buf));

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
			shutdown(p->plain, SHUT_WR); /* the server's end of input, passed on */
			break;
		}
		if (n < 0 || write_all(p->plain, buf, (size_t)n) < 0) {
			shutdown(p->tcp, SHUT_RDWR); /* ends the other direction too */
			shutdown(p->plain, SHUT_RDWR);
			break;
		}
	}
	pipe_put(p);
	return NULL;
}

/* The caller's bytes to the server, until the caller's end of input. */
static void *to_server(void *data)
{
	struct pipe *p = data;
	char buf[16384];

	for (;;) {
		ssize_t n = read(p->plain, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			gnutls_bye(p->session, GNUTLS_SHUT_WR); /* close_notify; still reading */
			break;
		}
		if (n < 0 || tls_send_all(p->session, buf, (size_t)n) < 0) {
			shutdown(p->tcp, SHUT_RDWR);
			shutdown(p->plain, SHUT_RDWR);
			break;
		}
	}
	pipe_put(p);
	return NULL;
}

static int start_thread(void *(*fn)(void *), struct pipe *p)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, TLS_PIPE_STACK);
	r = pthread_create(&t, &attr, fn, p);
	pthread_attr_destroy(&attr);
	return -r;
}

static bool is_ip(const char *host)
{
	unsigned char bin[16];

	return inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1;
}

static void verify_error(struct pipe *p, const char *host, const char *ca_file, char *err,
			 size_t errlen)
{
	gnutls_datum_t why = {0};
	unsigned status = gnutls_session_get_verify_cert_status(p->session);

	gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
	snprintf(err, errlen, "the certificate of %s does not verify against %s%s: %s", host,
		 ca_file ? "the CA " : "the system's CAs", ca_file ? ca_file : "",
		 why.data ? (const char *)why.data : "unknown reason");
	gnutls_free(why.data);
}

int tls_pipe_open(int tcp, const char *host, const char *ca_file, int *fd, char *err, size_t errlen)
{
	struct pipe *p = calloc(1, sizeof(*p));
	int sp[2] = {-1, -1}, gr, r;

	if (!p) {
		close(tcp);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->tcp = tcp;
	p->plain = -1;
	gr = gnutls_certificate_allocate_credentials(&p->cred);
	if (gr == 0) {
		gr = ca_file ? gnutls_certificate_set_x509_trust_file(p->cred, ca_file,
								      GNUTLS_X509_FMT_PEM)
			     : gnutls_certificate_set_x509_system_trust(p->cred);
		if (gr <= 0) {
			snprintf(err, errlen, "cannot read the CA %s: %s",
				 ca_file ? ca_file : "certificates of the system",
				 gr == 0 ? "no certificate in it" : gnutls_strerror(gr));
			r = -EINVAL;
			goto fail;
		}
		gr = 0;
	}
	if (gr == 0)
		gr = gnutls_init(&p->session, GNUTLS_CLIENT);
	if (gr == 0)
		gr = gnutls_set_default_priority(p->session);
	if (gr == 0)
		gr = gnutls_credentials_set(p->session, GNUTLS_CRD_CERTIFICATE, p->cred);
	if (gr == 0 && !is_ip(host))
		gr = gnutls_server_name_set(p->session, GNUTLS_NAME_DNS, host, strlen(host));
	if (gr < 0) {
		snprintf(err, errlen, "cannot set up TLS to %s: %s", host, gnutls_strerror(gr));
		r = -ENOMEM;
		goto fail;
	}
	gnutls_session_set_verify_cert(p->session, host, 0);
	gnutls_transport_set_int(p->session, tcp);
	gnutls_handshake_set_timeout(p->session, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
	do
		gr = gnutls_handshake(p->session);
	while (gr < 0 && !gnutls_error_is_fatal(gr));
	if (gr == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		verify_error(p, host, ca_file, err, errlen);
		r = -EPERM;
		goto fail;
	}
	if (gr < 0) {
		snprintf(err, errlen, "TLS handshake with %s failed: %s", host,
			 gnutls_strerror(gr));
		r = -EPROTO;
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		r = -errno;
		snprintf(err, errlen, "socketpair: %s", strerror(-r));
		goto fail;
	}
	p->plain = sp[1];
	atomic_init(&p->refs, 2);
	r = start_thread(from_server, p);
	if (r < 0) {
		snprintf(err, errlen, "no thread for the TLS relay: %s", strerror(-r));
		close(sp[0]);
		goto fail;
	}
	r = start_thread(to_server, p);
	if (r < 0) {
		/* The reader runs and frees p: end it through the caller's side. */
		snprintf(err, errlen, "no thread for the TLS relay: %s", strerror(-r));
		shutdown(p->tcp, SHUT_RDWR);
		close(sp[0]);
		pipe_put(p);
		return r;
	}
	*fd = sp[0];
	return 0;
fail:
	pipe_free(p);
	return r;
}
