/* SPDX-License-Identifier: MIT */
/*
 * statedir: godwitd's state directory. One godwitd at a time uses it (an
 * advisory lock on DIR/godwitd.lock, holding the owner's pid: a second
 * godwitd exits naming it; the kernel drops the lock when the owner dies, so
 * a SIGKILLed godwitd leaves nothing to clean up). The admin commands on its
 * store file live here too: `godwitd backup` (while godwitd runs) and
 * `godwitd restore` (while it does not: it takes the same lock).
 */
#ifndef GODWIT_CONTROLLER_STATEDIR_H
#define GODWIT_CONTROLLER_STATEDIR_H

#include <stdbool.h>

/* Takes the lock of dir (created 0700 if absent); *fd keeps it until exit.
 * -EBUSY (logged with the owner's pid) when another godwitd holds it. */
int statedir_lock(const char *dir, int *fd);

/* Whether argv[1] names an admin command. */
bool statedir_is_command(int argc, char **argv);
/* Runs `godwitd backup|restore ...`; returns the exit status. */
int statedir_command(int argc, char **argv);

#endif
