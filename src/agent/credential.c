/* SPDX-License-Identifier: MIT */
#include "credential.h"
#include "lib/apiclient.h"
#include "lib/log.h"
#include "lib/secret.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define JOIN_BACKOFF_MIN_MS 200
#define JOIN_BACKOFF_MAX_MS 5000

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int read_named(const char *what, const char *path, char **out)
{
	int r = secret_read_file(path, out);

	if (r == -EINVAL)
		log_error("%s %s: holds a blank or a control character inside the token", what,
			  path);
	else if (r == -E2BIG)
		log_error("%s %s: longer than %d characters", what, path, SECRET_MAX);
	else if (r == -ENODATA)
		log_error("%s %s: empty", what, path);
	else if (r < 0 && r != -ENOENT)
		log_error_errno(r, "cannot read the %s %s", what, path);
	return r;
}

/* The answer of POST /v1/join, written to the state dir. */
static int keep(const struct credential_config *cfg, const json_t *reply, char **token,
		char **stream_secret)
{
	const char *cred = json_string_value(json_object_get(reply, "credential"));
	const char *stream = json_string_value(json_object_get(reply, "stream_secret"));
	char path[PATH_MAX];
	char *t = NULL, *s = NULL;
	int r;

	if (!cred || !stream || !*cred || !*stream) {
		log_error("join: the controller's answer has no credential and stream secret");
		return -EPROTO;
	}
	if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cannot create the state dir %s", cfg->state_dir);
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, STREAM_SECRET_FILE);
	r = secret_write_file(path, stream);
	if (r < 0)
		return log_error_errno(r, "cannot write %s", path);
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, CREDENTIAL_FILE);
	r = secret_write_file(path, cred);
	if (r < 0)
		return log_error_errno(r, "cannot write %s", path);
	t = strdup(cred);
	s = strdup(stream);
	if (!t || !s) {
		free(t);
		free(s);
		return -ENOMEM;
	}
	*token = t;
	*stream_secret = s;
	log_info("node %s joined: its credential is kept in %s", cfg->node, path);
	return 0;
}

static int join(const struct credential_config *cfg, char **token, char **stream_secret)
{
	struct api_client *c = NULL;
	char *join_token = NULL;
	json_t *body = NULL, *reply = NULL;
	long status = 0, backoff = JOIN_BACKOFF_MIN_MS;
	bool said = false;
	int r;

	r = read_named("join token file", cfg->join_token_file, &join_token);
	if (r == -ENOENT)
		log_error("the join token file %s does not exist", cfg->join_token_file);
	if (r < 0)
		return r;
	body = json_pack("{s:s, s:s}", "node", cfg->node, "token", join_token);
	r = body ? api_client_new(cfg->server, NULL, cfg->ca_file, &c) : -ENOMEM;
	if (r < 0)
		goto cleanup;
	for (;;) {
		r = api_request(c, "POST", "/v1/join", body, &status, &reply);
		if (r == 0 && status == 200) {
			r = keep(cfg, reply, token, stream_secret);
			break;
		}
		if (r == 0 && status >= 400 && status < 500) {
			log_error("join of node %s refused by %s: HTTP %ld: %s", cfg->node,
				  cfg->server, status, api_error_text(reply));
			r = -EACCES;
			break;
		}
		if (!said) {
			if (r < 0)
				log_warn_errno(r, "join: cannot reach %s yet; retrying",
					       cfg->server);
			else
				log_warn("join: %s answers HTTP %ld; retrying", cfg->server,
					 status);
			said = true;
		}
		json_decref(reply);
		reply = NULL;
		if (cfg->stop && *cfg->stop) {
			r = -EINTR;
			break;
		}
		sleep_ms(backoff);
		backoff = backoff * 2 > JOIN_BACKOFF_MAX_MS ? JOIN_BACKOFF_MAX_MS : backoff * 2;
	}
cleanup:
	if (join_token)
		memset(join_token, 0, strlen(join_token));
	free(join_token);
	json_decref(body); /* holds a copy of the join token */
	json_decref(reply);
	api_client_free(c);
	return r;
}

int credential_obtain(const struct credential_config *cfg, char **token, char **stream_secret)
{
	char path[PATH_MAX], *t = NULL, *s = NULL;
	int r;

	if (cfg->token_file) {
		r = read_named("token file", cfg->token_file, &t);
		if (r == -ENOENT)
			log_error("the token file %s does not exist", cfg->token_file);
		if (r < 0)
			return r;
	} else {
		snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, CREDENTIAL_FILE);
		r = read_named("credential", path, &t);
		if (r == -ENOENT && cfg->join_token_file)
			return join(cfg, token, stream_secret);
		if (r == -ENOENT)
			log_error("node %s has no credential yet (%s): start it with "
				  "--join-token-file (a token from `godwit token create --node "
				  "%s`) or --token-file",
				  cfg->node, path, cfg->node);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, STREAM_SECRET_FILE);
	r = read_named("stream secret", path, &s);
	if (r == -ENOENT) {
		s = strdup(t); /* an older credential: the controller presents the token */
		r = s ? 0 : -ENOMEM;
	}
	if (r < 0) {
		free(t);
		return r;
	}
	*token = t;
	*stream_secret = s;
	return 0;
}
