// SPDX-License-Identifier: MIT
/*
 * The control commands without a socket: control_dispatch() on a real
 * interface built as start-up builds it (config load, iface_new(),
 * expose_create(); no device), from a file in a temporary directory. The
 * table (every command and its flags), every command reaching its handler,
 * the request checks (version, command, args, unknown command), argument
 * errors with their codes and messages, a read-only client refused every
 * command that changes state (and nothing changed), and --save.
 */
#include "control_cmd.h" /* before cmocka.h, which defines fail() */

#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "expose.h"
#include "iface.h"
#include "log.h"
#include "noise.h"
#include "service.h"
#include "udp.h"

#define SERVER_KEY "kYGOZ8X68Igs3zZgvoldJXmhxsnOUqi69DVf8oDq534="
#define NEW_KEY	   "tXWqmUBabK2ZRbpjwaXpkC95srTtSsPjOJke3PUnlFo="

/* tc0 publishes web through its peer "server". */
static const char conf_text[] = "[Interface]\n"
				"PrivateKey = yFEry3LHQ7TuzuA77jHfWbNDaSDlVv6NGrjnAZJucH8=\n"
				"Address = 10.66.0.2/24\n"
				"\n"
				"[Peer]\n"
				"Name = server\n"
				"PublicKey = " SERVER_KEY "\n"
				"AllowedIPs = 10.66.0.1/32\n"
				"Endpoint = 192.0.2.1:51820\n"
				"\n"
				"[Expose web]\n"
				"Peer = server\n"
				"LocalPort = 8000\n";

struct bench {
	char dir[64], conf_dir[80], path[96];
	struct daemon d;
	struct service svc;
	struct control_env env;
	struct scratch *scratch;
	struct iface *iface;
};

