/* SPDX-License-Identifier: MIT */
/*
 * `godwit drill ENDPOINT --to NODE`: an operator's rehearsal of the migration
 * path without a hypervisor. The endpoint's namespace plays the VM's memory
 * (its sockets survive); only its link moves:
 *
 *   1. a Migration is created; the target's agent plugs a second link (same
 *      MAC, no address, down) into the namespace with the port in standby,
 *      then every node replicates the MAC to source and target;
 *   2. once Replicating, the new link is brought up silent (no address, no
 *      IPv6): whatever reaches it before activation is an early delivery;
 *   3. switchover: the old link goes down (the VM's blackout, --silence-ms),
 *      the endpoint announces itself on the new link (a QEMU-style RARP, a
 *      gratuitous ARP, or nothing for a silent guest), the address moves;
 *   4. the hypervisor's "complete" is reported; the source's agent removes the
 *      old link when the fabric points at the target only.
 */
#include "drill.h"

#include "cli/cli.h"
#include "cli/migclient.h"
#include "lab/netns.h"

#include "lib/num.h"
#include "lib/addr.h"
#include "lib/phases.h"
#include "lib/clock.h"
#include "lib/kinds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DRILL_PHASE_DEADLINE_MS	   60000
#define DRILL_OLD_LINK_DEADLINE_MS 15000
#define DRILL_ACTIVATION_WAIT_MS   1000

/* Builds the announcement frame (60 bytes, padded): RARP as QEMU sends it after
 * a migration (op 3, sender = target = the MAC), or a gratuitous ARP request. */
size_t drill_build_announce(enum drill_announce kind, const unsigned char mac[6], uint32_t ipv4_be,
			    unsigned char frame[60])
{
	unsigned char *arp = frame + 14;

	memset(frame, 0, 60);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, mac, 6);
	frame[12] = kind == DRILL_ANNOUNCE_RARP ? 0x80 : 0x08; /* 0x8035 RARP, 0x0806 ARP */
	frame[13] = kind == DRILL_ANNOUNCE_RARP ? 0x35 : 0x06;
	arp[0] = 0x00, arp[1] = 0x01; /* Ethernet */
	arp[2] = 0x08, arp[3] = 0x00; /* IPv4 */
	arp[4] = 6, arp[5] = 4;
	arp[6] = 0x00, arp[7] = kind == DRILL_ANNOUNCE_RARP ? 3 : 1;
	memcpy(arp + 8, mac, 6);
	if (kind == DRILL_ANNOUNCE_RARP) {
		memcpy(arp + 18, mac, 6); /* sender and target IPv4 stay 0.0.0.0 */
	} else {
		memcpy(arp + 14, &ipv4_be, 4); /* gratuitous: sender IP = target IP */
		memcpy(arp + 24, &ipv4_be, 4);
	}
	return 60;
}

/* Sends one frame on ifname inside netns through a packet socket created there. */
static int send_in_netns(const char *netns, const char *ifname, const unsigned char *frame,
			 size_t len)
{
	int saved, sock = -1, r, back;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};

	r = proc_netns_enter(netns, &saved);
	if (r < 0)
		return r;
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	r = sock < 0 ? -errno : sll.sll_ifindex == 0 ? -ENODEV : 0;
	back = proc_netns_leave(saved);
	if (r == 0)
		r = back;
	if (r)
		goto cleanup;
	sll.sll_halen = 6;
	memset(sll.sll_addr, 0xff, 6);
	if (sendto(sock, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		r = -errno;
cleanup:
	if (sock >= 0)
		close(sock);
	return r;
}

/* Links of the namespace as `ip -j addr show` reports them. */
static json_t *netns_links(const char *netns)
{
	char *out = NULL;
	json_t *links;

	if (run_capture((const char *const[]){"ip", "-n", netns, "-j", "addr", "show", NULL}, &out))
		return NULL;
	links = json_loads(out, 0, NULL);
	free(out);
	return json_is_array(links) ? links : (json_decref(links), NULL);
}

static bool link_has_ipv4(json_t *link, const char *ipv4)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(link, "addr_info"), i,
			   a) if (json_string_value(json_object_get(a, "local")) &&
				  strcmp(json_string_value(json_object_get(a, "local")), ipv4) ==
				      0) return true;
	return false;
}

