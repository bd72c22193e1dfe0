/* SPDX-License-Identifier: MIT */
/*
 * `godwit port-forward` and `godwit ssh`: connections to a VM (or any Port)
 * through the API's streams (docs/API.md, "Streams"), as virtctl's verbs of
 * the same names: they work from any host that reaches the controller, with
 * no route into the overlay. The far end is an agent on a node the VM does
 * not run on (controller/tunnel.h), so a session survives the VM's
 * migration.
 *
 * A target is `vm/NAME`, `port/NAME` or `NAME` (a VM).
 *
 * port-forward listens on ADDRESS:LOCAL (127.0.0.1, LOCAL = REMOTE unless
 * given; 0 picks one) and opens one stream per accepted connection, relayed
 * by a thread of its own; it prints "Forwarding from ADDR:PORT -> TARGET:REMOTE"
 * once it listens. --stdio relays stdin and stdout over one stream instead
 * (ssh's ProxyCommand).
 *
 * ssh runs the system's ssh with ProxyCommand `godwit port-forward --stdio
 * TARGET %p` (this very executable, the server and token of this invocation
 * passed in GODWIT_SERVER/GODWIT_TOKEN, not on a command line), a
 * godwit-kept known_hosts beside the CLI's config file (accept-new, host
 * key alias the VM's name or port.NAME), and -i -l -p -o passed through.
 */
#include "cli.h"

#include "lib/apiclient.h"
#include "lib/num.h"
#include "lib/proc.h"
#include "lib/stream.h"
#include "lib/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct target {
	const char *plural; /* "vms" or "ports" */
	const char *word;   /* "vm" or "port" */
	const char *name;
};

static int parse_target(const char *arg, struct target *t)
{
	const char *slash = strchr(arg, '/');

	*t = (struct target){.plural = "vms", .word = "vm", .name = arg};
	if (slash) {
		if (strncmp(arg, "vm/", 3) == 0 || strncmp(arg, "vms/", 4) == 0) {
			t->name = slash + 1;
		} else if (strncmp(arg, "port/", 5) == 0 || strncmp(arg, "ports/", 6) == 0) {
			*t = (struct target){.plural = "ports", .word = "port", .name = slash + 1};
		} else {
			fprintf(stderr,
				"godwit: `%s' is not a target (vm/NAME, port/NAME or NAME)\n", arg);
			return -EINVAL;
		}
	}
	if (!*t->name || strlen(t->name) > 63) {
		fprintf(stderr, "godwit: `%s' names no %s\n", arg, t->word);
		return -EINVAL;
	}
	return 0;
}

static int parse_port(const char *s, bool zero_ok, unsigned *out)
{
	long v;

	if (num_parse_long(s, zero_ok ? 0 : 1, 65535, &v) < 0) {
		fprintf(stderr, "godwit: `%s' is not a port number (%d..65535)\n", s,
			zero_ok ? 0 : 1);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

/* The stream's path into buf. */
static void stream_path(const struct target *t, unsigned port, char *buf, size_t len)
{
	snprintf(buf, len, "/v1/%s/%s/portforward/%u", t->plural, t->name, port);
}

/* That the target exists, so that a listener is not started for nothing. */
/* Whether the target exists; *created (may be NULL) its metadata.created. */
static int check_target_created(struct cli *cli, const struct target *t, long long *created)
{
	json_t *reply = NULL;
	char path[160];
	long code;
	int r = 0;

	snprintf(path, sizeof(path), "/v1/%s/%s", t->plural, t->name);
	if (cli_request(cli, "GET", path, NULL, &code, &reply))
		return -EIO;
	if (code == 404) {
		fprintf(stderr, "Error: %s/%s does not exist\n", t->word, t->name);
		r = -ENOENT;
	} else if (code != 200) {
		fprintf(stderr, "Error: %s/%s: %s\n", t->word, t->name, api_error_text(reply));
		r = -EIO;
	} else if (created) {
		*created = (long long)json_integer_value(
		    json_object_get(json_object_get(reply, "metadata"), "created"));
	}
	json_decref(reply);
	return r;
}

static int check_target(struct cli *cli, const struct target *t)
{
	return check_target_created(cli, t, NULL);
}

/*
 * The name ssh keeps the target's host key under: one per incarnation of
 * the object in one cluster (its name, the revision that created it, the
 * cluster's id), so that a VM deleted and made again under the same name, or
 * a new lab, meets accept-new instead of a "host key changed" refusal, while
 * the same VM after a migration is checked against the key it had.
 */
static void host_key_alias(struct cli *cli, const struct target *t, long long created, char *buf,
			   size_t len)
{
	json_t *reply = NULL;
	const char *cluster = NULL;
	long code;

	if (cli_request(cli, "GET", "/v1/healthz", NULL, &code, &reply) == 0 && code == 200)
		cluster = json_string_value(json_object_get(reply, "cluster"));
	snprintf(buf, len, "%s%s.%lld.%.12s", strcmp(t->word, "vm") ? "port." : "", t->name,
		 created, cluster ? cluster : "unknown");
	json_decref(reply);
}

struct forward {
	struct cli *cli;
	char path[160];
	int fd;
};

static void *forward_main(void *data)
{
	struct forward *f = data;
	int s = -1;

	if (cli_stream_open(f->cli, f->path, &s) == 0) {
		stream_relay(f->fd, s);
		close(s);
	}
	close(f->fd);
	free(f);
	return NULL;
}

static int listen_local(const char *address, unsigned port, int *out, unsigned *bound)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(sa);
	int fd, one = 1, r;

	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
		fprintf(stderr, "godwit: --address: `%s' is not an IPv4 address\n", address);
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		r = -errno;
		fprintf(stderr, "godwit: cannot listen on %s:%u: %s\n", address, port,
			strerror(-r));
		close(fd);
		return r;
	}
	*bound = ntohs(sa.sin_port);
	*out = fd;
	return 0;
}