static int setup(void **state)
{
	static struct bench b;
	struct diag_list diags = {0};
	struct iface_config *cfg;
	FILE *f;

	memset(&b, 0, sizeof(b));
	snprintf(b.dir, sizeof(b.dir), "/tmp/tund-test-control-cmd-XXXXXX");
	assert_non_null(mkdtemp(b.dir));
	/* reload and up read an empty directory: no device is ever created */
	snprintf(b.conf_dir, sizeof(b.conf_dir), "%s/conf", b.dir);
	assert_int_equal(mkdir(b.conf_dir, 0700), 0);
	snprintf(b.path, sizeof(b.path), "%s/tc0.conf", b.dir);
	f = fopen(b.path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(conf_text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);

	b.d.loop = ev_default_loop(0);
	list_init(&b.d.ifaces);
	b.d.config_dir = b.conf_dir;
	b.d.started_s = clock_now_s();
	assert_int_equal(scratch_create(&b.scratch), 0);
	b.d.scratch = b.scratch;
	assert_int_equal(config_load_string(b.path, conf_text, strlen(conf_text), &cfg, &diags), 0);
	diag_list_clear(&diags);
	assert_int_equal(iface_new(b.d.loop, b.scratch, NULL, &b.d.next_peer_id, cfg, &b.iface), 0);
	assert_int_equal(expose_create(b.iface, &b.iface->expose), 0);
	list_add_tail(&b.iface->node, &b.d.ifaces);
	service_init(&b.svc, b.d.loop);
	b.env = (struct control_env){.daemon = &b.d, .service = &b.svc};
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;

	while (!list_empty(&b->d.ifaces)) {
		struct iface *iface = list_entry(b->d.ifaces.next, struct iface, node);

		list_del(&iface->node);
		iface_destroy(iface);
	}
	for (size_t i = 0; i < b->d.n_held_down; i++)
		free(b->d.held_down[i]);
	free(b->d.held_down);
	scratch_destroy(b->scratch);
	unlink(b->path);
	rmdir(b->conf_dir);
	rmdir(b->dir);
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

/*
 * Dispatch the request text; returns the result (NULL on error, or when the
 * command gave none) and fills err and *cmd.
 */
static int run(struct bench *b, const char *text, bool may_write, const struct control_cmd **cmd,
	       json_t **result, struct cmd_error *err)
{
	json_t *req = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	int rc;

	assert_true(!text || req);
	memset(err, 0, sizeof(*err));
	rc = control_dispatch(&b->env, req, may_write, cmd, result, err);
	json_decref(req);
	if (rc != 0) {
		assert_null(*result);
		assert_non_null(err->code);
	}
	return rc;
}

/* The request fails with code, and with message when it is not NULL. */
static void expect_error(struct bench *b, const char *text, bool may_write, const char *code,
			 const char *message)
{
	const struct control_cmd *cmd;
	struct cmd_error err;
	json_t *result;

	if (run(b, text, may_write, &cmd, &result, &err) == 0) {
		json_decref(result);
		fail_msg("%s: succeeded, expected %s", text, code);
	}
	if (strcmp(err.code, code) != 0)
		fail_msg("%s: %s (%s), expected %s", text, err.code, err.message, code);
	if (message)
		assert_string_equal(err.message, message);
}

/* The request succeeds through the command named name; its result (the caller drops it). */
static json_t *expect_ok(struct bench *b, const char *text, const char *name)
{
	const struct control_cmd *cmd;
	struct cmd_error err;
	json_t *result;

	if (run(b, text, true, &cmd, &result, &err) != 0)
		fail_msg("%s: %s: %s", text, err.code, err.message);
	assert_non_null(cmd);
	assert_string_equal(cmd->name, name);
	return result ? result : json_object();
}

static void test_table(void **state)
{
	static const struct {
		const char *name;
		bool changes_state, streams;
	} want[] = {
		{"status", false, false},    {"show", false, true},	{"metrics", false, true},
		{"add-peer", true, false},
		{"add-peers", true, false},
		{"set-peer", true, false},   {"remove-peer", true, false}, {"reload", true, false},
		{"up", true, false},	     {"down", true, false},	{"create", true, false},
		{"delete", true, false},     {"log-level", true, false},
		{"expose", true, false},     {"unexpose", true, false},
		{"watch", false, false},
	};
	const struct control_cmd *table;
	size_t n;

	(void)state;
	table = control_cmd_table(&n);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		const struct control_cmd *cmd = control_cmd_find(want[i].name);

		assert_non_null(cmd);
		assert_ptr_equal(cmd, &table[i]);
		assert_non_null(cmd->run);
		assert_int_equal(cmd->changes_state, want[i].changes_state);
		assert_int_equal(cmd->streams, want[i].streams);
	}
	assert_null(control_cmd_find("Status"));
	assert_null(control_cmd_find(""));
}

/* Each command, with good arguments, reaches its handler and does its job. */
static void test_every_command_dispatches(void **state)
{
	struct bench *b = *state;
	size_t n_peers = b->iface->n_peers;
	json_t *r;
	char msg[256];

	r = expect_ok(b, "{\"command\":\"status\"}", "status");
	assert_int_equal(json_array_size(json_object_get(r, "interfaces")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "version")), TUND_VERSION);
	json_decref(r);
	/* show's result is what to stream: one interface, or all */
	r = expect_ok(b, "{\"command\":\"show\",\"args\":{\"interface\":\"tc0\"}}", "show");
	assert_string_equal(json_string_value(json_object_get(r, "interface")), "tc0");
	json_decref(r);
	r = expect_ok(b, "{\"command\":\"show\"}", "show");
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	/* metrics' too (the text is test_metrics's) */
	r = expect_ok(b, "{\"command\":\"metrics\",\"args\":{\"interface\":\"tc0\"}}", "metrics");
	assert_string_equal(json_string_value(json_object_get(r, "interface")), "tc0");
	json_decref(r);
	r = expect_ok(b, "{\"command\":\"metrics\"}", "metrics");
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	expect_error(b, "{\"command\":\"metrics\",\"args\":{\"interface\":\"tc9\"}}", false,
		     "not_found", "no interface \"tc9\" is up");

	r = expect_ok(b,
		      "{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"" NEW_KEY
		      "\",\"name\":\"laptop\",\"allowed_ips\":[\"10.66.0.3/32\"],"
		      "\"persistent_keepalive\":25}}",
		      "add-peer");
	assert_string_equal(json_string_value(json_object_get(r, "public_key")), NEW_KEY);
	json_decref(r);
	assert_int_equal(b->iface->n_peers, n_peers + 1);
	assert_int_equal(iface_config_find_peer(b->iface->cfg, "laptop")->persistent_keepalive_s,
			 25);
	r = expect_ok(b,
		      "{\"command\":\"set-peer\",\"args\":{\"interface\":\"tc0\",\"peer\":\"laptop\","
		      "\"persistent_keepalive\":0}}",
		      "set-peer");
	json_decref(r);
	assert_int_equal(iface_config_find_peer(b->iface->cfg, "laptop")->persistent_keepalive_s,
			 0);
	r = expect_ok(b,
		      "{\"command\":\"remove-peer\",\"args\":{\"interface\":\"tc0\",\"peer\":\"laptop\"}}",
		      "remove-peer");
	json_decref(r);
	assert_int_equal(b->iface->n_peers, n_peers);
	assert_null(iface_config_find_peer(b->iface->cfg, "laptop"));

	r = expect_ok(b,
		      "{\"command\":\"expose\",\"args\":{\"interface\":\"tc0\",\"peer\":\"server\","
		      "\"local_port\":8001,\"name\":\"api\"}}",
		      "expose");
	assert_true(json_is_true(json_object_get(r, "new")));
	json_decref(r);
	assert_non_null(expose_find(b->iface->expose, "api"));
	r = expect_ok(b, "{\"command\":\"unexpose\",\"args\":{\"interface\":\"tc0\",\"name\":\"api\"}}",
		      "unexpose");
	json_decref(r);
	assert_null(expose_find(b->iface->expose, "api"));

	r = expect_ok(b, "{\"command\":\"log-level\",\"args\":{\"level\":\"warn\"}}", "log-level");
	assert_string_equal(json_string_value(json_object_get(r, "level")), "warn");
	json_decref(r);
	assert_int_equal(log_get_level(), LOG_LEVEL_WARN);

	/* watch: what to subscribe to (control.c subscribes), an interface or all, up or not */
	r = expect_ok(b, "{\"command\":\"watch\",\"args\":{\"interface\":\"tc7\"}}", "watch");
	assert_string_equal(json_string_value(json_object_get(r, "interface")), "tc7");
	json_decref(r);
	r = expect_ok(b, "{\"command\":\"watch\"}", "watch");
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	expect_error(b, "{\"command\":\"watch\",\"args\":{\"interface\":\"a/b\"}}", false,
		     "invalid_argument", "\"a/b\" is not an interface name");
	expect_error(b, "{\"command\":\"watch\",\"args\":{\"interface\":5}}", false,
		     "invalid_argument", "\"interface\" must be a string");

	/* up needs a file; the config directory is empty, so up gets as far as looking. */
	snprintf(msg, sizeof(msg), "no file %s/tc9.conf", b->conf_dir);
	expect_error(b, "{\"command\":\"up\",\"args\":{\"interface\":\"tc9\"}}", true, "not_found",
		     msg);
	r = expect_ok(b, "{\"command\":\"down\",\"args\":{\"interface\":\"tc0\"}}", "down");
	assert_string_equal(json_string_value(json_object_get(r, "interface")), "tc0");
	json_decref(r);
	assert_true(list_empty(&b->d.ifaces));
	r = expect_ok(b, "{\"command\":\"reload\"}", "reload");
	assert_true(json_is_array(json_object_get(r, "changes")));
	assert_true(json_is_array(json_object_get(r, "diagnostics")));
	assert_int_equal(json_integer_value(json_object_get(r, "failures")), 0);
	json_decref(r);
}

