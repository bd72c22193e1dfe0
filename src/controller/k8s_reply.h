/* SPDX-License-Identifier: MIT */
/* k8s_reply: the answers of the Kubernetes API: objects, Status errors, warnings (k8s.h). */
#ifndef GODWIT_CONTROLLER_K8S_REPLY_H
#define GODWIT_CONTROLLER_K8S_REPLY_H

#include "api_objects.h"

#include <jansson.h>
#include <microhttpd.h>

/* What a request's error names: the resource ("virtualmachines"), its kind, the object. */
struct k8s_target {
	const char *resource;
	const char *kind;
	const char *name;
};

/* The failure being built: code, reason ("Invalid"), message, causes; the warnings. */
struct k8s_status {
	int code;
	char reason[32];
	char message[512];
	json_t *causes;	  /* [{"type","field","message"}], or NULL */
	json_t *warnings; /* ["ignoring spec.x", ...], or NULL */
};

/* Answers body (taken) with status and the warnings of st (may be NULL). */
enum MHD_Result k8s_reply(struct MHD_Connection *conn, unsigned status, json_t *body,
			  const struct k8s_status *st);
/* Answers st as a Status object (kind Status, status Failure) about t. */
enum MHD_Result k8s_reply_status(struct MHD_Connection *conn, const struct k8s_status *st,
				 const struct k8s_target *t);
/* A Status with code and message (printf); reason from the code. */
enum MHD_Result k8s_reply_error(struct MHD_Connection *conn, int code, const struct k8s_target *t,
				const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A registry error (api_error; status 0: a store failure, 500) as a Status. */
enum MHD_Result k8s_reply_api_error(struct MHD_Connection *conn, const struct api_error *err,
				    const struct k8s_target *t, struct k8s_status *st);
/* The reason Kubernetes gives for an HTTP code ("NotFound", "AlreadyExists", ...). */
const char *k8s_reason(int code);
/* Adds a cause for field (godwit's path "a.0.b" written "a[0].b"). */
int k8s_status_cause(struct k8s_status *st, const char *field, const char *message);
void k8s_status_clear(struct k8s_status *st);

#endif
