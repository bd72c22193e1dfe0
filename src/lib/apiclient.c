/* SPDX-License-Identifier: MIT */
#include "apiclient.h"
#include "lib/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct server {
	char *base_url;	 /* "http(s)://host:port" or "http://localhost" for unix */
	char *unix_path; /* NULL for TCP */
};

struct api_client {
	CURL *curl;
	struct server servers[API_MAX_SERVERS];
	size_t n_servers, current;
	char *base_url;	   /* servers[current]'s */
	char *unix_path;   /* servers[current]'s */
	char *auth_header; /* "Authorization: Bearer ..." or NULL */
	char *ca_file;	   /* NULL: libcurl's default CAs */
	long timeout_ms;
	char curl_error[CURL_ERROR_SIZE];
	char error[CURL_ERROR_SIZE + 512]; /* the last transport failure */
};

struct buffer {
	char *data;
	size_t len;
	size_t cap;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One server of the list: "unix:/path" or "http(s)://host:port[/]". */
static int server_parse(const char *text, size_t len, struct server *out)
{
	struct server sv = {0};

	if (len > 5 && strncmp(text, "unix:", 5) == 0) {
		sv.unix_path = strndup(text + 5, len - 5);
		sv.base_url = strdup("http://localhost");
	} else {
		while (len > 0 && text[len - 1] == '/')
			len--;
		if (len == 0)
			return -EINVAL;
		sv.base_url = strndup(text, len);
	}
	if (!sv.base_url || (text[0] == 'u' && len > 5 && !sv.unix_path)) {
		free(sv.base_url);
		free(sv.unix_path);
		return -ENOMEM;
	}
	*out = sv;
	return 0;
}

static void use_server(struct api_client *c, size_t i)
{
	c->current = i;
	c->base_url = c->servers[i].base_url;
	c->unix_path = c->servers[i].unix_path;
}

int api_client_new(const char *server, const char *token, const char *ca_file,
		   struct api_client **out)
{
	struct api_client *c;
	const char *p, *comma;
	int r = 0;

	if (!server || !*server)
		return -EINVAL;
	pthread_once(&curl_once, curl_init_once);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->timeout_ms = 10000;
	for (p = server; r == 0 && *p; p = comma ? comma + 1 : p + strlen(p)) {
		comma = strchr(p, ',');
		if (c->n_servers == API_MAX_SERVERS)
			r = -E2BIG;
		else
			r = server_parse(p, comma ? (size_t)(comma - p) : strlen(p),
					 &c->servers[c->n_servers]);
		if (r == 0)
			c->n_servers++;
	}
	if (r < 0 || c->n_servers == 0) {
		api_client_free(c);
		return r < 0 ? r : -EINVAL;
	}
	use_server(c, 0);
	if (token && *token && asprintf(&c->auth_header, "Authorization: Bearer %s", token) < 0)
		c->auth_header = NULL;
	if (ca_file && *ca_file)
		c->ca_file = strdup(ca_file);
	c->curl = curl_easy_init();
	if (!c->curl || (token && *token && !c->auth_header) ||
	    (ca_file && *ca_file && !c->ca_file)) {
		api_client_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void api_client_free(struct api_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	for (size_t i = 0; i < c->n_servers; i++) {
		free(c->servers[i].base_url);
		free(c->servers[i].unix_path);
	}
	free(c->auth_header);
	free(c->ca_file);
	free(c);
}

/*
 * After a transfer that failed with rc: whether it never reached the server
 * (no connection was made), so that the next server of the list may take
 * it; then the client moves on to it, with a log line.
 */
static bool next_server(struct api_client *c, CURLcode rc)
{
	curl_off_t connected = 0;
	size_t from = c->current;

	if (c->n_servers < 2)
		return false;
	curl_easy_getinfo(c->curl, CURLINFO_CONNECT_TIME_T, &connected);
	if (!(rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	      (rc == CURLE_OPERATION_TIMEDOUT && connected == 0)))
		return false;
	use_server(c, (c->current + 1) % c->n_servers);
	log_warn("%s%s%s unreachable (%s): trying %s%s%s", c->servers[from].base_url,
		 c->servers[from].unix_path ? " over " : "", c->servers[from].unix_path ?: "",
		 c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc), c->base_url,
		 c->unix_path ? " over " : "", c->unix_path ?: "");
	return true;
}

void api_client_set_timeout_ms(struct api_client *c, long ms)
{
	c->timeout_ms = ms;
}

static int buffer_append(struct buffer *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static size_t collect_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return buffer_append(userdata, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

const char *api_client_error(const struct api_client *c)
{
	return c->error;
}

/* Remembers why the transfer failed (api_client_error) and returns -errno. */
static int transfer_failed(struct api_client *c, CURLcode rc)
{
	const char *why = c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc);
	const char *ca = c->ca_file ? c->ca_file : "the system's CAs (no CA file given)";

	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(c->error, sizeof(c->error),
			 "the certificate of %s does not verify against %s: %s", c->base_url, ca,
			 why);
		return -EPERM;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(c->error, sizeof(c->error), "cannot use the CA file %s: %s", ca, why);
		return -ENOENT;
	default:
		snprintf(c->error, sizeof(c->error), "%s", why);
		break;
	}
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

/* Prepares the handle for one request; returns the header list to free. */
static struct curl_slist *prepare(struct api_client *c, const char *method, const char *path,
				  const char *body)
{
	struct curl_slist *headers = NULL;
	char *url = NULL;

	curl_easy_reset(c->curl);
	if (asprintf(&url, "%s%s", c->base_url, path) < 0)
		return NULL;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	free(url); /* libcurl copies the URL */
	if (c->unix_path)
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	/* https:// only through a verified certificate: libcurl's defaults
	 * (peer and host verification) are never turned off. */
	if (c->ca_file)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_file);
	c->curl_error[0] = '\0';
	c->error[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_error);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (c->auth_header)
		headers = curl_slist_append(headers, c->auth_header);
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		/* no "Expect: 100-continue" round trip before a large body */
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	return headers;
}

int api_request(struct api_client *c, const char *method, const char *path, const json_t *body,
		long *status, json_t **reply)
{
	struct curl_slist *headers = NULL;
	struct buffer resp = {0};
	char *body_text = NULL;
	json_t *decoded = NULL;
	long code = 0;
	CURLcode rc;
	int r;

	if (body) {
		body_text = json_dumps(body, JSON_COMPACT);
		if (!body_text)
			return -ENOMEM;
	}
	for (size_t tried = 0;; tried++) {
		curl_slist_free_all(headers);
		resp.len = 0;
		headers = prepare(c, method, path, body_text);
		if (!headers) {
			r = -ENOMEM;
			goto cleanup;
		}
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect_body);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &resp);
		rc = curl_easy_perform(c->curl);
		if (rc == CURLE_OK || tried + 1 >= c->n_servers || !next_server(c, rc))
			break;
	}
	if (rc != CURLE_OK) {
		r = transfer_failed(c, rc);
		goto cleanup;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (resp.len > 0) {
		decoded = json_loadb(resp.data, resp.len, 0, NULL);
		if (!decoded) {
			r = -EPROTO;
			goto cleanup;
		}
	}
	*status = code;
	*reply = decoded;
	r = 0;
cleanup:
	curl_slist_free_all(headers);
	free(resp.data);
	free(body_text);
	return r;
}

struct stream_state {
	struct api_client *c;
	struct buffer line;
	int (*on_line)(const char *line, size_t len, void *userdata);
	void *userdata;
	int stop; /* non-zero value returned by on_line */
	long status;
	struct buffer error_body;
};

static size_t stream_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct stream_state *st = userdata;
	size_t n = size * nmemb;
	char *start = ptr, *end = ptr + n, *nl;