static void test_bad_requests(void **state)
{
	struct bench *b = *state;
	char text[200], msg[100];

	expect_error(b, NULL, true, "bad_request", "the request is not a JSON object");
	expect_error(b, "[1]", true, "bad_request", "the request is not a JSON object");
	expect_error(b, "{\"version\":2,\"command\":\"status\"}", true, "unsupported_version",
		     "this tund speaks protocol version 1");
	expect_error(b, "{\"version\":\"1\",\"command\":\"status\"}", true, "unsupported_version",
		     NULL);
	expect_error(b, "{\"args\":{}}", true, "bad_request",
		     "expected \"command\" and an \"args\" object");
	expect_error(b, "{\"command\":\"status\",\"args\":[]}", true, "bad_request", NULL);
	expect_error(b, "{\"command\":7}", true, "bad_request", NULL);
	expect_error(b, "{\"command\":\"nope\"}", true, "unknown_command", "unknown command \"nope\"");
	/* the name is cut to 64 bytes in the message */
	snprintf(text, sizeof(text), "{\"command\":\"%0100d\"}", 0);
	snprintf(msg, sizeof(msg), "unknown command \"%064d\"", 0);
	expect_error(b, text, true, "unknown_command", msg);
	/* a version-1 request is fine with or without "version" */
	json_decref(expect_ok(b, "{\"version\":1,\"command\":\"status\",\"args\":{}}", "status"));
}

