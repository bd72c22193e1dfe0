/* SPDX-License-Identifier: MIT */
/*
 * migtls: the key of a VM migration's TLS, the QEMU stream between the
 * source and the target node (QEMU's tls-creds-psk, agent/vm_tls.c).
 *
 * Who knows the key: the controller, which makes it, and the two nodes of
 * the migration, nobody else — not the underlay, not the other nodes, which
 * all read the same Migration object. At a VM migration's creation the
 * controller makes a random key K and a random nonce and stores in the
 * Migration's status.transport
 *   {"nonce": N, "source_key": K ^ HMAC(S_source, "godwit-migration/source/" N),
 *                "target_key": K ^ HMAC(S_target, "godwit-migration/target/" N)}
 * where S_x is node x's stream secret (controller auth.h, "Streams": made at
 * its join, held by its agent and the controller; an agent without one
 * holds the admin token, as for streams). Each agent unwraps its own copy
 * with its own secret (lib/secret.h, secret_wrap) and gives K to its QEMU
 * as a pre-shared key: the handshake fails unless both QEMUs hold K, so a
 * stream from anyone else is refused and the guest's memory crosses the
 * underlay encrypted. A Migration without status.transport (made by an
 * older controller) runs without TLS, as before.
 *
 * The target is the TLS server, and a QEMU server whose credentials dir has
 * no dh-params.pem generates 2048-bit DH parameters at object-add (QEMU's
 * crypto/tlscreds.c), 0.5-1 s of one core holding QEMU's big lock — on a
 * 2-core node a stall of the guests beside it. The agent writes the RFC 7919
 * ffdhe2048 group there instead (public, standard, what TLS 1.3 offers
 * anyway): migtls_dh_params_pem().
 */
#ifndef GODWIT_LIB_MIGTLS_H
#define GODWIT_LIB_MIGTLS_H

#include "secret.h"

#include <jansson.h>

#define MIGTLS_USERNAME	   "godwit" /* the PSK identity in QEMU's keys.psk */
#define MIGTLS_ROLE_SOURCE "source"
#define MIGTLS_ROLE_TARGET "target"

/* A new status.transport for a migration between the holders of
 * source_secret and target_secret (*out a new object). */
int migtls_transport_new(const char *source_secret, const char *target_secret, json_t **out);

/* K from transport (a Migration's status.transport, outside input) for role
 * with the node's secret: 0 and key (SECRET_HEX_LEN hex digits); -ENOENT
 * when transport is NULL (no TLS); -EINVAL when it is malformed. */
int migtls_key_of(const json_t *transport, const char *role, const char *secret,
		  char key[SECRET_HEX_LEN + 1]);

/* The RFC 7919 ffdhe2048 group as PKCS#3 PEM (QEMU's dh-params.pem); *out
 * to free(). */
int migtls_dh_params_pem(char **out);

#endif
