/* SPDX-License-Identifier: MIT */
/* The desired-state computation (desired.c) from JSON objects. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "agent/desired.h"
#include "lib/addr.h"

static const char *const objects[] = {
	"{\"kind\":\"Network\",\"metadata\":{\"name\":\"blue\"},\"spec\":{\"cidr\":\"10.0.0.0/24\",\"vni\":100}}",
	/* Same CIDR as blue: a different VNI keeps them apart. */
	"{\"kind\":\"Network\",\"metadata\":{\"name\":\"red\"},\"spec\":{\"cidr\":\"10.0.0.0/24\",\"vni\":200}}",
	"{\"kind\":\"Network\",\"metadata\":{\"name\":\"bad\"},\"spec\":{\"cidr\":\"10.0.0.0\",\"vni\":300}}",
	"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"underlay_ip\":\"10.9.0.1\"}}",
	"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n2\"},\"spec\":{\"underlay_ip\":\"10.9.0.2\"}}",
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"a\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"],"
	"\"mac\":\"0a:58:00:00:00:01\",\"ipv4\":\"10.0.0.2\",\"type\":\"veth\",\"netns\":\"ep-a\",\"ifname\":\"gw0000000001\"}}",
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"b\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n2\"],"
	"\"mac\":\"0a:58:00:00:00:02\",\"ipv4\":\"10.0.0.3\",\"netns\":\"ep-b\",\"ifname\":\"gw0000000002\"}}",
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"c\"},\"spec\":{\"network\":\"red\",\"locations\":[\"n1\"],"
	"\"mac\":\"0a:58:00:00:00:03\",\"ipv4\":\"10.0.0.2\",\"netns\":\"ep-c\",\"ifname\":\"gw0000000003\","
	"\"security\":false,\"strategy\":\"rarp\"}}",
	/* Migrating from n2 (source) to n1 (target), replicating. */
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"m\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n2\",\"n1\"],\"target\":\"n1\","
	"\"mac\":\"0a:58:00:00:00:04\",\"ipv4\":\"10.0.0.4\",\"netns\":\"ep-m\",\"ifname\":\"gw0000000004\"}}",
	/* On a node nobody registered. */
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"u\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n9\"],"
	"\"mac\":\"0a:58:00:00:00:05\",\"ipv4\":\"10.0.0.5\",\"netns\":\"ep-u\",\"ifname\":\"gw0000000005\"}}",
	/* Unusable: unknown network, bad MAC, bad ifname, bad netns. */
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"x1\"},\"spec\":{\"network\":\"nope\",\"locations\":[\"n1\"],"
	"\"mac\":\"0a:58:00:00:00:06\",\"netns\":\"ep\",\"ifname\":\"gw0000000006\"}}",
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"x2\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"],"
	"\"mac\":\"0a:58:00:00:00\",\"netns\":\"ep\",\"ifname\":\"gw0000000007\"}}",
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"x3\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"],"
	"\"mac\":\"0a:58:00:00:00:08\",\"netns\":\"ep\",\"ifname\":\"eth0\"}}",
	"{\"kind\":\"Port\",\"metadata\":{\"name\":\"x4\"},\"spec\":{\"network\":\"bad\",\"locations\":[\"n1\"],"
	"\"mac\":\"0a:58:00:00:00:09\",\"netns\":\"../x\",\"ifname\":\"gw0000000009\"}}",
};

static struct cache cache;

static int setup(void **state)
{
	(void)state;
	if (cache_init(&cache) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		json_t *o = json_loads(objects[i], 0, NULL);
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name = json_string_value(
			json_object_get(json_object_get(o, "metadata"), "name"));

		if (!o || !kind || !name)
			return -1;
		json_object_set_new(cache.objs[cache_kind_from_name(kind)], name, o);
	}
	cache.revision = 17;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cache_clear(&cache);
	return 0;
}

struct devmap {
	const char *name;
	int ifindex;
};

static const struct devmap all_devices[] = {
	{ "gw0000000001", 11 }, { "gw0000000003", 13 }, { "gw0000000004", 14 }, { NULL, 0 },
};
static const struct devmap no_m[] = {
	{ "gw0000000001", 11 }, { "gw0000000003", 13 }, { NULL, 0 },
};

static int lookup(const char *ifname, void *ctx)
{
	for (const struct devmap *m = ctx; m->name; m++)
		if (strcmp(m->name, ifname) == 0)
			return m->ifindex;
	return 0;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static const struct desired_port *local(const struct desired_local *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->ports[i].name, name) == 0)
			return &d->ports[i];
	return NULL;
}