/* Finds the old link (carries the address) and the new one (same MAC, no
 * address). Either name is left empty when missing. */
static int find_links(const char *netns, const char *mac, const char *ipv4, char old[IFNAMSIZ],
		      char new[IFNAMSIZ])
{
	json_t *links = netns_links(netns), *link;
	size_t i;

	if (!links)
		return -EIO;
	old[0] = new[0] = '\0';
	json_array_foreach(links, i, link)
	{
		const char *name = json_string_value(json_object_get(link, "ifname"));
		const char *addr = json_string_value(json_object_get(link, "address"));

		if (!name || !addr || strcasecmp(addr, mac) != 0)
			continue;
		if (link_has_ipv4(link, ipv4))
			snprintf(old, IFNAMSIZ, "%s", name);
		else
			snprintf(new, IFNAMSIZ, "%s", name);
	}
	json_decref(links);
	return 0;
}

static long long link_rx_packets(const char *netns, const char *ifname)
{
	char *out = NULL;
	json_t *links;
	long long rx = -1;

	if (run_capture((const char *const[]){"ip", "-n", netns, "-j", "-s", "link", "show", "dev",
					      ifname, NULL},
			&out))
		return -1;
	links = json_loads(out, 0, NULL);
	free(out);
	if (json_is_array(links) && json_array_size(links) == 1)
		rx = json_integer_value(json_object_get(
		    json_object_get(json_object_get(json_array_get(links, 0), "stats64"), "rx"),
		    "packets"));
	json_decref(links);
	return rx;
}

/* How the drill reports a refused GET or POST. */
static void say_refused(const struct migclient *mc)
{
	if (mc->refused.status)
		fprintf(stderr, "godwit drill: %s %s: %s (HTTP %ld)\n", mc->refused.method,
			mc->refused.path, mc->refused.text, mc->refused.status);
}

static int get_json(struct migclient *mc, const char *path, json_t **out)
{
	int r = migclient_get_path(mc, path, out);

	say_refused(mc);
	return r;
}

static int post_action(struct migclient *mc, const char *migration, enum migration_action action)
{
	int r = migclient_action(mc, migration, action);

	say_refused(mc);
	return r;
}

struct phase_print {
	bool quiet;
	char last[32];
};

static int print_phase(const json_t *m, void *arg)
{
	struct phase_print *pp = arg;
	const char *phase = migclient_phase(m);

	if (strcmp(phase, pp->last) && !pp->quiet)
		printf("  phase %s\n", phase);
	snprintf(pp->last, sizeof(pp->last), "%s", phase);
	return 0;
}

/* Polls the migration until its phase is `until` or final; prints each phase once. */
static int wait_phase(struct migclient *mc, const char *name, enum migration_phase until,
		      bool quiet, json_t **out)
{
	struct phase_print pp = {.quiet = quiet};
	struct migclient_wait w = {.until = until,
				   .interval_ms = 10,
				   .timeout_ms = DRILL_PHASE_DEADLINE_MS,
				   .progress = print_phase,
				   .arg = &pp};
	int r = migclient_wait(mc, name, &w, out);

	if (r == -ETIME)
		fprintf(stderr, "godwit drill: migration %s stuck in phase %s\n", name, pp.last);
	say_refused(mc);
	return r;
}

struct drill {
	const char *endpoint, *target, *strategy;
	enum drill_announce announce;
	int silence_ms, transfer_ms;
	bool abort, json, quiet, naive;
	/* learnt */
	char netns[128], source[64], ipv4[32], mac[32], cidr_len[8], migration[96];
	char gateway[32]; /* the network's: the endpoint's default route, as the agent made it */
	char old_link[IFNAMSIZ], new_link[IFNAMSIZ];
	long long early_deliveries, t_announce_ns, t_silence_ns, t_resume_ns;
	struct migclient mc; /* retries transport failures: a controller restart is survived */
};

