/* SPDX-License-Identifier: MIT */
/* godwit objects as kubevirt.io/v1 objects (k8s_view.h). */
#include "k8s_view.h"
#include "api_objects.h"
#include "lib/kubevirt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(obj, a), b));
}

json_t *k8s_view_metadata(const json_t *obj, bool with_annotations)
{
	const json_t *m = json_object_get(obj, "metadata");
	const char *ts = json_string_value(json_object_get(m, "creationTimestamp"));
	json_int_t created = json_integer_value(json_object_get(m, "created"));
	char rv[32], uid[64];
	json_t *out;

	snprintf(rv, sizeof(rv), "%lld",
		 (long long)json_integer_value(json_object_get(m, "revision")));
	/* stable for the object's life: its kind and the revision that created it */
	snprintf(uid, sizeof(uid), "00000000-0000-4000-8%03x-%012llx",
		 (unsigned)(json_string_length(json_object_get(obj, "kind")) & 0xfff),
		 (unsigned long long)created);
	out = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name",
			json_string_value(json_object_get(m, "name")), "namespace",
			KUBEVIRT_NAMESPACE, "uid", uid, "resourceVersion", rv, "generation",
			(json_int_t)1);
	if (!out)
		return NULL;
	/* objects stored before timestamps existed have none: the epoch is no age */
	json_object_set_new(out, "creationTimestamp", ts ? json_string(ts) : json_null());
	if (json_object_get(m, "labels"))
		json_object_set(out, "labels", json_object_get(m, "labels"));
	if (with_annotations && json_object_get(m, "annotations"))
		json_object_set(out, "annotations", json_object_get(m, "annotations"));
	return out;
}

/* KubeVirt's printableStatus for godwit's VM phase. */
static const char *printable_status(const char *phase)
{
	if (!phase)
		return "Unknown";
	if (strcmp(phase, "Scheduled") == 0)
		return "Provisioning";
	return phase; /* Starting, Running, Migrating, Stopped, Failed */
}

static int quiet_error(void *ctx, const char *path, const char *msg)
{
	(void)ctx;
	(void)path;
	(void)msg;
	return -EINVAL;
}

static json_t *spec_without_placement(const json_t *spec)
{
	json_t *copy = json_deep_copy(spec);

	json_object_del(copy, "node");
	json_object_del(copy, "target");
	return copy;
}

/*
 * The spec of kubectl's last-applied-configuration when it still stands for
 * the VM's spec: what the user wrote comes back as written (64M, the
 * template's labels), so a second `kubectl apply` of the same file finds
 * nothing to change. NULL when it does not (godwit changed the VM since).
 */
static json_t *applied_spec(const json_t *vm)
{
	const struct kubevirt_diag quiet = {.error = quiet_error};
	const char *text = json_string_value(json_object_get(
	    json_object_get(json_object_get(vm, "metadata"), "annotations"), K8S_LAST_APPLIED));
	json_t *doc, *body = NULL, *norm = NULL, *a = NULL, *b = NULL, *spec = NULL;
	struct api_error err = {0};

	if (!text || !(doc = json_loads(text, 0, NULL)))
		return NULL;
	if (kubevirt_vm_to_godwit(doc, &quiet, &body) == 0 &&
	    api_object_validate(KIND_VM, body, NULL, &norm, &err) == 0) {
		a = spec_without_placement(json_object_get(norm, "spec"));
		b = spec_without_placement(json_object_get(vm, "spec"));
		if (a && b && json_equal(a, b) && json_is_object(json_object_get(doc, "spec")))
			spec = json_incref(json_object_get(doc, "spec"));
	}
	json_decref(a);
	json_decref(b);
	json_decref(norm);
	json_decref(body);
	json_decref(doc);
	return spec;
}

