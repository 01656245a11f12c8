// SPDX-License-Identifier: MIT
/*
 * The table of peer settings (peer_settings.c, peer_settings_json.c): its
 * names (the protocol's are the file's in snake case), a table of values
 * with the message each must give, the control protocol's apply (host bits
 * masked with the file's warning, lists replaced, removals, a Name taken,
 * fields of the wrong type), tunctl's option values, and formatting back.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "peer_settings.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Keys made with tunctl genkey / pubkey. */
#define KA  "L8mkDd0yhDBBYRywDVlXa14CPhhZPIXUkgHo/4kJHzk="
#define KB  "SCOlDkLNrP1TAMxglorAOq1raJH5Zcp6iT1zWP/CimM="
#define PSK "GPhlOy9QEThdS9HJHK0/ZzALho5jTLOOC0sWAPTMYUg="

/* ---- Messages ---- */

struct msgs {
	char text[8][512];
	enum diag_severity sev[8];
	size_t n;
};

static void keep(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *msg)
{
	struct msgs *m = ctx->arg;

	assert_true(m->n < ARRAY_LEN(m->text));
	snprintf(m->text[m->n], sizeof(m->text[0]), "%s", msg);
	m->sev[m->n++] = sev;
}

/* ---- Names ---- */

/* "AllowedIPs" -> "allowed_ips" */
static void snake(const char *in, char *out)
{
	for (size_t i = 0; in[i]; i++) {
		if (i && isupper((unsigned char)in[i]) && islower((unsigned char)in[i - 1]))
			*out++ = '_';
		*out++ = (char)tolower((unsigned char)in[i]);
	}
	*out = '\0';
}

static void test_names(void **state)
{
	static const struct {
		const char *file, *uapi, *option;
	} want[] = {
		{"Name", NULL, "name"},
		{"PublicKey", "public_key", "public-key"},
		{"PresharedKey", "preshared_key", NULL},
		{"PresharedKeyFile", NULL, "preshared-key-file"},
		{"AllowedIPs", "allowed_ip", "allowed-ips"},
		{"Endpoint", "endpoint", "endpoint"},
		{"PersistentKeepalive", "persistent_keepalive_interval", "keepalive"},
		{"AllowExpose", NULL, NULL},
		{"AllowExposeFrom", NULL, NULL},
	};
	char buf[64];

	(void)state;
	assert_int_equal(peer_settings_count, ARRAY_LEN(want));
	for (size_t i = 0; i < peer_settings_count; i++) {
		const struct peer_setting *s = &peer_settings[i];

		assert_string_equal(s->file_key, want[i].file);
		if (want[i].uapi)
			assert_string_equal(s->uapi_key, want[i].uapi);
		else
			assert_null(s->uapi_key);
		if (want[i].option) {
			assert_string_equal(s->tunctl_option, want[i].option);
			assert_ptr_equal(peer_setting_by_option(want[i].option), s);
		} else {
			assert_null(s->tunctl_option);
		}
		/* The protocol's field is the file's key in snake case. */
		if (s->json_key) {
			snake(s->file_key, buf);
			assert_string_equal(s->json_key, buf);
		}
		assert_ptr_equal(peer_setting_by_id(s->id), s);
		assert_non_null(s->parse);
		assert_non_null(s->is_set);
		assert_true(!s->is_list || s->parse_item);
		assert_true(!s->edit_field || s->same);
	}
	assert_ptr_equal(peer_setting_by_file_key("allowedips"), &peer_settings[4]);
	assert_null(peer_setting_by_file_key("Allowed"));
	assert_null(peer_setting_by_option("save"));
}

/* ---- Values, as in a file ---- */

struct value_case {
	const char *key, *value;
	const char *msg; /* the first message, NULL: none */
	enum diag_severity sev;
};

