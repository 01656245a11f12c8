// SPDX-License-Identifier: MIT
/*
 * The configuration loader (config.c, config_ini.c): a numbered table of
 * interface files, good and bad, each with the exact diagnostics it must
 * produce (severity, line, full text as diag_format() prints it) and, for
 * good files, the values it must load. Rows with files on disk (key files,
 * modes) run in a fresh temporary directory; "$D" in their text stands for it.
 * Then directory loading, the small helpers, and reading a key file that is
 * a FIFO.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "key.h"
#include "support.h"

/* The shared fixed keys (support.h), by the names the table below uses. */
#define PRIV	TS_PRIV_1
#define OWN_PUB TS_PUB_1 /* public key of PRIV */
#define PRIV2	TS_PRIV_2
#define PUB_B	TS_PUB_2
#define PUB_C	TS_PUB_3
#define PUB_D	TS_PUB_4
#define PSK	TS_PSK_1

#define PATH "x/wg0.conf"
#define L    PATH ":" /* L "7: error: ..." */
#define FL   "$D/wg0.conf:" /* the same for rows loaded from a file */

/* Lines 1-2 of most rows. */
#define IFACE           \
	"[Interface]\n" \
	"PrivateKey = " PRIV "\n"
/* Lines 3-4 after IFACE. */
#define PEER_B     \
	"[Peer]\n" \
	"PublicKey = " PUB_B "\n"

#define MAX_DIAGS 8

/* A file next to the configuration, made before the load. */
struct fixture {
	const char *name; /* NULL ends the list */
	mode_t mode;
	const char *text; /* NULL: make a directory */
};

struct config_case {
	const char *name;
	const char *path; /* NULL: PATH; with in_dir a name inside the directory */
	const char *text; /* "$D" expands to the directory for in_dir rows */
	size_t len; /* 0: strlen(text); set when text holds a NUL */
	char *(*build)(void); /* makes the text instead (malloc'd) */
	bool in_dir; /* write text to a file of mode `mode`, use config_load_file */
	mode_t mode;
	struct fixture files[3];
	const char *diags[MAX_DIAGS]; /* exactly these, in this order */
	size_t n_errors, n_warnings;
	void (*check)(const struct iface_config *cfg); /* for rows that load */
};

/* ---- Helpers ---- */

static void assert_key(const uint8_t key[KEY_LEN], const char *b64)
{
	char s[KEY_BASE64_LEN + 1];

	key_to_base64(s, key);
	assert_string_equal(s, b64);
}

static void assert_prefix(const struct ip_prefix *p, const char *want)
{
	char buf[ADDR_STR_LEN];

	assert_string_equal(prefix_format(buf, sizeof(buf), p), want);
}

static void assert_prefixes(const struct ip_prefix *p, size_t n, const char *const *want)
{
	size_t n_want = 0;

	while (want[n_want])
		n_want++;
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_prefix(&p[i], want[i]);
}

static void assert_strings(char **v, size_t n, const char *const *want)
{
	size_t n_want = 0;

	while (want[n_want])
		n_want++;
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
}

static void assert_endpoint(const struct peer_config *pc, const char *host, uint16_t port)
{
	assert_non_null(pc->endpoint_host);
	assert_string_equal(pc->endpoint_host, host);
	assert_int_equal(pc->endpoint_port, port);
}

static void remove_in(const char *dir, const char *name, bool is_dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(is_dir ? rmdir(path) : unlink(path), 0);
}

/* The line number and severity an expected string spells. */
static void parse_expected(const char *want, unsigned int *line, enum diag_severity *sev)
{
	const char *e = strstr(want, ": error: "), *w = strstr(want, ": warning: ");
	const char *mark = e && (!w || e < w) ? e : w;
	const char *p = mark;

	assert_non_null(mark);
	*sev = mark == e ? DIAG_ERROR : DIAG_WARNING;
	while (p > want && p[-1] >= '0' && p[-1] <= '9')
		p--;
	*line = p > want && p < mark && p[-1] == ':' ? (unsigned int)strtoul(p, NULL, 10) : 0;
}

static void print_diags(const struct diag_list *d, const char *const *want, const char *dir)
{
	char buf[1024];

	print_message("got %zu diagnostics (%zu errors, %zu warnings):\n", d->n, d->n_errors,
		      d->n_warnings);
	for (size_t i = 0; i < d->n; i++)
		print_message("  %s\n", diag_format(buf, sizeof(buf), &d->items[i]));
	print_message("expected:\n");
	for (size_t i = 0; i < MAX_DIAGS && want[i]; i++) {
		char *w = ts_expand(want[i], "$D", dir);

		print_message("  %s\n", w);
		free(w);
	}
}

/* Exactly the expected diagnostics: text, severity field, line field, and the counts. */
static void check_diags(const struct diag_list *d, const struct config_case *c, const char *dir)
{
	size_t n_want = 0, want_errors = 0;
	bool ok;

	while (n_want < MAX_DIAGS && c->diags[n_want]) {
		unsigned int line;
		enum diag_severity sev;

		parse_expected(c->diags[n_want], &line, &sev);
		want_errors += sev == DIAG_ERROR;
		n_want++;
	}
	/* The table must agree with itself. */
	assert_int_equal(want_errors, c->n_errors);
	assert_int_equal(n_want - want_errors, c->n_warnings);

	ok = d->n == n_want && d->n_errors == c->n_errors && d->n_warnings == c->n_warnings;
	for (size_t i = 0; ok && i < n_want; i++) {
		char got[1024], *want = ts_expand(c->diags[i], "$D", dir);
		unsigned int line;
		enum diag_severity sev;

		parse_expected(want, &line, &sev);
		diag_format(got, sizeof(got), &d->items[i]);
		ok = strcmp(got, want) == 0 && d->items[i].line == line &&
		     d->items[i].severity == sev;
		free(want);
	}
	if (!ok) {
		print_diags(d, c->diags, dir);
		fail_msg("diagnostics differ");
	}
}

/*
 * What one row allocates, freed by the teardown so that a failed assertion
 * (which leaves run_case by longjmp) leaks nothing under ASan.
 */
static struct {
	struct diag_list diags;
	struct iface_config *cfg;
	char *text, *path;
} cur;

static int free_case(void **state)
{
	(void)state;
	iface_config_free(cur.cfg);
	diag_list_clear(&cur.diags);
	free(cur.text);
	free(cur.path);
	memset(&cur, 0, sizeof(cur));
	return 0;
}

/* Make the row's files in dir, load its configuration from there, remove them. */
static int load_in_dir(const struct config_case *c, const char *dir, size_t len)
{
	const char *name = c->path ? c->path : "wg0.conf";
	int rc;

	for (const struct fixture *f = c->files; f->name; f++) {
		char p[512];

		snprintf(p, sizeof(p), "%s/%s", dir, f->name);
		if (f->text)
			ts_write_text(dir, f->name, f->text, f->mode);
		else
			assert_int_equal(mkdir(p, f->mode), 0);
	}
	ts_write_file(dir, name, cur.text, len, c->mode);
	assert_true(asprintf(&cur.path, "%s/%s", dir, name) > 0);
	rc = config_load_file(cur.path, &cur.cfg, &cur.diags);
	for (const struct fixture *f = c->files; f->name; f++)
		remove_in(dir, f->name, !f->text);
	remove_in(dir, name, false);
	assert_int_equal(rmdir(dir), 0);
	return rc;
}

static void run_case(void **state)
{
	const struct config_case *c = *state;
	char dir[TS_DIR_LEN];
	size_t len;
	int rc;

	if (c->in_dir)
		ts_tmpdir(dir, "config");
	if (c->build) {
		cur.text = c->build();
	} else if (c->len) {
		cur.text = malloc(c->len);
		assert_non_null(cur.text);
		memcpy(cur.text, c->text, c->len);
	} else {
		cur.text = ts_expand(c->text, "$D", c->in_dir ? dir : NULL);
	}
	len = c->len ? c->len : strlen(cur.text);

	cur.cfg = (void *)1;
	if (c->in_dir) {
		rc = load_in_dir(c, dir, len);
	} else {
		cur.path = strdup(c->path ? c->path : PATH);
		rc = config_load_string(cur.path, cur.text, len, &cur.cfg, &cur.diags);
	}
	check_diags(&cur.diags, c, c->in_dir ? dir : NULL);
	if (c->n_errors) {
		assert_int_equal(rc, -EINVAL);
		assert_null(cur.cfg);
	} else {
		assert_int_equal(rc, 0);
		assert_non_null(cur.cfg);
	}
	if (cur.cfg) {
		assert_string_equal(cur.cfg->path, cur.path);
		if (c->check)
			(c->check)(cur.cfg); /* parenthesized: not support.h's check() */
	}
}

/* ---- Checks of loaded values ---- */

static void check_full(const struct iface_config *c)
{
	const struct peer_config *pc;

	assert_string_equal(c->name, "wg0");
	assert_true(c->has_private_key);
	assert_key(c->private_key, PRIV);
	assert_true(c->has_listen_port);
	assert_int_equal(c->listen_port, 51820);
	assert_int_equal(c->fwmark, 0x1234);
	assert_prefixes(c->addresses, c->n_addresses,
			(const char *const[]){"10.0.0.1/24", "fd00::1/64", NULL});
	assert_int_equal(c->mtu, 1420);
	assert_strings(c->dns, c->n_dns,
		       (const char *const[]){"10.0.0.53", "2001:db8::53", "example.com", NULL});
	assert_int_equal(c->table, TABLE_ID);
	assert_int_equal(c->table_id, 1234);
	assert_strings(c->pre_up, c->n_pre_up, (const char *const[]){"echo pre-up %i", NULL});
	assert_strings(
		c->post_up, c->n_post_up,
		(const char *const[]){
			"iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE",
			"ip6tables -A FORWARD -i %i -j ACCEPT", NULL});
	assert_strings(c->pre_down, c->n_pre_down, (const char *const[]){"echo pre-down %i", NULL});
	assert_strings(
		c->post_down, c->n_post_down,
		(const char *const[]){
			"iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE",
			NULL});
	assert_int_equal(c->n_peers, 1);
	pc = &c->peers[0];
	assert_int_equal(pc->line, 16);
	assert_null(pc->name);
	assert_key(pc->public_key, PUB_B);
	assert_true(pc->has_preshared_key);
	assert_key(pc->preshared_key, PSK);
	assert_prefixes(pc->allowed_ips, pc->n_allowed_ips,
			(const char *const[]){"10.0.0.2/32", "fd00::2/128", NULL});
	assert_endpoint(pc, "192.0.2.1", 51820);
	assert_int_equal(pc->persistent_keepalive_s, 25);
}

