/* SPDX-License-Identifier: MIT */
/*
 * The agent's /metrics: what it writes of the counters, the last report and
 * the DHCP server, and that its server answers GET /metrics and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/metrics.h"

static json_t *report(void)
{
	json_t *r =
	    json_loads("{\"applied_revision\": 42,"
		       " \"ports\": {\"web\": {\"state\": \"active\", \"ifindex\": 7},"
		       "           \"db\": {\"state\": \"standby\", \"ifindex\": 9}},"
		       " \"vms\": {\"testvm\": {\"phase\": \"running\", \"guest_resets\": 1}}}",
		       0, NULL);

	assert_non_null(r);
	return r;
}

static char *written(const uint64_t *counters, const json_t *rep, const struct dhcp_stats *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	agent_metrics_write(f, counters, rep, d);
	fclose(f);
	return buf;
}

static void test_families(void **state)
{
	uint64_t c[GW_CNT__MAX] = {0};
	struct dhcp_stats d = {.received = 4, .offers = 2, .acks = 2};
	json_t *rep = report();
	char *t;

	(void)state;
	c[GW_CNT_FWD_REMOTE] = 5;
	c[GW_CNT_DROP_STANDBY] = 3;
	t = written(c, rep, &d);
	assert_non_null(
	    strstr(t, "\ngodwit_agent_datapath_packets_total{counter=\"fwd_remote\"} 5\n"));
	assert_non_null(strstr(t, "\ngodwit_agent_datapath_drops_total{reason=\"standby\"} 3\n"));
	/* a drop is counted among drops only */
	assert_null(strstr(t, "packets_total{counter=\"drop_standby\"}"));
	assert_non_null(strstr(t, "\ngodwit_agent_applied_revision 42\n"));
	assert_non_null(strstr(t, "\ngodwit_agent_ports{state=\"active\"} 1\n"));
	assert_non_null(strstr(t, "\ngodwit_agent_ports{state=\"standby\"} 1\n"));
	assert_non_null(strstr(
	    t, "\ngodwit_agent_port_state{port=\"web\",state=\"active\",ifindex=\"7\"} 1\n"));
	assert_non_null(strstr(t, "\ngodwit_agent_vms{phase=\"running\"} 1\n"));
	assert_non_null(strstr(t, "\ngodwit_agent_vms{phase=\"failed\"} 0\n"));
	assert_non_null(strstr(t, "\ngodwit_agent_vm_guest_resets_total{vm=\"testvm\"} 1\n"));
	assert_non_null(strstr(t, "\ngodwit_agent_dhcp_messages_total{type=\"offer\"} 2\n"));
	assert_non_null(strstr(t, "# TYPE godwit_agent_datapath_drops_total counter\n"));
	free(t);
	/* without sources: nothing of them, no error */
	t = written(NULL, NULL, NULL);
	assert_string_equal(t, "");
	free(t);
	json_decref(rep);
}

static json_t *last_report(void *ctx)
{
	(void)ctx;
	return report();
}

static int no_dhcp(void *ctx, struct dhcp_stats *out)
{
	(void)ctx;
	(void)out;
	return -ENOENT;
}

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* The whole answer to request on 127.0.0.1:port. */
static char *fetch(int port, const char *request)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static char buf[65536];
	size_t n = 0;
	ssize_t got;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	while (n < sizeof(buf) - 1 && (got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)got;
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void test_server(void **state)
{
	char listen[32];
	struct agent_metrics *m = NULL;
	struct agent_metrics_config cfg = {
	    .listen = listen, .last_report = last_report, .dhcp_stats = no_dhcp};
	int port = free_port();
	const char *t;

	(void)state;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	assert_int_equal(agent_metrics_start(&cfg, &m), 0);
	t = fetch(port, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_true(strncmp(t, "HTTP/1.", 7) == 0 && strstr(t, " 200 ") == t + 8);
	assert_non_null(strstr(t, "text/plain; version=0.0.4"));
	assert_non_null(strstr(t, "godwit_agent_applied_revision 42\n"));
	assert_null(strstr(t, "dhcp")); /* no server yet */
	t = fetch(port, "GET /v1/nodes HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(t, " 404 "));
	t = fetch(port, "POST /metrics HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi");
	assert_non_null(strstr(t, " 404 "));
	agent_metrics_stop(m);

	cfg.listen = "127.0.0.1";
	assert_int_equal(agent_metrics_start(&cfg, &m), -EINVAL);
	cfg.listen = "localhost:80";
	assert_int_equal(agent_metrics_start(&cfg, &m), -EINVAL);
	cfg.listen = "127.0.0.1:99999";
	assert_int_equal(agent_metrics_start(&cfg, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_families),
	    cmocka_unit_test(test_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
