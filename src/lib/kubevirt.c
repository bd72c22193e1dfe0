/* SPDX-License-Identifier: MIT */
#include "kubevirt.h"

#include <stdarg.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "kinds.h"

#define MEMORY_MIB_MAX	     65536
#define CPUS_MAX	     16
#define USER_DATA_TEXT_MAX   1536
#define USER_DATA_BASE64_MAX 2048
#define DEFAULT_NETWORK	     "default"

#define TEMPLATE "spec.template"
#define TSPEC	 "spec.template.spec"
#define DOMAIN	 "spec.template.spec.domain"
#define DEVICES	 "spec.template.spec.domain.devices"

/* What the mapping collects on its way through the document. */
struct vm_fields {
	json_t *running; /* borrowed json true/false, NULL: not given */
	int64_t memory_mib;
	json_int_t cpus; /* 0: not given */
	const char *image;
	const char *user_data;
	const char *user_data_encoding;
	const char *network;
	bool migratable;
	const char *iface_name; /* the interface's network name, or NULL */
};

struct suffix {
	const char *text;
	unsigned __int128 mult;
};

int kv_error(const struct kubevirt_diag *ctx, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ctx->error(ctx->ctx, path, msg);
}

int kv_warn(const struct kubevirt_diag *ctx, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (!ctx->warn)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ctx->warn(ctx->ctx, msg);
}

int kubevirt_quantity_mib(const json_t *v, int64_t max_mib, int64_t *mib, char *why, size_t len)
{
	static const struct suffix suffixes[] = {
	    {"", 1},
	    {"Ki", (unsigned __int128)1 << 10},
	    {"Mi", (unsigned __int128)1 << 20},
	    {"Gi", (unsigned __int128)1 << 30},
	    {"Ti", (unsigned __int128)1 << 40},
	    {"Pi", (unsigned __int128)1 << 50},
	    {"Ei", (unsigned __int128)1 << 60},
	    {"k", 1000ULL},
	    {"M", 1000000ULL},
	    {"G", 1000000000ULL},
	    {"T", 1000000000000ULL},
	    {"P", 1000000000000000ULL},
	    {"E", 1000000000000000000ULL},
	};
	unsigned __int128 value = 0, scale = 1, mult = 0, divisor, result;
	char text[64];
	const char *s, *p;
	int int_digits = 0, frac_digits = 0;
	double approx;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0) {
			snprintf(why, len, "%lld is negative", (long long)json_integer_value(v));
			return -EINVAL;
		}
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
		s = text;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
	} else if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1e18 &&
		   json_real_value(v) == (double)(long long)json_real_value(v)) {
		/* YAML types 128e6 as a float */
		snprintf(text, sizeof(text), "%lld", (long long)json_real_value(v));
		s = text;
	} else {
		snprintf(why, len, "expected a quantity such as 64Mi or 1Gi");
		return -EINVAL;
	}
	p = s;
	for (; *p >= '0' && *p <= '9'; p++, int_digits++)
		value = value * 10 + (unsigned)(*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) {
			value = value * 10 + (unsigned)(*p - '0');
			scale *= 10;
		}
	}
	if (int_digits + frac_digits == 0 || int_digits > 15 || frac_digits > 9) {
		snprintf(why, len, "'%.40s' is not a quantity (such as 64Mi, 1Gi, 512M)", s);
		return -EINVAL;
	}
	if ((*p == 'e' || *p == 'E') && p[1] >= '0' && p[1] <= '9') {
		char *end;
		long e = strtol(p + 1, &end, 10);

		if (*end || e > 18) {
			snprintf(why, len, "'%.40s' is not a quantity (such as 64Mi, 1Gi, 512M)",
				 s);
			return -EINVAL;
		}
		mult = 1;
		while (e-- > 0)
			mult *= 10;
	} else {
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
			if (strcmp(p, suffixes[i].text) == 0)
				mult = suffixes[i].mult;
	}
	if (!mult) {
		if (strcmp(p, "m") == 0)
			snprintf(why, len,
				 "'%.40s': the suffix m means milli (1/1000 byte); "
				 "MiB is Mi, megabytes are M",
				 s);
		else
			snprintf(why, len,
				 "'%.40s': unknown suffix '%.8s' (Ki, Mi, Gi, Ti, k, M, "
				 "G, T, ...)",
				 s, p);
		return -EINVAL;
	}
	/* A rough size first, so that the exact product below cannot overflow. */
	approx = (double)value / (double)scale * (double)mult / 1048576.0;
	if (approx > (double)max_mib * 2) {
		snprintf(why, len, "'%.40s' is more than %lld MiB", s, (long long)max_mib);
		return -EINVAL;
	}
	divisor = scale << 20;
	result = (value * mult + divisor - 1) / divisor;
	if (value == 0) {
		snprintf(why, len, "'%.40s' is zero", s);
		return -EINVAL;
	}
	if (result > (unsigned __int128)max_mib) {
		snprintf(why, len, "'%.40s' is more than %lld MiB", s, (long long)max_mib);
		return -EINVAL;
	}
	*mib = (int64_t)result;
	return 0;
}

