/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "yamljson.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *config_path(const struct config_input *in)
{
	char *p;

	if (in->env_config && *in->env_config)
		return strdup(in->env_config);
	if (asprintf(&p, "%s/.godwit/config", in->home && *in->home ? in->home : "/root") < 0)
		return NULL;
	return p;
}

int config_load(const char *path, json_t **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *cfg;

	if (access(path, F_OK) != 0 && errno == ENOENT) {
		cfg = json_pack("{s:{}}", "contexts");
		if (!cfg)
			return -ENOMEM;
		*out = cfg;
		return 0;
	}
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg) {
		snprintf(err, errlen, "%s: line %d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(cfg) || (json_object_get(cfg, "contexts") &&
				     !json_is_object(json_object_get(cfg, "contexts")))) {
		snprintf(err, errlen, "%s: expected an object with a \"contexts\" object", path);
		json_decref(cfg);
		return -EINVAL;
	}
	if (!json_object_get(cfg, "contexts"))
		json_object_set_new(cfg, "contexts", json_object());
	*out = cfg;
	return 0;
}

static int read_token_file(const char *path, char **out, char *err, size_t errlen)
{
	char buf[512];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		int r = -errno;

		snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(-r));
		return r;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

void config_target_free(struct config_target *t)
{
	free(t->server);
	free(t->token);
	free(t->server_source);
	free(t->ca_file);
	*t = (struct config_target){0};
}

int config_resolve(const struct config_input *in, struct config_target *out, char *err,
		   size_t errlen)
{
	struct config_target t = {0};
	json_t *cfg = NULL, *ctx = NULL;
	char *path = NULL, *ctxname = NULL;
	const char *server = NULL, *token = NULL, *ca = NULL;
	bool server_from_ctx = false, token_from_ctx = false;
	int r;

	path = config_path(in);
	if (!path)
		return -ENOMEM;
	/* The file only matters when flags/env leave something open. */
	if (in->flag_lab || !(in->flag_server || in->env_server) || !in->env_token) {
		r = config_load(path, &cfg, err, errlen);
		if (r)
			goto cleanup;
		if (in->flag_lab) {
			if (asprintf(&ctxname, "lab-%s", in->flag_lab) < 0) {
				r = -ENOMEM;
				goto cleanup;
			}
		} else if (json_string_value(json_object_get(cfg, "current-context"))) {
			ctxname =
			    strdup(json_string_value(json_object_get(cfg, "current-context")));
			if (!ctxname) {
				r = -ENOMEM;
				goto cleanup;
			}
		}
		if (ctxname)
			ctx = json_object_get(json_object_get(cfg, "contexts"), ctxname);
		if (in->flag_lab && !json_is_object(ctx)) {
			snprintf(err, errlen,
				 "no context %s in %s: is lab %s up? (godwit lab up --name %s)",
				 ctxname, path, in->flag_lab, in->flag_lab);
			r = -ENOENT;
			goto cleanup;
		}
	}

	if (in->flag_server)
		server = in->flag_server;
	else if (!in->flag_lab && in->env_server && *in->env_server)
		server = in->env_server;
	else if (json_string_value(json_object_get(ctx, "server"))) {
		server = json_string_value(json_object_get(ctx, "server"));
		server_from_ctx = true;
	}
	if (in->flag_ca)
		ca = in->flag_ca;
	else if (!in->flag_lab && in->env_ca)
		ca = in->env_ca;
	else if (server_from_ctx)
		ca = json_string_value(json_object_get(ctx, "ca-file"));
	if (!in->flag_lab && in->env_token && *in->env_token)
		token = in->env_token;
	else
		token_from_ctx = true;

	if (!server) {
		snprintf(err, errlen,
			 "no controller configured: run `godwit lab up`, or set GODWIT_SERVER "
			 "(or pass --server URL)");
		r = -ENOENT;
		goto cleanup;
	}
	t.server = strdup(server);
	if (server_from_ctx)
		r = asprintf(&t.server_source, "context %s (%s)", ctxname, path);
	else
		r = asprintf(&t.server_source, "%s",
			     in->flag_server ? "--server" : "GODWIT_SERVER");
	if (r < 0 || !t.server) {
		t.server_source = NULL;
		r = -ENOMEM;
		goto cleanup;
	}
	r = 0;
	if (ca && *ca && !(t.ca_file = strdup(ca))) {
		r = -ENOMEM;
		goto cleanup;
	}
	if (!token_from_ctx) {
		t.token = strdup(token);
		if (!t.token)
			r = -ENOMEM;
	} else if (json_string_value(json_object_get(ctx, "token-file"))) {
		r = read_token_file(json_string_value(json_object_get(ctx, "token-file")), &t.token,
				    err, errlen);
	} else if (json_string_value(json_object_get(ctx, "token"))) {
		t.token = strdup(json_string_value(json_object_get(ctx, "token")));
		if (!t.token)
			r = -ENOMEM;
	}
	if (r)
		goto cleanup;
	*out = t;
	t = (struct config_target){0};
cleanup:
	config_target_free(&t);
	json_decref(cfg);
	free(ctxname);
	free(path);
	return r;
}