static int load_port(struct drill *d)
{
	char path[160];
	json_t *port = NULL, *net = NULL, *spec;
	const char *cidr, *slash;
	int r;

	snprintf(path, sizeof(path), "/v1/ports/%s", d->endpoint);
	r = get_json(&d->mc, path, &port);
	if (r)
		return r;
	spec = json_object_get(port, "spec");
	if (json_array_size(json_object_get(spec, "locations")) != 1) {
		fprintf(stderr, "godwit drill: port %s is already migrating (two locations)\n",
			d->endpoint);
		r = -EBUSY;
		goto cleanup;
	}
	snprintf(d->source, sizeof(d->source), "%s",
		 json_string_value(json_array_get(json_object_get(spec, "locations"), 0)));
	snprintf(d->netns, sizeof(d->netns), "%s",
		 json_string_value(json_object_get(spec, "netns")) ?: "");
	snprintf(d->ipv4, sizeof(d->ipv4), "%s",
		 json_string_value(json_object_get(spec, "ipv4")) ?: "");
	snprintf(d->mac, sizeof(d->mac), "%s",
		 json_string_value(json_object_get(spec, "mac")) ?: "");
	if (!d->netns[0] || !proc_netns_exists(d->netns)) {
		fprintf(stderr, "godwit drill: port %s is not an endpoint (no network namespace)\n",
			d->endpoint);
		r = -EINVAL;
		goto cleanup;
	}
	snprintf(path, sizeof(path), "/v1/networks/%s",
		 json_string_value(json_object_get(spec, "network")) ?: "");
	r = get_json(&d->mc, path, &net);
	if (r)
		goto cleanup;
	cidr = obj_str(net, "spec", "cidr");
	slash = cidr ? strchr(cidr, '/') : NULL;
	snprintf(d->cidr_len, sizeof(d->cidr_len), "%s", slash ? slash + 1 : "32");
	snprintf(d->gateway, sizeof(d->gateway), "%s", obj_str(net, "spec", "gateway") ?: "");
cleanup:
	json_decref(port);
	json_decref(net);
	return r;
}

static int create_migration(struct drill *d)
{
	json_t *reply = NULL;
	int r;

	snprintf(d->migration, sizeof(d->migration), "drill-%.40s-%lld", d->endpoint,
		 (long long)(clock_unix_ns() / 1000000 % 100000000));
	/* --naive, the baseline: no replication, the fabric switches at completion */
	r = migclient_create(&d->mc,
			     &(struct migclient_spec){.name = d->migration,
						      .port = d->endpoint,
						      .target = d->target,
						      .strategy = d->strategy,
						      .no_replicate = d->naive},
			     &reply);
	if (r && d->mc.refused.status)
		fprintf(stderr, "godwit drill: migration refused: %s (HTTP %ld)\n",
			d->mc.refused.text, d->mc.refused.status);
	json_decref(reply);
	return r;
}

/* Step 2: the target's link, silent until the switchover. */
static int prepare_new_link(struct drill *d)
{
	char sysctl[96];
	int r;

	r = find_links(d->netns, d->mac, d->ipv4, d->old_link, d->new_link);
	if (r)
		return r;
	if (!d->old_link[0] || !d->new_link[0]) {
		fprintf(stderr,
			"godwit drill: expected the source link and the target's new link "
			"in %s (found '%s' and '%s')\n",
			d->netns, d->old_link, d->new_link);
		return -ENODEV;
	}
	snprintf(sysctl, sizeof(sysctl), "net.ipv6.conf.%s.disable_ipv6=1", d->new_link);
	r = run_cmd(
	    (const char *const[]){"ip", "netns", "exec", d->netns, "sysctl", "-qw", sysctl, NULL},
	    false);
	if (!r)
		r = run_cmd((const char *const[]){"ip", "-n", d->netns, "link", "set", d->new_link,
						  "up", NULL},
			    false);
	return r;
}