static void check_several_peers(const struct iface_config *c)
{
	const struct peer_config *p = c->peers;

	/* What a file leaves out is off or automatic. */
	assert_false(c->has_listen_port);
	assert_int_equal(c->fwmark, 0);
	assert_int_equal(c->mtu, 0);
	assert_int_equal(c->n_dns, 0);
	assert_int_equal(c->table, TABLE_AUTO);
	assert_int_equal(c->n_pre_up + c->n_post_up + c->n_pre_down + c->n_post_down, 0);

	assert_int_equal(c->n_peers, 3);
	assert_int_equal(p[0].line, 5);
	assert_string_equal(p[0].name, "alice");
	assert_key(p[0].public_key, PUB_B);
	assert_false(p[0].has_preshared_key);
	assert_prefixes(p[0].allowed_ips, p[0].n_allowed_ips,
			(const char *const[]){"10.0.0.2/32", NULL});
	assert_endpoint(&p[0], "2001:db8::1", 51820);
	assert_int_equal(p[0].persistent_keepalive_s, 0);

	assert_int_equal(p[1].line, 11);
	assert_string_equal(p[1].name, "bob.laptop_2-x");
	assert_key(p[1].public_key, PUB_C);
	assert_prefixes(
		p[1].allowed_ips, p[1].n_allowed_ips,
		(const char *const[]){"10.0.0.3/32", "192.168.3.0/24", "fd00::3/128", NULL});
	assert_endpoint(&p[1], "vpn.example.com", 443);
	assert_int_equal(p[1].persistent_keepalive_s, 0);

	assert_int_equal(p[2].line, 19);
	assert_null(p[2].name);
	assert_key(p[2].public_key, PUB_D);
	assert_prefixes(p[2].allowed_ips, p[2].n_allowed_ips,
			(const char *const[]){"0.0.0.0/0", "::/0", NULL});
	assert_endpoint(&p[2], "198.51.100.7", 65535);
	assert_int_equal(p[2].persistent_keepalive_s, 65535);

	assert_ptr_equal(iface_config_find_peer(c, "alice"), &p[0]);
	assert_ptr_equal(iface_config_find_peer(c, "bob.laptop_2-x"), &p[1]);
	assert_ptr_equal(iface_config_find_peer(c, PUB_D), &p[2]);
	assert_ptr_equal(iface_config_find_peer(c, PUB_C), &p[1]);
	assert_null(iface_config_find_peer(c, "carol"));
	assert_null(iface_config_find_peer(c, OWN_PUB));
}

static void check_host_bits(const struct iface_config *c)
{
	assert_prefixes(c->addresses, c->n_addresses,
			(const char *const[]){"10.0.0.1/24", "fd00::1/64", NULL});
	assert_prefixes(c->peers[0].allowed_ips, c->peers[0].n_allowed_ips,
			(const char *const[]){"10.0.0.0/24", "fd00::1:0/112", "0.0.0.0/0", NULL});
}

static void check_overlap(const struct iface_config *c)
{
	assert_int_equal(c->n_peers, 3);
	assert_prefixes(c->peers[1].allowed_ips, c->peers[1].n_allowed_ips,
			(const char *const[]){"10.0.0.0/24", NULL});
}

static void check_comments(const struct iface_config *c)
{
	assert_key(c->private_key, PRIV);
	assert_int_equal(c->listen_port, 51820);
	assert_int_equal(c->n_peers, 1);
	assert_key(c->peers[0].public_key, PUB_B);
	assert_prefixes(c->peers[0].allowed_ips, c->peers[0].n_allowed_ips,
			(const char *const[]){"10.0.0.2/32", NULL});
	assert_endpoint(&c->peers[0], "192.0.2.1", 51820);
	assert_int_equal(c->peers[0].persistent_keepalive_s, 0);
	assert_strings(c->post_up, c->n_post_up, (const char *const[]){"echo a; echo b", NULL});
}

static void check_repeated(const struct iface_config *c)
{
	assert_int_equal(c->listen_port, 2);
	assert_prefixes(c->addresses, c->n_addresses,
			(const char *const[]){"10.0.0.1/24", "10.0.1.1/24", NULL});
	assert_endpoint(&c->peers[0], "b.example", 2);
}

static void check_private_key2(const struct iface_config *c)
{
	assert_true(c->has_private_key);
	assert_key(c->private_key, PRIV2);
}

static void check_private_key(const struct iface_config *c)
{
	assert_true(c->has_private_key);
	assert_key(c->private_key, PRIV);
}

static void check_port0(const struct iface_config *c)
{
	assert_false(c->has_listen_port);
	assert_int_equal(c->listen_port, 0);
}

static void check_port65535(const struct iface_config *c)
{
	assert_true(c->has_listen_port);
	assert_int_equal(c->listen_port, 65535);
}

static void check_table_off(const struct iface_config *c)
{
	assert_int_equal(c->table, TABLE_OFF);
}

static void check_table_main(const struct iface_config *c)
{
	assert_int_equal(c->table, TABLE_ID);
	assert_int_equal(c->table_id, 254);
}

static void check_table_auto(const struct iface_config *c)
{
	assert_int_equal(c->table, TABLE_AUTO);
}

static void check_table_max(const struct iface_config *c)
{
	assert_int_equal(c->table, TABLE_ID);
	assert_int_equal(c->table_id, 4294967295u);
}

static void check_mtu576(const struct iface_config *c)
{
	assert_int_equal(c->mtu, 576);
}

static void check_fwmark_off(const struct iface_config *c)
{
	assert_int_equal(c->fwmark, 0);
}

static void check_fwmark_max(const struct iface_config *c)
{
	assert_int_equal(c->fwmark, 0xffffffffu);
}

static void check_fwmark_decimal(const struct iface_config *c)
{
	assert_int_equal(c->fwmark, 10);
}

static void check_keepalive_off(const struct iface_config *c)
{
	assert_int_equal(c->peers[0].persistent_keepalive_s, 0);
}

static void check_case_insensitive(const struct iface_config *c)
{
	assert_key(c->private_key, PRIV);
	assert_int_equal(c->listen_port, 7);
	assert_int_equal(c->n_peers, 1);
	assert_key(c->peers[0].public_key, PUB_B);
	assert_prefixes(c->peers[0].allowed_ips, c->peers[0].n_allowed_ips,
			(const char *const[]){"10.0.0.2/32", NULL});
}

static void check_long_list(const struct iface_config *c)
{
	const struct peer_config *pc = &c->peers[0];

	assert_int_equal(pc->n_allowed_ips, 100);
	assert_prefix(&pc->allowed_ips[0], "10.0.0.0/32");
	assert_prefix(&pc->allowed_ips[99], "10.0.9.9/32");
	assert_endpoint(pc, "192.0.2.1", 51820);
}

static void check_name_wg0(const struct iface_config *c)
{
	assert_string_equal(c->name, "wg0");
	assert_key(c->private_key, PRIV);
}

static void check_name_office(const struct iface_config *c)
{
	assert_string_equal(c->name, "wg-office_1");
}

static void check_key_files(const struct iface_config *c)
{
	assert_key(c->private_key, PRIV2);
	assert_true(c->peers[0].has_preshared_key);
	assert_key(c->peers[0].preshared_key, PSK);
}

/* RedirectToLocalhost, as written: not merged or sorted (the daemon does that). */
static void check_redirects(const struct iface_config *c)
{
	static const struct redirect_ports want[] = {
		{8000, 8000, IPPROTO_TCP}, {8080, 8090, IPPROTO_TCP}, {5353, 5353, IPPROTO_UDP},
		{53, 53, IPPROTO_UDP},	   {9000, 9001, IPPROTO_TCP}, {1, 65535, IPPROTO_TCP},
		{8000, 8000, IPPROTO_TCP},
	};

	assert_int_equal(c->n_redirects, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < c->n_redirects; i++) {
		assert_int_equal(c->redirects[i].first, want[i].first);
		assert_int_equal(c->redirects[i].last, want[i].last);
		assert_int_equal(c->redirects[i].protocol, want[i].protocol);
	}
}

static void check_no_redirects(const struct iface_config *c)
{
	assert_int_equal(c->n_redirects, 0);
	assert_null(c->redirects);
}

/* A byte-order mark before line 1 is not part of it. */
static void check_bom(const struct iface_config *c)
{
	assert_key(c->private_key, PRIV);
	assert_int_equal(c->n_peers, 1);
	assert_key(c->peers[0].public_key, PUB_B);
}

/* Empty hooks are not hooks. */
static void check_empty_hooks(const struct iface_config *c)
{
	assert_strings(c->post_up, c->n_post_up, (const char *const[]){"echo up", NULL});
	assert_int_equal(c->n_pre_up, 0);
	assert_int_equal(c->n_pre_down, 0);
	assert_int_equal(c->n_post_down, 0);
}

static void check_dns_mixed(const struct iface_config *c)
{
	assert_strings(c->dns, c->n_dns,
		       (const char *const[]){"10.0.0.53", "2001:db8::53", "corp.example", "a-1.example",
					     NULL});
}

/* Localhost tunnels: the server's side. */
static void check_expose_server(const struct iface_config *c)
{
	const struct peer_config *pc = &c->peers[0];
	char buf[64];

	assert_int_equal(c->expose_control_port, 0); /* the default */
	assert_true(c->has_expose_bind_address);
	assert_string_equal(sockaddr_format(buf, sizeof(buf), &c->expose_bind), "203.0.113.1:0");
	assert_true(c->has_expose_grace);
	assert_int_equal(c->expose_grace_s, 0);
	assert_int_equal(c->expose_max_connections, 100);
	assert_int_equal(c->n_expose_peers, 1);
	assert_int_equal(pc->n_allow_expose, 3);
	assert_string_equal(port_ranges_format(buf, sizeof(buf), pc->allow_expose,
					       pc->n_allow_expose),
			    "8000-8099, 9000, 443");
	assert_int_equal(c->n_exposes, 0);
}

/* Localhost tunnels: the limits, and the addresses a client peer publishes from. */
static void check_expose_limits(const struct iface_config *c)
{
	const struct peer_config *pc = &c->peers[0];
	char buf[64];

	assert_true(c->has_expose_idle_timeout);
	assert_int_equal(c->expose_idle_timeout_s, 0); /* never */
	assert_int_equal(c->expose_max_per_source, 32);
	assert_int_equal(pc->n_expose_from, 3);
	assert_string_equal(prefix_format(buf, sizeof(buf), &pc->expose_from[0]), "10.66.0.2/32");
	assert_string_equal(prefix_format(buf, sizeof(buf), &pc->expose_from[1]), "fd66::2/128");
	assert_string_equal(prefix_format(buf, sizeof(buf), &pc->expose_from[2]), "10.66.0.12/32");
	assert_int_equal(pc->expose_from_line, 9);
	assert_true(expose_config_client_allowed(pc, AF_INET, &pc->expose_from[2].addr.ip4));
	/* AllowExposeFrom replaces the default, it does not add to it. */
	assert_null(expose_config_client_address(pc, AF_INET, 2));
}

static void check_expose_limits_max(const struct iface_config *c)
{
	assert_int_equal(c->expose_max_per_source, 1000000);
	assert_int_equal(c->expose_idle_timeout_s, 604800);
	assert_int_equal(c->peers[0].n_expose_from, 0);
}

/* Localhost tunnels: the client's side, defaults and every key. */
static void check_expose_client(const struct iface_config *c)
{
	const struct expose_config *web = &c->exposes[0], *api = &c->exposes[1];
	char buf[64];

	assert_int_equal(c->expose_control_port, 4000);
	assert_false(c->has_expose_bind_address);
	assert_false(c->has_expose_grace);
	assert_int_equal(c->peers[0].n_allow_expose, 0);
	assert_int_equal(c->n_expose_peers, 0);
	assert_int_equal(c->n_exposes, 2);
	assert_int_equal(web->line, 9);
	assert_string_equal(web->name, "web");
	assert_string_equal(web->peer, "server");
	assert_key(web->peer_key, PUB_B);
	assert_string_equal(sockaddr_format(buf, sizeof(buf), &web->local), "127.0.0.1:8000");
	assert_int_equal(web->public_port, 8000);
	assert_false(web->proxy_protocol);
	assert_false(web->has_server_address);
	assert_string_equal(prefix_format(buf, sizeof(buf),
					  expose_config_default_server(c, &c->peers[0])),
			    "10.0.0.1/32");
	assert_int_equal(api->line, 12);
	assert_string_equal(api->name, "api.v2");
	assert_string_equal(api->peer, PUB_B);
	assert_key(api->peer_key, PUB_B);
	assert_string_equal(sockaddr_format(buf, sizeof(buf), &api->local), "[::1]:3000");
	assert_int_equal(api->public_port, 8443);
	assert_true(api->proxy_protocol);
	assert_true(api->has_server_address);
	assert_string_equal(prefix_format(buf, sizeof(buf), &api->server_address), "10.0.0.1/32");
	assert_ptr_equal(iface_config_find_expose(c, "api.v2"), api);
	assert_null(iface_config_find_expose(c, "API.v2"));
}

