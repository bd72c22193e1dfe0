/* SPDX-License-Identifier: MIT */
/*
 * The kind table (kind.h): the only file that names every row, so that the
 * core (txn.c) and the kind files never refer to each other's symbols.
 * tests/unit/controller/test_kind.c checks every row sits at its kind.
 */
#include "kind.h"

const struct kind_ops *const kind_ops_table[KIND__COUNT] = {
    [KIND_NETWORK] = &kind_network,	[KIND_PORT] = &kind_port, [KIND_NODE] = &kind_node,
    [KIND_MIGRATION] = &kind_migration, [KIND_VM] = &kind_vm,	  [KIND_EVENT] = &kind_event,
};

int api_object_validate(enum kind kind, const json_t *in, const char *path_name, json_t **out,
			struct api_error *err)
{
	return api_object_decode(kind, kind_ops_table[kind]->validate, in, path_name, out, err);
}