static const struct value_case values[] = {
	/* 0 */ {"Name", "alice.2_b-c", NULL, DIAG_ERROR},
	/* 1 */
	{"Name", "al ice", "Name: \"al ice\": expected 1-32 characters of A-Z a-z 0-9 . _ -",
	 DIAG_ERROR},
	/* 2 */
	{"Name", "a23456789012345678901234567890123",
	 "Name: \"a23456789012345678901234567890123\": expected 1-32 characters of A-Z a-z 0-9 . _ -",
	 DIAG_ERROR},
	/* 3 */ {"PublicKey", KA, NULL, DIAG_ERROR},
	/* 4 */
	{"PublicKey", "nope", "PublicKey: \"nope\" must be 44 characters of base64 ending in '='", DIAG_ERROR},
	/* 5: a secret is never echoed */
	{"PresharedKey", "secret", "PresharedKey: the key must be 44 characters of base64 ending in '='",
	 DIAG_ERROR},
	/* 6 */ {"AllowedIPs", "10.0.0.2/32, fd00::/64", NULL, DIAG_ERROR},
	/* 7 */
	{"AllowedIPs", "10.0.0.1/24",
	 "AllowedIPs: \"10.0.0.1/24\" has host bits set; using 10.0.0.0/24", DIAG_WARNING},
	/* 8 */
	{"AllowedIPs", "10.0.0.0/33", "AllowedIPs: \"10.0.0.0/33\": prefix length must be 0-32",
	 DIAG_ERROR},
	/* 9 */ {"Endpoint", "[2001:db8::1]:51820", NULL, DIAG_ERROR},
	/* 10 */ {"PersistentKeepalive", "off", NULL, DIAG_ERROR},
	/* 11 */ {"PersistentKeepalive", "65535", NULL, DIAG_ERROR},
	/* 12 */
	{"PersistentKeepalive", "65536",
	 "PersistentKeepalive: \"65536\": expected off or a number of seconds 1-65535", DIAG_ERROR},
	/* 13 */
	{"PersistentKeepalive", "-1",
	 "PersistentKeepalive: \"-1\": expected off or a number of seconds 1-65535", DIAG_ERROR},
	/* 14 */ {"AllowExpose", "8000-8010, 9000", NULL, DIAG_ERROR},
	/* 15 */
	{"AllowExposeFrom", "10.0.0.0/24",
	 "AllowExposeFrom: \"10.0.0.0/24\": expected the peer's own tunnel address, such as 10.0.0.2 (one address, not a network)",
	 DIAG_ERROR},
};

static void test_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(values); i++) {
		const struct value_case *c = &values[i];
		const struct peer_setting *s = peer_setting_by_file_key(c->key);
		struct peer_config pc = {0};
		struct msgs m = {0};
		struct peer_setting_ctx ctx = {.label = s->file_key, .report = keep, .arg = &m};
		int rc;

		print_message("value %zu\n", i);
		rc = s->parse(&pc, c->value, &ctx);
		assert_int_equal(rc, c->msg && c->sev == DIAG_ERROR ? -1 : 0);
		assert_int_equal(m.n, c->msg ? 1 : 0);
		if (c->msg) {
			assert_string_equal(m.text[0], c->msg);
			assert_int_equal(m.sev[0], c->sev);
		}
		assert_true(rc != 0 || s->is_set(&pc) || strcmp(c->value, "off") == 0);
		peer_config_clear(&pc);
	}
}

