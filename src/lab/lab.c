/* SPDX-License-Identifier: MIT */
/* The lab's name, directory and state file, and which namespaces are its own (lab.h). */
#include "lab.h"

#include "cli/config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lab_check_name(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			n = 0;
	if (n == 0 || n > LAB_NAME_MAX) {
		fprintf(stderr, "godwit lab: bad lab name '%s' (1-%d of a-z, 0-9, '-')\n", name,
			LAB_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

int lab_init(struct lab *lab, const char *name)
{
	int r = lab_check_name(name);

	if (r)
		return r;
	*lab = (struct lab){0};
	snprintf(lab->name, sizeof(lab->name), "%s", name);
	snprintf(lab->dir, sizeof(lab->dir), "%s/%s", LAB_ROOT, name);
	return 0;
}

void lab_free(struct lab *lab)
{
	json_decref(lab->state);
	lab->state = NULL;
}

void lab_path(const struct lab *lab, const char *file, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", lab->dir, file);
}

int lab_load_state(struct lab *lab)
{
	char path[PATH_MAX + 16];
	json_t *st;

	lab_path(lab, "lab.json", path, sizeof(path));
	st = json_load_file(path, 0, NULL);
	if (!st)
		return access(path, F_OK) == 0 ? -EINVAL : -ENOENT;
	json_decref(lab->state);
	lab->state = st;
	lab->nodes = (int)json_integer_value(json_object_get(st, "nodes"));
	return 0;
}

int lab_save_state(const struct lab *lab)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 24];

	lab_path(lab, "lab.json", path, sizeof(path));
	lab_path(lab, "lab.json.tmp", tmp, sizeof(tmp));
	if (json_dump_file(lab->state, tmp, JSON_INDENT(2)) < 0)
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

int lab_record_daemon(struct lab *lab, const char *name, pid_t pid, const char *exe)
{
	json_t *daemons = json_object_get(lab->state, "daemons");

	if (json_array_append_new(
		daemons, json_pack("{s:s, s:i, s:s}", "name", name, "pid", (int)pid, "exe", exe)))
		return -ENOMEM;
	return lab_save_state(lab);
}

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Another existing lab whose name is longer and also prefixes netns owns it. */
static bool longer_lab_claims(const char *lab, const char *netns)
{
	DIR *d = opendir(LAB_ROOT);
	struct dirent *de;
	bool claimed = false;

	if (!d)
		return false;
	while ((de = readdir(d)) && !claimed) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n <= strlen(lab))
			continue;
		if (strncmp(netns, de->d_name, n) == 0 && netns[n] == '-')
			claimed = true;
	}
	closedir(d);
	return claimed;
}

bool lab_owns_netns(const char *lab, const char *netns)
{
	size_t n = strlen(lab);
	const char *rest;

	if (strncmp(netns, lab, n) != 0 || netns[n] != '-')
		return false;
	rest = netns + n + 1;
	if (strcmp(rest, "ul") == 0)
		return true;
	if (strncmp(rest, "node-", 5) == 0 && digits(rest + 5))
		return !longer_lab_claims(lab, netns);
	if (strncmp(rest, "ep-", 3) == 0 && rest[3])
		return !longer_lab_claims(lab, netns);
	if (strcmp(rest, LAB_OUTSIDE) == 0)
		return true;
	/* A gateway namespace of a node's agent: <lab>-node-N-gw-<network>. */
	if (strncmp(rest, "node-", 5) == 0) {
		size_t k = strspn(rest + 5, "0123456789");

		if (k && strncmp(rest + 5 + k, "-gw-", 4) == 0 && rest[5 + k + 4])
			return !longer_lab_claims(lab, netns);
	}
	return false;
}

char *lab_user_config_path(void)
{
	struct config_input in = {.env_config = getenv("GODWIT_CONFIG"), .home = getenv("HOME")};

	return config_path(&in);
}
