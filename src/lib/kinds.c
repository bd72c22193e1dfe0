/* SPDX-License-Identifier: MIT */
#include "lib/kinds.h"

#include <errno.h>
#include <string.h>

const struct kind_info kind_table[KIND__COUNT] = {
    [KIND_NETWORK] = {"Network", "networks", "network", {"network", "networks", "net", "nets"}},
    [KIND_PORT] = {"Port", "ports", "port", {"port", "ports", "po", NULL}},
    [KIND_NODE] = {"Node", "nodes", "node", {"node", "nodes", "no", NULL}},
    [KIND_MIGRATION] = {"Migration",
			"migrations",
			"migration",
			{"migration", "migrations", "mig", NULL}},
    [KIND_VM] = {"VM", "vms", "vm", {"vm", "vms", "virtualmachine", "virtualmachines"}},
    [KIND_EVENT] = {"Event", "events", "event", {"event", "events", "ev", NULL}},
};

json_t *kind_object_new(enum kind k, const char *name, json_t *spec)
{
	json_t *obj;

	if (!spec)
		return NULL;
	obj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", API_VERSION, "kind", kind_str(k),
			"metadata", "name", name);
	if (!obj) {
		json_decref(spec);
		return NULL;
	}
	if (json_object_set_new(obj, "spec", spec) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

const char *kind_str(enum kind k)
{
	return kind_table[k].name;
}

const char *kind_plural(enum kind k)
{
	return kind_table[k].plural;
}

int kind_from_str(const char *name, enum kind *out)
{
	for (int k = 0; name && k < KIND__COUNT; k++) {
		if (strcmp(kind_table[k].name, name) == 0) {
			*out = (enum kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

int kind_from_plural(const char *plural, enum kind *out)
{
	for (int k = 0; plural && k < KIND__COUNT; k++) {
		if (strcmp(kind_table[k].plural, plural) == 0) {
			*out = (enum kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

const struct kind_info *kind_lookup(const char *word)
{
	for (int k = 0; word && k < KIND__COUNT; k++) {
		const struct kind_info *ki = &kind_table[k];

		if (strcmp(word, ki->name) == 0 || strcmp(word, ki->plural) == 0 ||
		    strcmp(word, ki->singular) == 0)
			return ki;
		for (int a = 0; a < KIND_ALIASES_MAX && ki->aliases[a]; a++)
			if (strcmp(word, ki->aliases[a]) == 0)
				return ki;
	}
	return NULL;
}

enum kind kind_of(const struct kind_info *ki)
{
	return (enum kind)(ki - kind_table);
}

bool object_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len < 1 || len > OBJECT_NAME_MAX || name[0] == '-' || name[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}
