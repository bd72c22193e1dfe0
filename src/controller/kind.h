/* SPDX-License-Identifier: MIT */
/*
 * kind: the controller's kinds as a table, one row per kind.
 */
#ifndef GODWIT_CONTROLLER_KIND_H
#define GODWIT_CONTROLLER_KIND_H

#include "api_objects.h"

struct kind_ops {
	enum kind kind;
	/* The spec rules (api_objects.h): 400s, every default filled in. */
	api_spec_fn *validate;
};

/* The rows, each in its kind_<kind>.c. */
extern const struct kind_ops kind_network, kind_port, kind_node, kind_migration, kind_vm;

/* Indexed by enum kind (kind_table.c). */
extern const struct kind_ops *const kind_ops_table[KIND__COUNT];

#endif