/* Step 3: blackout on the old link, announcement and address on the new one. */
static int switchover(struct drill *d)
{
	unsigned char mac[6], frame[60];
	char addr[48];
	uint32_t ip;
	long long rx;
	size_t len;
	int r;

	d->t_silence_ns = clock_unix_ns();
	r = run_cmd(
	    (const char *const[]){"ip", "-n", d->netns, "link", "set", d->old_link, "down", NULL},
	    false);
	if (r)
		return r;
	if (d->silence_ms > 0)
		proc_sleep_ms(d->silence_ms);
	rx = link_rx_packets(d->netns, d->new_link);
	d->early_deliveries = rx < 0 ? 0 : rx;
	if (d->announce != DRILL_ANNOUNCE_NONE) {
		if (addr_mac_parse(d->mac, mac) < 0 || addr_ipv4_parse(d->ipv4, &ip) < 0)
			return -EINVAL;
		len = drill_build_announce(d->announce, mac, htonl(ip), frame);
		d->t_announce_ns = clock_unix_ns();
		r = send_in_netns(d->netns, d->new_link, frame, len);
		if (r) {
			fprintf(stderr, "godwit drill: sending the announcement on %s: %s\n",
				d->new_link, strerror(-r));
			return r;
		}
	}
	snprintf(addr, sizeof(addr), "%s/%s", d->ipv4, d->cidr_len);
	r = run_cmd((const char *const[]){"ip", "-n", d->netns, "addr", "del", addr, "dev",
					  d->old_link, NULL},
		    false);
	if (!r)
		r = run_cmd((const char *const[]){"ip", "-n", d->netns, "addr", "add", addr, "dev",
						  d->new_link, NULL},
			    false);
	d->t_resume_ns = clock_unix_ns(); /* the endpoint can answer from here on */
	/* The default route went with the old link: off-subnet traffic (the way
	 * out, src/agent/gateway.h) follows the address to the new one. */
	if (!r && d->gateway[0])
		r = run_cmd((const char *const[]){"ip", "-n", d->netns, "route", "replace",
						  "default", "via", d->gateway, "dev", d->new_link,
						  NULL},
			    false);
	return r;
}

static int wait_old_link_gone(struct drill *d)
{
	long long deadline = clock_mono_ms() + DRILL_OLD_LINK_DEADLINE_MS;

	while (clock_mono_ms() < deadline) {
		json_t *links = netns_links(d->netns), *link;
		bool present = false;
		size_t i;

		json_array_foreach(
		    links, i,
		    link) if (!strcmp(json_string_value(json_object_get(link, "ifname")) ?: "",
				      d->old_link)) present = true;
		json_decref(links);
		if (!present)
			return 0;
		proc_sleep_ms(20);
	}
	fprintf(stderr, "godwit drill: the source's link %s is still in %s\n", d->old_link,
		d->netns);
	return -ETIMEDOUT;
}

/* Gives the target's activation report a moment to reach the controller (so
 * the Migration records it) before the hypervisor's completion is reported.
 * A guest whose frames do not activate (rarp strategy, no RARP) waits it out. */
static void await_activation(struct drill *d)
{
	long long deadline = clock_mono_ms() + DRILL_ACTIVATION_WAIT_MS;

	while (clock_mono_ms() < deadline) {
		json_t *m = NULL;
		bool switched;

		if (migclient_get(&d->mc, d->migration, &m)) {
			say_refused(&d->mc);
			return;
		}
		switched = migration_phase_is(migclient_phase(m), MIGRATION_SWITCHED) ||
			   migration_phase_name_finished(migclient_phase(m));
		json_decref(m);
		if (switched)
			return;
		proc_sleep_ms(5);
	}
}

static const char *const announce_names[] = {"none", "garp", "rarp"};