static int serve(struct cli *cli, const struct target *t, const char *address, unsigned local,
		 unsigned remote)
{
	unsigned bound = 0;
	int lfd = -1, r;

	r = check_target(cli, t);
	if (r < 0)
		return 1;
	if (listen_local(address, local, &lfd, &bound) < 0)
		return 1;
	printf("Forwarding from %s:%u -> %s/%s:%u\n", address, bound, t->word, t->name, remote);
	fflush(stdout);
	for (;;) {
		struct forward *f;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			fprintf(stderr, "godwit: accept: %s\n", strerror(errno));
			break;
		}
		f = calloc(1, sizeof(*f));
		if (!f) {
			close(fd);
			continue;
		}
		f->cli = cli;
		f->fd = fd;
		stream_path(t, remote, f->path, sizeof(f->path));
		if (worker_detached(forward_main, f, 0) < 0) {
			close(fd);
			free(f);
		}
	}
	close(lfd);
	return 1;
}

int cmd_port_forward(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {{"stdio", no_argument, NULL, 's'},
					     {"address", required_argument, NULL, 'a'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *address = "127.0.0.1", *ports, *colon;
	unsigned local, remote;
	struct target t;
	bool stdio = false;
	char path[160];
	int opt, fd, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (opt == 's')
			stdio = true;
		else if (opt == 'a')
			address = optarg;
		else if (opt == 'h') {
			cli_usage(verb, stdout);
			return 0;
		} else
			return cli_bad_flag(verb, opt, argv);
	}
	if (argc - optind != 2) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	if (parse_target(argv[optind], &t) < 0)
		return EXIT_USAGE;
	ports = argv[optind + 1];
	colon = strchr(ports, ':');
	if (colon && stdio) {
		fprintf(stderr, "godwit port-forward: --stdio takes REMOTE only, not `%s'\n",
			ports);
		return EXIT_USAGE;
	}
	if (parse_port(colon ? colon + 1 : ports, false, &remote) < 0)
		return EXIT_USAGE;
	local = remote;
	if (colon) {
		char lbuf[16];

		snprintf(lbuf, sizeof(lbuf), "%.*s", (int)(colon - ports), ports);
		if (parse_port(lbuf, true, &local) < 0)
			return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!stdio)
		return serve(cli, &t, address, local, remote);
	stream_path(&t, remote, path, sizeof(path));
	if (cli_stream_open(cli, path, &fd) < 0)
		return 1;
	r = stream_relay4(fd, fd, STDIN_FILENO, STDOUT_FILENO);
	close(fd);
	return r < 0 ? 1 : 0;
}

#define SSH_ARGS_MAX 64

/* 'text' quoted for sh (ssh runs ProxyCommand with the user's shell). */
static char *sh_quote(const char *text)
{
	size_t n = 3;
	char *out, *o;

	for (const char *p = text; *p; p++)
		n += *p == '\'' ? 4 : 1;
	out = malloc(n);
	if (!out)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *p = text; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* The godwit-kept known_hosts: beside the CLI's config file. */
static int known_hosts_path(struct cli *cli, char *buf, size_t len)
{
	char *cfg = config_path(&cli->cfg), *slash;
	int r;

	if (!cfg)
		return -ENOMEM;
	slash = strrchr(cfg, '/');
	if (slash)
		*slash = '\0';
	r = proc_mkdir_p(slash ? cfg : ".", 0700);
	if ((size_t)snprintf(buf, len, "%s/known_hosts", slash ? cfg : ".") >= len)
		r = -ENAMETOOLONG;
	free(cfg);
	return r;
}

int cmd_ssh(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	char *args[SSH_ARGS_MAX + 1], exe[PATH_MAX], known[PATH_MAX],
	    *quoted_exe = NULL, *quoted_target = NULL, *proxy = NULL, *o_known = NULL,
	    *o_alias = NULL, dest[256], alias[128];
	const char *server, *token, *user = NULL, *at, *spec;
	struct target t;
	long long created = 0;
	int opt, n = 0;
	ssize_t len;

	optind = 0;
	args[n++] = "ssh";
	while ((opt = getopt_long(argc, argv, "+:hi:l:p:o:", opts, NULL)) != -1) {
		char flag[3] = {'-', (char)opt, '\0'};

		if (opt == 'h') {
			cli_usage(verb, stdout);
			return 0;
		}
		if (opt != 'i' && opt != 'l' && opt != 'p' && opt != 'o')
			return cli_bad_flag(verb, opt, argv);
		if (n + 2 > SSH_ARGS_MAX - 16) {
			fprintf(stderr, "godwit ssh: too many options\n");
			return EXIT_USAGE;
		}
		args[n++] = strdup(flag);
		args[n++] = optarg;
	}
	if (optind >= argc) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	spec = argv[optind++];
	at = strrchr(spec, '@');
	if (at) {
		static char ubuf[128];

		snprintf(ubuf, sizeof(ubuf), "%.*s", (int)(at - spec), spec);
		user = ubuf;
		spec = at + 1;
	}
	if (parse_target(spec, &t) < 0)
		return EXIT_USAGE;
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (check_target_created(cli, &t, &created) < 0 || cli_server(cli, &server, &token) < 0)
		return 1;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0) {
		fprintf(stderr, "godwit ssh: cannot find this executable: %s\n", strerror(errno));
		return 1;
	}
	exe[len] = '\0';
	if (known_hosts_path(cli, known, sizeof(known)) < 0) {
		fprintf(stderr, "godwit ssh: no place for the known_hosts file\n");
		return 1;
	}
	host_key_alias(cli, &t, created, alias, sizeof(alias));
	snprintf(dest, sizeof(dest), "%s%s%s%s", user ? user : "", user ? "@" : "",
		 strcmp(t.word, "vm") ? "port." : "", t.name);
	quoted_exe = sh_quote(exe);
	quoted_target = sh_quote(spec);
	if (!quoted_exe || !quoted_target ||
	    asprintf(&proxy, "ProxyCommand=%s port-forward --stdio %s %%p", quoted_exe,
		     quoted_target) < 0 ||
	    asprintf(&o_known, "UserKnownHostsFile=%s", known) < 0 ||
	    asprintf(&o_alias, "HostKeyAlias=%s", alias) < 0) {
		fprintf(stderr, "godwit: out of memory\n");
		return 1;
	}
	args[n++] = "-o";
	args[n++] = proxy;
	args[n++] = "-o";
	args[n++] = o_known;
	args[n++] = "-o";
	args[n++] = "GlobalKnownHostsFile=/dev/null";
	args[n++] = "-o";
	args[n++] = "StrictHostKeyChecking=accept-new";
	args[n++] = "-o";
	args[n++] = o_alias;
	args[n++] = "-o";
	args[n++] = "CheckHostIP=no";
	args[n++] = dest;
	if (argc - optind > SSH_ARGS_MAX - n) {
		fprintf(stderr, "godwit ssh: too many arguments\n");
		return EXIT_USAGE;
	}
	while (optind < argc)
		args[n++] = argv[optind++];
	args[n] = NULL;
	setenv("GODWIT_SERVER", server, 1);
	if (cli->target.ca_file)
		setenv("GODWIT_CA", cli->target.ca_file, 1);
	if (token)
		setenv("GODWIT_TOKEN", token, 1);
	fflush(NULL);
	execvp("ssh", args);
	fprintf(stderr, "godwit ssh: cannot run ssh: %s (install openssh-client)\n",
		strerror(errno));
	return 1;
}