static const struct gw_port *port_entry(const struct desired_maps *m, uint32_t ifindex)
{
	for (size_t i = 0; i < m->n_ports; i++)
		if (m->ports[i].ifindex == ifindex)
			return &m->ports[i].val;
	return NULL;
}

static const struct gw_fdb_entry *fdb(const struct desired_maps *m, uint32_t vni, uint8_t last)
{
	for (size_t i = 0; i < m->n_fdb; i++)
		if (m->fdb[i].key.vni == vni && m->fdb[i].key.mac[5] == last &&
		    m->fdb[i].key.mac[0] == 0x0a && m->fdb[i].key.pad[0] == 0)
			return &m->fdb[i].val;
	return NULL;
}

static const struct gw_neigh *neigh(const struct desired_maps *m, uint32_t vni, const char *addr)
{
	for (size_t i = 0; i < m->n_neigh; i++)
		if (m->neigh[i].key.vni == vni && m->neigh[i].key.family == GW_FAMILY_IPV4 &&
		    m->neigh[i].key.ip.v4 == ip(addr))
			return &m->neigh[i].val;
	return NULL;
}

static const struct gw_flood *flood(const struct desired_maps *m, uint32_t vni)
{
	for (size_t i = 0; i < m->n_flood; i++)
		if (m->flood[i].vni == vni)
			return &m->flood[i].val;
	return NULL;
}

static void test_local_ports(void **state)
{
	struct desired_local d;
	const struct desired_port *p;

	(void)state;
	assert_int_equal(desired_local_ports(&cache, "n1", &d), 0);
	assert_int_equal(d.n, 3); /* a, c, m; the unusable x* are skipped */
	p = local(&d, "a");
	assert_non_null(p);
	assert_string_equal(p->ifname, "gw0000000001");
	assert_string_equal(p->netns, "ep-a");
	assert_int_equal(p->vni, 100);
	assert_int_equal(p->prefixlen, 24);
	assert_int_equal(p->ipv4, ip("10.0.0.2"));
	assert_int_equal(p->type, DESIRED_VETH);
	assert_false(p->standby);
	p = local(&d, "m");
	assert_non_null(p);
	assert_true(p->standby); /* n1 is the migration target */
	assert_null(local(&d, "b"));
	desired_local_free(&d);

	assert_int_equal(desired_local_ports(&cache, "n2", &d), 0);
	assert_int_equal(d.n, 2); /* b, m (as source: not standby) */
	assert_false(local(&d, "m")->standby);
	desired_local_free(&d);

	assert_int_equal(desired_local_ports(&cache, "n3", &d), 0);
	assert_int_equal(d.n, 0);
	desired_local_free(&d);
}

static void test_ports_map(void **state)
{
	struct desired_maps m;
	const struct gw_port *p;
	static const uint8_t mac_a[6] = { 0x0a, 0x58, 0, 0, 0, 1 };

	(void)state;
	assert_int_equal(desired_maps_compute(&cache, "n1", lookup, (void *)all_devices, &m), 0);
	assert_int_equal(m.missing_local, 0);
	assert_int_equal(m.n_ports, 3);
	p = port_entry(&m, 11);
	assert_non_null(p);
	assert_int_equal(p->vni, 100);
	assert_int_equal(p->ip.v4, ip("10.0.0.2"));
	assert_memory_equal(p->mac, mac_a, 6);
	assert_int_equal(p->flags, GW_PORT_F_SECURITY | GW_PORT_F_HAS_IPV4 | GW_PORT_F_VETH);
	assert_int_equal(p->state, GW_PORT_ACTIVE);
	assert_int_equal(p->strategy, GW_ACT_FIRST_FRAME);
	p = port_entry(&m, 13);
	assert_non_null(p);
	assert_int_equal(p->vni, 200);
	assert_int_equal(p->flags, GW_PORT_F_HAS_IPV4 | GW_PORT_F_VETH); /* security: false */
	assert_int_equal(p->strategy, GW_ACT_RARP);
	p = port_entry(&m, 14);
	assert_non_null(p);
	assert_int_equal(p->state, GW_PORT_STANDBY);
	desired_maps_free(&m);
}

