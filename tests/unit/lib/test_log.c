/* SPDX-License-Identifier: MIT */
/* log: --log-format json writes one JSON object per line (src/lib/log.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/log.h"

/* Runs fn with stderr going to a file; returns what it wrote (malloc'd). */
static char *captured(void (*fn)(void))
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *text = calloc(1, 8192);

	assert_non_null(f);
	assert_non_null(text);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	assert_true(fread(text, 1, 8191, f) > 0);
	fclose(f);
	return text;
}

static void log_some(void)
{
	log_info("a \"quoted\"\nmessage %d", 42);
	log_debug("not shown at info");
	log_error_errno(-ENOENT, "cannot open %s", "x.db");
}

static void library_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_library("libexample", fmt, ap);
	va_end(ap);
}

static void log_library_lines(void)
{
	library_say("Error: received handshake message out of context %d\n", 7);
	log_set_level(LOG_LVL_ERROR);
	library_say("not shown at error level\n");
	log_set_level(LOG_LVL_INFO);
}

/* A library's message: the program's time stamp, level and name, "LIB: msg". */
static void test_library_messages(void **state)
{
	char *text;
	int lines = 0;
	json_t *o;

	(void)state;
	log_init("test", LOG_LVL_INFO);
	log_set_format(LOG_FORMAT_JSON);
	text = captured(log_library_lines);
	log_set_format(LOG_FORMAT_TEXT);
	assert_null(strstr(text, "not shown"));
	for (const char *c = text; *c; c++) /* one line: the newline was dropped */
		lines += *c == '\n';
	assert_int_equal(lines, 1);
	o = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
	assert_string_equal(json_string_value(json_object_get(o, "program")), "test");
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
			    "libexample: Error: received handshake message out of context 7");
	assert_non_null(json_string_value(json_object_get(o, "ts")));
	json_decref(o);
	free(text);
}

static void test_json_lines(void **state)
{
	char *text, *save = NULL, *line;
	json_t *o[2];
	int n = 0;

	(void)state;
	log_init("test", LOG_LVL_INFO);
	log_set_format(LOG_FORMAT_JSON);
	text = captured(log_some);
	log_set_format(LOG_FORMAT_TEXT);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(n < 2);
		o[n] = json_loads(line, 0, NULL);
		assert_non_null(o[n]);
		n++;
	}
	assert_int_equal(n, 2); /* the newline inside the message is escaped */
	assert_string_equal(json_string_value(json_object_get(o[0], "level")), "info");
	assert_string_equal(json_string_value(json_object_get(o[0], "program")), "test");
	assert_string_equal(json_string_value(json_object_get(o[0], "msg")),
			    "a \"quoted\"\nmessage 42");
	assert_int_equal(strlen(json_string_value(json_object_get(o[0], "ts"))),
			 strlen("2026-01-01T00:00:00.000Z"));
	assert_null(json_object_get(o[0], "error"));
	assert_string_equal(json_string_value(json_object_get(o[1], "level")), "error");
	assert_string_equal(json_string_value(json_object_get(o[1], "msg")), "cannot open x.db");
	assert_string_equal(json_string_value(json_object_get(o[1], "error")), strerror(ENOENT));
	json_decref(o[0]);
	json_decref(o[1]);
	free(text);
}

static void test_format_names(void **state)
{
	enum log_format f = LOG_FORMAT_TEXT;

	(void)state;
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("text", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("JSON", &f), -EINVAL);
	assert_int_equal(log_format_parse(NULL, &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_lines),
	    cmocka_unit_test(test_format_names),
	    cmocka_unit_test(test_library_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
