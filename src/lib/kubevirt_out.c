/* SPDX-License-Identifier: MIT */
/* godwit VM spec -> KubeVirt VirtualMachine spec (lib/kubevirt.h). */
#include "kubevirt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* spec.template.spec.volumes: the image, then cloud-init when given. */
static json_t *volumes(const json_t *s)
{
	const char *ud = str_of(s, "user_data"), *enc = str_of(s, "user_data_encoding");
	json_t *vols = json_pack("[{s:s, s:{s:s}}]", "name", "containerdisk", "containerDisk",
				 "image", str_of(s, "image") ? str_of(s, "image") : "");

	if (vols && ud &&
	    json_array_append_new(
		vols,
		json_pack("{s:s, s:{s:s}}", "name", "cloudinitdisk", "cloudInitNoCloud",
			  enc && strcmp(enc, "base64") == 0 ? "userDataBase64" : "userData", ud))) {
		json_decref(vols);
		return NULL;
	}
	return vols;
}

static json_t *disks(const json_t *s)
{
	json_t *d = json_pack("[{s:s, s:{s:s}}]", "name", "containerdisk", "disk", "bus", "virtio");

	if (d && str_of(s, "user_data") &&
	    json_array_append_new(
		d, json_pack("{s:s, s:{s:s}}", "name", "cloudinitdisk", "disk", "bus", "virtio"))) {
		json_decref(d);
		return NULL;
	}
	return d;
}

int kubevirt_vm_spec(const json_t *s, json_t **out)
{
	const char *net = str_of(s, "network");
	json_t *network, *tmeta, *spec, *cpu = NULL;
	char mem[32];

	snprintf(mem, sizeof(mem), "%lldMi",
		 (long long)json_integer_value(json_object_get(s, "memory_mib")));
	if (!net || strcmp(net, "default") == 0)
		network = json_pack("{s:s, s:{}}", "name", "default", "pod");
	else
		network =
		    json_pack("{s:s, s:{s:s}}", "name", "default", "multus", "networkName", net);
	tmeta = json_is_true(json_object_get(s, "migratable"))
		    ? json_pack("{s:{s:s}}", "annotations", KUBEVIRT_MIGRATION_ANNOTATION, "true")
		    : json_object();
	if (json_integer_value(json_object_get(s, "cpus")) > 0)
		cpu = json_pack("{s:I}", "cores", json_integer_value(json_object_get(s, "cpus")));
	spec = json_pack(
	    "{s:s, s:{s:o, s:{s:{s:{s:o, s:[{s:s, s:{}}]}, s:{s:{s:s}}, s:o*}, "
	    "s:[o], s:o}}}",
	    "runStrategy", json_is_false(json_object_get(s, "running")) ? "Halted" : "Always",
	    "template", "metadata", tmeta, "spec", "domain", "devices", "disks", disks(s),
	    "interfaces", "name", "default", "bridge", "resources", "requests", "memory", mem,
	    "cpu", cpu, "networks", network, "volumes", volumes(s));
	if (!spec)
		return -ENOMEM;
	*out = spec;
	return 0;
}
