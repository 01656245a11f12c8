// SPDX-License-Identifier: MIT
/*
 * Commands that talk to the running daemon: status, show, add-peer,
 * set-peer, remove-peer, reload, log-level. Each builds one request, prints
 * the reply as text (like `wg show`) or, with --json, as it came.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "key.h"
#include "peer_settings.h"
#include "tunctl.h"

/* ---- Human output ---- */

static void print_duration(json_int_t s)
{
	static const struct {
		const char *unit;
		json_int_t len;
	} units[] = {{"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}};
	bool first = true;

	if (s <= 0) {
		printf("0 seconds");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		json_int_t n = s / units[i].len;

		if (!n)
			continue;
		s %= units[i].len;
		printf("%s%lld %s%s", first ? "" : ", ", (long long)n, units[i].unit,
		       n == 1 ? "" : "s");
		first = false;
	}
}

static void print_bytes(json_int_t b)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	size_t u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		printf("%lld B", (long long)b);
	else
		printf("%.2f %s", v, units[u]);
}

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_int_t num(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static void print_peer(json_t *p)
{
	json_t *ips = json_object_get(p, "allowed_ips"), *ip;
	json_int_t hs = num(p, "latest_handshake");
	size_t i;

	printf("\npeer: %s", str(p, "public_key"));
	if (str(p, "name"))
		printf(" (%s)", str(p, "name"));
	printf("\n");
	if (json_is_true(json_object_get(p, "preshared_key")))
		printf("  preshared key: (hidden)\n");
	if (str(p, "endpoint") && str(p, "endpoint_name"))
		printf("  endpoint: %s (%s)\n", str(p, "endpoint"), str(p, "endpoint_name"));
	else if (str(p, "endpoint"))
		printf("  endpoint: %s\n", str(p, "endpoint"));
	else if (str(p, "endpoint_name"))
		printf("  endpoint: (not resolved yet) (%s)\n", str(p, "endpoint_name"));
	printf("  allowed ips: ");
	if (json_array_size(ips) == 0)
		printf("(none)");
	json_array_foreach(ips, i, ip) printf("%s%s", i ? ", " : "", json_string_value(ip));
	printf("\n");
	if (hs > 0) {
		printf("  latest handshake: ");
		print_duration((json_int_t)time(NULL) - hs);
		printf(" ago\n");
	}
	if (num(p, "rx_bytes") || num(p, "tx_bytes")) {
		printf("  transfer: ");
		print_bytes(num(p, "rx_bytes"));
		printf(" received, ");
		print_bytes(num(p, "tx_bytes"));
		printf(" sent\n");
	}
	if (num(p, "persistent_keepalive"))
		printf("  persistent keepalive: every %lld seconds\n",
		       (long long)num(p, "persistent_keepalive"));
}

/* "  redirect to localhost: 8000/tcp, 8080-8090/tcp, 5353/udp (127.0.0.1 and ::1)" */
static void print_redirects(json_t *ifc)
{
	json_t *ports = json_object_get(ifc, "redirect_to_localhost"), *p;
	size_t i;

	if (json_array_size(ports) == 0)
		return;
	printf("  redirect to localhost: ");
	json_array_foreach(ports, i, p)
	{
		printf("%s%lld", i ? ", " : "", (long long)num(p, "first_port"));
		if (num(p, "last_port") != num(p, "first_port"))
			printf("-%lld", (long long)num(p, "last_port"));
		printf("/%s", str(p, "protocol"));
	}
	printf(" (%s)\n", json_is_true(json_object_get(ifc, "redirect_ipv6")) ? "127.0.0.1 and ::1"
									      : "127.0.0.1 only");
}

/* "  endpoint names: resolved every 300 seconds", when a peer's endpoint is a name. */
static void print_resolve_interval(json_t *ifc)
{
	json_t *peers = json_object_get(ifc, "peers"), *p, *every;
	size_t i;
	bool named = false;

	json_array_foreach(peers, i, p) named = named || str(p, "endpoint_name");
	every = json_object_get(ifc, "resolve_interval");
	if (!named || !json_is_integer(every))
		return;
	if (json_integer_value(every) == 0)
		printf("  endpoint names: resolved once (ResolveInterval = 0)\n");
	else
		printf("  endpoint names: resolved every %lld seconds\n",
		       (long long)json_integer_value(every));
}

static void print_iface(json_t *ifc)
{
	json_t *peers = json_object_get(ifc, "peers"), *p;
	size_t i;

	printf("interface: %s\n", str(ifc, "name"));
	/* "file" is null for an interface tund-wg made; absent from an older tund. */
	if (str(ifc, "file"))
		printf("  file: %s\n", str(ifc, "file"));
	else if (json_is_null(json_object_get(ifc, "file")))
		printf("  file: (none, created by tund-wg)\n");
	if (str(ifc, "public_key")) {
		printf("  public key: %s\n", str(ifc, "public_key"));
		printf("  private key: (hidden)\n");
	} else {
		printf("  private key: (none)\n");
	}
	printf("  listening port: %lld\n", (long long)num(ifc, "listen_port"));
	if (num(ifc, "fwmark"))
		printf("  fwmark: 0x%llx\n", (unsigned long long)num(ifc, "fwmark"));
	print_redirects(ifc);
	print_resolve_interval(ifc);
	json_array_foreach(peers, i, p) print_peer(p);
	print_exposes(ifc);
}

/* Print result as JSON or with human(result), then drop it. */
static int finish(struct tunctl *t, int rc, json_t *result, void (*human)(json_t *))
{
	if (rc != TUNCTL_EXIT_OK)
		return rc;
	if (t->json)
		return output_json(result);
	human(result);
	json_decref(result);
	return fflush(stdout) == 0 ? TUNCTL_EXIT_OK : TUNCTL_EXIT_FAILURE;
}

/* ---- Commands ---- */

static void status_human(json_t *r)
{
	json_t *ifaces = json_object_get(r, "interfaces"), *ifc;
	size_t i;

	printf("tund %s, up ", str(r, "version"));
	print_duration(num(r, "uptime"));
	printf("\n%zu interface%s\n", json_array_size(ifaces),
	       json_array_size(ifaces) == 1 ? "" : "s");
	json_array_foreach(ifaces, i, ifc)
		printf("  %s: port %lld, %lld peer%s\n", str(ifc, "name"),
		       (long long)num(ifc, "listen_port"), (long long)num(ifc, "peer_count"),
		       num(ifc, "peer_count") == 1 ? "" : "s");
}

int cmd_status(struct tunctl *t, int argc, char **argv)
{
	json_t *result;
	int first = 0, rc;

	rc = tunctl_parse_common(t, tunctl_find_command(argv[0]), argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (first < argc)
		return tunctl_usage_error(argv[0], "takes no arguments");
	rc = tunctl_call(t, "status", NULL, &result);
	return finish(t, rc, result, status_human);
}

static void show_human(json_t *r)
{
	json_t *ifaces = json_object_get(r, "interfaces"), *ifc;
	size_t i;

	json_array_foreach(ifaces, i, ifc)
	{
		if (i)
			printf("\n");
		print_iface(ifc);
	}
}

/* COMMAND [IFACE]: one request with an optional "interface", printed by human. */
static int call_for_iface(struct tunctl *t, int argc, char **argv, const char *command,
			  void (*human)(json_t *))
{
	json_t *result, *args = json_object();
	int first = 0, rc;

	rc = tunctl_parse_common(t, tunctl_find_command(argv[0]), argc, argv, &first);
	if (rc >= 0)
		goto out;
	if (argc - first > 1) {
		rc = tunctl_usage_error(argv[0], "takes at most one interface");
		goto out;
	}
	if (first < argc)
		json_object_set_new(args, "interface", json_string(argv[first]));
	rc = tunctl_call(t, command, json_incref(args), &result);
	rc = finish(t, rc, result, human);
out:
	json_decref(args);
	return rc;
}

int cmd_show(struct tunctl *t, int argc, char **argv)
{
	return call_for_iface(t, argc, argv, "show", show_human);
}

static void metrics_human(json_t *r)
{
	fputs(str(r, "text") ? str(r, "text") : "", stdout);
}

int cmd_metrics(struct tunctl *t, int argc, char **argv)
{
	return call_for_iface(t, argc, argv, "metrics", metrics_human);
}

/* Read a base64 key from a file (mode checked like the daemon does). */
static int read_key_file(const char *cmd, const char *path, json_t *args)
{
	char buf[128];
	uint8_t key[KEY_LEN];
	const char *why = NULL;
	struct stat st;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "tunctl: %s: %s: %m\n", cmd, path);
		return -1;
	}
	/* Unbuffered: the key goes straight into buf, which is wiped, and not through stdio's. */
	setvbuf(f, NULL, _IONBF, 0);
	if (fstat(fileno(f), &st) == 0 && config_mode_exposed(&st))
		fprintf(stderr,
			"tunctl: %s: warning: %s is readable by group or others (mode %04o)\n", cmd,
			path, (unsigned int)(st.st_mode & 07777));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (key_from_base64(key, buf, &why) != 0) {
		crypto_wipe(buf, sizeof(buf));
		fprintf(stderr, "tunctl: %s: the key in %s %s\n", cmd, path, why);
		return -1;
	}
	crypto_wipe(key, sizeof(key));
	json_object_set_new(args, "preshared_key", json_string(buf));
	crypto_wipe(buf, sizeof(buf));
	return 0;
}

/*
 * --save: tund writes the change into the interface's file, and a preshared
 * key as "PresharedKeyFile = " the absolute path of the file it came from.
 * Returns -1 to go on, or an exit code.
 */
static int save_options(const char *cmd, json_t *args, const char *psk_path)
{
	char *abs;

	json_object_set_new(args, "save", json_true());
	if (!psk_path || !json_is_string(json_object_get(args, "preshared_key")))
		return -1;
	abs = realpath(psk_path, NULL);
	if (!abs) {
		fprintf(stderr, "tunctl: %s: %s: %m\n", cmd, psk_path);
		return TUNCTL_EXIT_FAILURE;
	}
	json_object_set_new(args, "preshared_key_file", json_string(abs));
	free(abs);
	return -1;
}

/* getopt's value for the tunctl option of peer_settings[i]. */
#define SETTING_OPTION 0x100

/*
 * The long options of add-peer and set-peer: one for each peer setting that
 * has a tunctl option (peer_settings.h), then the four below and the end:
 * PEER_SETTINGS_MAX + 5 entries at most.
 */
static void peer_longopts(struct option *opts)
{
	static const struct option fixed[] = {
		{"no-preshared-key", no_argument, NULL, 'P'},
		{"save", no_argument, NULL, 'S'},
		{"from", required_argument, NULL, 'F'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t n = 0;

	for (size_t i = 0; i < peer_settings_count; i++)
		if (peer_settings[i].tunctl_option)
			opts[n++] =
				(struct option){peer_settings[i].tunctl_option, required_argument,
						NULL, SETTING_OPTION + (int)i};
	memcpy(opts + n, fixed, sizeof(fixed));
}

/*
 * One peer setting's option into args, as the control protocol carries it.
 * Returns -1 to go on, or an exit code.
 */
static int setting_option(const char *cmd, const struct peer_setting *s, const char *text,
			  json_t *args, const char **psk_path)
{
	char msg[512];
	json_t *v;

	switch (s->id) {
	case PEER_SETTING_PUBLIC_KEY:
		if (strcmp(cmd, "add-peer") != 0)
			return tunctl_usage_error(cmd, "a peer's public key cannot change; "
						       "remove it and add the new one");
		break;
	case PEER_SETTING_PRESHARED_KEY_FILE:
		/* The key is read here and sent; the file's path only with --save. */
		if (read_key_file(cmd, text, args) != 0)
			return TUNCTL_EXIT_FAILURE;
		*psk_path = text;
		return -1;
	default:
		break;
	}
	v = peer_setting_option_json(s, text, msg, sizeof(msg));
	if (!v)
		return tunctl_usage_error(cmd, "%s", msg);
	json_object_set_new(args, s->json_key, v);
	return -1;
}

/*
 * The options of add-peer and set-peer, into args. Returns -1 to go on, or an
 * exit code.
 */
static int peer_options(struct tunctl *t, int argc, char **argv, json_t *args, int *first,
			const char **from)
{
	struct option longopts[PEER_SETTINGS_MAX + 6];
	const char *psk_path = NULL;
	bool save = false;
	int c, rc;

	peer_longopts(longopts);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c >= SETTING_OPTION) {
			rc = setting_option(argv[0], &peer_settings[c - SETTING_OPTION], optarg,
					    args, &psk_path);
			if (rc >= 0)
				return rc;
		} else if (c == 'S') {
			save = true;
		} else if (c == 'F' && from) {
			*from = optarg;
		} else if (c == 'P') {
			json_object_set_new(args, "preshared_key", json_null());
		} else {
			rc = tunctl_common_option(t, tunctl_find_command(argv[0]), c, argv);
			if (rc >= 0)
				return rc;
		}
	}
	*first = optind;
	if (from && *from && (save || json_object_size(args)))
		return tunctl_usage_error(argv[0], "--from takes no other peer option, nor --save");
	return save ? save_options(argv[0], args, psk_path) : -1;
}

/* tund's warnings about what it took with a change: "tunctl: set-peer: warning: ...". */
static void print_warnings(const char *cmd, json_t *result)
{
	json_t *w;
	size_t i;

	json_array_foreach(json_object_get(result, "warnings"), i, w)
		fprintf(stderr, "tunctl: %s: warning: %s\n", cmd, json_string_value(w));
}

static void peer_done_human(json_t *r)
{
	if (str(r, "saved"))
		printf("saved to %s\n", str(r, "saved"));
}

int cmd_add_peer(struct tunctl *t, int argc, char **argv)
{
	json_t *args = json_object(), *result;
	const char *from = NULL;
	int first = 0, rc;

	rc = peer_options(t, argc, argv, args, &first, &from);
	if (rc >= 0)
		goto out;
	if (argc - first != 1) {
		rc = tunctl_usage_error(argv[0], "expects one interface");
		goto out;
	}
	if (from) {
		rc = tunctl_add_peers_from(t, argv[0], argv[first], from);
		goto out;
	}
	if (!json_object_get(args, "public_key")) {
		rc = tunctl_usage_error(argv[0], "--public-key is required");
		goto out;
	}
	json_object_set_new(args, "interface", json_string(argv[first]));
	rc = tunctl_call(t, "add-peer", json_incref(args), &result);
	if (rc == TUNCTL_EXIT_OK)
		print_warnings(argv[0], result);
	rc = finish(t, rc, result, peer_done_human);
out:
	json_decref(args);
	return rc;
}

int cmd_set_peer(struct tunctl *t, int argc, char **argv)
{
	json_t *args = json_object(), *result;
	int first = 0, rc;

	rc = peer_options(t, argc, argv, args, &first, NULL);
	if (rc >= 0)
		goto out;
	if (argc - first != 2) {
		rc = tunctl_usage_error(argv[0],
					"expects an interface and a peer (name or public key)");
		goto out;
	}
	json_object_set_new(args, "interface", json_string(argv[first]));
	json_object_set_new(args, "peer", json_string(argv[first + 1]));
	rc = tunctl_call(t, "set-peer", json_incref(args), &result);
	if (rc == TUNCTL_EXIT_OK)
		print_warnings(argv[0], result);
	rc = finish(t, rc, result, peer_done_human);
out:
	json_decref(args);
	return rc;
}

int cmd_remove_peer(struct tunctl *t, int argc, char **argv)
{
	json_t *args, *result;
	bool save = false;
	int first = 0, rc;

	rc = tunctl_parse_save(t, tunctl_find_command(argv[0]), argc, argv, &save, &first);
	if (rc >= 0)
		return rc;
	if (argc - first != 2)
		return tunctl_usage_error(argv[0],
					  "expects an interface and a peer (name or public key)");
	args = json_pack("{s:s,s:s}", "interface", argv[first], "peer", argv[first + 1]);
	if (save)
		json_object_set_new(args, "save", json_true());
	rc = tunctl_call(t, "remove-peer", args, &result);
	return finish(t, rc, result, peer_done_human);
}

static void reload_human(json_t *r)
{
	json_t *changes = json_object_get(r, "changes"), *d = json_object_get(r, "diagnostics"),
	       *it;
	size_t i;

	json_array_foreach(d, i, it)
	{
		if (json_integer_value(json_object_get(it, "line")))
			fprintf(stderr, "%s:%lld: %s: %s\n", str(it, "file"),
				(long long)num(it, "line"), str(it, "severity"),
				str(it, "message"));
		else
			fprintf(stderr, "%s: %s: %s\n", str(it, "file"), str(it, "severity"),
				str(it, "message"));
	}
	if (json_array_size(changes) == 0)
		printf("no change\n");
	json_array_foreach(changes, i, it) printf("%s\n", json_string_value(it));
}

int cmd_reload(struct tunctl *t, int argc, char **argv)
{
	json_t *result;
	int first = 0, rc;
	bool failed;

	rc = tunctl_parse_common(t, tunctl_find_command(argv[0]), argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (first < argc)
		return tunctl_usage_error(argv[0], "takes no arguments");
	rc = tunctl_call(t, "reload", NULL, &result);
	if (rc != TUNCTL_EXIT_OK)
		return rc;
	failed = json_integer_value(json_object_get(result, "failures")) > 0;
	rc = finish(t, rc, result, reload_human);
	return rc == TUNCTL_EXIT_OK && failed ? TUNCTL_EXIT_FAILURE : rc;
}

static void changes_human(json_t *r)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(r, "changes"), i, it)
		printf("%s\n", json_string_value(it));
}

/*
 * A command of one operand sent as args {key: operand}, the protocol's
 * command being tunctl's (up, down, log-level).
 */
static int one_operand(struct tunctl *t, int argc, char **argv, const char *key, const char *usage,
		       void (*human)(json_t *))
{
	json_t *result;
	int first = 0, rc;

	rc = tunctl_parse_common(t, tunctl_find_command(argv[0]), argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (argc - first != 1)
		return tunctl_usage_error(argv[0], "%s", usage);
	rc = tunctl_call(t, argv[0], json_pack("{s:s}", key, argv[first]), &result);
	return finish(t, rc, result, human);
}

int cmd_up_down(struct tunctl *t, int argc, char **argv)
{
	return one_operand(t, argc, argv, "interface", "expects one interface name", changes_human);
}

static void log_level_human(json_t *r)
{
	printf("log level: %s\n", str(r, "level"));
}

int cmd_log_level(struct tunctl *t, int argc, char **argv)
{
	return one_operand(t, argc, argv, "level", "expects a level: error, warn, info or debug",
			   log_level_human);
}