/* Formatting gives what parsing takes back, alike. */
static void test_format(void **state)
{
	static const struct {
		const char *key, *value, *formatted;
	} rows[] = {
		{"Name", "bob", "bob"},
		{"PublicKey", KB, KB},
		{"AllowedIPs", "10.0.0.2/32,fd00::/64", "10.0.0.2/32, fd00::/64"},
		{"Endpoint", "[2001:db8::1]:51820", "[2001:db8::1]:51820"},
		{"Endpoint", "vpn.example.com:1", "vpn.example.com:1"},
		{"PersistentKeepalive", "25", "25"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const struct peer_setting *s = peer_setting_by_file_key(rows[i].key);
		struct peer_config a = {0}, b = {0};
		struct msgs m = {0};
		struct peer_setting_ctx ctx = {.label = s->file_key, .report = keep, .arg = &m};
		char *text;

		assert_int_equal(s->parse(&a, rows[i].value, &ctx), 0);
		text = s->format(&a);
		assert_string_equal(text, rows[i].formatted);
		assert_int_equal(s->parse(&b, text, &ctx), 0);
		assert_true(s->same(&a, &b));
		free(text);
		peer_config_clear(&a);
		peer_config_clear(&b);
	}
}

/* ---- The control protocol ---- */

static struct iface_config *two_peers(void)
{
	struct iface_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	snprintf(cfg->name, sizeof(cfg->name), "wg0");
	cfg->peers = calloc(2, sizeof(*cfg->peers));
	assert_non_null(cfg->peers);
	cfg->n_peers = 2;
	assert_int_equal(key_from_base64(cfg->peers[0].public_key, KA, NULL), 0);
	assert_int_equal(key_from_base64(cfg->peers[1].public_key, KB, NULL), 0);
	cfg->peers[0].name = strdup("alice");
	cfg->peers[1].name = strdup("bob");
	return cfg;
}

/* Apply the JSON text args to a copy of alice; returns the result's code or "ok". */
static const char *apply(const char *args_text, struct peer_config *pc, struct peer_apply_result *r)
{
	struct iface_config *cfg = two_peers();
	json_t *args = json_loads(args_text, 0, NULL);
	int rc;

	assert_non_null(args);
	assert_int_equal(peer_config_copy(pc, &cfg->peers[0]), 0);
	rc = peer_settings_apply_json(cfg, args, pc, r);
	json_decref(args);
	iface_config_free(cfg);
	return rc == 0 ? "ok" : r->code;
}

static void test_apply_json(void **state)
{
	struct peer_apply_result r;
	struct peer_config pc;
	char buf[ADDR_STR_LEN];

	(void)state;
	/* Host bits: masked, with the file's warning; the list replaces alice's. */
	assert_string_equal(apply("{\"allowed_ips\": [\"10.9.0.5/24\", \"10.8.0.1/32\"],"
				  " \"persistent_keepalive\": 25, \"endpoint\": \"192.0.2.1:5\"}",
				  &pc, &r),
			    "ok");
	assert_int_equal(pc.n_allowed_ips, 2);
	assert_string_equal(prefix_format(buf, sizeof(buf), &pc.allowed_ips[0]), "10.9.0.0/24");
	assert_int_equal(json_array_size(r.warnings), 1);
	assert_string_equal(json_string_value(json_array_get(r.warnings, 0)),
			    "AllowedIPs: \"10.9.0.5/24\" has host bits set; using 10.9.0.0/24");
	assert_int_equal(pc.persistent_keepalive_s, 25);
	assert_string_equal(pc.endpoint_host, "192.0.2.1");
	json_decref(r.warnings);
	peer_config_clear(&pc);

	/* No warning, no "warnings"; "" and null remove; a Name of its own is fine. */
	assert_string_equal(
		apply("{\"endpoint\": \"\", \"preshared_key\": null, \"name\": \"alice\"}", &pc,
		      &r),
		"ok");
	assert_null(r.warnings);
	assert_null(pc.endpoint_host);
	assert_false(pc.has_preshared_key);
	peer_config_clear(&pc);
	assert_string_equal(apply("{\"preshared_key\": \"" PSK "\"}", &pc, &r), "ok");
	assert_true(pc.has_preshared_key);
	peer_config_clear(&pc);
}

static void test_apply_json_refused(void **state)
{
	static const struct {
		const char *args, *code, *message;
	} rows[] = {
		{"{\"name\": \"bob\"}", "exists", "wg0 already has a peer named \"bob\""},
		{"{\"name\": \"b b\"}", "invalid_argument",
		 "Name: \"b b\": expected 1-32 characters of A-Z a-z 0-9 . _ -"},
		{"{\"name\": 7}", "invalid_argument", "\"name\" must be a string"},
		{"{\"allowed_ips\": \"10.0.0.1/32\"}", "invalid_argument",
		 "\"allowed_ips\" must be a list"},
		{"{\"allowed_ips\": [1]}", "invalid_argument",
		 "\"allowed_ips\" must be a list of strings"},
		{"{\"allowed_ips\": [\"10.0.0.0/33\"]}", "invalid_argument",
		 "AllowedIPs: \"10.0.0.0/33\": prefix length must be 0-32"},
		{"{\"endpoint\": 5}", "invalid_argument", "\"endpoint\" must be a string or null"},
		{"{\"endpoint\": \"nohost\"}", "invalid_argument", NULL},
		{"{\"persistent_keepalive\": 70000}", "invalid_argument",
		 "PersistentKeepalive: \"70000\": expected off or a number of seconds 1-65535"},
		{"{\"persistent_keepalive\": \"25\"}", "invalid_argument",
		 "\"persistent_keepalive\" must be a number of seconds"},
		{"{\"preshared_key\": \"secret\"}", "invalid_argument",
		 "PresharedKey: the key must be 44 characters of base64 ending in '='"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct peer_apply_result r;
		struct peer_config pc;

		print_message("refused %zu\n", i);
		assert_string_equal(apply(rows[i].args, &pc, &r), rows[i].code);
		if (rows[i].message)
			assert_string_equal(r.message, rows[i].message);
		else
			assert_true(strncmp(r.message, "Endpoint: \"nohost\": ", 20) == 0);
		json_decref(r.warnings);
		peer_config_clear(&pc);
	}
}

/* ---- tunctl's options ---- */

static void test_option_json(void **state)
{
	const struct peer_setting *keepalive = peer_setting_by_option("keepalive");
	char msg[512];
	json_t *v;

	(void)state;
	v = peer_setting_option_json(keepalive, "off", msg, sizeof(msg));
	assert_true(json_is_integer(v) && json_integer_value(v) == 0);
	json_decref(v);
	v = peer_setting_option_json(keepalive, "25", msg, sizeof(msg));
	assert_true(json_is_integer(v) && json_integer_value(v) == 25);
	json_decref(v);
	assert_null(peer_setting_option_json(keepalive, "70000", msg, sizeof(msg)));
	assert_string_equal(msg,
			    "--keepalive: \"70000\": expected off or a number of seconds 1-65535");
	/* Lists are split at commas and blanks; other values go as they are, tund checks them. */
	v = peer_setting_option_json(peer_setting_by_option("allowed-ips"),
				     "10.0.0.1/32, 10.1.0.0/16", msg, sizeof(msg));
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_array_get(v, 1)), "10.1.0.0/16");
	json_decref(v);
	v = peer_setting_option_json(peer_setting_by_option("name"), "b b", msg, sizeof(msg));
	assert_string_equal(json_string_value(v), "b b");
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_apply_json),
		cmocka_unit_test(test_apply_json_refused),
		cmocka_unit_test(test_option_json),
	};

	if (crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
