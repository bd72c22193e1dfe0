/* SPDX-License-Identifier: MIT */
/* The API bearer token: read from a file, created there (0600) if absent. */
#ifndef GODWIT_CONTROLLER_TOKEN_H
#define GODWIT_CONTROLLER_TOKEN_H

#define TOKEN_BYTES 32

/* *token is a malloc'ed string (64 hex chars for a created token). */
int token_load_or_create(const char *path, char **token);

#endif
