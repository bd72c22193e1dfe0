/* SPDX-License-Identifier: MIT */
#include "views.h"
#include "lib/clock.h"

#include "yamljson.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Any scalar as text into buf; "" when absent. */
static const char *scalar(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		buf[0] = '\0';
	return buf;
}

static void join_strings(const json_t *arr, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		int n;

		if (!json_is_string(v))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", json_string_value(v));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
}

void view_counters_summary(const json_t *counters, char *buf, size_t len)
{
	json_int_t rx = 0, fwd = 0, flood = 0, drops = 0;
	const char *key;
	json_t *v;

	if (!json_is_object(counters)) {
		buf[0] = '\0';
		return;
	}
	json_object_foreach((json_t *)counters, key, v)
	{
		json_int_t n = json_integer_value(v);

		if (strncmp(key, "rx_", 3) == 0)
			rx += n;
		else if (strncmp(key, "fwd_", 4) == 0)
			fwd += n;
		else if (strcmp(key, "flood") == 0)
			flood += n;
		else if (strncmp(key, "drop_", 5) == 0)
			drops += n;
	}
	snprintf(buf, len,
		 "rx=%" JSON_INTEGER_FORMAT " fwd=%" JSON_INTEGER_FORMAT
		 " flood=%" JSON_INTEGER_FORMAT " drops=%" JSON_INTEGER_FORMAT,
		 rx, fwd, flood, drops);
}

static int network_row(const json_t *o, const json_t *ports, bool wide, struct table *t)
{
	const json_t *spec = json_object_get(o, "spec");
	const char *name = obj_name(o);
	char vni[32], nports[32], dhcp[8], rev[32];
	size_t i, count = 0;
	json_t *p;

	json_array_foreach(ports, i, p)
	{
		const char *net = str(json_object_get(p, "spec"), "network");

		if (net && name && strcmp(net, name) == 0)
			count++;
	}
	if (ports)
		snprintf(nports, sizeof(nports), "%zu", count);
	else
		snprintf(nports, sizeof(nports), "?");
	snprintf(dhcp, sizeof(dhcp), "%s",
		 json_is_true(json_object_get(spec, "dhcp")) ? "true" : "false");
	const char *row[] = {
	    name,
	    scalar(json_object_get(spec, "vni"), vni, sizeof(vni)),
	    str(spec, "cidr"),
	    str(spec, "gateway"),
	    dhcp,
	    nports,
	    scalar(json_object_get(json_object_get(o, "metadata"), "revision"), rev, sizeof(rev)),
	    str(spec, "gatewayNode") ?: "-",
	};
	(void)wide; /* the table prints the columns it has */
	return table_add_row(t, row);
}