static bool in_list(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

/* Warns about every key of obj (at path) that is not in known. */
static int warn_unknown(const struct kubevirt_diag *ctx, const json_t *obj, const char *path,
			const char *const *known)
{
	const char *key;
	json_t *v;
	int r;

	json_object_foreach((json_t *)obj, key, v)
	{
		if (in_list(key, known))
			continue;
		r = kv_warn(ctx, "ignoring %s%s%s", path, path[0] ? "." : "", key);
		if (r)
			return r;
	}
	return 0;
}

/* parent.key (at path) must be absent, null or of type (object: "a mapping",
 * array: "a list"); *out is it or NULL. */
static int get_typed(const struct kubevirt_diag *ctx, const json_t *parent, const char *key,
		     const char *path, json_type type, const json_t **out)
{
	const json_t *v = json_object_get(parent, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_typeof(v) != type)
		return kv_error(ctx, path, "must be %s",
				type == JSON_OBJECT ? "a mapping" : "a list");
	*out = v;
	return 0;
}

static int get_mapping(const struct kubevirt_diag *ctx, const json_t *parent, const char *key,
		       const char *path, const json_t **out)
{
	return get_typed(ctx, parent, key, path, JSON_OBJECT, out);
}

static int get_list(const struct kubevirt_diag *ctx, const json_t *parent, const char *key,
		    const char *path, const json_t **out)
{
	return get_typed(ctx, parent, key, path, JSON_ARRAY, out);
}

/* The one entry of list (at path; not empty), which must be a mapping: godwit
 * gives a VM one `what`. *out only when it is; otherwise what kv_error returns. */
static int get_only_mapping(const struct kubevirt_diag *ctx, const json_t *list, const char *path,
			    const char *what, const json_t **out)
{
	const json_t *first = json_array_get(list, 0);
	char p[160];

	if (json_array_size(list) > 1) {
		snprintf(p, sizeof(p), "%s.1", path);
		return kv_error(ctx, p, "godwit gives a VM one %s (%zu are listed)", what,
				json_array_size(list));
	}
	if (!json_is_object(first)) {
		snprintf(p, sizeof(p), "%s.0", path);
		return kv_error(ctx, p, "must be a mapping");
	}
	*out = first;
	return 0;
}

static int map_run_strategy(const struct kubevirt_diag *ctx, const json_t *spec,
			    struct vm_fields *f)
{
	const json_t *strategy = json_object_get(spec, "runStrategy");
	const json_t *running = json_object_get(spec, "running");
	const char *s;

	if (strategy && running)
		return kv_error(ctx, "spec.running",
				"give spec.runStrategy or spec.running, not both");
	if (running) {
		if (!json_is_boolean(running))
			return kv_error(ctx, "spec.running", "must be true or false");
		f->running = (json_t *)running;
		return 0;
	}
	if (!strategy)
		return 0;
	s = json_string_value(strategy);
	if (s && strcmp(s, "Always") == 0)
		f->running = json_true();
	else if (s && strcmp(s, "Halted") == 0)
		f->running = json_false();
	else
		return kv_error(ctx, "spec.runStrategy",
				"'%.40s' is not supported (godwit takes Always or Halted)",
				s ? s : "(not a string)");
	return 0;
}

static int map_template_metadata(const struct kubevirt_diag *ctx, const json_t *tmeta,
				 struct vm_fields *f)
{
	static const char *const known[] = {"annotations", NULL};
	const json_t *ann, *v;
	const char *key;
	int r;

	if (!tmeta)
		return 0;
	r = warn_unknown(ctx, tmeta, TEMPLATE ".metadata", known);
	if (r)
		return r;
	r = get_mapping(ctx, tmeta, "annotations", TEMPLATE ".metadata.annotations", &ann);
	if (r || !ann)
		return r;
	json_object_foreach((json_t *)ann, key, v)
	{
		if (strcmp(key, KUBEVIRT_MIGRATION_ANNOTATION) == 0) {
			f->migratable =
			    (json_is_string(v) && strcmp(json_string_value(v), "true") == 0) ||
			    json_is_true(v);
			continue;
		}
		r = kv_warn(ctx, "ignoring " TEMPLATE ".metadata.annotations.%s", key);
		if (r)
			return r;
	}
	return 0;
}

static int map_resources(const struct kubevirt_diag *ctx, const json_t *domain, struct vm_fields *f)
{
	static const char *const known[] = {"requests", NULL};
	static const char *const known_requests[] = {"memory", NULL};
	const json_t *res, *req, *mem;
	char why[160];
	int r;

	r = get_mapping(ctx, domain, "resources", DOMAIN ".resources", &res);
	if (r)
		return r;
	if (res && (r = warn_unknown(ctx, res, DOMAIN ".resources", known)))
		return r;
	r = get_mapping(ctx, res, "requests", DOMAIN ".resources.requests", &req);
	if (r)
		return r;
	if (req && (r = warn_unknown(ctx, req, DOMAIN ".resources.requests", known_requests)))
		return r;
	mem = json_object_get(req, "memory");
	if (!mem)
		return kv_error(ctx, DOMAIN ".resources.requests.memory",
				"missing (the VM's memory, such as 64Mi)");
	if (kubevirt_quantity_mib(mem, MEMORY_MIB_MAX, &f->memory_mib, why, sizeof(why)))
		return kv_error(ctx, DOMAIN ".resources.requests.memory", "%s", why);
	return 0;
}

static int map_cpu(const struct kubevirt_diag *ctx, const json_t *domain, struct vm_fields *f)
{
	static const char *const known[] = {"cores", NULL};
	const json_t *cpu, *cores;
	int r;

	r = get_mapping(ctx, domain, "cpu", DOMAIN ".cpu", &cpu);
	if (r || !cpu)
		return r;
	r = warn_unknown(ctx, cpu, DOMAIN ".cpu", known);
	if (r)
		return r;
	cores = json_object_get(cpu, "cores");
	if (!cores)
		return 0;
	if (!json_is_integer(cores) || json_integer_value(cores) < 1 ||
	    json_integer_value(cores) > CPUS_MAX)
		return kv_error(ctx, DOMAIN ".cpu.cores", "must be a number in 1..%d", CPUS_MAX);
	f->cpus = json_integer_value(cores);
	return 0;
}

static int map_interfaces(const struct kubevirt_diag *ctx, const json_t *devices,
			  struct vm_fields *f)
{
	static const char *const known[] = {"name", "bridge", NULL};
	static const char *const unsupported[] = {"masquerade", "sriov",   "slirp", "passt",
						  "binding",	"macvtap", NULL};
	const json_t *ifaces, *iface = NULL;
	char path[160];
	const char *key;
	json_t *v;
	int r;

	r = get_list(ctx, devices, "interfaces", DEVICES ".interfaces", &ifaces);
	if (r || !ifaces || json_array_size(ifaces) == 0)
		return r;
	r = get_only_mapping(ctx, ifaces, DEVICES ".interfaces", "interface", &iface);
	if (!iface)
		return r;
	json_object_foreach((json_t *)iface, key, v)
	{
		snprintf(path, sizeof(path), DEVICES ".interfaces.0.%s", key);
		if (in_list(key, unsupported))
			return kv_error(ctx, path,
					"not supported: godwit bridges the VM onto its "
					"network (use bridge: {})");
	}
	if (!json_object_get(iface, "bridge"))
		return kv_error(ctx, DEVICES ".interfaces.0",
				"needs bridge: {} (godwit bridges the VM onto its network)");
	if (!json_is_object(json_object_get(iface, "bridge")))
		return kv_error(ctx, DEVICES ".interfaces.0.bridge", "must be a mapping ({})");
	f->iface_name = json_string_value(json_object_get(iface, "name"));
	return warn_unknown(ctx, iface, DEVICES ".interfaces.0", known);
}

/* Disks on the bus godwit uses (virtio) say nothing new: only other settings warn. */
static int map_disks(const struct kubevirt_diag *ctx, const json_t *devices)
{
	static const char *const known[] = {"name", "disk", NULL};
	static const char *const known_disk[] = {"bus", NULL};
	const json_t *disks, *d, *disk;
	char path[160];
	size_t i;
	int r;

	r = get_list(ctx, devices, "disks", DEVICES ".disks", &disks);
	if (r || !disks)
		return r;
	json_array_foreach(disks, i, d)
	{
		snprintf(path, sizeof(path), DEVICES ".disks.%zu", i);
		if (!json_is_object(d))
			return kv_error(ctx, path, "must be a mapping");
		r = warn_unknown(ctx, d, path, known);
		if (r)
			return r;
		disk = json_object_get(d, "disk");
		if (!json_is_object(disk))
			continue;
		snprintf(path, sizeof(path), DEVICES ".disks.%zu.disk", i);
		r = warn_unknown(ctx, disk, path, known_disk);
		if (r)
			return r;
		if (json_object_get(disk, "bus") &&
		    (!json_is_string(json_object_get(disk, "bus")) ||
		     strcmp(json_string_value(json_object_get(disk, "bus")), "virtio") != 0)) {
			r = kv_warn(ctx, "ignoring %s.bus (godwit uses virtio)", path);
			if (r)
				return r;
		}
	}
	return 0;
}

static int map_domain(const struct kubevirt_diag *ctx, const json_t *tspec, struct vm_fields *f)
{
	static const char *const known[] = {"devices", "resources", "cpu", NULL};
	static const char *const known_devices[] = {"interfaces", "disks", NULL};
	const json_t *domain, *devices;
	int r;

	r = get_mapping(ctx, tspec, "domain", DOMAIN, &domain);
	if (r)
		return r;
	if (!domain)
		return kv_error(ctx, DOMAIN,
				"missing (memory is in "
				"domain.resources.requests.memory)");
	r = warn_unknown(ctx, domain, DOMAIN, known);
	if (r)
		return r;
	r = map_resources(ctx, domain, f);
	if (r)
		return r;
	r = map_cpu(ctx, domain, f);
	if (r)
		return r;
	r = get_mapping(ctx, domain, "devices", DEVICES, &devices);
	if (r || !devices)
		return r;
	r = warn_unknown(ctx, devices, DEVICES, known_devices);
	if (r)
		return r;
	r = map_interfaces(ctx, devices, f);
	if (r)
		return r;
	return map_disks(ctx, devices);
}

static int map_networks(const struct kubevirt_diag *ctx, const json_t *tspec, struct vm_fields *f)
{
	static const char *const known[] = {"name", "pod", "multus", NULL};
	const json_t *nets, *net = NULL, *multus;
	const char *name, *target, *slash;
	int r;

	f->network = DEFAULT_NETWORK;
	r = get_list(ctx, tspec, "networks", TSPEC ".networks", &nets);
	if (r || !nets || json_array_size(nets) == 0) {
		if (!r && f->iface_name)
			return kv_error(ctx, DEVICES ".interfaces.0.name",
					"'%.60s' names no network in " TSPEC ".networks",
					f->iface_name);
		return r;
	}
	r = get_only_mapping(ctx, nets, TSPEC ".networks", "network", &net);
	if (!net)
		return r;
	r = warn_unknown(ctx, net, TSPEC ".networks.0", known);
	if (r)
		return r;
	name = json_string_value(json_object_get(net, "name"));
	if (f->iface_name && (!name || strcmp(name, f->iface_name) != 0))
		return kv_error(ctx, DEVICES ".interfaces.0.name",
				"'%.60s' names no network in " TSPEC ".networks", f->iface_name);
	multus = json_object_get(net, "multus");
	if (json_object_get(net, "pod")) {
		if (multus)
			return kv_error(ctx, TSPEC ".networks.0", "give pod or multus, not both");
		return 0;
	}
	if (!multus)
		return kv_error(ctx, TSPEC ".networks.0",
				"needs pod: {} or multus: {networkName: NAME}");
	if (!json_is_object(multus))
		return kv_error(ctx, TSPEC ".networks.0.multus", "must be a mapping");
	target = json_string_value(json_object_get(multus, "networkName"));
	if (!target)
		return kv_error(ctx, TSPEC ".networks.0.multus.networkName",
				"missing or not a string (the godwit network's name)");
	slash = strrchr(target, '/'); /* "namespace/name": godwit has no namespaces */
	f->network = slash ? slash + 1 : target;
	if (!object_name_valid(f->network))
		return kv_error(ctx, TSPEC ".networks.0.multus.networkName",
				"'%.60s' is not a network name", target);
	{
		static const char *const known_multus[] = {"networkName", NULL};

		return warn_unknown(ctx, multus, TSPEC ".networks.0.multus", known_multus);
	}
}

static int map_cloud_init(const struct kubevirt_diag *ctx, const json_t *ci, const char path[200],
			  struct vm_fields *f)
{
	static const char *const known[] = {"userData", "userDataBase64", NULL};
	const json_t *text = json_object_get(ci, "userData");
	const json_t *b64 = json_object_get(ci, "userDataBase64");
	char p[256];
	int r;

	if (f->user_data)
		return kv_error(ctx, path, "a second cloudInitNoCloud volume");
	r = warn_unknown(ctx, ci, path, known);
	if (r)
		return r;
	if (text && b64)
		return kv_error(ctx, path, "give userData or userDataBase64, not both");
	if (text) {
		snprintf(p, sizeof(p), "%s.userData", path);
		if (!json_is_string(text))
			return kv_error(ctx, p, "must be a string");
		if (strlen(json_string_value(text)) > USER_DATA_TEXT_MAX)
			return kv_error(ctx, p, "%zu bytes, more than %d",
					strlen(json_string_value(text)), USER_DATA_TEXT_MAX);
		f->user_data = json_string_value(text);
		f->user_data_encoding = "text";
	} else if (b64) {
		snprintf(p, sizeof(p), "%s.userDataBase64", path);
		if (!json_is_string(b64))
			return kv_error(ctx, p, "must be a string");
		if (strlen(json_string_value(b64)) > USER_DATA_BASE64_MAX)
			return kv_error(ctx, p, "%zu bytes, more than %d",
					strlen(json_string_value(b64)), USER_DATA_BASE64_MAX);
		if (!base64_valid(json_string_value(b64)))
			return kv_error(ctx, p, "not valid base64");
		f->user_data = json_string_value(b64);
		f->user_data_encoding = "base64";
	}
	return 0;
}

static int map_volumes(const struct kubevirt_diag *ctx, const json_t *tspec, struct vm_fields *f)
{
	static const char *const known_cd[] = {"image", NULL};
	const json_t *vols, *vol, *cd, *ci;
	char path[160], p[200];
	const char *key;
	json_t *v;
	size_t i;
	int r;

	r = get_list(ctx, tspec, "volumes", TSPEC ".volumes", &vols);
	if (r)
		return r;
	json_array_foreach(vols, i, vol)
	{
		snprintf(path, sizeof(path), TSPEC ".volumes.%zu", i);
		if (!json_is_object(vol))
			return kv_error(ctx, path, "must be a mapping");
		json_object_foreach((json_t *)vol, key, v)
		{
			if (strcmp(key, "name") && strcmp(key, "containerDisk") &&
			    strcmp(key, "cloudInitNoCloud") &&
			    (r = kv_warn(ctx, "ignoring %s.%s", path, key)))
				return r;
		}
		cd = json_object_get(vol, "containerDisk");
		ci = json_object_get(vol, "cloudInitNoCloud");
		if (cd) {
			snprintf(p, sizeof(p), "%s.containerDisk", path);
			if (!json_is_object(cd))
				return kv_error(ctx, p, "must be a mapping");
			if (f->image)
				return kv_error(ctx, p,
						"a second containerDisk (godwit "
						"boots one image)");
			r = warn_unknown(ctx, cd, p, known_cd);
			if (r)
				return r;
			snprintf(p, sizeof(p), "%s.containerDisk.image", path);
			f->image = json_string_value(json_object_get(cd, "image"));
			if (!f->image || !f->image[0])
				return kv_error(ctx, p, "missing or not a string");
		}
		if (ci) {
			snprintf(p, sizeof(p), "%s.cloudInitNoCloud", path);
			if (!json_is_object(ci))
				return kv_error(ctx, p, "must be a mapping");
			r = map_cloud_init(ctx, ci, p, f);
			if (r)
				return r;
		}
	}
	if (!f->image)
		return kv_error(ctx, TSPEC ".volumes",
				"no containerDisk volume (godwit needs the image to boot)");
	return 0;
}

/* metadata.labels or .annotations: absent, or a mapping of strings (kept as given). */
static int map_string_map(const struct kubevirt_diag *ctx, const json_t *meta, const char *key,
			  json_t *out)
{
	char path[64], p[400];
	const json_t *m;
	const char *k;
	json_t *v;
	int r;

	snprintf(path, sizeof(path), "metadata.%s", key);
	r = get_mapping(ctx, meta, key, path, &m);
	if (r || !m)
		return r;
	json_object_foreach((json_t *)m, k, v)
	{
		snprintf(p, sizeof(p), "%s.%.300s", path, k);
		if (!json_is_string(v))
			return kv_error(ctx, p, "must be a string");
		if (!k[0] || strlen(k) > KUBEVIRT_KEY_MAX)
			return kv_error(ctx, p, "a key must be 1..%d characters", KUBEVIRT_KEY_MAX);
	}
	return json_object_set(out, key, (json_t *)m) ? -ENOMEM : 0;
}

static json_t *vm_body(json_t *meta, const struct vm_fields *f)
{
	json_t *spec =
	    json_pack("{s:I, s:s, s:s, s:b}", "memory_mib", (json_int_t)f->memory_mib, "image",
		      f->image, "network", f->network, "migratable", f->migratable);

	if (!spec)
		return NULL;
	if ((f->running && json_object_set(spec, "running", f->running)) ||
	    (f->cpus && json_object_set_new(spec, "cpus", json_integer(f->cpus))) ||
	    (f->user_data && (json_object_set_new(spec, "user_data", json_string(f->user_data)) ||
			      json_object_set_new(spec, "user_data_encoding",
						  json_string(f->user_data_encoding))))) {
		json_decref(spec);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:O, s:o}", "apiVersion", API_VERSION, "kind",
			 kind_str(KIND_VM), "metadata", meta, "spec", spec);
}

