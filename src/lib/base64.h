/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648, standard alphabet, padded) for cloud-init user data
 * (the CLI and the controller validate it, the agent encodes text) and for
 * the keys and values of etcd's JSON gateway (controller/etcd.h). */
#ifndef GODWIT_LIB_BASE64_H
#define GODWIT_LIB_BASE64_H

#include <stdbool.h>

/* s is padded base64: a multiple of 4 characters of A-Z a-z 0-9 + /, with at
 * most two '=' and only at the end. The empty string is valid. */
bool base64_valid(const char *s);

/* s encoded, newly allocated; NULL when out of memory. */
char *base64_encode(const char *s);

/* The text s encodes, newly allocated and NUL-terminated, into *out:
 * -EINVAL when s is not valid base64 or encodes a NUL byte (only text is
 * decoded), -ENOMEM. *out is untouched on failure. */
int base64_decode(const char *s, char **out);

#endif