static int view_vm(const json_t *vm, json_t **out)
{
	const json_t *status = json_object_get(vm, "status");
	const char *phase = json_string_value(json_object_get(status, "phase"));
	json_t *spec, *st, *obj;
	int r;

	spec = applied_spec(vm);
	r = spec ? 0 : kubevirt_vm_spec(json_object_get(vm, "spec"), &spec);
	if (r < 0)
		return r;
	st = json_pack("{s:s, s:b, s:b}", "printableStatus", printable_status(phase), "ready",
		       json_is_true(json_object_get(status, "ready")) && phase &&
			   strcmp(phase, "Running") == 0,
		       "created", phase && strcmp(phase, "Stopped") && strcmp(phase, "Scheduled"));
	if (st && json_string_value(json_object_get(status, "reason")))
		json_object_set_new(
		    st, "conditions",
		    json_pack("[{s:s, s:s, s:s, s:s}]", "type", "Ready", "status", "False",
			      "reason", phase ? phase : "Unknown", "message",
			      json_string_value(json_object_get(status, "reason"))));
	obj = json_pack("{s:s, s:s, s:o, s:o, s:o}", "apiVersion", KUBEVIRT_API_VERSION, "kind",
			"VirtualMachine", "metadata", k8s_view_metadata(vm, true), "spec", spec,
			"status", st);
	if (!obj)
		return -ENOMEM;
	*out = obj;
	return 0;
}

/* KubeVirt's VMI phases: Pending, Scheduling, Scheduled, Running, Succeeded, Failed. */
static const char *vmi_phase(const char *phase)
{
	if (!phase || strcmp(phase, "Scheduled") == 0)
		return "Scheduling";
	if (strcmp(phase, "Starting") == 0)
		return "Scheduled";
	if (strcmp(phase, "Migrating") == 0)
		return "Running";
	return phase; /* Running, Failed */
}

static int view_vmi(const json_t *vm, json_t **out)
{
	const json_t *status = json_object_get(vm, "status");
	const char *phase = json_string_value(json_object_get(status, "phase"));
	const char *node = json_string_value(json_object_get(status, "node"));
	const char *ip = json_string_value(json_object_get(status, "ipv4"));
	const char *mac = json_string_value(json_object_get(status, "mac"));
	const char *target = str_at(vm, "spec", "target");
	json_t *st, *iface, *obj, *spec;
	int r;

	if (!json_is_true(json_object_get(json_object_get(vm, "spec"), "running")) ||
	    (phase && strcmp(phase, "Stopped") == 0))
		return -ENOENT;
	iface = json_pack("{s:s, s:s}", "name", "default", "interfaceName", "eth0");
	if (iface && ip) {
		json_object_set_new(iface, "ipAddress", json_string(ip));
		json_object_set_new(iface, "ipAddresses", json_pack("[s]", ip));
	}
	if (iface && mac)
		json_object_set_new(iface, "mac", json_string(mac));
	st = json_pack("{s:s, s:[o], s:s}", "phase", vmi_phase(phase), "interfaces", iface,
		       "migrationMethod", "LiveMigration");
	if (st && node)
		json_object_set_new(st, "nodeName", json_string(node));
	if (st && target)
		json_object_set_new(st, "migrationState",
				    json_pack("{s:s, s:s?, s:b}", "targetNode", target,
					      "sourceNode", node, "completed", 0));
	r = kubevirt_vm_spec(json_object_get(vm, "spec"), &spec);
	if (r < 0) {
		json_decref(st);
		return r;
	}
	obj = json_pack("{s:s, s:s, s:o, s:O, s:o}", "apiVersion", KUBEVIRT_API_VERSION, "kind",
			"VirtualMachineInstance", "metadata", k8s_view_metadata(vm, false), "spec",
			json_object_get(json_object_get(spec, "template"), "spec"), "status", st);
	json_decref(spec);
	if (!obj)
		return -ENOMEM;
	*out = obj;
	return 0;
}

/* KubeVirt's migration phases for godwit's (docs/MIGRATION.md). */
static const char *vmim_phase(const char *phase)
{
	static const char *const map[][2] = {
	    {"Pending", "Pending"},	    {"TargetReady", "PreparingTarget"},
	    {"Replicating", "TargetReady"}, {"Running", "Running"},
	    {"Switched", "Running"},	    {"Succeeded", "Succeeded"},
	    {"Failed", "Failed"},	    {"Aborted", "Failed"},
	};

	for (size_t i = 0; phase && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(phase, map[i][0]) == 0)
			return map[i][1];
	return "Pending";
}

