/* SPDX-License-Identifier: MIT */
#include "agent/heartbeat.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/apiclient.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/worker.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000

struct heartbeat {
	struct worker worker; /* a kick: report at once */
	pthread_mutex_t lock;
	struct port_ref *refs; /* under lock */
	size_t n_refs;
	struct port_activation *acts; /* under lock; one per ifindex */
	size_t n_acts;
	_Atomic uint64_t applied;
	json_t *last; /* under lock: the last full report built */
	struct heartbeat_config cfg;
	char path_node[128];
	char path_status[160];
	struct api_client *client;
};

static const char *const counter_names[GW_CNT__MAX] = GW_COUNTER_NAMES;

json_t *heartbeat_node_body(const char *node, const char *underlay_ip)
{
	return kind_object_new(KIND_NODE, node, json_pack("{s:s}", "underlay_ip", underlay_ip));
}

json_t *heartbeat_status_body(uint64_t applied, const uint64_t counters[GW_CNT__MAX], json_t *ports)
{
	json_t *body = json_pack("{s:I, s:{}, s:o}", "applied_revision", (json_int_t)applied,
				 "counters", "ports", ports ? ports : json_object());
	json_t *c = json_object_get(body, "counters");

	for (int i = 0; body && counters && i < GW_CNT__MAX; i++)
		json_object_set_new(c, counter_names[i], json_integer((json_int_t)counters[i]));
	if (body && counters)
		json_object_set_new(body, "drops_standby",
				    json_integer((json_int_t)counters[GW_CNT_DROP_STANDBY]));
	return body;
}

json_t *heartbeat_basic_body(uint64_t applied, const uint64_t counters[GW_CNT__MAX])
{
	json_t *body = heartbeat_status_body(applied, counters, NULL);

	json_object_del(body, "ports");
	json_object_del(body, "drops_standby");
	return body;
}

static int lookup_port(uint32_t ifindex, struct gw_port *out, void *ctx)
{
	const struct datapath *dp = ctx;

	if (!dp)
		return -ENOENT;
	return bpf_map_lookup_elem(datapath_map_fd(dp, DP_MAP_PORTS), &ifindex, out) < 0 ? -errno
											 : 0;
}

/* The "ports" object from the current refs/activations; clears the kick. */
static json_t *ports_body(struct heartbeat *hb)
{
	uint64_t mono, real;
	json_t *ports;

	port_clocks_now(&mono, &real);
	worker_take_kick(&hb->worker); /* this report has what the kick was for */
	pthread_mutex_lock(&hb->lock);
	ports = port_report_json(hb->refs, hb->n_refs, lookup_port, (void *)hb->cfg.dp, hb->acts,
				 hb->n_acts, mono, real);
	pthread_mutex_unlock(&hb->lock);
	return ports;
}

/* The full report: counters, ports and, with a vm module, "vms" (docs/VM.md). */
static json_t *status_body(struct heartbeat *hb, uint64_t applied, const uint64_t *counters)
{
	json_t *body = heartbeat_status_body(applied, counters, ports_body(hb));
	json_t *vms;

	if (body && hb->cfg.vms_report) {
		vms = hb->cfg.vms_report(hb->cfg.vms_ctx);
		if (vms && json_object_set_new(body, "vms", vms) < 0)
			log_debug("out of memory: no \"vms\" in this report");
	}
	return body;
}

/* Keeps a reference to body as the last report (heartbeat_last_report). */
static json_t *keep_last(struct heartbeat *hb, json_t *body)
{
	pthread_mutex_lock(&hb->lock);
	json_decref(hb->last);
	hb->last = json_incref(body);
	pthread_mutex_unlock(&hb->lock);
	return body;
}

json_t *heartbeat_last_report(struct heartbeat *hb)
{
	json_t *last;

	pthread_mutex_lock(&hb->lock);
	last = json_incref(hb->last);
	pthread_mutex_unlock(&hb->lock);
	return last;
}

/* PUT path body; returns the HTTP status or -errno. */
static long put(struct heartbeat *hb, const char *path, json_t *body, json_t **reply)
{
	long status;
	int r;

	if (!body)
		return -ENOMEM;
	r = api_request(hb->client, "PUT", path, body, &status, reply);
	json_decref(body);
	return r < 0 ? r : status;
}