static json_t *drill_report(const struct drill *d, json_t *m)
{
	json_t *status = json_object_get(m, "status"), *phases = json_array(), *p, *rep;
	json_t *figures = json_object_get(status, "figures");
	long long t0 = 0, act_ns;
	size_t i;

	json_array_foreach(json_object_get(status, "phases"), i, p)
	{
		long long t = json_integer_value(json_object_get(p, "unix_ms"));

		if (i == 0)
			t0 = t;
		json_array_append_new(phases,
				      json_pack("{s:O, s:I}", "name", json_object_get(p, "name"),
						"t_ms", (json_int_t)(t - t0)));
	}
	act_ns = json_integer_value(json_object_get(figures, "activation_unix_ns"));
	rep = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "migration", d->migration,
			"endpoint", d->endpoint, "source", d->source, "target", d->target,
			"strategy", d->strategy, "announce", announce_names[d->announce], "phase",
			migclient_phase(m));
	json_object_set_new(rep, "silence_ms", json_integer(d->silence_ms));
	json_object_set_new(
	    rep, "blackout_us",
	    json_integer(d->t_resume_ns ? (d->t_resume_ns - d->t_silence_ns) / 1000 : 0));
	json_object_set_new(rep, "early_deliveries", json_integer(d->early_deliveries));
	json_object_set_new(rep, "first_frame_to_activation_us",
			    act_ns && d->t_announce_ns
				? json_integer((act_ns - d->t_announce_ns) / 1000)
				: json_null());
	json_object_set_new(rep, "silence_unix_ns", json_integer(d->t_silence_ns));
	json_object_set_new(rep, "resume_unix_ns", json_integer(d->t_resume_ns));
	json_object_set(rep, "figures", figures ? figures : json_null());
	json_object_set_new(rep, "phases", phases);
	return rep;
}

static void print_report(json_t *rep)
{
	json_t *p, *ff = json_object_get(rep, "first_frame_to_activation_us");
	size_t i;

	printf("drill %s: %s -> %s, %s\n", json_string_value(json_object_get(rep, "migration")),
	       json_string_value(json_object_get(rep, "source")),
	       json_string_value(json_object_get(rep, "target")),
	       json_string_value(json_object_get(rep, "phase")));
	json_array_foreach(json_object_get(rep, "phases"), i, p)
	    printf("  %-12s +%lld ms\n", json_string_value(json_object_get(p, "name")),
		   (long long)json_integer_value(json_object_get(p, "t_ms")));
	printf("  silence (blackout)        %lld ms\n",
	       (long long)json_integer_value(json_object_get(rep, "silence_ms")));
	printf("  blackout (down -> address on the new link) %.1f ms\n",
	       json_integer_value(json_object_get(rep, "blackout_us")) / 1000.0);
	printf("  early deliveries          %lld\n",
	       (long long)json_integer_value(json_object_get(rep, "early_deliveries")));
	if (json_is_integer(ff))
		printf("  first frame -> activation %.3f ms\n", json_integer_value(ff) / 1000.0);
	else
		printf("  first frame -> activation n/a (activated by completion or not at all)\n");
}