static int map_metadata(const struct kubevirt_diag *ctx, const json_t *doc, json_t *out)
{
	static const char *const known_meta[] = {"name", "namespace", "labels", "annotations",
						 NULL};
	const json_t *meta;
	const char *name, *ns;
	int r;

	r = get_mapping(ctx, doc, "metadata", "metadata", &meta);
	if (r)
		return r;
	name = json_string_value(json_object_get(meta, "name"));
	if (!name)
		return kv_error(ctx, meta ? "metadata.name" : "metadata",
				"metadata.name is missing");
	if (!object_name_valid(name))
		return kv_error(ctx, "metadata.name",
				"'%.80s' is not a valid name (1-63 of a-z, 0-9, '-'; "
				"starts and ends alphanumeric)",
				name);
	ns = json_string_value(json_object_get(meta, "namespace"));
	if (json_object_get(meta, "namespace") && (!ns || strcmp(ns, KUBEVIRT_NAMESPACE) != 0))
		return kv_error(ctx, "metadata.namespace",
				"'%.60s': godwit has only the namespace \"" KUBEVIRT_NAMESPACE "\"",
				ns ? ns : "(not a string)");
	r = warn_unknown(ctx, meta, "metadata", known_meta);
	if (r)
		return r;
	if (json_object_set_new(out, "name", json_string(name)))
		return -ENOMEM;
	r = map_string_map(ctx, meta, "labels", out);
	if (r)
		return r;
	return map_string_map(ctx, meta, "annotations", out);
}

