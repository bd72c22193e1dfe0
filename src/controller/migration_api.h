/* SPDX-License-Identifier: MIT */
/*
 * migration_api: the Migration kind's operations (docs/MIGRATION.md), each
 * one store transaction: create (validated against the port, the nodes and
 * the other migrations), delete (finished ones only), the actions, and the
 * evaluation that migrator.c runs. Every change of a migration's phase is
 * written together with the port's spec in the same transaction.
 * Errors as in registry.h.
 */
#ifndef GODWIT_CONTROLLER_MIGRATION_API_H
#define GODWIT_CONTROLLER_MIGRATION_API_H

#include "migration.h"
#include "registry.h"

#include <stdbool.h>
#include <stdint.h>

int migration_create(struct registry *reg, const json_t *body, json_t **out, struct api_error *err);
int migration_delete(struct registry *reg, const char *name, json_t **out, struct api_error *err);
/* action: abort, running, complete, fail (body {"reason": "..."}); body may be NULL. */
int migration_action(struct registry *reg, const char *name, const char *action, const json_t *body,
		     json_t **out, struct api_error *err);

/*
 * Evaluates migration name now in one transaction, committed only when
 * something changed. *from and *to tell the phases before and after.
 */
int migration_advance(struct registry *reg, const char *name, enum migration_phase *from,
		      enum migration_phase *to);

/* The nodes with their status reports and ages, as migration_decide() takes
 * them (registry_node_status_get). */
int migration_nodes(struct registry *reg, json_t **out);

#endif
