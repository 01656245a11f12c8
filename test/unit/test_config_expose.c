// SPDX-License-Identifier: MIT
/*
 * Localhost-tunnel configuration (common/config_expose.c): the AllowExpose
 * port-range parser as a numbered table of inputs and outcomes, lookups in
 * a list of ranges, their text, service names, and the [Expose] helpers
 * tunctl expose and reload use (find, put, drop, compare, the server's
 * default tunnel address), the peer an address goes to (longest prefix),
 * and the addresses a client peer may open control sessions from.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "support.h"

struct range_case {
	const char *text;
	int rc;
	uint16_t first, last; /* when rc == 0 */
	const char *why; /* when rc != 0 */
};

static const struct range_case ranges[] = {
	/* 1 */ {"8000", 0, 8000, 8000, NULL},
	/* 2 */ {"8000-8099", 0, 8000, 8099, NULL},
	/* 3 */ {" 8000 - 8099 ", 0, 8000, 8099, NULL},
	/* 4 */ {"1-65535", 0, 1, 65535, NULL},
	/* 5 */ {"65535", 0, 65535, 65535, NULL},
	/* 6 */ {"9000-9000", 0, 9000, 9000, NULL},
	/* 7 */ {"007", 0, 7, 7, NULL},
	/* 8 */ {"0", -EINVAL, 0, 0, "a port is 1-65535"},
	/* 9 */ {"65536", -EINVAL, 0, 0, "a port is 1-65535"},
	/* 10 */ {"99999999999999999999", -EINVAL, 0, 0, "a port is 1-65535"},
	/* 11 */ {"8000-0", -EINVAL, 0, 0, "a port is 1-65535"},
	/* 12 */ {"9000-8000", -EINVAL, 0, 0, "the range ends before it begins"},
	/* 13 */ {"", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 14 */ {"-80", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 15 */ {"80-", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 16 */
	{"80-90-100", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 17 */ {"80 90", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 18 */ {"http", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 19 */ {"+80", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 20 */ {"80/tcp", -EINVAL, 0, 0, "expected a port or a range of ports such as 8000-8099"},
	/* 21 */ {"0x50", -EINVAL, 0, 0, "a port is 1-65535"}, /* port 0, then junk */
};

static void test_port_range_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		const struct range_case *c = &ranges[i];
		struct port_range r = {1234, 5678};
		const char *why = NULL;
		int rc = port_range_parse(c->text, &r, &why);

		if (rc != c->rc)
			fail_msg("row %zu \"%s\": rc %d, expected %d", i + 1, c->text, rc, c->rc);
		if (rc == 0 && (r.first != c->first || r.last != c->last))
			fail_msg("row %zu \"%s\": %u-%u", i + 1, c->text, r.first, r.last);
		if (rc != 0 && (r.first != 1234 || r.last != 5678))
			fail_msg("row %zu \"%s\": changed the output on failure", i + 1, c->text);
		if (rc != 0 && (!why || strcmp(why, c->why) != 0))
			fail_msg("row %zu \"%s\": why \"%s\"", i + 1, c->text,
				 why ? why : "(null)");
	}
	assert_int_equal(port_range_parse("x", &(struct port_range){0}, NULL), -EINVAL);
}

static void test_port_ranges(void **state)
{
	static const struct port_range r[] = {{8000, 8099}, {9000, 9000}, {1, 1}, {65535, 65535}};
	char buf[64], small[8];

	(void)state;
	assert_true(port_ranges_contain(r, 4, 8000));
	assert_true(port_ranges_contain(r, 4, 8099));
	assert_true(port_ranges_contain(r, 4, 9000));
	assert_true(port_ranges_contain(r, 4, 1));
	assert_true(port_ranges_contain(r, 4, 65535));
	assert_false(port_ranges_contain(r, 4, 7999));
	assert_false(port_ranges_contain(r, 4, 8100));
	assert_false(port_ranges_contain(r, 4, 9001));
	assert_false(port_ranges_contain(r, 4, 2));
	assert_false(port_ranges_contain(r, 0, 8000));
	assert_false(port_ranges_contain(NULL, 0, 8000));
	assert_string_equal(port_ranges_format(buf, sizeof(buf), r, 4),
			    "8000-8099, 9000, 1, 65535");
	assert_string_equal(port_ranges_format(buf, sizeof(buf), r, 0), "");
	assert_string_equal(port_ranges_format(small, sizeof(small), r, 4), "8000-80");
}

static void test_names(void **state)
{
	(void)state;
	assert_true(expose_name_valid("web"));
	assert_true(expose_name_valid("8000"));
	assert_true(expose_name_valid("api.v2_beta-1"));
	assert_true(expose_name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
	assert_false(expose_name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(expose_name_valid(""));
	assert_false(expose_name_valid("a b"));
	assert_false(expose_name_valid("a/b"));
	assert_false(expose_name_valid("\"web\""));
}

#define PRIV  TS_PRIV_1
#define PUB_B TS_PUB_2

static void test_exposes(void **state)
{
	static const char text[] = "[Interface]\n"
				   "PrivateKey = " PRIV "\n"
				   "Address = 10.0.0.2/24, fd00::2/64\n"
				   "[Peer]\n"
				   "Name = server\n"
				   "PublicKey = " PUB_B "\n"
				   "AllowedIPs = 10.0.0.0/24, fd00::1/128, 10.0.0.1/32\n"
				   "[Expose web]\n"
				   "LocalPort = 8000\n"
				   "Peer = server\n";
	struct iface_config *cfg;
	struct diag_list d = {0};
	struct expose_config e, copy;
	struct ip_prefix inside, outside;
	char buf[64];

	(void)state;
	assert_int_equal(config_load_string("x/wg0.conf", text, strlen(text), &cfg, &d), 0);
	/* The first single-host entry of a family the interface has: IPv6 before IPv4 here. */
	assert_string_equal(
		prefix_format(buf, sizeof(buf), expose_config_default_server(cfg, &cfg->peers[0])),
		"fd00::1/128");
	assert_int_equal(prefix_parse("10.0.0.9", &inside, NULL, NULL), 0);
	assert_int_equal(prefix_parse("10.0.1.9", &outside, NULL, NULL), 0);
	assert_ptr_equal(iface_config_route_owner(cfg, &inside), &cfg->peers[0]);
	assert_null(iface_config_route_owner(cfg, &outside));

	assert_int_equal(expose_config_copy(&e, &cfg->exposes[0]), 0);
	assert_ptr_not_equal(e.peer, cfg->exposes[0].peer);
	assert_true(expose_config_same(&e, &cfg->exposes[0]));
	snprintf(e.name, sizeof(e.name), "api");
	e.public_port = 8443;
	assert_false(expose_config_same(&e, &cfg->exposes[0]));
	assert_int_equal(iface_config_put_expose(cfg, &e), 0);
	assert_int_equal(cfg->n_exposes, 2);
	assert_true(expose_config_same(iface_config_find_expose(cfg, "api"), &e));
	/* Put again under the same name: replaced, not added. */
	e.proxy_protocol = true;
	assert_int_equal(iface_config_put_expose(cfg, &e), 0);
	assert_int_equal(cfg->n_exposes, 2);
	assert_true(iface_config_find_expose(cfg, "api")->proxy_protocol);
	assert_int_equal(expose_config_copy(&copy, &e), 0);
	copy.has_server_address = true;
	copy.server_address = inside;
	assert_false(expose_config_same(&copy, &e));
	expose_config_clear(&copy);
	assert_int_equal(iface_config_drop_expose(cfg, "web"), 0);
	assert_int_equal(iface_config_drop_expose(cfg, "web"), -ENOENT);
	assert_int_equal(cfg->n_exposes, 1);
	assert_string_equal(cfg->exposes[0].name, "api");
	assert_null(iface_config_find_expose(cfg, "web"));
	expose_config_clear(&e);
	iface_config_free(cfg);
	diag_list_clear(&d);
}

#define PUB_C "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define PUB_D "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
#define PUB_E "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="

/*
 * A hub's view: the laptop's /32 inside the hub-wide /24 of another peer,
 * a site peer with a LAN behind it. The peer an address goes to is the
 * longest entry's, whichever peer lists a shorter one; a client peer opens
 * control sessions from its own address only.
 */
static void test_owners(void **state)
{
	static const char text[] = "[Interface]\n"
				   "PrivateKey = " PRIV "\n"
				   "Address = 10.66.0.1/24\n"
				   "[Peer]\n"
				   "Name = wide\n"
				   "PublicKey = " PUB_B "\n"
				   "AllowedIPs = 10.66.0.0/24, 10.77.0.0/16\n"
				   "[Peer]\n"
				   "Name = laptop\n"
				   "PublicKey = " PUB_C "\n"
				   "AllowedIPs = 10.66.0.2/32, fd66::2/128, fd66::9/128\n"
				   "AllowExpose = 8000\n"
				   "[Peer]\n"
				   "Name = site\n"
				   "PublicKey = " PUB_D "\n"
				   "AllowedIPs = 192.168.77.0/24, 10.66.0.4/32\n"
				   "AllowExpose = 8050\n"
				   "[Peer]\n"
				   "Name = later\n"
				   "PublicKey = " PUB_E "\n"
				   "AllowedIPs = 10.77.0.0/16, 10.88.0.7/32\n"
				   "AllowExpose = 8060\n"
				   "AllowExposeFrom = 10.88.0.7\n";
	static const struct {
		const char *addr;
		int peer; /* -1: none */
	} owners[] = {
		{"10.66.0.2", 1}, {"10.66.0.9", 0},	   {"10.66.0.4", 2}, {"192.168.77.10", 2},
		{"10.77.1.1", 3}, /* equal entries: the later peer */
		{"172.16.0.1", -1}, {"fd66::2", 1},	   {"fd66::3", -1},
	};
	static const struct {
		int peer;
		const char *addr;
		bool ok;
	} clients[] = {
		{1, "10.66.0.2", true},	     {1, "fd66::2", true}, {1, "fd66::9", false},
		{2, "10.66.0.4", true},	     {2, "192.168.77.10", false},
		{2, "192.168.77.0", false},  {3, "10.88.0.7", true},
		{3, "10.77.0.1", false},     {0, "10.66.0.9", false},
	};
	struct iface_config *cfg;
	struct diag_list d = {0};
	struct ip_prefix p;

	(void)state;
	assert_int_equal(config_load_string("x/wg0.conf", text, strlen(text), &cfg, &d), 0);
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		const struct peer_config *want =
			owners[i].peer < 0 ? NULL : &cfg->peers[owners[i].peer];

		assert_int_equal(prefix_parse(owners[i].addr, &p, NULL, NULL), 0);
		if (iface_config_route_owner(cfg, &p) != want)
			fail_msg("%s: not the owner expected (peer %d)", owners[i].addr,
				 owners[i].peer);
	}
	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
		assert_int_equal(prefix_parse(clients[i].addr, &p, NULL, NULL), 0);
		if (expose_config_client_allowed(&cfg->peers[clients[i].peer], p.family,
						 p.addr.bytes) != clients[i].ok)
			fail_msg("peer %d from %s: expected %s", clients[i].peer, clients[i].addr,
				 clients[i].ok ? "allowed" : "refused");
	}
	/* Without AllowExposeFrom: one address per family, the first single-address entry. */
	assert_non_null(expose_config_client_address(&cfg->peers[1], AF_INET6, 0));
	assert_null(expose_config_client_address(&cfg->peers[1], AF_INET6, 1));
	assert_null(expose_config_client_address(&cfg->peers[3], AF_INET6, 0));
	iface_config_free(cfg);
	diag_list_clear(&d);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_range_parse),
		cmocka_unit_test(test_port_ranges),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_exposes),
		cmocka_unit_test(test_owners),
	};
	int failed;

	if (crypto_init() != 0)
		return 1;
	failed = cmocka_run_group_tests_name("config_expose", tests, NULL, NULL);
	crypto_cleanup();
	return failed;
}