/* ---- Builders for rows too long to write out ---- */

static char *build_long_list(void)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	assert_non_null(f);
	fputs(IFACE PEER_B "AllowedIPs = ", f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "10.0.%d.%d/32%s", i / 10, i % 10, i < 99 ? ", " : "\n");
	fputs("Endpoint = 192.0.2.1:51820\n", f);
	fclose(f);
	return s;
}

static char *build_long_list_then_error(void)
{
	char *s = build_long_list();
	char *t = NULL;

	assert_true(asprintf(&t, "%sPersistentKeepalive = often\n", s) > 0);
	free(s);
	return t;
}

/* A line of exactly `bytes` bytes with its '\n', at line 5, then an unknown key at line 6. */
static char *build_line_of(size_t bytes)
{
	const char *head = IFACE PEER_B;
	size_t hlen = strlen(head);
	char *s = malloc(hlen + bytes + 64);

	assert_non_null(s);
	memcpy(s, head, hlen);
	s[hlen] = '#';
	memset(s + hlen + 1, 'x', bytes - 2);
	s[hlen + bytes - 1] = '\n';
	strcpy(s + hlen + bytes, "Foo = bar\n");
	return s;
}

static char *build_line_65536(void)
{
	return build_line_of(65536);
}

static char *build_line_65537(void)
{
	return build_line_of(65537);
}

/* ---- The table ---- */

