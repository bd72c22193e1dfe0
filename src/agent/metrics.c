/* SPDX-License-Identifier: MIT */
#include "agent/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/log.h"
#include "lib/num.h"
#include "lib/phases.h"
#include "lib/promtext.h"

#define METRICS_TIMEOUT_S	10
#define METRICS_MAX_CONNECTIONS 16

struct agent_metrics {
	struct agent_metrics_config cfg;
	struct MHD_Daemon *daemon;
};

static const char *const counter_names[GW_CNT__MAX] = GW_COUNTER_NAMES;

static void write_counters(FILE *f, const uint64_t *c)
{
	static const char drop[] = "drop_";

	promtext_header(f, "godwit_agent_datapath_packets_total", "counter",
			"Frames this node's datapath counted, by counter (bpf/abi.h GW_COUNTERS; "
			"drops are apart, by reason).");
	for (int i = 0; i < GW_CNT__MAX; i++)
		if (strncmp(counter_names[i], drop, sizeof(drop) - 1) != 0)
			fprintf(f, "godwit_agent_datapath_packets_total{counter=\"%s\"} %llu\n",
				counter_names[i], (unsigned long long)c[i]);
	promtext_header(f, "godwit_agent_datapath_drops_total", "counter",
			"Frames this node's datapath dropped, by reason (bpf/abi.h GW_COUNTERS).");
	for (int i = 0; i < GW_CNT__MAX; i++)
		if (strncmp(counter_names[i], drop, sizeof(drop) - 1) == 0)
			fprintf(f, "godwit_agent_datapath_drops_total{reason=\"%s\"} %llu\n",
				counter_names[i] + sizeof(drop) - 1, (unsigned long long)c[i]);
}

static void write_ports(FILE *f, const json_t *ports)
{
	long long count[PORT_STATE_COUNT] = {0};
	enum port_state ps;
	const char *name, *state;
	json_t *p;

	json_object_foreach((json_t *)ports, name, p)
	{
		if (port_state_parse(json_string_value(json_object_get(p, "state")), &ps) == 0)
			count[ps]++;
	}
	promtext_header(
	    f, "godwit_agent_ports", "gauge",
	    "This node's ports in the datapath, by state (a port handing off is active).");
	for (int i = 0; i < PORT_STATE_COUNT; i++)
		fprintf(f, "godwit_agent_ports{state=\"%s\"} %lld\n",
			port_state_name((enum port_state)i), count[i]);
	promtext_header(f, "godwit_agent_port_state", "gauge",
			"1 for each of this node's ports, with its state and device.");
	json_object_foreach((json_t *)ports, name, p)
	{
		state = json_string_value(json_object_get(p, "state"));
		fprintf(f, "godwit_agent_port_state{port=\"%s\",state=\"%s\",ifindex=\"%lld\"} 1\n",
			name, state ? state : "unknown",
			(long long)json_integer_value(json_object_get(p, "ifindex")));
	}
}

static void write_vms(FILE *f, const json_t *vms)
{
	long long count[VM_STATE_COUNT] = {0};
	const char *name;
	enum vm_state s;
	json_t *v;

	json_object_foreach((json_t *)vms, name, v)
	{
		if (vm_state_parse(json_string_value(json_object_get(v, "phase")), &s) == 0)
			count[s]++;
	}
	promtext_header(f, "godwit_agent_vms", "gauge", "The VMs this node runs, by phase.");
	for (int i = 0; i < VM_STATE_COUNT; i++)
		fprintf(f, "godwit_agent_vms{phase=\"%s\"} %lld\n", vm_state_name((enum vm_state)i),
			count[i]);
	promtext_header(f, "godwit_agent_vm_guest_resets_total", "counter",
			"Resets of each VM's guest seen by this node's QEMU.");
	json_object_foreach((json_t *)vms, name, v)
	{
		const json_t *resets = json_object_get(v, "guest_resets");

		if (json_is_integer(resets))
			fprintf(f, "godwit_agent_vm_guest_resets_total{vm=\"%s\"} %lld\n", name,
				(long long)json_integer_value(resets));
	}
}