static void test_fdb_and_neigh(void **state)
{
	struct desired_maps m;
	const struct gw_fdb_entry *f;

	(void)state;
	assert_int_equal(desired_maps_compute(&cache, "n1", lookup, (void *)all_devices, &m), 0);
	f = fdb(&m, 100, 1); /* a: local */
	assert_non_null(f);
	assert_int_equal(f->count, 1);
	assert_int_equal(f->loc[0].ifindex, 11);
	assert_int_equal(f->loc[0].node_ip.v4, 0);
	f = fdb(&m, 100, 2); /* b: remote on n2 */
	assert_non_null(f);
	assert_int_equal(f->count, 1);
	assert_int_equal(f->loc[0].ifindex, 0);
	assert_int_equal(f->loc[0].node_ip.v4, ip("10.9.0.2"));
	f = fdb(&m, 100, 4); /* m: source n2 first, then the local target */
	assert_non_null(f);
	assert_int_equal(f->count, 2);
	assert_int_equal(f->loc[0].node_ip.v4, ip("10.9.0.2"));
	assert_int_equal(f->loc[1].ifindex, 14);
	assert_null(fdb(&m, 100, 5)); /* u: only on an unknown node */
	assert_non_null(fdb(&m, 200, 3));
	assert_null(fdb(&m, 100, 3)); /* c belongs to red only */
	assert_int_equal(m.n_fdb, 4);

	/* Same IPv4 in two networks: two entries, two MACs. */
	assert_non_null(neigh(&m, 100, "10.0.0.2"));
	assert_non_null(neigh(&m, 200, "10.0.0.2"));
	assert_int_equal(neigh(&m, 100, "10.0.0.2")->mac[5], 1);
	assert_int_equal(neigh(&m, 200, "10.0.0.2")->mac[5], 3);
	assert_non_null(neigh(&m, 100, "10.0.0.5"));
	assert_int_equal(m.n_neigh, 5);
	desired_maps_free(&m);

	/* Seen from n2, a's only location is n1's underlay IP. */
	assert_int_equal(desired_maps_compute(&cache, "n2", lookup, (void *)all_devices, &m), 0);
	f = fdb(&m, 100, 1);
	assert_non_null(f);
	assert_int_equal(f->loc[0].node_ip.v4, ip("10.9.0.1"));
	desired_maps_free(&m);
}

static void test_flood(void **state)
{
	struct desired_maps m;
	const struct gw_flood *f;

	(void)state;
	assert_int_equal(desired_maps_compute(&cache, "n1", lookup, (void *)all_devices, &m), 0);
	f = flood(&m, 100);
	assert_non_null(f);
	assert_int_equal(f->n_local, 2);
	assert_int_equal(f->local_ifindex[0], 11);
	assert_int_equal(f->local_ifindex[1], 14);
	assert_int_equal(f->n_remote, 1); /* n2 (b and m), deduplicated; n9 unknown */
	assert_int_equal(f->remote_ip[0].v4, ip("10.9.0.2"));
	f = flood(&m, 200);
	assert_non_null(f);
	assert_int_equal(f->n_local, 1);
	assert_int_equal(f->local_ifindex[0], 13);
	assert_int_equal(f->n_remote, 0);
	assert_int_equal(m.n_flood, 2);
	desired_maps_free(&m);

	/* A node with no ports still floods to the nodes that have some. */
	assert_int_equal(desired_maps_compute(&cache, "n3", lookup, (void *)all_devices, &m), 0);
	assert_int_equal(m.n_ports, 0);
	f = flood(&m, 100);
	assert_non_null(f);
	assert_int_equal(f->n_local, 0);
	assert_int_equal(f->n_remote, 2);
	assert_int_equal(f->remote_ip[0].v4, ip("10.9.0.1"));
	assert_int_equal(f->remote_ip[1].v4, ip("10.9.0.2"));
	desired_maps_free(&m);
}

/* Every other node's underlay address, for the datapath's VXLAN source check. */
static void test_nodes(void **state)
{
	struct desired_maps m;

	(void)state;
	assert_int_equal(desired_maps_compute(&cache, "n1", lookup, (void *)all_devices, &m), 0);
	assert_int_equal(m.n_nodes, 1); /* n2; not n1 itself */
	assert_int_equal(m.nodes[0].key.v4, ip("10.9.0.2"));
	assert_int_equal(m.nodes[0].key.v6[1] | m.nodes[0].key.v6[2] | m.nodes[0].key.v6[3], 0);
	desired_maps_free(&m);

	assert_int_equal(desired_maps_compute(&cache, "n3", lookup, (void *)all_devices, &m), 0);
	assert_int_equal(m.n_nodes, 2);
	desired_maps_free(&m);
}