static const struct config_case cases[] = {
	/* 1 */
	{.name = "a full wg-quick file loads as it is",
	 .text = "# /etc/wireguard/wg0.conf\n"
		 "[Interface]\n"
		 "Address = 10.0.0.1/24, fd00::1/64\n"
		 "ListenPort = 51820\n"
		 "PrivateKey = " PRIV "\n"
		 "MTU = 1420\n"
		 "DNS = 10.0.0.53, 2001:db8::53, example.com\n"
		 "Table = 1234\n"
		 "FwMark = 0x1234\n"
		 "PreUp = echo pre-up %i\n"
		 "PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n"
		 "PostUp = ip6tables -A FORWARD -i %i -j ACCEPT\n"
		 "PreDown = echo pre-down %i\n"
		 "PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE\n"
		 "\n"
		 "[Peer]\n" /* 16 */
		 "PublicKey = " PUB_B "\n"
		 "PresharedKey = " PSK "\n"
		 "AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
		 "Endpoint = 192.0.2.1:51820\n"
		 "PersistentKeepalive = 25\n",
	 .check = check_full},
	/* 2 */
	{.name = "several [Peer] sections, endpoints by v4, [v6] and name",
	 .text = IFACE "Address = 10.0.0.1/24\n"
		       "\n"
		       "[Peer]\n" /* 5 */
		       "Name = alice\n"
		       "PublicKey = " PUB_B "\n"
		       "AllowedIPs = 10.0.0.2/32\n"
		       "Endpoint = [2001:db8::1]:51820\n"
		       "\n"
		       "[Peer]\n" /* 11 */
		       "PublicKey = " PUB_C "\n"
		       "Name = bob.laptop_2-x\n"
		       "AllowedIPs = 10.0.0.3/32, 192.168.3.0/24\n"
		       "AllowedIPs = fd00::3/128\n"
		       "Endpoint = vpn.example.com:443\n"
		       "PersistentKeepalive = off\n"
		       "\n"
		       "[Peer]\n" /* 19 */
		       "PublicKey = " PUB_D "\n"
		       "AllowedIPs = 0.0.0.0/0, ::/0\n"
		       "Endpoint = 198.51.100.7:65535\n"
		       "PersistentKeepalive = 65535\n",
	 .check = check_several_peers},
	/* 3 */
	{.name = "PublicKey too short",
	 .text = IFACE "[Peer]\n"
		       "PublicKey = jrO10eBF=\n",
	 .diags =
		 {L
		  "4: error: PublicKey: \"jrO10eBF=\" must be 44 characters of base64 ending in '='",
		  L "3: error: [Peer] has no PublicKey"},
	 .n_errors = 2},
	/* 4 */
	{.name = "PublicKey not base64",
	 .text = IFACE "[Peer]\n"
		       "PublicKey = jrO10eBFmwCS4TZ5beR54/Bq9pUivV9XTUIj/pRN!Uk=\n",
	 .diags =
		 {L
		  "4: error: PublicKey: \"jrO10eBFmwCS4TZ5beR54/Bq9pUivV9XTUIj/pRN!Uk=\" is not valid base64",
		  L "3: error: [Peer] has no PublicKey"},
	 .n_errors = 2},
	/* 5 */
	{.name = "PublicKey not canonical (unused low bits set)",
	 .text = IFACE "[Peer]\n"
		       "PublicKey = jrO10eBFmwCS4TZ5beR54/Bq9pUivV9XTUIj/pRNDUl=\n",
	 .diags =
		 {L
		  "4: error: PublicKey: \"jrO10eBFmwCS4TZ5beR54/Bq9pUivV9XTUIj/pRNDUl=\" is not a canonical base64 key",
		  L "3: error: [Peer] has no PublicKey"},
	 .n_errors = 2},
	/* 6 */
	{.name = "bad PrivateKey is not echoed",
	 .text = "[Interface]\n"
		 "PrivateKey = 6NYFH7Dha3QCw5oWpJY0VzQZzjTDv9TbiAMglle9j2\n",
	 .diags = {L "2: error: PrivateKey: the key must be 44 characters of base64 ending in '='",
		   L "1: error: [Interface] has no PrivateKey or PrivateKeyFile"},
	 .n_errors = 2},
	/* 7 */
	{.name = "bad PresharedKey is not echoed",
	 .text = IFACE PEER_B "PresharedKey = cM92FutqNtTxsD2wLRjvx9DoU+yHIjArVQv/iDvWkRR=\n",
	 .diags = {L "5: error: PresharedKey: the key is not a canonical base64 key"},
	 .n_errors = 1},
	/* 8 */
	{.name = "bad prefixes: length, family length, not an address",
	 .text = IFACE PEER_B "AllowedIPs = 10.0.0.0/33, 10.1.0.0/16\n"
			      "AllowedIPs = fd00::/129\n"
			      "AllowedIPs = 10.0.0/24\n"
			      "AllowedIPs = 10.0.0.0/\n",
	 .diags = {L "5: error: AllowedIPs: \"10.0.0.0/33\": prefix length must be 0-32",
		   L "6: error: AllowedIPs: \"fd00::/129\": prefix length must be 0-128",
		   L "7: error: AllowedIPs: \"10.0.0/24\": is not an IP address",
		   L "8: error: AllowedIPs: \"10.0.0.0/\": prefix length must be 0-32"},
	 .n_errors = 4},
	/* 9 */
	{.name = "bad Address",
	 .text = IFACE "Address = 10.0.0.1/24, 10.0.0.1/40\n"
		       "Address = wg0\n",
	 .diags = {L "3: error: Address: \"10.0.0.1/40\": prefix length must be 0-32",
		   L "4: error: Address: \"wg0\": is not an IP address"},
	 .n_errors = 2},
	/* 10 */
	{.name = "host bits in AllowedIPs warn and are cleared, kept in Address",
	 .text = IFACE "Address = 10.0.0.1/24, fd00::1/64\n" PEER_B
		       "AllowedIPs = 10.0.0.77/24, fd00::1:2/112, 0.0.0.0/0\n",
	 .diags =
		 {L "6: warning: AllowedIPs: \"10.0.0.77/24\" has host bits set; using 10.0.0.0/24",
		  L
		  "6: warning: AllowedIPs: \"fd00::1:2/112\" has host bits set; using fd00::1:0/112"},
	 .n_warnings = 2,
	 .check = check_host_bits},
	/* 11 */
	{.name = "duplicate peer key",
	 .text = IFACE PEER_B "AllowedIPs = 10.0.0.2/32\n"
			      "[Peer]\n"
			      "PublicKey = " PUB_B "\n"
			      "AllowedIPs = 10.0.0.3/32\n",
	 .diags =
		 {L
		  "7: error: duplicate peer: this PublicKey is already used by the [Peer] at line 3"},
	 .n_errors = 1},
	/* 12 */
	{.name = "duplicate Name",
	 .text = IFACE PEER_B "Name = alice\n"
			      "[Peer]\n"
			      "PublicKey = " PUB_C "\n"
			      "Name = alice\n",
	 .diags = {L "6: error: duplicate Name \"alice\": already used by the [Peer] at line 3"},
	 .n_errors = 1},
	/* 13 */
	{.name = "bad Name",
	 .text = IFACE PEER_B "Name = bad name\n"
			      "[Peer]\n"
			      "PublicKey = " PUB_C "\n"
			      "Name = abcdefghijklmnopqrstuvwxyz0123456\n",
	 .diags =
		 {L "5: error: Name: \"bad name\": expected 1-32 characters of A-Z a-z 0-9 . _ -", L
		  "8: error: Name: \"abcdefghijklmnopqrstuvwxyz0123456\": expected 1-32 characters of A-Z a-z 0-9 . _ -"},
	 .n_errors = 2},
	/* 14 */
	{.name = "unknown keys, and keys of the other section",
	 .text = IFACE "Foo = bar\n" PEER_B "Endpoint2 = x\n"
		       "ListenPort = 1\n",
	 .diags = {L "3: error: unknown key \"Foo\" in [Interface]",
		   L "6: error: unknown key \"Endpoint2\" in [Peer]",
		   L "7: error: unknown key \"ListenPort\" in [Peer]"},
	 .n_errors = 3},
	/* 15 */
	{.name = "key outside any section",
	 .text = "# leading comment\n"
		 "ListenPort = 51820\n"
		 "[Interface]\n"
		 "PrivateKey = " PRIV "\n",
	 .diags =
		 {L
		  "2: error: \"ListenPort\" is outside any section; expected [Interface] or [Peer] first"},
	 .n_errors = 1},
	/* 16 */
	{.name = "unknown section: reported once, its keys skipped",
	 .text = IFACE "[Foo]\n"
		       "Bar = baz\n"
		       "PrivateKey = not-looked-at\n" PEER_B,
	 .diags = {L "3: error: unknown section [Foo]; expected [Interface], [Peer] or [Expose NAME]"},
	 .n_errors = 1},
	/* 17 */
	{.name = "missing PrivateKey",
	 .text = "\n"
		 "[Interface]\n"
		 "ListenPort = 51820\n"
		 "[Peer]\n"
		 "PublicKey = " PUB_B "\n",
	 .diags = {L "2: error: [Interface] has no PrivateKey or PrivateKeyFile"},
	 .n_errors = 1},
	/* 18 */
	{.name = "no [Interface] at all",
	 .text = "[Peer]\n"
		 "PublicKey = " PUB_B "\n",
	 .diags = {PATH ": error: no [Interface] section"},
	 .n_errors = 1},
	/* 19 */
	{.name = "empty file",
	 .text = "",
	 .diags = {PATH ": error: no [Interface] section"},
	 .n_errors = 1},
	/* 20 */
	{.name = "[Peer] without PublicKey",
	 .text = IFACE "[Peer]\n"
		       "AllowedIPs = 10.0.0.2/32\n",
	 .diags = {L "3: error: [Peer] has no PublicKey"},
	 .n_errors = 1},
	/* 21 */
	{.name = "ListenPort out of range",
	 .text = IFACE "ListenPort = 65536\n",
	 .diags =
		 {L
		  "3: error: ListenPort: \"65536\": expected a port number 0-65535 (0: any free port)"},
	 .n_errors = 1},
	/* 22 */
	{.name = "ListenPort not a number",
	 .text = IFACE "ListenPort = 51820x\n",
	 .diags =
		 {L
		  "3: error: ListenPort: \"51820x\": expected a port number 0-65535 (0: any free port)"},
	 .n_errors = 1},
	/* 23 */
	{.name = "ListenPort negative",
	 .text = IFACE "ListenPort = -1\n",
	 .diags =
		 {L
		  "3: error: ListenPort: \"-1\": expected a port number 0-65535 (0: any free port)"},
	 .n_errors = 1},
	/* 24 */
	{.name = "ListenPort 0 is any port",
	 .text = IFACE "ListenPort = 0\n",
	 .check = check_port0},
	/* 25 */
	{.name = "ListenPort 65535",
	 .text = IFACE "ListenPort = 65535\n",
	 .check = check_port65535},
	/* 26 */
	{.name = "Endpoint without port",
	 .text = IFACE PEER_B "Endpoint = 192.0.2.1\n",
	 .diags = {L "5: error: Endpoint: \"192.0.2.1\": expected host:port"},
	 .n_errors = 1},
	/* 27 */
	{.name = "Endpoint port 0",
	 .text = IFACE PEER_B "Endpoint = 192.0.2.1:0\n",
	 .diags = {L "5: error: Endpoint: \"192.0.2.1:0\": port must be 1-65535"},
	 .n_errors = 1},
	/* 28 */
	{.name = "Endpoint port 65536",
	 .text = IFACE PEER_B "Endpoint = vpn.example.com:65536\n",
	 .diags = {L "5: error: Endpoint: \"vpn.example.com:65536\": port must be 1-65535"},
	 .n_errors = 1},
	/* 29 */
	{.name = "Endpoint IPv6 without brackets",
	 .text = IFACE PEER_B "Endpoint = 2001:db8::1:51820\n",
	 .diags =
		 {L
		  "5: error: Endpoint: \"2001:db8::1:51820\": an IPv6 address needs brackets: [address]:port"},
	 .n_errors = 1},
	/* 30 */
	{.name = "Endpoint [v6] without port",
	 .text = IFACE PEER_B "Endpoint = [2001:db8::1]\n",
	 .diags = {L "5: error: Endpoint: \"[2001:db8::1]\": expected [IPv6]:port"},
	 .n_errors = 1},
	/* 31 */
	{.name = "Endpoint with empty host",
	 .text = IFACE PEER_B "Endpoint = :51820\n",
	 .diags = {L "5: error: Endpoint: \":51820\": the host is empty"},
	 .n_errors = 1},
	/* 32 */
	{.name = "PersistentKeepalive out of range",
	 .text = IFACE PEER_B "PersistentKeepalive = 65536\n",
	 .diags =
		 {L
		  "5: error: PersistentKeepalive: \"65536\": expected off or a number of seconds 1-65535"},
	 .n_errors = 1},
	/* 33 */
	{.name = "PersistentKeepalive not a number",
	 .text = IFACE PEER_B "PersistentKeepalive = 25s\n",
	 .diags =
		 {L
		  "5: error: PersistentKeepalive: \"25s\": expected off or a number of seconds 1-65535"},
	 .n_errors = 1},
	/* 34 */
	{.name = "PersistentKeepalive 0 is off",
	 .text = IFACE PEER_B "PersistentKeepalive = 0\n",
	 .check = check_keepalive_off},
	/* 35 */
	{.name = "Table = off", .text = IFACE "Table = off\n", .check = check_table_off},
	/* 36 */
	{.name = "Table = main", .text = IFACE "Table = main\n", .check = check_table_main},
	/* 37 */
	{.name = "Table = auto", .text = IFACE "Table = auto\n", .check = check_table_auto},
	/* 38 */
	{.name = "Table = 4294967295",
	 .text = IFACE "Table = 4294967295\n",
	 .check = check_table_max},
	/* 39 */
	{.name = "Table = 0",
	 .text = IFACE "Table = 0\n",
	 .diags = {L "3: error: Table: \"0\": expected auto, off, main or a table number"},
	 .n_errors = 1},
	/* 40 */
	{.name = "Table = 4294967296",
	 .text = IFACE "Table = 4294967296\n",
	 .diags = {L "3: error: Table: \"4294967296\": expected auto, off, main or a table number"},
	 .n_errors = 1},
	/* 41 */
	{.name = "Table = local-ish",
	 .text = IFACE "Table = mine\n",
	 .diags = {L "3: error: Table: \"mine\": expected auto, off, main or a table number"},
	 .n_errors = 1},
	/* 42 */
	{.name = "MTU below 576",
	 .text = IFACE "MTU = 575\n",
	 .diags = {L "3: error: MTU: \"575\": expected a number 576-65535"},
	 .n_errors = 1},
	/* 43 */
	{.name = "MTU above 65535",
	 .text = IFACE "MTU = 65536\n",
	 .diags = {L "3: error: MTU: \"65536\": expected a number 576-65535"},
	 .n_errors = 1},
	/* 44 */
	{.name = "MTU 576", .text = IFACE "MTU = 576\n", .check = check_mtu576},
	/* 45 */
	{.name = "FwMark off", .text = IFACE "FwMark = off\n", .check = check_fwmark_off},
	/* 46 */
	{.name = "FwMark 0xffffffff",
	 .text = IFACE "FwMark = 0xffffffff\n",
	 .check = check_fwmark_max},
	/* 47 */
	{.name = "FwMark too large",
	 .text = IFACE "FwMark = 0x100000000\n",
	 .diags =
		 {L
		  "3: error: FwMark: \"0x100000000\": expected off, a number or 0xHEX up to 0xffffffff"},
	 .n_errors = 1},
	/* 48 */
	{.name = "FwMark not a number",
	 .text = IFACE "FwMark = mark\n",
	 .diags = {L
		   "3: error: FwMark: \"mark\": expected off, a number or 0xHEX up to 0xffffffff"},
	 .n_errors = 1},
	/*
	 * 49. Regression: a leading zero once made the value octal, so "010"
	 * loaded as 8. wg reads decimal unless the value starts with "0x", and
	 * the same wg-quick file must give the same mark.
	 */
	{.name = "FwMark with a leading zero is decimal, as in wg",
	 .text = IFACE "FwMark = 010\n",
	 .check = check_fwmark_decimal},
	/* 50 */
	{.name = "DNS: a prefix and a bad search domain",
	 .text = IFACE "DNS = 10.0.0.1/24, -bad, example.org\n",
	 .diags = {L "3: error: DNS: \"10.0.0.1/24\": expected an IP address or a search domain",
		   L "3: error: DNS: \"-bad\": expected an IP address or a search domain"},
	 .n_errors = 2},
	/* 51 */
	{.name = "own public key as a peer",
	 .text = IFACE "[Peer]\n"
		       "PublicKey = " OWN_PUB "\n",
	 .diags = {L "4: error: PublicKey: this is the interface's own public key"},
	 .n_errors = 1},
	/* 52 */
	{.name = "the same AllowedIPs on several peers: warnings, the later peer gets it",
	 .text = IFACE PEER_B "AllowedIPs = 10.0.0.0/24, fd00::/64\n"
			      "[Peer]\n" /* 6 */
			      "PublicKey = " PUB_C "\n"
			      "AllowedIPs = 10.0.0.9/24\n"
			      "[Peer]\n" /* 9 */
			      "PublicKey = " PUB_D "\n"
			      "AllowedIPs = fd00::/64, 10.0.0.0/24, 10.0.0.0/16\n",
	 .diags =
		 {L "8: warning: AllowedIPs: \"10.0.0.9/24\" has host bits set; using 10.0.0.0/24",
		  L
		  "6: warning: AllowedIPs: 10.0.0.0/24 is also in the [Peer] at line 3; this later peer gets it",
		  L
		  "9: warning: AllowedIPs: 10.0.0.0/24 is also in the [Peer] at line 6; this later peer gets it",
		  L
		  "9: warning: AllowedIPs: fd00::/64 is also in the [Peer] at line 3; this later peer gets it"},
	 .n_warnings = 4,
	 .check = check_overlap},
	/* 53 */
	{.name = "';' in the middle of a value is not a comment (only '#' is)",
	 .text = IFACE PEER_B "Endpoint = 192.0.2.1:51820 ; not a comment here\n",
	 .diags =
		 {L
		  "5: error: Endpoint: \"192.0.2.1:51820 ; not a comment here\": port must be 1-65535"},
	 .n_errors = 1},
	/* 54 */
	{.name = "comments and blank lines load",
	 .text = "# a comment\n"
		 "; another comment\n"
		 "\n"
		 "[Interface] # trailing comment\n"
		 "\tPrivateKey = " PRIV "   # key\n"
		 "   ListenPort = 51820#no space\n"
		 "PostUp = echo a; echo b # two commands\n"
		 "\n"
		 "  [ Peer ]\n"
		 "PublicKey = " PUB_B "\n"
		 "  AllowedIPs = 10.0.0.2/32  # indented, not a continuation\n"
		 "Endpoint = 192.0.2.1:51820\n"
		 "# PersistentKeepalive = 25\n"
		 "#",
	 .check = check_comments},
	/* 55 */
	{.name = "CRLF line endings load",
	 .text = "# crlf\r\n"
		 "[Interface]\r\n"
		 "PrivateKey = " PRIV "\r\n"
		 "ListenPort = 51820 # c\r\n"
		 "PostUp = echo a; echo b\r\n"
		 "\r\n"
		 "[Peer]\r\n"
		 "PublicKey = " PUB_B "\r\n"
		 "AllowedIPs = 10.0.0.2/32\r\n"
		 "Endpoint = 192.0.2.1:51820\r\n",
	 .check = check_comments},
	/* 56 */
	{.name = "CRLF: errors on the right line, no '\\r' in the message",
	 .text = "[Interface]\r\n"
		 "PrivateKey = " PRIV "\r\n"
		 "\r\n"
		 "ListenPort = x\r\n",
	 .diags =
		 {L
		  "4: error: ListenPort: \"x\": expected a port number 0-65535 (0: any free port)"},
	 .n_errors = 1},
	/* 57 */
	{.name = "a key repeated in one section: warning, last wins; lists add up",
	 .text = IFACE "ListenPort = 1\n"
		       "listenport = 2\n"
		       "Address = 10.0.0.1/24\n"
		       "Address = 10.0.1.1/24\n" PEER_B "Endpoint = a.example:1\n"
		       "Endpoint = b.example:2\n",
	 .diags = {L
		   "4: warning: ListenPort is set again (first at line 3); the last value is used",
		   L
		   "10: warning: Endpoint is set again (first at line 9); the last value is used"},
	 .n_warnings = 2,
	 .check = check_repeated},
	/*
	 * 58. Regression: a repeated PrivateKey was once refused with "use
	 * PrivateKey or PrivateKeyFile, not both". Like every other non-list key
	 * (and as wg does) it warns and takes the last value.
	 */
	{.name = "PrivateKey repeated in one section",
	 .text = IFACE "PrivateKey = " PRIV2 "\n",
	 .diags = {L
		   "3: warning: PrivateKey is set again (first at line 2); the last value is used"},
	 .n_warnings = 1,
	 .check = check_private_key2},
	/* 59 */
	{.name = "PrivateKey and PrivateKeyFile both",
	 .text = IFACE "PrivateKeyFile = key\n",
	 .diags =
		 {L
		  "3: error: PrivateKeyFile: the private key is already set at line 2; use PrivateKey or PrivateKeyFile, not both"},
	 .n_errors = 1},
	/* 60 */
	{.name = "a key without a value",
	 .text = IFACE "ListenPort =\n"
		       "Address =\n",
	 .diags = {L "3: error: ListenPort: expected a value"},
	 .n_errors = 1},
	/* 61 */
	{.name = "SaveConfig is ignored with a warning",
	 .text = IFACE "SaveConfig = true\n",
	 .diags =
		 {L
		  "3: warning: SaveConfig is a wg-quick setting tund ignores; tund writes this file only for tunctl --save"},
	 .n_warnings = 1,
	 .check = check_private_key},
	/* 62 */
	{.name = "section and key names are case-insensitive",
	 .text = "[interface]\n"
		 "privatekey = " PRIV "\n"
		 "LISTENPORT = 7\n"
		 "[PEER]\n"
		 "publickey = " PUB_B "\n"
		 "allowedips = 10.0.0.2/32\n",
	 .check = check_case_insensitive},
	/* 63: line shapes the reader (ini_lex.c) refuses */
	{.name = "a line with no '='",
	 .text = IFACE "ListenPort 51820\n",
	 .diags = {L "3: error: expected \"Key = Value\", a [Section] or a comment"},
	 .n_errors = 1},
	/* 64 */
	{.name = "an unterminated section header: its keys are skipped",
	 .text = IFACE "[Peer\n"
		       "PublicKey = " PUB_B "\n"
		       "Bogus = 1\n",
	 .diags = {L "3: error: expected a section header like [Peer]"},
	 .n_errors = 1},
	/* 65 */
	{.name = "a line that is just text",
	 .text = IFACE "\n"
		       "this is not an ini line\n",
	 .diags = {L "4: error: expected \"Key = Value\", a [Section] or a comment"},
	 .n_errors = 1},
	/* 66 */
	{.name = "text after a section header",
	 .text = IFACE "[Peer] extra\n",
	 .diags = {L "3: error: expected a section header like [Peer]"},
	 .n_errors = 1},
	/* 67 */
	{.name = "an empty section name",
	 .text = IFACE "[]\n",
	 .diags = {L "3: error: unknown section []; expected [Interface], [Peer] or [Expose NAME]"},
	 .n_errors = 1},
	/* 68 */
	{.name = "no key before '=', a key with a blank, a ':' key",
	 .text = IFACE "= value\n"
		       "Listen Port = 1\n"
		       "Listen:Port = 1\n",
	 .diags = {L "3: error: \"\" is not a key name",
		   L "4: error: \"Listen Port\" is not a key name",
		   L "5: error: \"Listen:Port\" is not a key name"},
	 .n_errors = 3},
	/* 69 */
	{.name = "a control character",
	 .text = IFACE "ListenPort = 1\x02\n"
		       "MTU = 1280\x7f\n",
	 .diags = {L "3: error: line contains a control character (byte 0x02)",
		   L "4: error: line contains a control character (byte 0x7f)"},
	 .n_errors = 2},
	/* 70 */
	{.name = "a NUL byte",
	 .text = IFACE "Listen\0Port = 1\n"
		       "Bogus = 2\n",
	 .len = sizeof(IFACE "Listen\0Port = 1\n"
			     "Bogus = 2\n") -
		1,
	 .diags = {L "3: error: line contains a NUL byte",
		   L "4: error: unknown key \"Bogus\" in [Interface]"},
	 .n_errors = 2},
	/* 71 */
	{.name = "a 65536-byte line is fine; the next line is counted",
	 .build = build_line_65536,
	 .diags = {L "6: error: unknown key \"Foo\" in [Peer]"},
	 .n_errors = 1},
	/* 72 */
	{.name = "a 65537-byte line is refused; the next line is counted",
	 .build = build_line_65537,
	 .diags = {L "5: error: line is longer than 65536 bytes",
		   L "6: error: unknown key \"Foo\" in [Peer]"},
	 .n_errors = 2},
	/* 73 */
	{.name = "a long AllowedIPs list (over 200 bytes) loads whole",
	 .build = build_long_list,
	 .check = check_long_list},
	/* 74 */
	{.name = "an error after a long line points at its own line",
	 .build = build_long_list_then_error,
	 .diags =
		 {L
		  "7: error: PersistentKeepalive: \"often\": expected off or a number of seconds 1-65535"},
	 .n_errors = 1},
	/* 75 */
	{.name = "the interface name comes from the file name",
	 .path = "x/wg-office_1.conf",
	 .text = IFACE,
	 .check = check_name_office},
	/* 76 */
	{.name = "a file name that is not an interface name",
	 .path = "x/a-very-long-name0.conf",
	 .text = IFACE,
	 .diags =
		 {"x/a-very-long-name0.conf: error: \"a-very-long-name0\" is not a valid interface name (1-15 of A-Z a-z 0-9 _ = + . -); rename the file"},
	 .n_errors = 1},
	/* 77 */
	{.name = "a path without .conf", .path = "x/wg0", .text = IFACE, .check = check_name_wg0},

	/* ---- Rows loaded from files in a temporary directory ---- */

	/* 78 */
	{.name = "PrivateKeyFile and PresharedKeyFile of mode 0600 load",
	 .in_dir = true,
	 .mode = 0644,
	 .files = {{"key", 0600, PRIV2 "\n"}, {"psk", 0600, PSK}},
	 .text = "[Interface]\n"
		 "PrivateKeyFile = key\n" PEER_B "PresharedKeyFile = $D/psk\n",
	 .check = check_key_files},
	/* 79 */
	{.name = "PrivateKeyFile readable by others is refused",
	 .in_dir = true,
	 .mode = 0600,
	 .files = {{"key", 0644, PRIV2 "\n"}},
	 .text = "[Interface]\n"
		 "PrivateKeyFile = key\n",
	 .diags =
		 {FL
		  "2: error: PrivateKeyFile: \"key\" is readable by group or others (mode 0644); run chmod 600 on it",
		  FL "1: error: [Interface] has no PrivateKey or PrivateKeyFile"},
	 .n_errors = 2},
	/* 80 */
	{.name = "PresharedKeyFile readable by the reader's own group loads",
	 .in_dir = true,
	 .mode = 0600,
	 .files = {{"psk", 0640, PSK "\n"}},
	 .text = IFACE PEER_B "PresharedKeyFile = psk\n"},
	/* 81 */
	{.name = "inline PrivateKey in a file others can read: warning",
	 .in_dir = true,
	 .mode = 0644,
	 .text = IFACE,
	 .diags =
		 {"$D/wg0.conf: warning: contains a private or preshared key and is readable by group or others (mode 0644); run chmod 600 on it"},
	 .n_warnings = 1,
	 .check = check_private_key},
	/* 82 */
	{.name = "inline PresharedKey in a file of the reader's own group: no warning",
	 .in_dir = true,
	 .mode = 0640,
	 .files = {{"key", 0600, PRIV}},
	 .text = "[Interface]\n"
		 "PrivateKeyFile = key\n" PEER_B "PresharedKey = " PSK "\n"},
	/* 83 */
	{.name = "inline PrivateKey in a file of mode 0600: no warning",
	 .in_dir = true,
	 .mode = 0600,
	 .text = IFACE,
	 .check = check_private_key},
	/* 84 */
	{.name = "a missing key file",
	 .in_dir = true,
	 .mode = 0600,
	 .text = "[Interface]\n"
		 "PrivateKeyFile = nokey\n",
	 .diags = {FL "2: error: PrivateKeyFile: \"nokey\": cannot read: No such file or directory",
		   FL "1: error: [Interface] has no PrivateKey or PrivateKeyFile"},
	 .n_errors = 2},
	/* 85 */
	{.name = "a key file that is a directory",
	 .in_dir = true,
	 .mode = 0600,
	 .files = {{"keys", 0700, NULL}},
	 .text = "[Interface]\n"
		 "PrivateKeyFile = keys\n",
	 .diags = {FL "2: error: PrivateKeyFile: \"keys\": not a regular file",
		   FL "1: error: [Interface] has no PrivateKey or PrivateKeyFile"},
	 .n_errors = 2},
	/* 86 */
	{.name = "a key file with no key in it",
	 .in_dir = true,
	 .mode = 0600,
	 .files = {{"key", 0600, "hello\n"}},
	 .text = "[Interface]\n"
		 "PrivateKeyFile = key\n",
	 .diags =
		 {FL
		  "2: error: PrivateKeyFile: \"key\": the key in it must be 44 characters of base64 ending in '='",
		  FL "1: error: [Interface] has no PrivateKey or PrivateKeyFile"},
	 .n_errors = 2},
	/* Localhost tunnels: AllowExpose, the Expose* keys, [Expose NAME] */
	{.name = "expose: AllowExpose and the server's Expose* keys",
	 .text = IFACE "ExposeBindAddress = 203.0.113.1\n"
		       "ExposeGracePeriod = 0\n"
		       "ExposeMaxConnections = 100\n" PEER_B "AllowExpose = 8000-8099, 9000\n"
		       "AllowExpose = 443\n"
		       "AllowedIPs = 10.0.0.2/32\n",
	 .check = check_expose_server},
	{.name = "expose: [Expose] sections with defaults and with every key",
	 .text = IFACE "Address = 10.0.0.2/24, fd00::2/64\n"
		       "ExposeControlPort = 4000\n"
		       "[Peer]\n"
		       "Name = server\n"
		       "PublicKey = " PUB_B "\n"
		       "AllowedIPs = 10.0.0.0/24, 10.0.0.1/32\n"
		       "[Expose web]\n"
		       "LocalPort = 8000\n"
		       "Peer = server\n"
		       "[expose  api.v2 ]\n"
		       "LocalPort = 3000\n"
		       "LocalAddress = ::1\n"
		       "PublicPort = 8443\n"
		       "ProxyProtocol = yes\n"
		       "ServerAddress = 10.0.0.1\n"
		       "Peer = " PUB_B "\n",
	 .check = check_expose_client},
	{.name = "expose: bad values of the Expose* keys",
	 .text = IFACE "ExposeControlPort = 0\n"
		       "ExposeBindAddress = eth0\n"
		       "ExposeGracePeriod = 1d\n"
		       "ExposeMaxConnections = 0\n",
	 .diags = {L "3: error: ExposeControlPort: \"0\": expected a port number 1-65535",
		   L "4: error: ExposeBindAddress: \"eth0\": expected an IP address such as 0.0.0.0, :: or 203.0.113.1",
		   L "5: error: ExposeGracePeriod: \"1d\": expected a number of seconds 0-86400",
		   L "6: error: ExposeMaxConnections: \"0\": expected a number 1-1000000"},
	 .n_errors = 4},
	{.name = "expose: bad AllowExpose ports and ranges",
	 .text = IFACE PEER_B "AllowExpose = 0, 8000\n"
			      "AllowExpose = 9000-8000\n"
			      "AllowExpose = http, 70000-70001\n"
			      "AllowExpose = 80-\n"
			      "AllowedIPs = 10.0.0.2/32\n",
	 .diags = {L "5: error: AllowExpose: \"0\": a port is 1-65535",
		   L "6: error: AllowExpose: \"9000-8000\": the range ends before it begins",
		   L "7: error: AllowExpose: \"http\": expected a port or a range of ports such as 8000-8099",
		   L "7: error: AllowExpose: \"70000-70001\": a port is 1-65535",
		   L "8: error: AllowExpose: \"80-\": expected a port or a range of ports such as 8000-8099"},
	 .n_errors = 5},
	{.name = "expose: bad values in [Expose], keys missing",
	 .text = IFACE "Address = 10.0.0.2/24\n" PEER_B "AllowedIPs = 10.0.0.1/32\n"
		       "[Expose web]\n"
		       "LocalPort = 0\n"
		       "ProxyProtocol = maybe\n"
		       "LocalAddress = localhost\n"
		       "ServerAddress = 10.0.0.0/24\n"
		       "Colour = red\n",
	 .diags = {L "8: error: LocalPort: \"0\": expected a port number 1-65535",
		   L "9: error: ProxyProtocol: \"maybe\": expected yes or no",
		   L "10: error: LocalAddress: \"localhost\": expected an IP address such as 127.0.0.1 or ::1",
		   L "11: error: ServerAddress: \"10.0.0.0/24\": expected the server's tunnel address, such as 10.0.0.1",
		   L "12: error: unknown key \"Colour\" in [Expose]",
		   L "7: error: [Expose web] has no LocalPort (the port of the local service)",
		   L "7: error: [Expose web] has no Peer (the Name or PublicKey of the server's [Peer])"},
	 .n_errors = 7},
	{.name = "expose: unknown peer, no server address, duplicates, a bad name",
	 .text = IFACE "Address = 10.0.0.2/24\n"
		       "[Peer]\n"
		       "Name = server\n"
		       "PublicKey = " PUB_B "\n"
		       "AllowedIPs = 10.0.0.0/24\n"
		       "[Expose a]\n"
		       "LocalPort = 1\n"
		       "Peer = nosuch\n"
		       "[Expose b]\n"
		       "LocalPort = 2\n"
		       "Peer = server\n"
		       "[Expose c]\n"
		       "LocalPort = 3\n"
		       "Peer = server\n"
		       "ServerAddress = 10.9.9.9\n"
		       "[Expose c]\n"
		       "LocalPort = 4\n"
		       "Peer = server\n"
		       "[Expose d]\n"
		       "LocalPort = 5\n"
		       "Peer = server\n"
		       "ServerAddress = 10.0.0.1\n"
		       "PublicPort = 6\n"
		       "[Expose e]\n"
		       "LocalPort = 6\n"
		       "Peer = server\n"
		       "ServerAddress = 10.0.0.1\n"
		       "[Expose no/slash]\n"
		       "LocalPort = 7\n"
		       "[Expose]\n",
	 .diags = {L "30: error: \"no/slash\" is not a service name: expected [Expose NAME], NAME 1-32 of A-Z a-z 0-9 . _ -",
		   L "32: error: \"\" is not a service name: expected [Expose NAME], NAME 1-32 of A-Z a-z 0-9 . _ -",
		   L "10: error: Peer: \"nosuch\": no [Peer] has this Name or PublicKey",
		   L "11: error: [Expose b]: peer server has no single-address AllowedIPs entry (/32 or /128); set ServerAddress to the server's tunnel address",
		   L "17: error: ServerAddress: 10.9.9.9 is not in the AllowedIPs of peer server",
		   L "18: error: duplicate [Expose c]: already at line 14",
		   L "26: error: PublicPort 6 through peer server is already asked for by the [Expose] at line 21"},
	 .n_errors = 7},
	{.name = "expose: the limits and AllowExposeFrom",
	 .text = IFACE "ExposeIdleTimeout = 0\n"
		       "ExposeMaxConnectionsPerSource = 32\n"
		       "[Peer]\n"
		       "PublicKey = " PUB_B "\n"
		       "AllowedIPs = 10.66.0.0/24, fd66::/64\n"
		       "AllowExpose = 8000\n"
		       "AllowExposeFrom = 10.66.0.2, fd66::2/128\n"
		       "AllowExposeFrom = 10.66.0.12\n",
	 .check = check_expose_limits},
	{.name = "expose: the limits' defaults",
	 .text = IFACE "ExposeMaxConnectionsPerSource = 1000000\n"
		       "ExposeIdleTimeout = 604800\n" PEER_B "AllowedIPs = 10.0.0.2/32\n",
	 .check = check_expose_limits_max},
	{.name = "expose: bad values of the limits and of AllowExposeFrom",
	 .text = IFACE "ExposeIdleTimeout = 1h\n"
		       "ExposeIdleTimeout = 604801\n"
		       "ExposeMaxConnectionsPerSource = 0\n"
		       "[Peer]\n"
		       "PublicKey = " PUB_B "\n"
		       "AllowedIPs = 10.66.0.0/24\n"
		       "AllowExpose = 8000\n"
		       "AllowExposeFrom = 10.66.0.0/24, laptop, 10.66.0.2/24\n",
	 .diags = {L "3: error: ExposeIdleTimeout: \"1h\": expected a number of seconds 0-604800 (0: never)",
		   L "4: warning: ExposeIdleTimeout is set again (first at line 3); the last value is used",
		   L "4: error: ExposeIdleTimeout: \"604801\": expected a number of seconds 0-604800 (0: never)",
		   L "5: error: ExposeMaxConnectionsPerSource: \"0\": expected a number 1-1000000",
		   L "10: error: AllowExposeFrom: \"10.66.0.0/24\": expected the peer's own tunnel address, such as 10.0.0.2 (one address, not a network)",
		   L "10: error: AllowExposeFrom: \"laptop\": expected the peer's own tunnel address, such as 10.0.0.2 (one address, not a network)",
		   L "10: error: AllowExposeFrom: \"10.66.0.2/24\": expected the peer's own tunnel address, such as 10.0.0.2 (one address, not a network)",
		   L "9: error: AllowExpose: the peer has no single-address AllowedIPs entry (/32 or /128) to publish from; set AllowExposeFrom to its own tunnel address"},
	 .n_errors = 7,
	 .n_warnings = 1},
	{.name = "expose: AllowExposeFrom and ServerAddress go to the peer of the longest prefix",
	 .text = IFACE "Address = 10.66.0.1/24\n"
		       "[Peer]\n"
		       "Name = hub\n"
		       "PublicKey = " PUB_B "\n"
		       "AllowedIPs = 10.66.0.0/24\n"
		       "AllowExpose = 8000\n"
		       "AllowExposeFrom = 10.66.0.7\n"
		       "AllowExposeFrom = 10.66.0.9, 10.99.0.1\n"
		       "[Peer]\n"
		       "Name = laptop\n"
		       "PublicKey = " PUB_C "\n"
		       "AllowedIPs = 10.66.0.9/32\n"
		       "AllowExposeFrom = 10.66.0.9\n"
		       "[Expose web]\n"
		       "LocalPort = 8000\n"
		       "Peer = hub\n"
		       "ServerAddress = 10.66.0.9\n",
	 .diags = {L "19: error: ServerAddress: 10.66.0.9 goes to the [Peer] at line 11 (a longer AllowedIPs entry), not to peer hub",
		   L "9: error: AllowExposeFrom: 10.66.0.9 goes to the [Peer] at line 11 (a longer AllowedIPs entry), not to this peer",
		   L "9: error: AllowExposeFrom: 10.99.0.1 is not in this peer's AllowedIPs",
		   L "15: warning: AllowExposeFrom has no effect without AllowExpose"},
	 .n_errors = 3,
	 .n_warnings = 1},
	/* RedirectToLocalhost */
	{.name = "RedirectToLocalhost: ports, ranges, /tcp and /udp in any case, repeated",
	 .text = IFACE "RedirectToLocalhost = 8000, 8080-8090, 5353/udp\n"
		       "RedirectToLocalhost = 53/UDP,9000 - 9001 / Tcp\n"
		       "RedirectToLocalhost = 1-65535/tcp, 8000\n" PEER_B,
	 .check = check_redirects},
	{.name = "RedirectToLocalhost: empty is none",
	 .text = IFACE "RedirectToLocalhost =\n"
		       "RedirectToLocalhost = ,\n" PEER_B,
	 .check = check_no_redirects},
	{.name = "RedirectToLocalhost: port 0, past 65535, a reversed range",
	 .text = IFACE "RedirectToLocalhost = 0, 8000\n"
		       "RedirectToLocalhost = 65536/udp\n"
		       "RedirectToLocalhost = 99999999999999999999\n"
		       "RedirectToLocalhost = 9000-8000\n"
		       "RedirectToLocalhost = 8000-0\n" PEER_B,
	 .diags = {L "3: error: RedirectToLocalhost: \"0\": a port is 1-65535",
		   L "4: error: RedirectToLocalhost: \"65536/udp\": a port is 1-65535",
		   L "5: error: RedirectToLocalhost: \"99999999999999999999\": a port is 1-65535",
		   L
		   "6: error: RedirectToLocalhost: \"9000-8000\": the range ends before it begins",
		   L "7: error: RedirectToLocalhost: \"8000-0\": a port is 1-65535"},
	 .n_errors = 5},
	{.name = "RedirectToLocalhost: unknown protocols and words",
	 .text = IFACE "RedirectToLocalhost = 53/sctp, 80/, 80/udp/tcp\n"
		       "RedirectToLocalhost = http, 80:81, -80, 80-, /tcp\n" PEER_B,
	 .diags =
		 {L
		  "3: error: RedirectToLocalhost: \"53/sctp\": unknown protocol: expected PORT[-PORT][/tcp|/udp]",
		  L
		  "3: error: RedirectToLocalhost: \"80/\": unknown protocol: expected PORT[-PORT][/tcp|/udp]",
		  L
		  "3: error: RedirectToLocalhost: \"80/udp/tcp\": unknown protocol: expected PORT[-PORT][/tcp|/udp]",
		  L
		  "4: error: RedirectToLocalhost: \"http\": expected a port or a range of ports such as 8000-8099",
		  L
		  "4: error: RedirectToLocalhost: \"80:81\": expected a port or a range of ports such as 8000-8099",
		  L
		  "4: error: RedirectToLocalhost: \"-80\": expected a port or a range of ports such as 8000-8099",
		  L
		  "4: error: RedirectToLocalhost: \"80-\": expected a port or a range of ports such as 8000-8099",
		  L
		  "4: error: RedirectToLocalhost: \"/tcp\": expected a port or a range of ports such as 8000-8099"},
	 .n_errors = 8},
	{.name = "RedirectToLocalhost belongs to [Interface], not [Peer]",
	 .text = IFACE PEER_B "RedirectToLocalhost = 8000\n",
	 .diags = {L "5: error: unknown key \"RedirectToLocalhost\" in [Peer]"},
	 .n_errors = 1},
	/* ---- What the loader once took silently ---- */
	{.name = "a UTF-8 byte-order mark before [Interface] loads",
	 .text = "\xEF\xBB\xBF" IFACE PEER_B,
	 .check = check_bom},
	{.name = "a byte-order mark: errors keep their lines",
	 .text = "\xEF\xBB\xBF" IFACE "MTU = 1\n",
	 .diags = {L "3: error: MTU: \"1\": expected a number 576-65535"},
	 .n_errors = 1},
	{.name = "a byte-order mark elsewhere than the start is not one",
	 .text = IFACE "\xEF\xBB\xBF" PEER_B,
	 .diags = {L "3: error: expected \"Key = Value\", a [Section] or a comment",
		   L "4: error: unknown key \"PublicKey\" in [Interface]"},
	 .n_errors = 2},
	{.name = "DNS: what wg-quick reads as a server must be an address",
	 .text = IFACE "DNS = 10.0.0.256, 1.2.3, fe80::zz, 10.0.0.53\n"
		       "DNS = 2001:db8::53, 999, corp.example\n",
	 .diags = {L "3: error: DNS: \"10.0.0.256\": not a valid IP address (and a search domain cannot look like one)",
		   L "3: error: DNS: \"1.2.3\": not a valid IP address (and a search domain cannot look like one)",
		   L "3: error: DNS: \"fe80::zz\": not a valid IP address (and a search domain cannot look like one)",
		   L "4: error: DNS: \"999\": not a valid IP address (and a search domain cannot look like one)"},
	 .n_errors = 4},
	{.name = "DNS: addresses and search domains in any order",
	 .text = IFACE "DNS = 10.0.0.53, 2001:db8::53\n"
		       "DNS = corp.example, a-1.example\n",
	 .check = check_dns_mixed},
	{.name = "an empty PostUp (or other hook) is ignored, with a warning",
	 .text = IFACE "PostUp =\n"
		       "PostUp = echo up\n"
		       "PreDown =   # nothing\n"
		       "PreUp =\n"
		       "PostDown =\n",
	 .diags = {L "3: warning: PostUp: no command; the line is ignored",
		   L "5: warning: PreDown: no command; the line is ignored",
		   L "6: warning: PreUp: no command; the line is ignored",
		   L "7: warning: PostDown: no command; the line is ignored"},
	 .n_warnings = 4,
	 .check = check_empty_hooks},
	{.name = "PresharedKey and PresharedKeyFile both",
	 .text = IFACE PEER_B "PresharedKey = " PSK "\n"
			      "PresharedKeyFile = psk\n",
	 .diags = {L "6: error: PresharedKeyFile: the preshared key is already set at line 5; use PresharedKey or PresharedKeyFile, not both"},
	 .n_errors = 1},
	{.name = "PresharedKeyFile then PresharedKey",
	 .in_dir = true,
	 .mode = 0600,
	 .files = {{"psk", 0600, PSK "\n"}},
	 .text = IFACE PEER_B "PresharedKeyFile = psk\n"
			      "PresharedKey = " PSK "\n",
	 .diags = {FL "6: error: PresharedKey: the preshared key is already set at line 5; use PresharedKey or PresharedKeyFile, not both"},
	 .n_errors = 1},
	{.name = "one preshared key per peer: two peers, one inline, one from a file",
	 .in_dir = true,
	 .mode = 0600,
	 .files = {{"psk", 0600, PSK "\n"}},
	 .text = IFACE PEER_B "PresharedKey = " PSK "\n"
			      "[Peer]\n"
			      "PublicKey = " PUB_C "\n"
			      "PresharedKeyFile = psk\n"},
	{.name = "PresharedKey repeated: warning, the last wins",
	 .text = IFACE PEER_B "PresharedKey = " PSK "\n"
			      "PresharedKey = " PSK "\n",
	 .diags = {L "6: warning: PresharedKey is set again (first at line 5); the last value is used"},
	 .n_warnings = 1},
	{.name = "a second [Interface] is an error naming the first",
	 .text = IFACE "ListenPort = 1\n" PEER_B "[interface]\n"
						 "MTU = 1\n"
						 "ListenPort = 2\n",
	 .diags = {L "6: error: a second [Interface]; the first is at line 1, and a file has one"},
	 .n_errors = 1},
	{.name = "a second [Interface] after a first one elsewhere than line 1",
	 .text = "# wg0\n" IFACE "[Interface]\n",
	 .diags = {L "4: error: a second [Interface]; the first is at line 2, and a file has one"},
	 .n_errors = 1},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- Outside the table ---- */

static void test_unreadable_file(void **state)
{
	struct diag_list d = {0};
	struct iface_config *cfg = (void *)1;
	char buf[512];

	(void)state;
	assert_int_equal(config_load_file("/nonexistent-tund/wg0.conf", &cfg, &d), -ENOENT);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.n_errors, 1);
	assert_string_equal(
		diag_format(buf, sizeof(buf), &d.items[0]),
		"/nonexistent-tund/wg0.conf: error: cannot open: No such file or directory");
	diag_list_clear(&d);
}