static void heartbeat_main(struct worker *w, void *data)
{
	struct heartbeat *hb = data;
	uint64_t counters[GW_CNT__MAX];
	bool registered = false, logged = false, basic_only_logged = false;
	uint64_t applied;
	long backoff = BACKOFF_MIN_MS, st;
	json_t *reply;

	for (;;) {
		reply = NULL;
		if (!registered) {
			st = put(hb, hb->path_node,
				 heartbeat_node_body(hb->cfg.node, hb->cfg.underlay_ip), &reply);
			if (st == 200 || st == 201) {
				log_info("registered node %s (underlay %s)", hb->cfg.node,
					 hb->cfg.underlay_ip);
				registered = true;
				logged = false;
				backoff = BACKOFF_MIN_MS;
			} else if (!logged) {
				if (st < 0)
					log_warn("cannot reach the controller %s to register: "
						 "%s; retrying",
						 hb->cfg.server, api_client_error(hb->client));
				else
					log_error("registering node %s: HTTP %ld: %s; retrying",
						  hb->cfg.node, st, api_error_text(reply));
				logged = true;
			}
			json_decref(reply);
			if (!registered) {
				if (worker_sleep(w, backoff, false))
					break;
				backoff =
				    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			reply = NULL;
		}
		memset(counters, 0, sizeof(counters));
		if (hb->cfg.dp && datapath_read_counters(hb->cfg.dp, counters) < 0)
			log_debug("cannot read the datapath counters");
		applied = atomic_load(&hb->applied);
		st = put(hb, hb->path_status, keep_last(hb, status_body(hb, applied, counters)),
			 &reply);
		if (st == 400) {
			/* A controller older than docs/MIGRATION.md refuses the
			 * "ports" fields: it still gets the basic report. */
			if (!basic_only_logged)
				log_warn("the controller refuses the port report (%s); sending "
					 "applied_revision and counters only",
					 api_error_text(reply));
			basic_only_logged = true;
			json_decref(reply);
			reply = NULL;
			st = put(hb, hb->path_status, heartbeat_basic_body(applied, counters),
				 &reply);
		}
		if (st == 404) {
			log_warn("node %s is unknown to the controller; registering again",
				 hb->cfg.node);
			registered = false;
		} else if (st < 0 && !logged) {
			log_warn("heartbeat to %s failed: %s; retrying", hb->cfg.server,
				 api_client_error(hb->client));
			logged = true;
		} else if (st >= 0 && st != 200 && !logged) {
			log_warn("heartbeat: HTTP %ld: %s", st, api_error_text(reply));
			logged = true;
		} else if (st == 200) {
			logged = false;
		}
		json_decref(reply);
		if (worker_sleep(w, registered ? HEARTBEAT_INTERVAL_MS : BACKOFF_MIN_MS,
				 registered))
			break;
	}
}

static void heartbeat_free(struct heartbeat *hb)
{
	api_client_free(hb->client);
	free(hb->refs);
	free(hb->acts);
	json_decref(hb->last);
	pthread_mutex_destroy(&hb->lock);
	free(hb);
}

int heartbeat_start(const struct heartbeat_config *cfg, struct heartbeat **out)
{
	struct heartbeat *hb = calloc(1, sizeof(*hb));
	int r;

	if (!hb)
		return -ENOMEM;
	pthread_mutex_init(&hb->lock, NULL);
	hb->cfg = *cfg;
	snprintf(hb->path_node, sizeof(hb->path_node), "/v1/nodes/%s", cfg->node);
	snprintf(hb->path_status, sizeof(hb->path_status), "/v1/nodes/%s/status", cfg->node);
	r = api_client_new(cfg->server, cfg->token, cfg->ca_file, &hb->client);
	if (r == 0) {
		/* A heartbeat is late after 3 intervals: don't wait longer than one. */
		api_client_set_timeout_ms(hb->client, HEARTBEAT_INTERVAL_MS);
		r = worker_start(&hb->worker, heartbeat_main, hb);
	}
	if (r < 0) {
		heartbeat_free(hb);
		return r;
	}
	*out = hb;
	return 0;
}

void heartbeat_stop(struct heartbeat *hb)
{
	if (!hb)
		return;
	worker_stop(&hb->worker);
	heartbeat_free(hb);
}

void heartbeat_kick(struct heartbeat *hb)
{
	worker_kick(&hb->worker);
}

void heartbeat_set_applied(struct heartbeat *hb, uint64_t revision)
{
	if (atomic_exchange(&hb->applied, revision) != revision)
		heartbeat_kick(hb);
}

static bool has_ref(const struct heartbeat *hb, uint32_t ifindex)
{
	for (size_t i = 0; i < hb->n_refs; i++)
		if (hb->refs[i].ifindex == ifindex)
			return true;
	return false;
}

int heartbeat_set_ports(struct heartbeat *hb, const struct port_ref *refs, size_t n)
{
	struct port_ref *copy = NULL;
	size_t j = 0;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, refs, n * sizeof(*copy));
	}
	pthread_mutex_lock(&hb->lock);
	free(hb->refs);
	hb->refs = copy;
	hb->n_refs = n;
	/* Activations of devices that are gone are forgotten. */
	for (size_t i = 0; i < hb->n_acts; i++)
		if (has_ref(hb, hb->acts[i].ifindex))
			hb->acts[j++] = hb->acts[i];
	hb->n_acts = j;
	pthread_mutex_unlock(&hb->lock);
	return 0;
}

void heartbeat_note_activation(struct heartbeat *hb, const struct port_activation *act)
{
	struct port_activation *p;
	size_t i;

	pthread_mutex_lock(&hb->lock);
	for (i = 0; i < hb->n_acts && hb->acts[i].ifindex != act->ifindex; i++)
		;
	if (i == hb->n_acts) {
		p = realloc(hb->acts, (hb->n_acts + 1) * sizeof(*p));
		if (p) {
			hb->acts = p;
			hb->n_acts++;
		}
	}
	if (i < hb->n_acts)
		hb->acts[i] = *act;
	pthread_mutex_unlock(&hb->lock);
	worker_kick(&hb->worker); /* after the data: the report reads it */
}