int config_lab_name(const struct config_input *in, char *buf, size_t len)
{
	const char *name = "godwit";
	const char *cur;
	json_t *cfg = NULL;
	char *path;
	char err[256];
	int r = 0;

	if (in->flag_lab) {
		name = in->flag_lab;
	} else {
		path = config_path(in);
		if (!path)
			return -ENOMEM;
		if (config_load(path, &cfg, err, sizeof(err)) == 0) {
			cur = json_string_value(json_object_get(cfg, "current-context"));
			if (cur && strncmp(cur, "lab-", 4) == 0 && cur[4])
				name = cur + 4;
		}
		free(path);
	}
	if (strlen(name) >= len)
		r = -ENAMETOOLONG;
	else
		strcpy(buf, name);
	json_decref(cfg);
	return r;
}

static int mkdir_parent(const char *path)
{
	char *copy = strdup(path);
	int r = 0;

	if (!copy)
		return -ENOMEM;
	if (mkdir(dirname(copy), 0700) < 0 && errno != EEXIST)
		r = -errno;
	free(copy);
	return r;
}

/* Writes cfg to path as JSON, or as YAML: atomic rewrite, mode 0600. */
static int store_as(const char *path, json_t *cfg, bool yaml)
{
	char *tmp;
	FILE *f;
	int fd, r;

	r = mkdir_parent(path);
	if (r)
		return r;
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto cleanup;
	}
	if (yaml) {
		f = fdopen(fd, "w");
		if (!f) {
			r = -errno;
			close(fd);
			unlink(tmp);
			goto cleanup;
		}
		r = yaml_emit(f, cfg);
		if (fclose(f) != 0 && !r)
			r = -errno;
	} else {
		r = json_dumpfd(cfg, fd, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -EIO;
		if (!r && write(fd, "\n", 1) != 1)
			r = -EIO;
		if (close(fd) < 0 && !r)
			r = -errno;
	}
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
cleanup:
	free(tmp);
	return r;
}

static int config_store(const char *path, json_t *cfg)
{
	return store_as(path, cfg, false);
}

int config_write_kubeconfig(const char *path, const char *name, const char *server,
			    const char *ca_file, const char *token)
{
	json_t *kc = json_pack(
	    "{s:s, s:s, s:[{s:s, s:{s:s, s:s}}], s:[{s:s, s:{s:s}}], s:[{s:s, s:{s:s, s:s, "
	    "s:s}}], s:s, s:{}}",
	    "apiVersion", "v1", "kind", "Config", "clusters", "name", name, "cluster", "server",
	    server, "certificate-authority", ca_file, "users", "name", name, "user", "token", token,
	    "contexts", "name", name, "context", "cluster", name, "user", name, "namespace",
	    "default", "current-context", name, "preferences");
	int r;

	if (!kc)
		return -ENOMEM;
	r = store_as(path, kc, true);
	json_decref(kc);
	return r;
}

int config_set_context(const char *path, const char *name, const char *server,
		       const char *token_file, const char *ca_file, bool make_current)
{
	char err[256];
	json_t *cfg = NULL, *ctx;
	int r;

	r = config_load(path, &cfg, err, sizeof(err));
	if (r == -EINVAL) /* a broken file is replaced rather than blocking the lab */
		r = (cfg = json_pack("{s:{}}", "contexts")) ? 0 : -ENOMEM;
	if (r)
		return r;
	ctx = json_pack("{s:s}", "server", server);
	if (ctx && token_file && json_object_set_new(ctx, "token-file", json_string(token_file)))
		json_decref(ctx), ctx = NULL;
	if (ctx && ca_file && json_object_set_new(ctx, "ca-file", json_string(ca_file)))
		json_decref(ctx), ctx = NULL;
	if (!ctx || json_object_set_new(json_object_get(cfg, "contexts"), name, ctx) ||
	    (make_current && json_object_set_new(cfg, "current-context", json_string(name)))) {
		r = -ENOMEM;
		goto cleanup;
	}
	r = config_store(path, cfg);
cleanup:
	json_decref(cfg);
	return r;
}

int config_remove_context(const char *path, const char *name)
{
	char err[256];
	json_t *cfg = NULL;
	const char *cur;
	int r;

	if (access(path, F_OK) != 0)
		return 0;
	r = config_load(path, &cfg, err, sizeof(err));
	if (r)
		return r;
	if (!json_object_get(json_object_get(cfg, "contexts"), name)) {
		json_decref(cfg);
		return 0;
	}
	json_object_del(json_object_get(cfg, "contexts"), name);
	cur = json_string_value(json_object_get(cfg, "current-context"));
	if (cur && strcmp(cur, name) == 0)
		json_object_del(cfg, "current-context");
	r = config_store(path, cfg);
	json_decref(cfg);
	return r;
}
