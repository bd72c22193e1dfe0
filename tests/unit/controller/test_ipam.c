/* SPDX-License-Identifier: MIT */
/* IPAM: allocation, stickiness per owner, round-robin, exhaustion, persistence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ipam.h"
#include "lib/addr.h"
#include "tmpstore.h"

static struct ipam_network net(const char *name, const char *cidr, const char *gw)
{
	struct ipam_network n = {.name = name};

	assert_int_equal(0, addr_ipv4_parse_cidr(cidr, &n.net, &n.len));
	assert_int_equal(0, addr_ipv4_parse(gw, &n.gateway));
	return n;
}

/* One acquire in its own transaction; returns the address text or the error. */
static int acquire(struct store *s, const struct ipam_network *n, const char *owner,
		   const char *requested, char text[16], struct api_error *err)
{
	uint32_t a;
	int64_t rev;
	int r;

	memset(err, 0, sizeof(*err));
	assert_int_equal(s->ops->begin(s, &rev), 0);
	r = ipam_ipv4_acquire(s, n, owner, requested, &a, err);
	if (r < 0) {
		s->ops->rollback(s);
		return r;
	}
	assert_int_equal(s->ops->commit(s), 0);
	addr_ipv4_format(a, text);
	return 0;
}

static void release(struct store *s, const char *network, const char *addr, const char *owner)
{
	uint32_t a;
	int64_t rev;

	assert_int_equal(0, addr_ipv4_parse(addr, &a));
	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(ipam_ipv4_release(s, network, a, owner), 0);
	assert_int_equal(s->ops->commit(s), 0);
}