static void write_dhcp(FILE *f, const struct dhcp_stats *d)
{
	const struct {
		const char *what;
		uint64_t n;
	} rows[] = {{"received", d->received},
		    {"offer", d->offers},
		    {"ack", d->acks},
		    {"nak", d->naks},
		    {"ignored_mac", d->ignored_mac},
		    {"malformed", d->malformed},
		    {"no_answer", d->no_answer},
		    {"rate_limited", d->rate_limited},
		    {"oversized", d->oversized},
		    {"send_error", d->send_errors}};

	promtext_header(f, "godwit_agent_dhcp_messages_total", "counter",
			"DHCP messages of this node's server: received, answered (offer, ack, "
			"nak) and not answered, by why.");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(f, "godwit_agent_dhcp_messages_total{type=\"%s\"} %llu\n", rows[i].what,
			(unsigned long long)rows[i].n);
}

void agent_metrics_write(FILE *f, const uint64_t *counters, const json_t *report,
			 const struct dhcp_stats *dhcp)
{
	const json_t *applied = json_object_get(report, "applied_revision");

	if (counters)
		write_counters(f, counters);
	if (json_is_integer(applied)) {
		promtext_header(f, "godwit_agent_applied_revision", "gauge",
				"The store revision this node's datapath applied (last report).");
		fprintf(f, "godwit_agent_applied_revision %lld\n",
			(long long)json_integer_value(applied));
	}
	if (report) {
		write_ports(f, json_object_get(report, "ports"));
		write_vms(f, json_object_get(report, "vms"));
	}
	if (dhcp)
		write_dhcp(f, dhcp);
}

static int render(struct agent_metrics *m, char **text, size_t *len)
{
	uint64_t counters[GW_CNT__MAX];
	struct dhcp_stats dhcp;
	bool have_counters = false, have_dhcp = false;
	json_t *report = NULL;
	struct promtext p;
	int r;

	if (m->cfg.dp && datapath_read_counters(m->cfg.dp, counters) == 0)
		have_counters = true;
	if (m->cfg.last_report)
		report = m->cfg.last_report(m->cfg.ctx);
	if (m->cfg.dhcp_stats && m->cfg.dhcp_stats(m->cfg.ctx, &dhcp) == 0)
		have_dhcp = true;
	r = promtext_open(&p);
	if (r == 0)
		agent_metrics_write(p.f, have_counters ? counters : NULL, report,
				    have_dhcp ? &dhcp : NULL);
	json_decref(report);
	return r < 0 ? r : promtext_close(&p, 0, text, len);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *text, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static char not_found[] = "only GET /metrics here\n";
	struct agent_metrics *m = cls;
	char *text;
	size_t len;

	(void)version;
	(void)upload;
	if (!*con_cls) { /* headers only: answer when the request is whole */
		*con_cls = m;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* a body is read and ignored */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0 || strcmp(method, "GET") != 0)
		return reply(conn, 404, "text/plain", not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	if (render(m, &text, &len) < 0)
		return MHD_NO;
	return reply(conn, 200, PROMTEXT_CONTENT_TYPE, text, len, MHD_RESPMEM_MUST_FREE);
}

/* "IPV4:PORT" into sa; -EINVAL otherwise. */
static int parse_listen(const char *text, struct sockaddr_in *sa)
{
	uint16_t port;
	uint32_t ip;

	if (addr_ipv4_port_parse(text, &ip, &port) < 0)
		return -EINVAL;
	*sa = (struct sockaddr_in){
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	return 0;
}

int agent_metrics_start(const struct agent_metrics_config *cfg, struct agent_metrics **out)
{
	struct agent_metrics *m;
	struct sockaddr_in sa;
	int r;

	r = parse_listen(cfg->listen, &sa);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->daemon =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     on_request, m, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT,
			     (unsigned)METRICS_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)METRICS_TIMEOUT_S, MHD_OPTION_EXTERNAL_LOGGER, log_library,
			     "libmicrohttpd", MHD_OPTION_END);
	if (!m->daemon) {
		free(m);
		return -EADDRNOTAVAIL;
	}
	*out = m;
	return 0;
}

void agent_metrics_stop(struct agent_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->daemon);
	free(m);
}
