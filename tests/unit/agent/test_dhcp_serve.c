/* SPDX-License-Identifier: MIT */
/*
 * The agent's DHCP module standalone, for test_dhcp_ns.sh:
 *   test_dhcp_serve IFNAME MAC IPV4/PREFIX GATEWAY MTU
 * serves one port on IFNAME (in the current network namespace), prints
 * "ready" once its socket is open, prints its counters as key=value on
 * SIGUSR1, and once more on SIGTERM/SIGINT before it exits.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/desired.h"
#include "lib/addr.h"
#include "agent/dhcp.h"
#include "lib/log.h"

static void print_stats(struct dhcp_server *s)
{
	struct dhcp_stats st;

	dhcp_server_stats(s, &st);
	printf("received=%llu offers=%llu acks=%llu naks=%llu ignored_mac=%llu malformed=%llu "
	       "no_answer=%llu rate_limited=%llu send_errors=%llu\n",
	       (unsigned long long)st.received, (unsigned long long)st.offers,
	       (unsigned long long)st.acks, (unsigned long long)st.naks,
	       (unsigned long long)st.ignored_mac, (unsigned long long)st.malformed,
	       (unsigned long long)st.no_answer, (unsigned long long)st.rate_limited,
	       (unsigned long long)st.send_errors);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct dhcp_port port = {.lease = {.lease_s = DHCP_LEASE_SECONDS}};
	struct dhcp_server *s = NULL;
	struct in_addr a;
	sigset_t mask;
	char *slash;
	int sig, r;

	if (argc != 6) {
		fprintf(stderr, "usage: %s IFNAME MAC IPV4/PREFIX GATEWAY MTU\n", argv[0]);
		return 2;
	}
	log_init("dhcp-serve", LOG_LVL_DEBUG);
	snprintf(port.name, sizeof(port.name), "test-%s", argv[1]);
	port.ifindex = (int)if_nametoindex(argv[1]);
	slash = strchr(argv[3], '/');
	if (!port.ifindex || addr_mac_parse(argv[2], port.lease.mac) < 0 || !slash) {
		fprintf(stderr, "bad IFNAME, MAC or IPV4/PREFIX\n");
		return 2;
	}
	*slash = '\0';
	port.lease.prefixlen = (uint8_t)atoi(slash + 1);
	if (inet_pton(AF_INET, argv[3], &a) != 1)
		return 2;
	port.lease.ipv4 = a.s_addr;
	if (inet_pton(AF_INET, argv[4], &a) != 1)
		return 2;
	port.lease.gateway = a.s_addr;
	port.lease.mtu = (uint16_t)atoi(argv[5]);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, NULL); /* before the server's thread */
	r = dhcp_server_start(&s);
	if (r == 0)
		r = dhcp_server_set_ports(s, &port, 1);
	if (r < 0) {
		log_error_errno(r, "cannot serve DHCP on %s", argv[1]);
		dhcp_server_stop(s);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	do {
		sigwait(&mask, &sig);
		print_stats(s);
	} while (sig == SIGUSR1);
	dhcp_server_stop(s);
	return 0;
}