static void test_argument_errors(void **state)
{
	static const struct {
		const char *request, *code, *message;
	} cases[] = {
		{"{\"command\":\"add-peer\"}", "invalid_argument", "\"interface\" must be a string"},
		{"{\"command\":\"add-peer\",\"args\":{\"interface\":\"zz0\",\"public_key\":\"" NEW_KEY
		 "\"}}",
		 "not_found", "no interface \"zz0\" is up"},
		{"{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\"}}", "invalid_argument",
		 "\"public_key\" must be a string"},
		{"{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"abc\"}}",
		 "invalid_argument", NULL},
		{"{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"" SERVER_KEY
		 "\"}}",
		 "exists", "tc0 already has this peer; use set-peer to change it"},
		{"{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"" NEW_KEY
		 "\",\"persistent_keepalive\":70000}}",
		 "invalid_argument",
		 "PersistentKeepalive: \"70000\": expected off or a number of seconds 1-65535"},
		{"{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"" NEW_KEY
		 "\",\"allowed_ips\":[\"10.0.0.0/33\"]}}",
		 "invalid_argument", NULL},
		{"{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"" NEW_KEY
		 "\",\"save\":\"yes\"}}",
		 "invalid_argument", "\"save\" must be true or false"},
		{"{\"command\":\"set-peer\",\"args\":{\"interface\":\"tc0\",\"peer\":\"ghost\"}}",
		 "not_found", "tc0 has no peer \"ghost\""},
		{"{\"command\":\"remove-peer\",\"args\":{\"interface\":\"tc0\"}}", "invalid_argument",
		 "\"peer\" must be a string"},
		{"{\"command\":\"show\",\"args\":{\"interface\":\"zz0\"}}", "not_found",
		 "no interface \"zz0\" is up"},
		{"{\"command\":\"up\",\"args\":{\"interface\":\"not an iface name\"}}",
		 "invalid_argument", "\"not an iface name\" is not an interface name"},
		{"{\"command\":\"down\",\"args\":{\"interface\":\"tc9\"}}", "not_found",
		 "no interface tc9 is up"},
		{"{\"command\":\"create\",\"args\":{\"interface\":\"0123456789abcdef\"}}",
		 "invalid_argument", "\"0123456789abcdef\" is not an interface name"},
		{"{\"command\":\"create\",\"args\":{\"interface\":\"a/b\"}}", "invalid_argument",
		 "\"a/b\" is not an interface name"},
		{"{\"command\":\"create\"}", "invalid_argument", "\"interface\" must be a string"},
		{"{\"command\":\"create\",\"args\":{\"interface\":\"tc0\"}}", "exists", NULL},
		{"{\"command\":\"create\",\"args\":{\"interface\":\"lo\"}}", "exists",
		 "a network device lo exists already"},
		{"{\"command\":\"delete\",\"args\":{\"interface\":\"tc0\"}}", "invalid_argument",
		 NULL},
		{"{\"command\":\"delete\",\"args\":{\"interface\":\"tc9\"}}", "not_found",
		 "no interface tc9 is up"},
		{"{\"command\":\"log-level\",\"args\":{\"level\":\"loud\"}}", "invalid_argument",
		 "\"loud\": expected error, warn, info or debug"},
		{"{\"command\":\"expose\",\"args\":{\"interface\":\"tc0\",\"peer\":\"server\","
		 "\"local_port\":0}}",
		 "invalid_argument", "\"local_port\" must be a port 1-65535"},
		{"{\"command\":\"unexpose\",\"args\":{\"interface\":\"tc0\",\"name\":\"nothing\"}}",
		 "not_found", "tc0 publishes no service \"nothing\""},
	};
	struct bench *b = *state;
	size_t n_peers = b->iface->n_peers;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(b, cases[i].request, true, cases[i].code, cases[i].message);
	/* nothing changed */
	assert_int_equal(b->iface->n_peers, n_peers);
	assert_int_equal(b->iface->cfg->n_peers, n_peers);
	assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
}