/*
 * Regression: a key file that is a FIFO once hung the load for ever (a
 * blocking open() before the type check): at start-up, on reload and in
 * `tunctl check-config`. It must be refused at once as "not a regular file".
 * The load runs in a child that is killed after 5 s.
 */
static void test_key_file_fifo_does_not_block(void **state)
{
	char dir[TS_DIR_LEN], path[512], fifo[512];
	const char *text = "[Interface]\nPrivateKeyFile = key\n";
	int status = 0, waited_ms = 0;
	pid_t pid;

	(void)state;
	ts_tmpdir(dir, "config");
	snprintf(fifo, sizeof(fifo), "%s/key", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	ts_write_text(dir, "wg0.conf", text, 0600);
	snprintf(path, sizeof(path), "%s/wg0.conf", dir);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct diag_list d = {0};
		struct iface_config *cfg;
		char got[1024], want[1024];

		snprintf(want, sizeof(want),
			 "%s:2: error: PrivateKeyFile: \"key\": not a regular file", path);
		config_load_file(path, &cfg, &d);
		_exit(d.n >= 1 && strcmp(diag_format(got, sizeof(got), &d.items[0]), want) == 0
			      ? 0
			      : 1);
	}
	while (waitpid(pid, &status, WNOHANG) == 0 && waited_ms < 5000) {
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		waited_ms += 10;
	}
	if (waited_ms >= 5000) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	unlink(fifo);
	unlink(path);
	rmdir(dir);
	if (waited_ms >= 5000)
		fail_msg("config_load_file() still blocked on a FIFO key file after 5 s");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A directory: good files load sorted, a bad one is left out, others are ignored. */
static void test_load_dir(void **state)
{
	char dir[TS_DIR_LEN], want[1024], buf[1024];
	const char *good = IFACE;
	const char *bad = "[Interface]\nListenPort = 1\n";
	struct config_set set;
	struct diag_list d = {0};

	(void)state;
	ts_tmpdir(dir, "config");
	ts_write_text(dir, "wg1.conf", good, 0600);
	ts_write_text(dir, "wg0.conf", good, 0600);
	ts_write_text(dir, "bad.conf", bad, 0600);
	ts_write_file(dir, "notes.txt", "x", 1, 0600);
	ts_write_file(dir, ".hidden.conf", "x", 1, 0600);

	assert_int_equal(config_load_dir(dir, &set, &d), -EINVAL);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.ifaces[0]->name, "wg0");
	assert_string_equal(set.ifaces[1]->name, "wg1");
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want),
		 "%s/bad.conf:1: error: [Interface] has no PrivateKey or PrivateKeyFile", dir);
	assert_string_equal(diag_format(buf, sizeof(buf), &d.items[0]), want);
	config_set_clear(&set);
	assert_int_equal(set.n, 0);
	diag_list_clear(&d);

	remove_in(dir, "bad.conf", false);
	assert_int_equal(config_load_dir(dir, &set, &d), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(d.n, 0);
	config_set_clear(&set);

	remove_in(dir, "wg0.conf", false);
	remove_in(dir, "wg1.conf", false);
	remove_in(dir, "notes.txt", false);
	remove_in(dir, ".hidden.conf", false);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(config_load_dir(dir, &set, &d), -ENOENT);
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want),
		 "%s: error: cannot read the configuration directory: No such file or directory",
		 dir);
	assert_string_equal(diag_format(buf, sizeof(buf), &d.items[0]), want);
	diag_list_clear(&d);
}

