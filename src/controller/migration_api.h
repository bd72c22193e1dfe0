/* SPDX-License-Identifier: MIT */
/*
 * migration_api: a Migration's operations beyond create and delete (which
 * are its row of the kind table, kind_migration.c): the actions and the
 * evaluation that migrator.c runs (docs/MIGRATION.md), each one store
 * transaction (kind.h). Every change of a migration's phase is written
 * together with the port's spec in the same transaction.
 * Errors as in registry.h.
 */
#ifndef GODWIT_CONTROLLER_MIGRATION_API_H
#define GODWIT_CONTROLLER_MIGRATION_API_H

#include "migration.h"
#include "registry.h"

#include <stdbool.h>
#include <stdint.h>

/* action: abort, running, complete, fail (body {"reason": "..."}); body may be NULL. */
int migration_action(struct registry *reg, const char *name, const char *action, const json_t *body,
		     json_t **out, struct api_error *err);

/*
 * Evaluates migration name now in one transaction, committed only when
 * something changed. *from and *to tell the phases before and after.
 */
int migration_advance(struct registry *reg, const char *name, enum migration_phase *from,
		      enum migration_phase *to);

#endif
