/* SPDX-License-Identifier: MIT */
/*
 * k8s_table: server-side printing (meta.k8s.io/v1 Table), asked for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: the columns
 * KubeVirt's kubectl output has (NAME, AGE, then the resource's own:
 * vm STATUS READY; vmi PHASE IP NODENAME READY; vmim PHASE VMI).
 */
#ifndef GODWIT_CONTROLLER_K8S_TABLE_H
#define GODWIT_CONTROLLER_K8S_TABLE_H

#include "k8s_view.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

/* Whether the client asks for a Table. */
bool k8s_table_wanted(struct MHD_Connection *conn);

/* A Table of views (an array; borrowed); now_unix: for the AGE column. */
json_t *k8s_table(const struct k8s_resource *res, const json_t *views, const char *rv,
		  int64_t now_unix);

/* "5s", "3m20s", "2h", "4d" (Kubernetes' HumanDuration) for seconds. */
void k8s_human_age(int64_t seconds, char *buf, size_t len);

#endif