/* No interface file at all (every file removed, then reload): an empty set, no error. */
static void test_load_dir_empty(void **state)
{
	char dir[TS_DIR_LEN];
	struct config_set set;
	struct diag_list d = {0};

	(void)state;
	ts_tmpdir(dir, "config");
	ts_write_file(dir, "notes.txt", "x", 1, 0600);
	assert_int_equal(config_load_dir(dir, &set, &d), 0);
	assert_int_equal(set.n, 0);
	assert_int_equal(set.n_failed, 0);
	assert_int_equal(d.n, 0);
	config_set_clear(&set);
	remove_in(dir, "notes.txt", false);
	assert_int_equal(rmdir(dir), 0);
}

static void test_iface_name_valid(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} names[] = {
		{"wg0", true},
		{"a", true},
		{"wg_office-1.x", true},
		{"a=b+c", true},
		{"123456789012345", true},
		{"1234567890123456", false},
		{"", false},
		{".", false},
		{"..", false},
		{"wg 0", false},
		{"wg/0", false},
		{"wg:0", false},
		{"wg0\n", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (config_iface_name_valid(names[i].name) != names[i].valid)
			fail_msg("config_iface_name_valid(\"%s\") is not %d", names[i].name,
				 names[i].valid);
	}
}

static void test_diag_format(void **state)
{
	struct diag_list d = {0};
	char buf[64];

	(void)state;
	diag_add(&d, DIAG_ERROR, "a.conf", 12, "AllowedIPs: \"%s\": %s", "10.0.0.0/33",
		 "prefix length must be 0-32");
	diag_add(&d, DIAG_WARNING, "a.conf", 0, "whole file");
	diag_add(&d, DIAG_ERROR, NULL, 3, "no file");
	assert_int_equal(d.n, 3);
	assert_int_equal(d.n_errors, 2);
	assert_int_equal(d.n_warnings, 1);
	assert_string_equal(diag_format(buf, sizeof(buf), &d.items[0]),
			    "a.conf:12: error: AllowedIPs: \"10.0.0.0/33\": prefix length must");
	assert_string_equal(diag_format(buf, sizeof(buf), &d.items[1]),
			    "a.conf: warning: whole file");
	assert_string_equal(diag_format(buf, sizeof(buf), &d.items[2]), ":3: error: no file");
	diag_list_clear(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.items);
	iface_config_free(NULL);
}