static int run_drill(struct cli *cli, struct drill *d)
{
	json_t *m = NULL, *rep;
	int r;

	d->mc = (struct migclient){.cli = cli, .retry_ms = DRILL_PHASE_DEADLINE_MS};
	r = load_port(d);
	if (!r)
		r = create_migration(d);
	if (r)
		return r;
	if (!d->quiet)
		printf("migration %s: %s from %s to %s (%s)\n", d->migration, d->endpoint,
		       d->source, d->target, d->strategy);
	r = wait_phase(&d->mc, d->migration, MIGRATION_REPLICATING, d->quiet, &m);
	if (r)
		return r;
	if (!migration_phase_is(migclient_phase(m), MIGRATION_REPLICATING)) {
		fprintf(stderr, "godwit drill: migration ended %s: %s\n", migclient_phase(m),
			obj_str(m, "status", "reason") ?: "");
		goto report;
	}
	if (d->abort) {
		r = post_action(&d->mc, d->migration, MIGRATION_ACTION_ABORT);
	} else {
		r = prepare_new_link(d);
		if (!r)
			r = post_action(&d->mc, d->migration, MIGRATION_ACTION_RUNNING);
		if (!r && d->transfer_ms > 0)
			proc_sleep_ms(d->transfer_ms); /* the hypervisor copying memory */
		if (!r)
			r = switchover(d);
		if (!r && d->announce != DRILL_ANNOUNCE_NONE)
			await_activation(d);
		if (!r)
			r = post_action(&d->mc, d->migration, MIGRATION_ACTION_COMPLETE);
		if (r)
			post_action(&d->mc, d->migration, MIGRATION_ACTION_FAIL);
	}
	json_decref(m);
	m = NULL;
	if (r || (r = wait_phase(&d->mc, d->migration, MIGRATION_SUCCEEDED, d->quiet, &m)))
		return r;
	if (!d->abort && migration_phase_is(migclient_phase(m), MIGRATION_SUCCEEDED))
		r = wait_old_link_gone(d);
report:
	rep = drill_report(d, m);
	if (d->json) {
		json_dumpf(rep, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_report(rep);
	}
	if (!r && !migration_phase_is(migclient_phase(m),
				      d->abort ? MIGRATION_ABORTED : MIGRATION_SUCCEEDED))
		r = -EPROTO;
	json_decref(rep);
	json_decref(m);
	return r;
}

int cmd_drill(struct cli *cli, const struct cli_verb *verb, int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
					     {"strategy", required_argument, NULL, 's'},
					     {"silence-ms", required_argument, NULL, 'S'},
					     {"announce", required_argument, NULL, 'a'},
					     {"abort", no_argument, NULL, 'A'},
					     {"transfer-ms", required_argument, NULL, 'T'},
					     {"naive", no_argument, NULL, 'N'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct drill d = {.strategy = strategy_names[0], .silence_ms = 20};
	const char *announce = NULL;
	enum strategy strategy;
	long v;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":t:s:S:a:AT:Njh", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_usage(verb, stdout);
			printf("STRATEGY: %s (default %s)\n", strategy_choices, strategy_names[0]);
			return 0;
		case 't':
			d.target = optarg;
			break;
		case 's':
			d.strategy = optarg;
			break;
		case 'S':
			if (num_parse_flag("godwit drill", "--silence-ms", optarg, 0, 60000, &v) <
			    0)
				return EXIT_USAGE;
			d.silence_ms = (int)v;
			break;
		case 'T':
			if (num_parse_flag("godwit drill", "--transfer-ms", optarg, 0, 600000, &v) <
			    0)
				return EXIT_USAGE;
			d.transfer_ms = (int)v;
			break;
		case 'a':
			announce = optarg;
			break;
		case 'A':
			d.abort = true;
			break;
		case 'N':
			d.naive = true;
			break;
		case 'j':
			d.json = d.quiet = true;
			break;
		default:
			return cli_bad_flag(verb, opt, argv);
		}
	}
	if (optind + 1 != argc || !d.target) {
		cli_usage(verb, stderr);
		return EXIT_USAGE;
	}
	d.endpoint = argv[optind];
	if (cli_strategy_arg("drill", d.strategy, &strategy))
		return EXIT_USAGE;
	d.announce = strategy == STRATEGY_RARP ? DRILL_ANNOUNCE_RARP : DRILL_ANNOUNCE_GARP;
	if (announce) {
		if (!strcmp(announce, "rarp"))
			d.announce = DRILL_ANNOUNCE_RARP;
		else if (!strcmp(announce, "garp"))
			d.announce = DRILL_ANNOUNCE_GARP;
		else if (!strcmp(announce, "none"))
			d.announce = DRILL_ANNOUNCE_NONE;
		else {
			fprintf(stderr,
				"godwit drill: --announce: '%s' is not rarp, garp or none\n",
				announce);
			return EXIT_USAGE;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "godwit drill: run as root (it moves links between namespaces)\n");
		return 1;
	}
	return run_drill(cli, &d) ? 1 : 0;
}
