/* SPDX-License-Identifier: MIT */
/*
 * k8s_watch: ?watch=true on a kubevirt.io/v1 collection: one
 * {"type": "ADDED|MODIFIED|DELETED", "object": VIEW} line per change (k8s.h).
 *
 * A view mixes stored fields and fields derived at read time (a VM's phase
 * follows its node's report, which is no store event), so the stream does
 * not translate store events: at every commit (the watch hub wakes it) and
 * at least once a second it lists the resource and sends what differs from
 * the views it sent last. Without resourceVersion (or "0") every object is
 * first sent as ADDED; with one (kubectl get -w passes its list's) only what
 * changes after the call. A newline every few seconds of quiet keeps the
 * connection from the idle timeout (JSON streams ignore blank space);
 * timeoutSeconds ends the stream.
 */
#ifndef GODWIT_CONTROLLER_K8S_WATCH_H
#define GODWIT_CONTROLLER_K8S_WATCH_H

#include "http.h"
#include "k8s_view.h"

#include <microhttpd.h>

#define K8S_WATCH_POLL_MS      1000
#define K8S_WATCH_KEEPALIVE_MS 5000

enum MHD_Result k8s_watch_serve(const struct http_context *ctx, struct MHD_Connection *conn,
				const struct k8s_resource *res);

/*
 * The lines that turn the views sent (name -> view) into those of list (a
 * registry list); sent updated. table: each object a Table of one row. *buf is malloc'd (*len
 * bytes; none: NULL).
 */
int k8s_watch_diff(const struct k8s_resource *res, json_t *sent, const json_t *list, bool emit,
		   bool table, char **buf, size_t *len);

#endif