	if (st->status == 0)
		curl_easy_getinfo(st->c->curl, CURLINFO_RESPONSE_CODE, &st->status);
	if (st->status != 200)
		return buffer_append(&st->error_body, ptr, n) < 0 ? 0 : n;
	while (start < end && (nl = memchr(start, '\n', (size_t)(end - start)))) {
		if (buffer_append(&st->line, start, (size_t)(nl - start)) < 0)
			return 0;
		if (st->line.len > 0) {
			st->stop = st->on_line(st->line.data, st->line.len, st->userdata);
			if (st->stop)
				return 0;
		}
		st->line.len = 0;
		start = nl + 1;
	}
	if (start < end && buffer_append(&st->line, start, (size_t)(end - start)) < 0)
		return 0;
	return n;
}

int api_stream(struct api_client *c, const char *path, long idle_timeout_ms,
	       int (*on_line)(const char *line, size_t len, void *userdata), void *userdata,
	       long *status)
{
	struct stream_state st = {.c = c, .on_line = on_line, .userdata = userdata};
	struct curl_slist *headers;
	CURLcode rc;
	int r;

	for (size_t tried = 0;; tried++) {
		headers = prepare(c, "GET", path, NULL);
		if (!headers)
			return -ENOMEM;
		/* Abort when less than 1 byte/s arrives for idle_timeout_ms. */
		curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, (idle_timeout_ms + 999) / 1000);
		curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, stream_body);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &st);
		rc = curl_easy_perform(c->curl);
		if (rc == CURLE_OK || st.status || st.stop || tried + 1 >= c->n_servers ||
		    !next_server(c, rc))
			break;
		curl_slist_free_all(headers);
	}
	if (st.stop) {
		r = st.stop;
	} else if (st.status != 0 && st.status != 200) {
		*status = st.status;
		r = -EPROTO;
	} else if (rc != CURLE_OK) {
		r = transfer_failed(c, rc);
	} else {
		if (status)
			*status = st.status;
		r = 0;
	}
	curl_slist_free_all(headers);
	free(st.line.data);
	free(st.error_body.data);
	return r;
}

const char *api_error_text(const json_t *reply)
{
	const char *msg = json_string_value(json_object_get(reply, "error"));

	return msg ? msg : "unexpected answer from the server";
}