static void test_missing_device(void **state)
{
	struct desired_maps m;
	const struct gw_fdb_entry *f;

	(void)state;
	assert_int_equal(desired_maps_compute(&cache, "n1", lookup, (void *)no_m, &m), 0);
	assert_int_equal(m.missing_local, 1);
	assert_null(port_entry(&m, 14));
	f = fdb(&m, 100, 4);
	assert_non_null(f);
	assert_int_equal(f->count, 1); /* only the remote source for now */
	assert_int_equal(flood(&m, 100)->n_local, 1);
	desired_maps_free(&m);
}

/* The migration rows of docs/MIGRATION.md: port w (veth, blue) migrating
 * from n2 (source) to n1 (target), seen from both nodes. */
struct migration_row {
	const char *what;
	const char *locations; /* JSON array */
	const char *target;    /* NULL: no spec.target */
	const char *node;
	bool local;
	bool standby;      /* a new entry starts in standby */
	bool force_active; /* an existing standby entry is activated */
	bool handoff_ok;   /* an existing handoff entry stays so */
	int fdb_count;     /* locations in w's fdb entry */
	bool fdb_local;    /* one of them is the local device */
	uint32_t old_state, merged_state; /* an existing entry, after the merge */
};

static const struct migration_row migration_rows[] = {
	{ "target prepared, on the target", "[\"n2\"]", "n1", "n1", true, true, false, false, 1,
	  false, GW_PORT_STANDBY, GW_PORT_STANDBY },
	{ "target prepared, on the source", "[\"n2\"]", "n1", "n2", true, false, false, true, 1,
	  true, GW_PORT_ACTIVE, GW_PORT_ACTIVE },
	{ "replicating, on the target", "[\"n2\",\"n1\"]", "n1", "n1", true, true, false, false, 2,
	  true, GW_PORT_STANDBY, GW_PORT_STANDBY },
	{ "replicating, target activated by the datapath", "[\"n2\",\"n1\"]", "n1", "n1", true, true,
	  false, false, 2, true, GW_PORT_ACTIVE, GW_PORT_ACTIVE },
	{ "replicating, on the source", "[\"n2\",\"n1\"]", "n1", "n2", true, false, false, true, 2,
	  true, GW_PORT_ACTIVE, GW_PORT_ACTIVE },
	{ "replicating, the source stopped: handoff kept", "[\"n2\",\"n1\"]", "n1", "n2", true,
	  false, false, true, 2, true, GW_PORT_HANDOFF, GW_PORT_HANDOFF },
	{ "replicating, the source transferring: primed kept", "[\"n2\",\"n1\"]", "n1", "n2", true,
	  false, false, true, 2, true, GW_PORT_PRIMED, GW_PORT_PRIMED },
	{ "completed, on the target", "[\"n1\"]", NULL, "n1", true, false, true, false, 1, true,
	  GW_PORT_STANDBY, GW_PORT_ACTIVE },
	{ "completed, on the source", "[\"n1\"]", NULL, "n2", false, false, false, false, 1, false,
	  0, 0 },
	{ "rolled back, on the target", "[\"n2\"]", NULL, "n1", false, false, false, false, 1, false,
	  0, 0 },
	{ "rolled back, on the source", "[\"n2\"]", NULL, "n2", true, false, true, false, 1, true,
	  GW_PORT_ACTIVE, GW_PORT_ACTIVE },
	{ "rolled back after a handoff: the source's port is active again", "[\"n2\"]", NULL, "n2",
	  true, false, true, false, 1, true, GW_PORT_HANDOFF, GW_PORT_ACTIVE },
	{ "rolled back during the transfer: the source's port unprimed", "[\"n2\"]", NULL, "n2",
	  true, false, true, false, 1, true, GW_PORT_PRIMED, GW_PORT_ACTIVE },
};

static void load(struct cache *c, const char *text)
{
	json_error_t err;
	json_t *o = json_loads(text, 0, &err);
	const char *kind, *name;

	if (!o)
		fail_msg("bad fixture: %s: %s", err.text, text);
	kind = json_string_value(json_object_get(o, "kind"));
	name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
	assert_non_null(kind);
	assert_non_null(name);
	json_object_set_new(c->objs[cache_kind_from_name(kind)], name, o);
}