#define KEY3 "ZuE8X64QLkTh2rsPLSDwrAWhEPN/eg9Gfq0o5Xrc9UI="
#define KEY4 "EpdX1RvHZx9ZxtGfUrlOhJVhXTRLhKxZuWQN6zC84UA="
#define PEERS(list) "{\"command\":\"add-peers\",\"args\":{\"interface\":\"tc0\",\"peers\":[" list "]}}"

/* add-peers: new peers added, an existing one updated; a failure anywhere changes nothing. */
static void test_add_peers(void **state)
{
	static const struct {
		const char *request, *code, *message;
	} bad[] = {
		{"{\"command\":\"add-peers\",\"args\":{\"interface\":\"tc0\"}}", "invalid_argument",
		 "\"peers\" must be an array of peer objects"},
		{PEERS("{\"public_key\":\"" KEY3 "\"},7"), "invalid_argument",
		 "peers[1]: not an object; nothing was changed"},
		{PEERS("{\"public_key\":\"" KEY3 "\"},{\"name\":\"x\"}"), "invalid_argument",
		 "peers[1]: \"public_key\" is required; nothing was changed"},
		/* the existing peer updated, then a bad prefix: both undone */
		{PEERS("{\"public_key\":\"" SERVER_KEY "\",\"allowed_ips\":[\"10.66.0.9/32\"]},"
		       "{\"public_key\":\"" KEY3 "\"},"
		       "{\"public_key\":\"" KEY4 "\",\"allowed_ips\":[\"10.0.0.0/33\"]}"),
		 "invalid_argument", NULL},
		{PEERS("{\"public_key\":\"" KEY3 "\"},{\"public_key\":\"" KEY3 "\"}"),
		 "invalid_argument",
		 "peers[1] (" KEY3 "): the same public key as peers[0]; nothing was changed"},
		{PEERS("{\"public_key\":\"" KEY3 "\",\"name\":\"server\"}"), "exists", NULL},
		{"{\"command\":\"add-peers\",\"args\":{\"interface\":\"tc0\",\"save\":true,"
		 "\"peers\":[]}}",
		 "invalid_argument", "add-peers does not save; nothing was changed"},
	};
	struct bench *b = *state;
	size_t n_peers = b->iface->n_peers;
	const struct peer_config *pc;
	json_t *r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(b, bad[i].request, true, bad[i].code, bad[i].message);
	assert_int_equal(b->iface->n_peers, n_peers);
	assert_int_equal(b->iface->cfg->n_peers, n_peers);
	pc = iface_config_find_peer(b->iface->cfg, "server");
	assert_non_null(pc);
	assert_int_equal(pc->n_allowed_ips, 1);
	assert_int_equal(pc->allowed_ips[0].addr.bytes[3], 1); /* 10.66.0.1, as it was */
	assert_null(iface_config_find_peer(b->iface->cfg, KEY3));

	r = expect_ok(b,
		      PEERS("{\"public_key\":\"" KEY3 "\",\"name\":\"a\",\"allowed_ips\":[\"10.66.0.3/32\"]},"
			    "{\"public_key\":\"" SERVER_KEY "\",\"persistent_keepalive\":25},"
			    "{\"public_key\":\"" KEY4 "\",\"allowed_ips\":[\"10.66.0.4/24\"]}"),
		      "add-peers");
	assert_int_equal(json_integer_value(json_object_get(r, "added")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "updated")), 1);
	assert_int_equal(json_array_size(json_object_get(r, "warnings")), 1); /* host bits */
	assert_true(strncmp(json_string_value(json_array_get(json_object_get(r, "warnings"), 0)),
			    "peers[2]: ", 10) == 0);
	json_decref(r);
	assert_int_equal(b->iface->n_peers, n_peers + 2);
	assert_non_null(iface_config_find_peer(b->iface->cfg, "a"));
	pc = iface_config_find_peer(b->iface->cfg, "server");
	assert_int_equal(pc->persistent_keepalive_s, 25);
	assert_int_equal(pc->n_allowed_ips, 1); /* the fields not given are kept */
}

