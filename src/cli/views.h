/* SPDX-License-Identifier: MIT */
/* views: API objects -> tables (`get`), detail pages (`describe`), JSON/YAML dumps. */
#ifndef GODWIT_CLI_VIEWS_H
#define GODWIT_CLI_VIEWS_H

#include "manifest.h"
#include "table.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * Builds the `get` table of items (an array of objects of kind k). ports is
 * the list of all ports (to count PORTS per network), may be NULL.
 */
int view_table(const struct kind_info *k, const json_t *items, const json_t *ports, bool wide,
	       struct table *out);

/* view_table() printed to f; 0, or what view_table() returned (nothing printed). */
int view_print_table(const struct kind_info *k, const json_t *items, const json_t *ports, bool wide,
		     FILE *f);

/* "rx=N fwd=N flood=N drops=N" from a node's status.counters. */
void view_counters_summary(const json_t *counters, char *buf, size_t len);

/* Multi-line human view of one object; related = ports of a network (may be NULL). */
void view_describe(const struct kind_info *k, const json_t *obj, const json_t *related, FILE *f);

/* -o json / -o yaml: a single object, or a list (YAML: `---`-separated documents). */
/* "Gateway node:" of a network with spec.gatewayNode: ready, not ready or
 * missing (node NULL: GET /v1/nodes/NAME answered 404). */
void view_gateway_node(const json_t *net, const json_t *node, FILE *f);

/* A list reply {"revision", "items"} as kubectl prints one: {"kind": "List", "items": [...]}. */
json_t *view_list(const json_t *reply);

int view_dump(const json_t *v, bool is_list, bool yaml, FILE *f);

#endif
