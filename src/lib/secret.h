/* SPDX-License-Identifier: MIT */
/*
 * secret: the bearer secrets of godwit (docs/API.md, "Identities"): random
 * tokens, their SHA-256 (what the controller stores: a copy of the store
 * gives nobody a credential), a comparison that takes the same time
 * whatever matches, and reading or writing one from a file (tokens are never
 * on a command line: files or the environment only).
 */
#ifndef GODWIT_LIB_SECRET_H
#define GODWIT_LIB_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_BYTES   32		  /* random bytes of a token */
#define SECRET_HEX_LEN (SECRET_BYTES * 2) /* its text: lower-case hex */
#define SECRET_MAX     256		  /* the longest token read from a file */

/* out: SECRET_HEX_LEN + 1 bytes, a new random token (getrandom). */
int secret_random(char out[SECRET_HEX_LEN + 1]);

/* out: the SHA-256 of text in lower-case hex (SECRET_HEX_LEN + 1 bytes). */
int secret_hash(const char *text, char out[SECRET_HEX_LEN + 1]);

/*
 * A secret for one holder of key (a node's stream secret): in_hex (a random
 * secret, SECRET_HEX_LEN lower-case hex digits) XOR the HMAC-SHA256 of
 * context under key, as hex into out. The same call with the result gives
 * in_hex back, so the controller wraps a migration's key once per node and
 * each node unwraps its copy; context must be unique per wrapped secret
 * (e.g. the role and a random nonce), never reused. -EINVAL when in_hex is
 * not such a secret (out untouched).
 */
int secret_wrap(const char *key, const char *context, const char *in_hex,
		char out[SECRET_HEX_LEN + 1]);

/* Whether given equals want, in a time that depends on their lengths only. */
bool secret_equal(const char *given, const char *want);

/*
 * The token in the file at path (surrounding blanks and newlines cut):
 * -ENODATA when it is empty, -E2BIG beyond SECRET_MAX, -EINVAL when it holds
 * a space or a control character inside; *out malloc'ed.
 */
int secret_read_file(const char *path, char **out);

/* Writes text and a newline to path, mode 0600 (replacing it atomically). */
int secret_write_file(const char *path, const char *text);

#endif