static const char *port_state(const json_t *status, char *buf, size_t len)
{
	const char *key;
	json_t *v;
	size_t off = 0;

	if (str(status, "state"))
		return str(status, "state");
	/* a per-location map {"node-1": {"state": "active"}} or {"node-1": "active"} */
	buf[0] = '\0';
	json_object_foreach((json_t *)status, key, v)
	{
		const char *s = json_is_string(v) ? json_string_value(v) : str(v, "state");
		int n;

		if (!s)
			continue;
		n = snprintf(buf + off, len - off, "%s%s=%s", off ? "," : "", key, s);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
	return buf;
}

static int port_row(const json_t *o, bool wide, struct table *t)
{
	const json_t *spec = json_object_get(o, "spec");
	char nodes[256], state[256];

	join_strings(json_object_get(spec, "locations"), nodes, sizeof(nodes));
	const char *row[] = {
	    obj_name(o),
	    str(spec, "network"),
	    str(spec, "ipv4"),
	    str(spec, "mac"),
	    nodes,
	    str(spec, "type") ?: "veth",
	    str(spec, "netns"),
	    str(spec, "ifname"),
	    port_state(json_object_get(o, "status"), state, sizeof(state)),
	};
	(void)wide;
	return table_add_row(t, row);
}

static int node_row(const json_t *o, bool wide, struct table *t)
{
	const json_t *status = json_object_get(o, "status");
	char applied[32], counters[160];

	view_counters_summary(json_object_get(status, "counters"), counters, sizeof(counters));
	const char *row[] = {
	    obj_name(o),
	    obj_spec_str(o, "underlay_ip"),
	    json_is_true(json_object_get(status, "ready")) ? "True" : "False",
	    scalar(json_object_get(status, "applied_revision"), applied, sizeof(applied)),
	    counters,
	};
	(void)wide;
	return table_add_row(t, row);
}

static int migration_row(const json_t *o, bool wide, struct table *t)
{
	const json_t *spec = json_object_get(o, "spec");
	const json_t *status = json_object_get(o, "status");
	const json_t *phases = json_object_get(status, "phases");
	char total[32] = "-";
	long long t0, t1;

	if (json_array_size(phases) > 1) {
		t0 = json_integer_value(json_object_get(json_array_get(phases, 0), "unix_ms"));
		t1 = json_integer_value(json_object_get(
		    json_array_get(phases, json_array_size(phases) - 1), "unix_ms"));
		snprintf(total, sizeof(total), "%lld ms", t1 - t0);
	}
	const char *row[] = {
	    obj_name(o),
	    str(spec, "port") ?: str(spec, "vm"),
	    str(status, "source") ?: "-",
	    str(spec, "target") ?: "-",
	    str(status, "phase") ?: "-",
	    total,
	    str(status, "reason") ?: "",
	};
	(void)wide;
	return table_add_row(t, row);
}

static int vm_row(const json_t *o, bool wide, struct table *t)
{
	const json_t *spec = json_object_get(o, "spec");
	const json_t *status = json_object_get(o, "status");
	const json_t *mem = json_object_get(status, "memory_mib");
	char memory[32];

	if (!mem)
		mem = json_object_get(spec, "memory_mib");
	if (json_is_integer(mem))
		snprintf(memory, sizeof(memory), "%" JSON_INTEGER_FORMAT "Mi",
			 json_integer_value(mem));
	else
		snprintf(memory, sizeof(memory), "-");
	const char *row[] = {
	    obj_name(o),
	    str(status, "phase") ?: "-",
	    str(spec, "node") ?: "-",
	    str(status, "ipv4") ?: "-",
	    memory,
	    json_is_true(json_object_get(spec, "migratable")) ? "true" : "false",
	    str(spec, "image") ?: "-",
	};
	(void)wide;
	return table_add_row(t, row);
}

/* "45s", "12m", "3h", "2d" since unix_ms, as kubectl prints an age. */
static void age_of(json_int_t unix_ms, char *buf, size_t len)
{
	long long s = (clock_unix_ms() - unix_ms) / 1000;

	if (unix_ms <= 0)
		snprintf(buf, len, "-");
	else if (s < 120)
		snprintf(buf, len, "%llds", s < 0 ? 0 : s);
	else if (s < 7200)
		snprintf(buf, len, "%lldm", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%lldh", s / 3600);
	else
		snprintf(buf, len, "%lldd", s / 86400);
}

static int event_row(const json_t *o, bool wide, struct table *t)
{
	const json_t *spec = json_object_get(o, "spec"), *obj = json_object_get(spec, "object");
	const struct kind_info *ki = kind_lookup(str(obj, "kind"));
	char age[16], object[96];

	age_of(json_integer_value(json_object_get(spec, "time_ms")), age, sizeof(age));
	snprintf(object, sizeof(object), "%s/%s", ki ? ki->singular : "?",
		 str(obj, "name") ? str(obj, "name") : "?");
	const char *row[] = {
	    age,
	    str(spec, "type") ? str(spec, "type") : "-",
	    str(spec, "reason") ? str(spec, "reason") : "-",
	    object,
	    str(spec, "message") ? str(spec, "message") : "",
	    str(spec, "node") ? str(spec, "node") : "-",
	    str(json_object_get(o, "metadata"), "name"),
	};
	(void)wide;
	return table_add_row(t, row);
}

int view_table(const struct kind_info *k, const json_t *items, const json_t *ports, bool wide,
	       struct table *out)
{
	static const char *const event_hdr[] = {"AGE",	   "TYPE", "REASON", "OBJECT",
						"MESSAGE", "NODE", "NAME"};
	static const char *const net_hdr[] = {"NAME", "VNI",   "CIDR",	   "GATEWAY",
					      "DHCP", "PORTS", "REVISION", "GATEWAY-NODE"};
	static const char *const port_hdr[] = {"NAME", "NETWORK", "IP",	    "MAC",  "NODE(S)",
					       "TYPE", "NETNS",	  "IFNAME", "STATE"};
	static const char *const node_hdr[] = {"NAME", "UNDERLAY", "READY", "APPLIED", "COUNTERS"};
	static const char *const mig_hdr[] = {"NAME",  "PORT",	  "SOURCE", "TARGET",
					      "PHASE", "ELAPSED", "REASON"};
	static const char *const vm_hdr[] = {"NAME",   "PHASE",	     "NODE", "IP",
					     "MEMORY", "MIGRATABLE", "IMAGE"};
	const char *const *hdr;
	size_t ncols, i;
	struct table t;
	json_t *o;
	int r;

	if (kind_of(k) == KIND_NETWORK) {
		hdr = net_hdr;
		ncols = wide ? 8 : 6;
	} else if (kind_of(k) == KIND_PORT) {
		hdr = port_hdr;
		ncols = wide ? 9 : 6;
	} else if (kind_of(k) == KIND_MIGRATION) {
		hdr = mig_hdr;
		ncols = wide ? 7 : 6;
	} else if (kind_of(k) == KIND_VM) {
		hdr = vm_hdr;
		ncols = wide ? 7 : 4;
	} else if (kind_of(k) == KIND_EVENT) {
		hdr = event_hdr;
		ncols = wide ? 7 : 5;
	} else {
		hdr = node_hdr;
		ncols = wide ? 5 : 4;
	}
	r = table_init(&t, ncols, hdr);
	json_array_foreach(items, i, o)
	{
		if (r)
			break;
		if (hdr == net_hdr)
			r = network_row(o, ports, wide, &t);
		else if (hdr == port_hdr)
			r = port_row(o, wide, &t);
		else if (hdr == mig_hdr)
			r = migration_row(o, wide, &t);
		else if (hdr == vm_hdr)
			r = vm_row(o, wide, &t);
		else if (hdr == event_hdr)
			r = event_row(o, wide, &t);
		else
			r = node_row(o, wide, &t);
	}
	if (r) {
		table_free(&t);
		return r;
	}
	*out = t;
	return 0;
}

int view_print_table(const struct kind_info *k, const json_t *items, const json_t *ports, bool wide,
		     FILE *f)
{
	struct table t;
	int r = view_table(k, items, ports, wide, &t);

	if (r)
		return r;
	table_print(&t, f);
	table_free(&t);
	return 0;
}

/* Nested "key: value" lines, keys aligned per level. */
static void print_fields(const json_t *obj, int indent, FILE *f)
{
	size_t width = 0;
	const char *key;
	json_t *v;
	char buf[64];

	json_object_foreach((json_t *)obj, key, v) if (strlen(key) > width) width = strlen(key);
	json_object_foreach((json_t *)obj, key, v)
	{
		if (json_is_object(v) && json_object_size(v) > 0) {
			fprintf(f, "%*s%s:\n", indent, "", key);
			print_fields(v, indent + 2, f);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;

			fprintf(f, "%*s%s:%*s", indent, "", key, (int)(width - strlen(key) + 1),
				"");
			if (json_array_size(v) == 0)
				fprintf(f, "[]");
			json_array_foreach(v, i, e)
			{
				char *s = json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);

				fprintf(f, "%s%s", i ? ", " : "",
					json_is_string(e) ? json_string_value(e) : (s ? s : "?"));
				free(s);
			}
			fputc('\n', f);
		} else {
			fprintf(f, "%*s%s:%*s%s\n", indent, "", key, (int)(width - strlen(key) + 1),
				"", json_is_object(v) ? "{}" : scalar(v, buf, sizeof(buf)));
		}
	}
}

void view_describe(const struct kind_info *k, const json_t *obj, const json_t *related, FILE *f)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *status = json_object_get(obj, "status");
	char rev[32], created[32];

	fprintf(f, "Name:      %s\n", str(meta, "name") ?: "-");
	fprintf(f, "Kind:      %s\n", k->name);
	fprintf(f, "Revision:  %s (created at revision %s)\n",
		scalar(json_object_get(meta, "revision"), rev, sizeof(rev)),
		scalar(json_object_get(meta, "created"), created, sizeof(created)));
	fprintf(f, "Spec:\n");
	print_fields(json_object_get(obj, "spec"), 2, f);
	if (kind_of(k) == KIND_NODE) {
		const json_t *counters = json_object_get(status, "counters");
		json_t *copy = json_deep_copy(status);
		const char *key;
		json_t *v;

		fprintf(f, "Status:\n");
		if (copy) {
			json_object_del(copy, "counters");
			print_fields(copy, 2, f);
			json_decref(copy);
		}
		fprintf(f, "Counters:\n");
		if (!json_object_size(counters))
			fprintf(f, "  (none reported)\n");
		json_object_foreach((json_t *)counters, key, v)
		    fprintf(f, "  %-20s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(v));
	} else {
		fprintf(f, "Status:\n");
		if (json_object_size(status))
			print_fields(status, 2, f);
		else
			fprintf(f, "  (none)\n");
	}
	if (related) {
		size_t i;
		json_t *p;
		int n = 0;

		fprintf(f, "Ports:\n");
		json_array_foreach(related, i, p)
		{
			const json_t *spec = json_object_get(p, "spec");
			char nodes[256];

			if (!str(spec, "network") || !str(meta, "name") ||
			    strcmp(str(spec, "network"), str(meta, "name")) != 0)
				continue;
			join_strings(json_object_get(spec, "locations"), nodes, sizeof(nodes));
			fprintf(f, "  %-20s %-16s %-18s %s\n",
				str(json_object_get(p, "metadata"), "name"),
				str(spec, "ipv4") ?: "-", str(spec, "mac") ?: "-", nodes);
			n++;
		}
		if (!n)
			fprintf(f, "  (none)\n");
	}
}

void view_gateway_node(const json_t *net, const json_t *node, FILE *f)
{
	const char *name = str(json_object_get(net, "spec"), "gatewayNode");
	const json_t *status = json_object_get(node, "status");
	const json_t *age = json_object_get(status, "age_ms");

	if (!name)
		return;
	fprintf(f, "Gateway node:\n");
	if (!node)
		fprintf(f, "  %s: missing (no such node registered): nothing routes %s out\n", name,
			str(json_object_get(net, "metadata"), "name"));
	else if (!json_is_true(json_object_get(status, "ready")) && json_is_integer(age))
		fprintf(f,
			"  %s: not ready (%" JSON_INTEGER_FORMAT " ms since its last report): "
			"the way out may be down\n",
			name, json_integer_value(age));
	else if (!json_is_true(json_object_get(status, "ready")))
		fprintf(f, "  %s: not ready (no report yet): the way out may be down\n", name);
	else
		fprintf(f, "  %s: ready\n", name);
}

json_t *view_list(const json_t *reply)
{
	char rv[32];
	const json_t *items = json_object_get(reply, "items");

	snprintf(rv, sizeof(rv), "%lld",
		 (long long)json_integer_value(json_object_get(reply, "revision")));
	return json_pack("{s:s, s:s, s:{s:s}, s:O}", "apiVersion", "godwit/v1", "kind", "List",
			 "metadata", "resourceVersion", rv, "items", items ? items : json_array());
}

int view_dump(const json_t *v, bool is_list, bool yaml, FILE *f)
{
	size_t i;
	json_t *o;
	int r = 0;

	if (!yaml) {
		r = json_dumpf(v, f, JSON_INDENT(2) | JSON_ENCODE_ANY) ? -EIO : 0;
		fputc('\n', f);
		return r;
	}
	if (!is_list)
		return yaml_emit(f, v);
	json_array_foreach(v, i, o)
	{
		fprintf(f, "---\n");
		r = yaml_emit(f, o);
		if (r)
			return r;
	}
	return 0;
}