static void test_allocation_order(void **state)
{
	struct tmpstore *t = *state;
	struct ipam_network n = net("blue", "10.0.0.0/29", "10.0.0.1");
	struct api_error err;
	char a[16];

	assert_int_equal(acquire(t->s, &n, "a", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.2"); /* .0 network, .1 gateway */
	assert_int_equal(acquire(t->s, &n, "b", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.3");
	/* The same owner may not hold two addresses of one network. */
	assert_int_not_equal(acquire(t->s, &n, "a", NULL, a, &err), 0);
	assert_int_equal(err.status, 409);
}

static void test_round_robin_and_sticky_owner(void **state)
{
	struct tmpstore *t = *state;
	struct ipam_network n = net("blue", "10.0.0.0/29", "10.0.0.1");
	struct api_error err;
	char a[16];

	assert_int_equal(acquire(t->s, &n, "vm1", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.2");
	release(t->s, "blue", a, "vm1");
	/* A new owner does not get the just-freed address... */
	assert_int_equal(acquire(t->s, &n, "vm2", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.3");
	/* ...but the old owner gets its own back. */
	assert_int_equal(acquire(t->s, &n, "vm1", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.2");
	/* Hand-out wraps round: .4 .5 .6, then .2 and .3 are held, so exhaustion. */
	assert_int_equal(acquire(t->s, &n, "c", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.4");
	assert_int_equal(acquire(t->s, &n, "d", NULL, a, &err), 0);
	assert_int_equal(acquire(t->s, &n, "e", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.6");
	assert_int_not_equal(acquire(t->s, &n, "f", NULL, a, &err), 0);
	assert_int_equal(err.status, 507);
	release(t->s, "blue", "10.0.0.4", "c");
	assert_int_equal(acquire(t->s, &n, "f", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.4");
}

static void test_exhaustion_slash30(void **state)
{
	struct tmpstore *t = *state;
	struct ipam_network n = net("tiny", "10.20.0.0/30", "10.20.0.1");
	struct api_error err;
	char a[16];
	int64_t rev0, rev1;

	assert_int_equal(acquire(t->s, &n, "a", NULL, a, &err), 0);
	assert_string_equal(a, "10.20.0.2");
	t->s->ops->revision(t->s, &rev0);
	assert_int_not_equal(acquire(t->s, &n, "b", NULL, a, &err), 0);
	assert_int_equal(err.status, 507);
	assert_string_equal(err.message, "network tiny: no free IPv4 address in 10.20.0.0/30");
	t->s->ops->revision(t->s, &rev1);
	assert_int_equal(rev0, rev1);
}

static void test_requested(void **state)
{
	struct tmpstore *t = *state;
	struct ipam_network n = net("blue", "10.0.0.0/24", "10.0.0.1");
	struct api_error err;
	char a[16];

	assert_int_equal(acquire(t->s, &n, "a", "10.0.0.77", a, &err), 0);
	assert_string_equal(a, "10.0.0.77");
	assert_int_not_equal(acquire(t->s, &n, "b", "10.0.0.77", a, &err), 0);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "10.0.0.77 is in use by \"a\""));
	assert_int_not_equal(acquire(t->s, &n, "b", "10.0.0.1", a, &err), 0);
	assert_int_equal(err.status, 400);
	assert_int_not_equal(acquire(t->s, &n, "b", "10.0.0.255", a, &err), 0);
	assert_int_equal(err.status, 400);
	assert_int_not_equal(acquire(t->s, &n, "b", "10.0.1.5", a, &err), 0);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "10.0.1.5"));
	/* Allocation skips the requested one when it reaches it. */
	for (int i = 2; i < 77; i++) {
		char owner[16];

		snprintf(owner, sizeof(owner), "o%d", i);
		assert_int_equal(acquire(t->s, &n, owner, NULL, a, &err), 0);
	}
	assert_int_equal(acquire(t->s, &n, "next", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.78");
}

static void test_persistence(void **state)
{
	struct tmpstore *t = *state;
	struct ipam_network n = net("blue", "10.0.0.0/24", "10.0.0.1");
	struct api_error err;
	char a[16];

	assert_int_equal(acquire(t->s, &n, "a", NULL, a, &err), 0);
	assert_int_equal(acquire(t->s, &n, "b", NULL, a, &err), 0);
	release(t->s, "blue", "10.0.0.3", "b");
	tmpstore_close(t);
	assert_int_equal(tmpstore_open(t, 0), 0);
	/* The cursor survived: neither .2 (held) nor .3 (just freed) comes next. */
	assert_int_equal(acquire(t->s, &n, "c", NULL, a, &err), 0);
	assert_string_equal(a, "10.0.0.4");
	assert_int_not_equal(acquire(t->s, &n, "a", NULL, a, &err), 0);
	assert_int_equal(err.status, 409);
}

static void test_mac_vni_ifname(void **state)
{
	struct tmpstore *t = *state;
	struct store *s = t->s;
	struct api_error err = {0};
	uint64_t m1, m2, m3;
	uint32_t v1, v2, v3;
	char if1[16], if2[16], text[18];
	int64_t rev;

	assert_int_equal(s->ops->begin(s, &rev), 0);
	assert_int_equal(ipam_mac_acquire(s, "blue", "a", NULL, &m1, &err), 0);
	assert_int_equal(ipam_mac_acquire(s, "red", "a", NULL, &m2, &err), 0);
	assert_int_not_equal(m1, m2);
	addr_mac_format_u64(m1, text);
	assert_string_equal(text, "0a:58:00:00:00:01");
	addr_mac_format_u64(m2, text);
	assert_int_not_equal(ipam_mac_acquire(s, "red", "b", text, &m3, &err), 0);
	assert_int_equal(err.status, 409);

	assert_int_equal(ipam_vni_acquire(s, "blue", 0, &v1, &err), 0);
	assert_int_equal(v1, 100);
	assert_int_equal(ipam_vni_acquire(s, "red", 101, &v2, &err), 0);
	assert_int_equal(ipam_vni_acquire(s, "green", 0, &v3, &err), 0);
	assert_int_equal(v3, 102);
	assert_int_not_equal(ipam_vni_acquire(s, "pink", 101, &v2, &err), 0);
	assert_int_equal(err.status, 409);
	assert_int_equal(ipam_vni_release(s, "blue", 100), 0);
	assert_int_equal(ipam_vni_acquire(s, "pink", 0, &v2, &err), 0);
	assert_int_equal(v2, 100);

	assert_int_equal(ipam_ifname_acquire(s, "p1", if1, &err), 0);
	assert_int_equal(ipam_ifname_acquire(s, "p2", if2, &err), 0);
	assert_int_equal(strlen(if1), 12);
	assert_memory_equal(if1, "gw", 2);
	assert_string_not_equal(if1, if2);
	assert_int_equal(s->ops->commit(s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_allocation_order, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_round_robin_and_sticky_owner, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_exhaustion_slash30, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_requested, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_persistence, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_mac_vni_ifname, tmpstore_setup, tmpstore_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