/* Who may only read is refused every command that changes state, before it runs. */
static void test_read_only_client(void **state)
{
	static const char *const requests[] = {
		"{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"" NEW_KEY
		"\"}}",
		PEERS("{\"public_key\":\"" NEW_KEY "\"}"),
		"{\"command\":\"set-peer\",\"args\":{\"interface\":\"tc0\",\"peer\":\"server\","
		"\"persistent_keepalive\":5}}",
		"{\"command\":\"remove-peer\",\"args\":{\"interface\":\"tc0\",\"peer\":\"server\"}}",
		"{\"command\":\"reload\"}",
		"{\"command\":\"up\",\"args\":{\"interface\":\"tc9\"}}",
		"{\"command\":\"down\",\"args\":{\"interface\":\"tc0\"}}",
		"{\"command\":\"create\",\"args\":{\"interface\":\"tc8\"}}",
		"{\"command\":\"delete\",\"args\":{\"interface\":\"tc0\"}}",
		"{\"command\":\"log-level\",\"args\":{\"level\":\"debug\"}}",
		"{\"command\":\"expose\",\"args\":{\"interface\":\"tc0\",\"peer\":\"server\","
		"\"local_port\":8001}}",
		"{\"command\":\"unexpose\",\"args\":{\"interface\":\"tc0\",\"name\":\"web\"}}",
		/* even with arguments that are wrong: the check comes first */
		"{\"command\":\"add-peer\"}",
	};
	struct bench *b = *state;
	size_t n_peers = b->iface->n_peers, n = 0;
	const struct control_cmd *table = control_cmd_table(&n);
	const struct control_cmd *cmd;
	struct cmd_error err;
	json_t *result;

	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		expect_error(b, requests[i], false, "permission_denied",
			     "only root or the control group may change tund's state");
	/* every command that changes state is among them */
	for (size_t i = 0; i < n; i++) {
		bool listed = false;
		char needle[64];

		snprintf(needle, sizeof(needle), "\"command\":\"%s\"", table[i].name);
		for (size_t j = 0; j < sizeof(requests) / sizeof(requests[0]); j++)
			listed = listed || strstr(requests[j], needle);
		assert_int_equal(listed, table[i].changes_state);
	}
	assert_int_equal(b->iface->n_peers, n_peers);
	assert_int_equal(iface_config_find_peer(b->iface->cfg, "server")->persistent_keepalive_s,
			 0);
	assert_false(list_empty(&b->d.ifaces));
	assert_non_null(expose_find(b->iface->expose, "web"));
	assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
	/* reading is allowed */
	assert_int_equal(run(b, "{\"command\":\"status\"}", false, &cmd, &result, &err), 0);
	json_decref(result);
	assert_int_equal(run(b, "{\"command\":\"show\"}", false, &cmd, &result, &err), 0);
	json_decref(result);
}

/* "save": true writes the interface's file once the change is live. */
static void test_save(void **state)
{
	struct bench *b = *state;
	char text[4096];
	size_t len;
	json_t *r;
	FILE *f;

	r = expect_ok(b,
		      "{\"command\":\"add-peer\",\"args\":{\"interface\":\"tc0\",\"public_key\":\"" NEW_KEY
		      "\",\"allowed_ips\":[\"10.66.0.3/32\"],\"save\":true}}",
		      "add-peer");
	assert_string_equal(json_string_value(json_object_get(r, "saved")), b->path);
	json_decref(r);
	f = fopen(b->path, "r");
	assert_non_null(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	assert_non_null(strstr(text, "PublicKey = " NEW_KEY));
	assert_non_null(strstr(text, "[Expose web]")); /* the rest of the file kept */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_every_command_dispatches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argument_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save, setup, teardown),
	};

	log_init(LOG_LEVEL_ERROR);
	/* Never talk to a service manager the test happens to run under. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	if (crypto_init() != 0)
		return 1;
	noise_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
