// SPDX-License-Identifier: MIT
/*
 * vm_tls: a migration's TLS in QEMU (lib/migtls.h): the key, unwrapped by
 * the caller, as QEMU's tls-creds-psk (RUNDIR/tls/keys.psk, 0600 in a 0700
 * dir, identity MIGTLS_USERNAME) and the migration's tls-creds parameter;
 * the source is the TLS client, the target the server; the file goes when
 * the transfer ends (GnuTLS reads it at the handshake). No key: tls-creds
 * cleared, so a VM that came in over TLS leaves in the clear when its
 * Migration has no transport (an older controller). The server's dir holds
 * dh-params.pem too, so that QEMU does not generate DH parameters at
 * object-add (lib/migtls.h).
 */
#include "lib/log.h"
#include "lib/migtls.h"
#include "lib/proc.h"
#include "lib/qmp.h"
#include "lib/secret.h"
#include "vm_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_OBJECT "gw-migration-tls"

static int key_file(const struct vm *v, char *dir, size_t dlen, char *file, size_t flen)
{
	if ((size_t)snprintf(dir, dlen, "%s/tls", v->rundir) >= dlen ||
	    (size_t)snprintf(file, flen, "%s/keys.psk", dir) >= flen)
		return -ENAMETOOLONG;
	return 0;
}

void vm_tls_forget(struct vm *v)
{
	char dir[PATH_MAX], file[PATH_MAX];

	if (key_file(v, dir, sizeof(dir), file, sizeof(file)) == 0 && unlink(file) < 0 &&
	    errno != ENOENT)
		log_warn_errno(-errno, "vm %s: cannot remove %s", v->name, file);
}

/* DIR/dh-params.pem, once per QEMU run dir (the group is public). */
static int write_dh_params(const struct vm *v, const char *dir)
{
	char file[PATH_MAX], *pem = NULL;
	size_t len;
	int r;

	if ((size_t)snprintf(file, sizeof(file), "%s/dh-params.pem", dir) >= sizeof(file))
		return -ENAMETOOLONG;
	if (access(file, R_OK) == 0)
		return 0;
	r = migtls_dh_params_pem(&pem);
	if (r == 0) {
		len = strlen(pem);
		while (len > 0 && pem[len - 1] == '\n') /* secret_write_file ends the line */
			pem[--len] = '\0';
		r = secret_write_file(file, pem);
	}
	if (r < 0)
		log_warn_errno(r, "vm %s: cannot write %s", v->name, file);
	free(pem);
	return r;
}

int vm_tls_prepare(struct vm *v, bool server, const char *key)
{
	char dir[PATH_MAX], file[PATH_MAX], line[sizeof(MIGTLS_USERNAME) + SECRET_HEX_LEN + 2];
	json_t *args;
	int r;

	if (!key || !key[0])
		return vm_qmp_exec(v, "migrate-set-parameters", json_pack("{s:s}", "tls-creds", ""),
				   -1);
	r = key_file(v, dir, sizeof(dir), file, sizeof(file));
	if (r < 0)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(line, sizeof(line), "%s:%s", MIGTLS_USERNAME, key);
	r = server ? write_dh_params(v, dir) : 0;
	if (r == 0)
		r = secret_write_file(file, line);
	memset(line, 0, sizeof(line));
	if (r < 0) {
		log_warn_errno(r, "vm %s: cannot write %s", v->name, file);
		return r;
	}
	/* a previous migration's object (this QEMU came in, or a retry) */
	args = json_pack("{s:s}", "id", TLS_OBJECT);
	if (args)
		qmp_execute_fd(v->qmp, "object-del", args, -1, NULL, VM_QMP_TIMEOUT_MS);
	json_decref(args);
	args = json_pack("{s:s, s:s, s:s, s:s}", "qom-type", "tls-creds-psk", "id", TLS_OBJECT,
			 "endpoint", server ? "server" : "client", "dir", dir);
	if (args && !server) /* QEMU refuses a username on the server's */
		json_object_set_new(args, "username", json_string(MIGTLS_USERNAME));
	r = vm_qmp_exec(v, "object-add", args, -1);
	/* tls-hostname: QEMU wants one for a client over fd:; PSK does not check it */
	if (r == 0)
		r = vm_qmp_exec(v, "migrate-set-parameters",
				json_pack("{s:s, s:s}", "tls-creds", TLS_OBJECT, "tls-hostname",
					  MIGTLS_USERNAME),
				-1);
	return r;
}