/* Merging, printing and comparing RedirectToLocalhost lists (config_redirect.c). */
static void test_redirect_ports(void **state)
{
	struct redirect_ports r[] = {
		{8002, 8005, IPPROTO_TCP},   {53, 53, IPPROTO_UDP},	  {8000, 8000, IPPROTO_TCP},
		{8001, 8001, IPPROTO_TCP},   {9000, 9010, IPPROTO_TCP},	  {9005, 9006, IPPROTO_TCP},
		{65535, 65535, IPPROTO_TCP}, {65534, 65535, IPPROTO_TCP}, {54, 60, IPPROTO_UDP},
		{8000, 8000, IPPROTO_UDP},   {9012, 9012, IPPROTO_TCP},
	};
	struct redirect_ports one = {80, 80, IPPROTO_TCP}, p;
	char buf[128], small[16];
	size_t n;

	(void)state;
	n = redirect_ports_normalize(r, sizeof(r) / sizeof(r[0]));
	assert_int_equal(n, 6);
	assert_string_equal(redirect_ports_format(buf, sizeof(buf), r, n),
			    "8000-8005/tcp, 9000-9010/tcp, 9012/tcp, 65534-65535/tcp, 53-60/udp, "
			    "8000/udp");
	assert_string_equal(redirect_ports_format(small, sizeof(small), r, n), "8000-8005/tcp, ");
	assert_string_equal(redirect_ports_format(buf, sizeof(buf), r, 0), "");
	assert_true(redirect_ports_same(r, n, r, n));
	assert_false(redirect_ports_same(r, n, r, n - 1));
	assert_false(redirect_ports_same(r, 1, &one, 1));
	one.first = one.last = 8000;
	assert_false(redirect_ports_same(r, 1, &one, 1)); /* 8000 is not 8000-8005 */
	assert_int_equal(redirect_ports_normalize(&one, 1), 1);
	assert_int_equal(redirect_ports_normalize(NULL, 0), 0);
	assert_int_equal(redirect_ports_parse("80/udp", &p, NULL), 0);
	assert_int_equal(p.protocol, IPPROTO_UDP);
	assert_string_equal(redirect_protocol_name(p.protocol), "udp");
	assert_int_equal(redirect_ports_parse("80/ip", &p, NULL), -EINVAL);
	assert_int_equal(redirect_ports_parse("", &p, NULL), -EINVAL);
}