/* parent's mapping key, which must be there (missing: the message), with
 * only known fields (others warned about). */
static int required_mapping(const struct kubevirt_diag *ctx, const json_t *parent, const char *key,
			    const char *path, const char *missing, const char *const *known,
			    const json_t **out)
{
	const json_t *m;
	int r = get_mapping(ctx, parent, key, path, &m);

	if (r == 0 && !m)
		r = kv_error(ctx, path, "%s", missing);
	if (r == 0)
		r = warn_unknown(ctx, m, path, known);
	if (r == 0)
		*out = m;
	return r;
}

int kubevirt_vm_to_godwit(const json_t *doc, const struct kubevirt_diag *ctx, json_t **out)
{
	static const char *const known_top[] = {"apiVersion", "kind", "metadata", "spec", NULL};
	static const char *const known_spec[] = {"runStrategy", "running", "template", NULL};
	static const char *const known_template[] = {"metadata", "spec", NULL};
	static const char *const known_tspec[] = {"domain", "networks", "volumes", NULL};
	struct vm_fields f = {0};
	const json_t *spec, *tmpl, *tmeta, *tspec;
	json_t *meta = json_object(), *body;
	int r;

	if (!meta)
		return -ENOMEM;
	if (!json_is_object(doc)) {
		r = kv_error(ctx, NULL, "expected a mapping (an object)");
		goto cleanup;
	}
	r = warn_unknown(ctx, doc, "", known_top);
	if (r == 0)
		r = map_metadata(ctx, doc, meta);
	if (r == 0)
		r = required_mapping(ctx, doc, "spec", "spec", "missing", known_spec, &spec);
	if (r == 0)
		r = map_run_strategy(ctx, spec, &f);
	if (r == 0)
		r = required_mapping(ctx, spec, "template", TEMPLATE,
				     "missing (the VM's domain and volumes)", known_template,
				     &tmpl);
	if (r == 0)
		r = get_mapping(ctx, tmpl, "metadata", TEMPLATE ".metadata", &tmeta);
	if (r == 0)
		r = map_template_metadata(ctx, tmeta, &f);
	if (r == 0)
		r = required_mapping(ctx, tmpl, "spec", TSPEC,
				     "missing (the VM's domain and volumes)", known_tspec, &tspec);
	if (r == 0)
		r = map_domain(ctx, tspec, &f);
	if (r == 0)
		r = map_networks(ctx, tspec, &f);
	if (r == 0)
		r = map_volumes(ctx, tspec, &f);
	if (r)
		goto cleanup;
	body = vm_body(meta, &f);
	if (!body) {
		r = -ENOMEM;
		goto cleanup;
	}
	*out = body;
	r = 0;
cleanup:
	json_decref(meta);
	return r;
}
