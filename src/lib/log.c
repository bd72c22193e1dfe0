/* SPDX-License-Identifier: MIT */
#include "log.h"

#include "lib/clock.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_program = "godwit";
static enum log_level log_level_max = LOG_LVL_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_level_max = level;
}

void log_set_level(enum log_level level)
{
	log_level_max = level;
}

void log_set_format(enum log_format format)
{
	log_format = format;
}

int log_format_parse(const char *name, enum log_format *out)
{
	if (name && strcmp(name, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (name && strcmp(name, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
}

/* One JSON object per line; a message that cannot be formatted is logged as such. */
static void log_vprint_json(enum log_level level, const char *error, const char *fmt, va_list ap)
{
	int64_t ns = clock_unix_ns();
	time_t sec = (time_t)(ns / 1000000000);
	char stamp[40], date[24], *msg = NULL;
	json_t *line;
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp, sizeof(stamp), "%s.%03ldZ", date, (long)(ns % 1000000000 / 1000000));
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	line = json_pack("{s:s, s:s, s:s, s:s}", "ts", stamp, "level", level_names[level],
			 "program", log_program, "msg", msg ? msg : "(unformattable message)");
	if (line && error)
		json_object_set_new(line, "error", json_string(error));
	flockfile(stderr);
	if (!line || json_dumpf(line, stderr, JSON_COMPACT | JSON_ENSURE_ASCII) < 0)
		fputs("{\"msg\": \"(log line lost: out of memory)\"}", stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
	json_decref(line);
	free(msg);
}

static void log_vprint(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	if (log_format == LOG_FORMAT_JSON) {
		log_vprint_json(level, suffix, fmt, ap);
		return;
	}
	int64_t ns = clock_unix_ns();
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char stamp[32];

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ld %s[%s] ", stamp, (long)(ns % 1000000000 / 1000000), log_program,
		level_names[level]);
	vfprintf(stderr, fmt, ap);
	if (suffix)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level_max)
		return;
	va_start(ap, fmt);
	log_vprint(level, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(enum log_level level, int err, const char *fmt, ...)
{
	va_list ap;
	char buf[128];

	if (level > log_level_max)
		return err;
	va_start(ap, fmt);
	log_vprint(level, strerror_r(err < 0 ? -err : err, buf, sizeof(buf)), fmt, ap);
	va_end(ap);
	return err;
}

void log_library(void *cls, const char *fmt, va_list ap)
{
	char *msg = NULL;
	size_t len;

	if (LOG_LVL_WARN > log_level_max)
		return;
	if (vasprintf(&msg, fmt, ap) < 0) {
		log_warn("%s: (unformattable message)", (const char *)cls);
		return;
	}
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	log_warn("%s: %s", (const char *)cls, msg);
	free(msg);
}