static int view_vmim(const json_t *mig, json_t **out)
{
	const char *vm = str_at(mig, "spec", "vm");
	const json_t *status = json_object_get(mig, "status");
	const char *phase = json_string_value(json_object_get(status, "phase"));
	json_t *st, *obj;

	if (!vm)
		return -ENOENT;
	st = json_pack(
	    "{s:s, s:{s:s?, s:s?, s:b, s:b}}", "phase", vmim_phase(phase), "migrationState",
	    "sourceNode", json_string_value(json_object_get(status, "source")), "targetNode",
	    str_at(mig, "spec", "target"), "completed", phase && strcmp(phase, "Succeeded") == 0,
	    "failed", phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Aborted") == 0));
	if (st && json_string_value(json_object_get(status, "reason")))
		json_object_set_new(json_object_get(st, "migrationState"), "failureReason",
				    json_copy(json_object_get(status, "reason")));
	if (st && phase)
		json_object_set_new(st, "godwitPhase", json_string(phase));
	obj = json_pack("{s:s, s:s, s:o, s:{s:s}, s:o}", "apiVersion", KUBEVIRT_API_VERSION, "kind",
			"VirtualMachineInstanceMigration", "metadata",
			k8s_view_metadata(mig, false), "spec", "vmiName", vm, "status", st);
	if (!obj)
		return -ENOMEM;
	*out = obj;
	return 0;
}

static json_t *cells_vm(const json_t *v)
{
	const json_t *st = json_object_get(v, "status");

	return json_pack("[s, b]", json_string_value(json_object_get(st, "printableStatus")),
			 json_is_true(json_object_get(st, "ready")));
}

static json_t *cells_vmi(const json_t *v)
{
	const json_t *st = json_object_get(v, "status");
	const char *ip = json_string_value(
	    json_object_get(json_array_get(json_object_get(st, "interfaces"), 0), "ipAddress"));

	return json_pack("[s, s, s, b]", json_string_value(json_object_get(st, "phase")),
			 ip ? ip : "",
			 str_at(v, "status", "nodeName") ? str_at(v, "status", "nodeName") : "",
			 strcmp(json_string_value(json_object_get(st, "phase")), "Running") == 0);
}

static json_t *cells_vmim(const json_t *v)
{
	return json_pack("[s, s]", str_at(v, "status", "phase"), str_at(v, "spec", "vmiName"));
}

const struct k8s_resource k8s_resources[] = {
    {"virtualmachines",
     "virtualmachine",
     "VirtualMachine",
     {"vm", "vms"},
     {"create", "delete", "get", "list", "patch", "update", "watch"},
     KIND_VM,
     view_vm,
     {"Status", "Ready"},
     {"string", "boolean"},
     cells_vm},
    {"virtualmachineinstances",
     "virtualmachineinstance",
     "VirtualMachineInstance",
     {"vmi", "vmis"},
     {"get", "list", "watch"},
     KIND_VM,
     view_vmi,
     {"Phase", "IP", "NodeName", "Ready"},
     {"string", "string", "string", "boolean"},
     cells_vmi},
    {"virtualmachineinstancemigrations",
     "virtualmachineinstancemigration",
     "VirtualMachineInstanceMigration",
     {"vmim", "vmims"},
     {"create", "delete", "get", "list", "watch"},
     KIND_MIGRATION,
     view_vmim,
     {"Phase", "VMI"},
     {"string", "string"},
     cells_vmim},
};
const size_t k8s_resources_n = sizeof(k8s_resources) / sizeof(k8s_resources[0]);

const struct k8s_resource *k8s_resource_find(const char *name)
{
	for (size_t i = 0; i < k8s_resources_n; i++) {
		const struct k8s_resource *r = &k8s_resources[i];

		if (strcmp(name, r->name) == 0 || strcmp(name, r->singular) == 0)
			return r;
		for (size_t j = 0; j < 3 && r->short_names[j]; j++)
			if (strcmp(name, r->short_names[j]) == 0)
				return r;
	}
	return NULL;
}

int k8s_view_list(const struct k8s_resource *res, const json_t *list, json_t **out)
{
	char kind[80], rv[32];
	json_t *items = json_array(), *item, *view, *obj;
	size_t i;
	int r;

	if (!items)
		return -ENOMEM;
	json_array_foreach(json_object_get(list, "items"), i, item)
	{
		r = res->view(item, &view);
		if (r == -ENOENT)
			continue;
		if (r < 0 || json_array_append_new(items, view)) {
			json_decref(items);
			return r < 0 ? r : -ENOMEM;
		}
	}
	snprintf(kind, sizeof(kind), "%sList", res->kind);
	snprintf(rv, sizeof(rv), "%lld",
		 (long long)json_integer_value(json_object_get(list, "revision")));
	obj = json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", KUBEVIRT_API_VERSION, "kind",
			kind, "metadata", "resourceVersion", rv, "items", items);
	if (!obj)
		return -ENOMEM;
	*out = obj;
	return 0;
}