static void test_migration_rows(void **state)
{
	static const struct devmap devices[] = { { "gw00000000a0", 20 }, { NULL, 0 } };
	char port[512];

	(void)state;
	for (size_t i = 0; i < sizeof(migration_rows) / sizeof(migration_rows[0]); i++) {
		const struct migration_row *row = &migration_rows[i];
		const struct gw_fdb_entry *f;
		const struct gw_port *e;
		struct desired_local d;
		struct desired_maps m;
		struct gw_port want, old = { 0 };
		struct cache c;
		char target[64] = "";

		print_message("row: %s\n", row->what);
		if (row->target)
			snprintf(target, sizeof(target), ",\"target\":\"%s\"", row->target);
		snprintf(port, sizeof(port),
			 "{\"kind\":\"Port\",\"metadata\":{\"name\":\"w\"},\"spec\":{"
			 "\"network\":\"blue\",\"locations\":%s%s,\"mac\":\"0a:58:00:00:00:a0\","
			 "\"ipv4\":\"10.0.0.9\",\"netns\":\"ep-w\",\"ifname\":\"gw00000000a0\"}}",
			 row->locations, target);
		assert_int_equal(cache_init(&c), 0);
		load(&c, objects[0]); /* blue */
		load(&c, objects[3]); /* n1 */
		load(&c, objects[4]); /* n2 */
		load(&c, port);

		assert_int_equal(desired_local_ports(&c, row->node, &d), 0);
		assert_int_equal(d.n, row->local ? 1 : 0);
		if (row->local) {
			assert_int_equal(d.ports[0].standby, row->standby);
			assert_int_equal(d.ports[0].force_active, row->force_active);
			assert_int_equal(d.ports[0].handoff_ok, row->handoff_ok);
		}
		desired_local_free(&d);

		assert_int_equal(desired_maps_compute(&c, row->node, lookup, (void *)devices, &m), 0);
		e = port_entry(&m, 20);
		if (!row->local) {
			assert_null(e); /* and the device goes as a stale one */
		} else {
			assert_non_null(e);
			assert_int_equal(e->state, row->standby ? GW_PORT_STANDBY : GW_PORT_ACTIVE);
			assert_int_equal(m.ports[0].force_active, row->force_active);
			want = *e;
			old = *e;
			old.state = row->old_state;
			old.activated_ns = row->old_state == GW_PORT_ACTIVE ? 5 : 0;
			assert_int_equal(m.ports[0].handoff_ok, row->handoff_ok);
			desired_port_merge(&want, &old, row->force_active, row->handoff_ok, 77);
			assert_int_equal(want.state, row->merged_state);
			if (row->old_state == GW_PORT_STANDBY && row->merged_state == GW_PORT_ACTIVE)
				assert_int_equal(want.activated_ns, 77);
			else
				assert_int_equal(want.activated_ns, old.activated_ns);
			/* Only the datapath's fields differed: nothing to write. */
			if (row->old_state == row->merged_state)
				assert_memory_equal(&want, &old, sizeof(want));
		}
		f = fdb(&m, 100, 0xa0);
		assert_non_null(f);
		assert_int_equal(f->count, row->fdb_count);
		assert_int_equal(f->loc[0].ifindex == 20 || f->loc[1].ifindex == 20, row->fdb_local);
		/* flood follows the locations too */
		assert_int_equal(flood(&m, 100)->n_local, row->fdb_local ? 1 : 0);
		desired_maps_free(&m);
		cache_clear(&c);
	}
}

static void test_helpers(void **state)
{
	uint8_t mac[6];

	(void)state;
	assert_int_equal(addr_mac_parse("0a:58:0A:ff:00:01", mac), 0);
	assert_int_equal(mac[2], 0x0a);
	assert_int_equal(addr_mac_parse("0a:58:0a:ff:00:01:02", mac), -EINVAL);
	assert_int_equal(addr_mac_parse("0a:58:0a:ff:00", mac), -EINVAL);
	assert_int_equal(addr_mac_parse("0a-58-0a-ff-00-01", mac), -EINVAL);
	assert_true(desired_ifname_valid("gw0123456789"));
	assert_true(desired_ifname_valid("gwabcdef0123"));
	assert_false(desired_ifname_valid("gw-vxlan"));
	assert_false(desired_ifname_valid("gwABCDEF0123"));
	assert_false(desired_ifname_valid("gw01234567890"));
	assert_false(desired_ifname_valid("eth0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_ports),	   cmocka_unit_test(test_ports_map),
	    cmocka_unit_test(test_fdb_and_neigh),  cmocka_unit_test(test_flood),
	    cmocka_unit_test(test_nodes),	   cmocka_unit_test(test_missing_device),
	    cmocka_unit_test(test_migration_rows), cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
