/* SPDX-License-Identifier: MIT */
/* Records of a VM in its run dir (vm.h): written whole (tmp + rename). */
#include "agent/vm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/log.h"

int vm_record_save(const struct vm *v, const char *file, json_t *rec)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	int r = 0;

	if (!rec)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", v->rundir, file);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(rec, tmp, JSON_COMPACT) < 0 || rename(tmp, path) < 0) {
		r = -EIO;
		unlink(tmp);
		log_warn("vm %s: cannot write %s: an agent restarted now would not know it",
			 v->name, path);
	}
	json_decref(rec);
	return r;
}

json_t *vm_record_load(const struct vm *v, const char *file)
{
	char path[PATH_MAX + 64];
	json_t *rec;

	snprintf(path, sizeof(path), "%s/%s", v->rundir, file);
	if (access(path, F_OK) < 0)
		return NULL;
	rec = json_load_file(path, 0, NULL);
	if (!json_is_object(rec)) {
		log_warn("vm %s: %s is not a JSON object: ignored", v->name, path);
		json_decref(rec);
		return NULL;
	}
	return rec;
}