/* Reload applies RedirectToLocalhost in place: it is no interface-level change. */
static void test_redirect_same_interface(void **state)
{
	static const char a[] = IFACE "Address = 10.0.0.1/24\n" PEER_B;
	static const char b[] = IFACE "Address = 10.0.0.1/24\n"
				      "RedirectToLocalhost = 8000, 53/udp\n" PEER_B;
	static const char c[] = IFACE "Address = 10.0.0.2/24\n"
				      "RedirectToLocalhost = 8000, 53/udp\n" PEER_B;
	struct iface_config *ca, *cb, *cc;
	struct diag_list d = {0};

	(void)state;
	assert_int_equal(config_load_string(PATH, a, strlen(a), &ca, &d), 0);
	assert_int_equal(config_load_string(PATH, b, strlen(b), &cb, &d), 0);
	assert_int_equal(config_load_string(PATH, c, strlen(c), &cc, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(iface_config_same_interface(ca, cb));
	assert_true(iface_config_same_interface(cb, ca));
	assert_false(iface_config_same_interface(cb, cc));
	iface_config_free(ca);
	iface_config_free(cb);
	iface_config_free(cc);
}

/* Reload applies localhost-tunnel settings in place; AllowExpose changes the peer. */
static void test_expose_same_interface(void **state)
{
	static const char a[] = IFACE "Address = 10.0.0.2/24\n" PEER_B "AllowedIPs = 10.0.0.1/32\n";
	static const char b[] = IFACE "Address = 10.0.0.2/24\n"
				      "ExposeControlPort = 4000\n"
				      "ExposeBindAddress = ::\n"
				      "ExposeGracePeriod = 5\n"
				      "ExposeMaxConnections = 10\n" PEER_B "AllowedIPs = 10.0.0.1/32\n"
				      "AllowExpose = 8000\n"
				      "[Expose web]\n"
				      "LocalPort = 80\n"
				      "Peer = " PUB_B "\n";
	struct iface_config *ca, *cb;
	struct peer_config copy;
	struct diag_list d = {0};

	(void)state;
	assert_int_equal(config_load_string(PATH, a, strlen(a), &ca, &d), 0);
	assert_int_equal(config_load_string(PATH, b, strlen(b), &cb, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(iface_config_same_interface(ca, cb));
	assert_false(peer_config_same(&ca->peers[0], &cb->peers[0]));
	assert_int_equal(peer_config_copy(&copy, &cb->peers[0]), 0);
	assert_true(peer_config_same(&copy, &cb->peers[0]));
	assert_ptr_not_equal(copy.allow_expose, cb->peers[0].allow_expose);
	copy.allow_expose[0].last = 8001;
	assert_false(peer_config_same(&copy, &cb->peers[0]));
	peer_config_clear(&copy);
	iface_config_free(ca);
	iface_config_free(cb);
}

/* Key number i; keys 2k and 2k + 1 have the same words in another order (the same slot). */
static void index_key(uint8_t key[KEY_LEN], size_t i)
{
	uint64_t w[4] = {0x1111 + i / 2, 0x2222 * (i / 2 + 1), 0x3333, 0x4444};

	if (i % 2) {
		uint64_t t = w[0];

		w[0] = w[1];
		w[1] = t;
	}
	memcpy(key, w, KEY_LEN);
}

/* Put n peers with the keys index_key() numbers 0..n-1 into cfg; find_each: look each up as it comes. */
static void put_numbered_peers(struct iface_config *cfg, size_t n, bool find_each)
{
	struct peer_config pc = {0};

	for (size_t i = 0; i < n; i++) {
		index_key(pc.public_key, i);
		pc.line = (unsigned int)i;
		assert_int_equal(iface_config_put_peer(cfg, &pc), 0);
		if (find_each)
			assert_non_null(iface_config_find_peer_key(cfg, pc.public_key));
	}
}

/* iface_config_find_peer_key() through put, replace, drop and the loader's own appends. */
static void test_find_peer_key_index(void **state)
{
	enum { N = 1000 };
	struct iface_config *cfg = calloc(1, sizeof(*cfg));
	struct peer_config pc = {0};
	const struct peer_config *found;
	uint8_t key[KEY_LEN];

	(void)state;
	assert_non_null(cfg);
	put_numbered_peers(cfg, N, true); /* looked up as they come: the index follows each put */
	assert_int_equal(cfg->n_peers, N);
	for (size_t i = 0; i < N; i++) {
		index_key(key, i);
		found = iface_config_find_peer_key(cfg, key);
		assert_non_null(found);
		assert_int_equal(found->line, i);
	}
	/* Built once and kept, not a walk of the array. */
	assert_int_equal(cfg->key_slots_peers, N);
	assert_true(cfg->key_slots_len >= 2 * N);
	index_key(key, N);
	assert_null(iface_config_find_peer_key(cfg, key));

	/* The same key again replaces its peer in place. */
	index_key(pc.public_key, 7);
	pc.line = 70000;
	assert_int_equal(iface_config_put_peer(cfg, &pc), 0);
	assert_int_equal(cfg->n_peers, N);
	assert_int_equal(iface_config_find_peer_key(cfg, pc.public_key)->line, 70000);

	/* Dropping moves the last peer into the hole: every lookup still finds its own. */
	for (size_t i = 0; i < N; i += 100) {
		index_key(key, i);
		assert_int_equal(iface_config_drop_peer(cfg, key), 0);
		assert_int_equal(iface_config_drop_peer(cfg, key), -ENOENT);
	}
	assert_int_equal(cfg->n_peers, N - N / 100);
	/* The index followed each drop; it was not left to be rebuilt. */
	assert_int_equal(cfg->key_slots_peers, cfg->n_peers);
	for (size_t i = 0; i < N; i++) {
		index_key(key, i);
		found = iface_config_find_peer_key(cfg, key);
		if (i % 100 == 0) {
			assert_null(found);
			continue;
		}
		assert_non_null(found);
		assert_memory_equal(found->public_key, key, KEY_LEN);
		assert_int_equal(found->line, i == 7 ? 70000 : i);
	}

	/* Appended without put (as the loader does): found all the same. */
	assert_int_equal(iface_config_reserve_peer(cfg), 0);
	memset(&cfg->peers[cfg->n_peers], 0, sizeof(*cfg->peers));
	index_key(cfg->peers[cfg->n_peers].public_key, N + 1);
	cfg->peers[cfg->n_peers++].line = 424242;
	index_key(key, N + 1);
	found = iface_config_find_peer_key(cfg, key);
	assert_non_null(found);
	assert_int_equal(found->line, 424242);
	iface_config_free(cfg);
}

/* A loaded file's peers by key. */
static void test_find_peer_key_loaded(void **state)
{
	static const char text[] = IFACE PEER_B "[Peer]\nPublicKey = " PUB_C "\n"
						"[Peer]\nPublicKey = " PUB_D "\n";
	const char *pubs[] = {PUB_B, PUB_C, PUB_D};
	struct iface_config *cfg;
	struct diag_list d = {0};
	uint8_t key[KEY_LEN];

	(void)state;
	assert_int_equal(config_load_string(PATH, text, strlen(text), &cfg, &d), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(key_from_base64(key, pubs[i], NULL), 0);
		assert_ptr_equal(iface_config_find_peer_key(cfg, key), &cfg->peers[i]);
	}
	assert_int_equal(key_from_base64(key, OWN_PUB, NULL), 0);
	assert_null(iface_config_find_peer_key(cfg, key));
	diag_list_clear(&d);
	iface_config_free(cfg);
}

/*
 * Every peer dropped, in an order that empties slots in the middle of runs
 * (index_key() gives pairs of keys the same home slot): after each drop
 * the index is still fresh and finds exactly the peers left.
 */
static void test_drop_peer_index(void **state)
{
	enum {
		N = 600
	};
	struct iface_config *cfg = calloc(1, sizeof(*cfg));
	bool gone[N] = {false};
	uint8_t key[KEY_LEN];

	(void)state;
	assert_non_null(cfg);
	put_numbered_peers(cfg, N, false);
	index_key(key, N - 1);
	assert_non_null(iface_config_find_peer_key(cfg, key));
	for (size_t step = 0; step < N; step++) {
		size_t d = step * 7 % N; /* 7 and N coprime: each once */
		const struct peer_config *found;

		assert_false(gone[d]);
		index_key(key, d);
		assert_int_equal(iface_config_drop_peer(cfg, key), 0);
		gone[d] = true;
		assert_int_equal(cfg->n_peers, N - step - 1);
		assert_int_equal(cfg->key_slots_peers, cfg->n_peers);
		for (size_t i = 0; i < N; i++) {
			index_key(key, i);
			found = iface_config_find_peer_key(cfg, key);
			if (gone[i]) {
				assert_null(found);
				continue;
			}
			assert_non_null(found);
			assert_int_equal(found->line, i);
		}
	}
	iface_config_free(cfg);
}

/* The count of peers with AllowExpose (the server's port is wanted) through every change. */
static void test_expose_peers_count(void **state)
{
	struct port_range r = {.first = 8000, .last = 8000};
	struct iface_config *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct peer_config pc = {0};
	uint8_t key[KEY_LEN];

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < 4; i++) {
		index_key(pc.public_key, i);
		pc.allow_expose = i % 2 ? &r : NULL;
		pc.n_allow_expose = i % 2;
		assert_int_equal(iface_config_put_peer(a, &pc), 0);
	}
	assert_int_equal(a->n_expose_peers, 2);
	/* Replaced: without, then with, then with again. */
	index_key(pc.public_key, 1);
	pc.allow_expose = NULL;
	pc.n_allow_expose = 0;
	assert_int_equal(iface_config_put_peer(a, &pc), 0);
	assert_int_equal(a->n_expose_peers, 1);
	pc.allow_expose = &r;
	pc.n_allow_expose = 1;
	assert_int_equal(iface_config_put_peer(a, &pc), 0);
	assert_int_equal(iface_config_put_peer(a, &pc), 0);
	assert_int_equal(a->n_expose_peers, 2);
	/* Swapped with another config's entry for the same key. */
	index_key(pc.public_key, 0);
	assert_int_equal(iface_config_put_peer(b, &pc), 0);
	assert_int_equal(b->n_expose_peers, 1);
	iface_config_swap_peer(a, 0, b, 0);
	assert_int_equal(a->n_expose_peers, 3);
	assert_int_equal(b->n_expose_peers, 0);
	assert_int_equal(a->peers[0].n_allow_expose, 1);
	/* Dropped: 0 (with), 1 (with), 2 (without), 3 (with). */
	for (size_t i = 0; i < 4; i++) {
		static const size_t left[] = {2, 1, 1, 0};

		index_key(key, i);
		assert_int_equal(iface_config_drop_peer(a, key), 0);
		assert_int_equal(a->n_expose_peers, left[i]);
	}
	iface_config_free(a);
	iface_config_free(b);
}

int main(void)
{
	struct CMUnitTest tests[N_CASES];
	static const struct CMUnitTest others[] = {
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_key_file_fifo_does_not_block),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_load_dir_empty),
		cmocka_unit_test(test_iface_name_valid),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_expose_same_interface),
		cmocka_unit_test(test_redirect_ports),
		cmocka_unit_test(test_redirect_same_interface),
		cmocka_unit_test(test_find_peer_key_index),
		cmocka_unit_test(test_find_peer_key_loaded),
		cmocka_unit_test(test_drop_peer_index),
		cmocka_unit_test(test_expose_peers_count),
	};
	char *names[N_CASES];
	int failed;

	if (crypto_init() != 0)
		return 1;
	for (size_t i = 0; i < N_CASES; i++) {
		if (asprintf(&names[i], "case %zu: %s", i + 1, cases[i].name) < 0)
			return 1;
		tests[i] = (struct CMUnitTest){.name = names[i],
					       .test_func = run_case,
					       .teardown_func = free_case,
					       .initial_state = (void *)&cases[i]};
	}
	failed = _cmocka_run_group_tests("config_table", tests, N_CASES, NULL, NULL);
	failed += cmocka_run_group_tests_name("config_other", others, NULL, NULL);
	for (size_t i = 0; i < N_CASES; i++)
		free(names[i]);
	crypto_cleanup();
	return failed ? 1 : 0;
}
