/* SPDX-License-Identifier: MIT */
/*
 * lab: a whole fabric on one machine.
 *
 * Layout of lab LAB (N nodes):
 *   netns LAB-ul        bridge br0 10.254.0.1/24: the underlay; godwitd listens
 *                       on https://10.254.0.1:7480 (TLS, the lab's CA) and on
 *                       unix:LABDIR/api.sock (plain HTTP)
 *   netns LAB-node-I    ul0 10.254.0.(10+I)/24, veth peer n<I> on br0; godwit-agent
 *   netns LAB-ep-NAME   endpoints (`godwit endpoint add`)
 *   LABDIR = /run/godwit/labs/LAB: lab.json (nodes, daemons and their PIDs),
 *   <daemon>.log, godwit.db, token, config, tls/ (godwitd's CA and certificate,
 *   controller/tls.h) and ca.crt (its copy that the agents verify the controller
 *   with); pins in /sys/fs/bpf/godwit/LAB-node-I.
 * The CLI in the root namespace reaches the controller through api.sock.
 * `lab down` removes all of it and works on half-built labs: lab.json is
 * rewritten after every daemon start, and namespaces are found by name.
 *
 * The lab wing (lab_core): lab.c (name, directory, lab.json, which
 * namespaces are the lab's), lab_up.c, lab_down.c, lab_status.c (status,
 * list), netns.c (running `ip`), endpoint.c (endpoint.h), and the verbs in
 * cmd_lab.c and cmd_endpoint.c (lab_verbs.h). lab_up calls lab_down to undo a
 * half-built lab; neither calls back, and nothing here calls the demo.
 */
#ifndef GODWIT_LAB_LAB_H
#define GODWIT_LAB_LAB_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#define LAB_ROOT      "/run/godwit/labs"
#define LAB_PIN_ROOT  "/sys/fs/bpf/godwit"
#define LAB_NAME_MAX  12
#define LAB_NODES_MAX 16
#define LAB_API_PORT  7480
#define LAB_API_ADDR  "10.254.0.1:7480"
#define LAB_API_URL   "https://" LAB_API_ADDR
#define LAB_CA_FILE   "ca.crt" /* in LABDIR, copied from LABDIR/tls/ca.crt */

/* In LABDIR: kubectl's kubeconfig, server LAB_API_URL (lab_up.c). */
#define LAB_KUBECONFIG_FILE "kubeconfig"

/* The lab's outside world (lab_outside.c): <lab>-outside, a stand-in for the
 * Internet behind the gateway node's uplink, on TEST-NET-3 (RFC 5737). */
#define LAB_OUTSIDE	       "outside"
#define LAB_GATEWAY_NODE       "node-1"
#define LAB_UPLINK_IFNAME      "uplink0" /* in the gateway node's namespace */
#define LAB_AGENT_METRICS_PORT 7482 /* each agent's --metrics-listen, on its underlay address */
#define LAB_UPLINK_ADDR	       "203.0.113.1"
#define LAB_OUTSIDE_HOST       "203.0.113.8"
#define LAB_OUTSIDE_ECHO       "7" /* TCP echo port of the outside host */

struct lab {
	char name[LAB_NAME_MAX + 1];
	char dir[PATH_MAX];
	int nodes;
	json_t *state; /* lab.json: {"name", "nodes", "daemons": [{"name","pid","exe"}]} */
};

/* 0 when name is [a-z0-9-]{1,12}; else -EINVAL with a message printed. */
int lab_check_name(const char *name);
int lab_init(struct lab *lab, const char *name);
void lab_free(struct lab *lab);
/* Loads LABDIR/lab.json into lab->state (missing -> -ENOENT). */
int lab_load_state(struct lab *lab);
int lab_save_state(const struct lab *lab);
int lab_record_daemon(struct lab *lab, const char *name, pid_t pid, const char *exe);

/* "unix:LABDIR/api.sock" etc. into buf. */
void lab_path(const struct lab *lab, const char *file, char *buf, size_t len);

/* Whether netns belongs to lab (LAB-ul, LAB-node-<n>, LAB-ep-*, not another lab's). */
bool lab_owns_netns(const char *lab, const char *netns);

/* lab_outside.c: the outside namespace and its veth to the gateway node;
 * the lab's network "default" routed out through the gateway node. */
int lab_outside_build(const struct lab *lab);
struct api_client;
int lab_outside_route_default(struct api_client *api);

struct lab_up_options {
	int nodes;
	bool migration_tls; /* godwitd --migration-tls: VM migrations under TLS */
};
int lab_up(const char *name, const struct lab_up_options *opts);
int lab_down(const char *name, bool quiet);
int lab_status(const char *name);
int lab_list(void);

/* Path of the user's config file (GODWIT_CONFIG or ~/.godwit/config). */
char *lab_user_config_path(void);

#endif
