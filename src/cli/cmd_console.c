/* SPDX-License-Identifier: MIT */
/*
 * `godwit console VM`: the VM's serial console, from any host that reaches
 * the controller: a stream of the API (POST /v1/vms/VM/console, docs/API.md)
 * that the controller relays to the agent of the VM's node, which connects
 * to the VM's console socket (status.console). The CLI relays stdin to it
 * and it to stdout until Ctrl-] or the end of either side. On a terminal, stdin is put in raw mode
 * (restored at exit) so that keys go to the guest as typed. When stdin ends (a pipe), the CLI stops
 * sending and prints what the console still says until it is quiet for
 * DRAIN_MS, so that `echo cmd | godwit console vm` shows the answer.
 */
#include "cli.h"
#include "lib/stream.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE_CHAR 0x1d /* Ctrl-] */
#define DRAIN_MS    500

/* Relays until Ctrl-], the socket's end, or quiet after stdin's end. 0 or -errno. */
static int relay(int sock, bool tty)
{
	struct pollfd fds[2] = {{.fd = sock, .events = POLLIN},
				{.fd = STDIN_FILENO, .events = POLLIN}};
	bool stdin_open = true;
	char buf[4096];
	int r;

	for (;;) {
		int n = poll(fds, stdin_open ? 2 : 1, stdin_open ? -1 : DRAIN_MS);
		ssize_t got;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0; /* quiet after stdin's end */
		if (fds[0].revents) {
			got = read(sock, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				return got < 0 ? -errno : 0;
			r = stream_write_all(STDOUT_FILENO, buf, (size_t)got);
			if (r < 0)
				return r;
		}
		if (stdin_open && fds[1].revents) {
			got = read(STDIN_FILENO, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				/* No half-close: QEMU's console socket takes
				 * its end of input as the client leaving, and
				 * the answer would be lost; quiet ends it. */
				stdin_open = false;
				continue;
			}
			if (tty) {
				char *esc = memchr(buf, ESCAPE_CHAR, (size_t)got);

				if (esc) {
					r = stream_write_all(sock, buf, (size_t)(esc - buf));
					return r;
				}
			}
			r = stream_write_all(sock, buf, (size_t)got);
			if (r < 0)
				return r;
		}
	}
}

int cmd_console(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO);
	char path[128];
	int fd = -1, r, ret = 1;

	r = cli_operands(verb, argc, argv, 1);
	if (r != CLI_GO_ON)
		return r;
	if (strlen(argv[optind]) > 63) {
		fprintf(stderr, "Error: `%s' is not a VM name\n", argv[optind]);
		return 1;
	}
	snprintf(path, sizeof(path), "/v1/vms/%s/console", argv[optind]);
	if (cli_stream_open(cli, path, &fd) < 0)
		goto cleanup;
	if (tty) {
		fprintf(stderr, "Connected to the console of vm/%s (Ctrl-] leaves).\r\n",
			argv[optind]);
		if (tcgetattr(STDIN_FILENO, &saved) == 0) {
			raw = saved;
			cfmakeraw(&raw);
			tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		} else {
			tty = false;
		}
	}
	r = relay(fd, tty);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fprintf(stderr, "\nDisconnected from vm/%s.\n", argv[optind]);
	}
	if (r < 0)
		fprintf(stderr, "Error: console of vm/%s: %s\n", argv[optind], strerror(-r));
	else
		ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	return ret;
}
