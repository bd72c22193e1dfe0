/* SPDX-License-Identifier: MIT */
/*
 * netns: running `ip` (and other commands) for the lab and checking it. The
 * process, namespace and file tree helpers the lab uses are lib/proc.h.
 */
#ifndef GODWIT_LAB_NETNS_H
#define GODWIT_LAB_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/proc.h"

/* Runs argv (NULL-terminated, argv[0] looked up in PATH) and waits. 0 on exit 0;
 * otherwise prints "command failed: ARGV... (exit N)" unless quiet and returns -EIO. */
int run_cmd(const char *const *argv, bool quiet);
/* Like run_cmd, with the command's stdout captured into *out (malloc'd). */
int run_capture(const char *const *argv, char **out);

#endif
