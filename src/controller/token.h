/* SPDX-License-Identifier: MIT */
/* The admin token (auth.h): read from a file, created there (0600) if absent. */
#ifndef GODWIT_CONTROLLER_TOKEN_H
#define GODWIT_CONTROLLER_TOKEN_H

/* *token is a malloc'ed string (SECRET_HEX_LEN hex digits for a created token). */
int token_load_or_create(const char *path, char **token);

#endif
