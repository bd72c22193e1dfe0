/* SPDX-License-Identifier: MIT */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void print_argv(FILE *f, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
}

static int run(const char *const *argv, bool quiet, char **out)
{
	int pipefd[2] = {-1, -1};
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int status, r = 0;
	pid_t pid;

	if (out && pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto cleanup;
	}
	if (pid == 0) {
		if (out)
			dup2(pipefd[1], STDOUT_FILENO);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out) {
		close(pipefd[1]);
		pipefd[1] = -1;
		for (;;) {
			ssize_t n;

			if (len + 4096 + 1 > cap) {
				char *grown = realloc(buf, cap = cap ? cap * 2 : 8192);

				if (!grown) {
					r = -ENOMEM;
					break;
				}
				buf = grown;
			}
			n = read(pipefd[0], buf + len, cap - len - 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += n;
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			goto cleanup;
		}
	}
	if (!r && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (!quiet) {
			fprintf(stderr, "command failed: ");
			print_argv(stderr, argv);
			if (WIFEXITED(status))
				fprintf(stderr, " (exit %d)\n", WEXITSTATUS(status));
			else
				fprintf(stderr, " (signal %d)\n", WTERMSIG(status));
		}
		r = -EIO;
	}
	if (!r && out) {
		buf[len] = '\0';
		*out = buf;
		buf = NULL;
	}
cleanup:
	free(buf);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return r;
}

int run_cmd(const char *const *argv, bool quiet)
{
	return run(argv, quiet, NULL);
}

int run_capture(const char *const *argv, char **out)
{
	return run(argv, true, out);
}
