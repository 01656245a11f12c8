// SPDX-License-Identifier: MIT
/*
 * Localhost tunnels from the command line: expose (publish a local port
 * through a server, and wait for the server's answer), unexpose, and the
 * lines tunctl show prints for published services and public ports.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tunctl.h"

#define DEFAULT_WAIT_S 5
#define POLL_MS	       100

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_int_t num(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* ---- tunctl show ---- */

void print_exposes(json_t *ifc)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(ifc, "exposes"), i, it)
	{
		printf("\nexpose: %s\n", str(it, "name"));
		printf("  local service: %s%s\n", str(it, "local"),
		       json_is_true(json_object_get(it, "proxy_protocol")) ? " (PROXY protocol v2)"
									   : "");
		printf("  through peer: %s, public port %lld\n", str(it, "peer"),
		       (long long)num(it, "public_port"));
		printf("  state: %s", str(it, "state"));
		if (str(it, "listen"))
			printf(", listening on %s", str(it, "listen"));
		if (str(it, "public_address"))
			printf(" (%s)", str(it, "public_address"));
		if (str(it, "message"))
			printf(": %s", str(it, "message"));
		printf("\n  connections: %lld active, %lld total",
		       (long long)num(it, "active_connections"),
		       (long long)num(it, "total_connections"));
		if (num(it, "refused_connections"))
			printf(", %lld refused", (long long)num(it, "refused_connections"));
		printf("\n");
	}
	json_array_foreach(json_object_get(ifc, "public_ports"), i, it)
	{
		printf("\npublic port: %lld\n", (long long)num(it, "port"));
		printf("  listening on: %s\n", str(it, "listen"));
		printf("  for peer: %s, service %s\n", str(it, "peer"), str(it, "name"));
		if (strcmp(str(it, "state"), "grace") == 0)
			printf("  state: grace, the peer is gone; closing in %lld s\n",
			       (long long)num(it, "grace_left"));
		else
			printf("  state: %s\n", str(it, "state"));
		printf("  connections: %lld active, %lld total, %lld refused\n",
		       (long long)num(it, "active_connections"),
		       (long long)num(it, "total_connections"),
		       (long long)num(it, "refused_connections"));
	}
}

/* ---- tunctl expose ---- */

struct expose_opts {
	long wait_s;
};

static int parse_port(const char *cmd, const char *what, const char *s, json_int_t *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > 65535)
		return tunctl_usage_error(cmd, "%s: \"%s\": expected a port 1-65535", what, s);
	*out = v;
	return -1;
}

/* The options of expose into args. -1 to go on, or an exit code. */
static int expose_options(struct tunctl *t, int argc, char **argv, json_t *args,
			  struct expose_opts *o, int *first)
{
	static const struct option longopts[] = {
		{"peer", required_argument, NULL, 'p'},
		{"public-port", required_argument, NULL, 'P'},
		{"name", required_argument, NULL, 'n'},
		{"proxy-protocol", no_argument, NULL, 'x'},
		{"local-address", required_argument, NULL, 'l'},
		{"server-address", required_argument, NULL, 'S'},
		{"wait", required_argument, NULL, 'w'},
		{"save", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	json_int_t port = 0;
	char *end;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			json_object_set_new(args, "peer", json_string(optarg));
			break;
		case 'P':
			if ((rc = parse_port(argv[0], "--public-port", optarg, &port)) >= 0)
				return rc;
			json_object_set_new(args, "public_port", json_integer(port));
			break;
		case 'n':
			json_object_set_new(args, "name", json_string(optarg));
			break;
		case 'x':
			json_object_set_new(args, "proxy_protocol", json_true());
			break;
		case 'l':
			json_object_set_new(args, "local_address", json_string(optarg));
			break;
		case 'S':
			json_object_set_new(args, "server_address", json_string(optarg));
			break;
		case 's':
			json_object_set_new(args, "save", json_true());
			break;
		case 'w':
			o->wait_s = strtol(optarg, &end, 10);
			if (!*optarg || *end || o->wait_s < 0 || o->wait_s > 3600)
				return tunctl_usage_error(argv[0],
							  "--wait: expected 0 to 3600 seconds");
			break;
		default:
			rc = tunctl_common_option(t, tunctl_find_command(argv[0]), c, argv);
			if (rc >= 0)
				return rc;
		}
	}
	*first = optind;
	return -1;
}

/* The service named name of show's answer for one interface (a new reference), or NULL. */
static json_t *find_service(json_t *show, const char *name)
{
	json_t *ifc = json_array_get(json_object_get(show, "interfaces"), 0), *it;
	size_t i;

	json_array_foreach(json_object_get(ifc, "exposes"), i,
			   it) if (str(it, "name") &&
				   strcmp(str(it, "name"), name) == 0) return json_incref(it);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Poll show until the server answered for the service (or wait_s passed).
 * *svc gets its last state. Returns an exit code.
 */
static int wait_answer(struct tunctl *t, const char *iface, const char *name, long wait_s,
		       json_t **svc)
{
	double deadline = now_s() + (double)wait_s;

	for (;;) {
		json_t *show = NULL, *s;
		int rc = tunctl_call(t, "show", json_pack("{s:s}", "interface", iface), &show);

		if (rc != TUNCTL_EXIT_OK)
			return rc;
		s = find_service(show, name);
		json_decref(show);
		if (!s) {
			fprintf(stderr, "tunctl: expose: %s: the service is gone (a reload?)\n",
				name);
			return TUNCTL_EXIT_FAILURE;
		}
		json_decref(*svc);
		*svc = s;
		if (!str(s, "state") || strcmp(str(s, "state"), "pending") != 0 ||
		    now_s() >= deadline)
			return TUNCTL_EXIT_OK;
		poll(NULL, 0, POLL_MS);
	}
}

static void print_active(json_t *s)
{
	printf("%s: %s published through %s on %s", str(s, "name"), str(s, "local"), str(s, "peer"),
	       str(s, "listen"));
	if (str(s, "public_address"))
		printf(" (reachable at %s)", str(s, "public_address"));
	printf("\n");
}

/*
 * Nothing stays behind a refusal, unless it was there before: the new service
 * is withdrawn, and taken out of the file again when --save wrote it there.
 */
static void undo_refused(struct tunctl *t, const char *iface, const char *name, const char *saved)
{
	json_t *args = json_pack("{s:s,s:s}", "interface", iface, "name", name), *r = NULL;

	if (saved)
		json_object_set_new(args, "save", json_true());
	if (tunctl_call(t, "unexpose", args, &r) == TUNCTL_EXIT_OK)
		json_decref(r);
	else if (saved)
		fprintf(stderr, "tunctl: expose: %s: [Expose %s] stays in %s\n", name, name, saved);
}

/* The outcome, once the server answered or the wait is over. Returns the exit code. */
static int report(struct tunctl *t, const char *iface, json_t *s, bool is_new, const char *saved,
		  long wait_s)
{
	const char *state = str(s, "state") ? str(s, "state") : "",
		   *name = str(s, "name") ? str(s, "name") : "?";
	int rc = TUNCTL_EXIT_OK;

	json_object_set_new(s, "interface", json_string(iface));
	if (saved)
		json_object_set_new(s, "saved", json_string(saved));
	if (strcmp(state, "refused") == 0) {
		fprintf(stderr, "tunctl: expose: %s: refused by %s: %s\n", name, str(s, "peer"),
			str(s, "message") ? str(s, "message") : "no reason given");
		if (is_new)
			undo_refused(t, iface, name, saved);
		rc = TUNCTL_EXIT_FAILURE;
	} else if (strcmp(state, "pending") == 0 && wait_s > 0) {
		fprintf(stderr,
			"tunctl: expose: %s: no answer from %s within %ld s (%s); tund keeps trying: see 'tunctl show %s', or 'tunctl unexpose %s %s'\n",
			name, str(s, "peer"), wait_s,
			str(s, "message") ? str(s, "message") : "pending", iface, iface, name);
		rc = TUNCTL_EXIT_FAILURE;
	}
	if (t->json) {
		int out = output_json(json_incref(s));

		return rc != TUNCTL_EXIT_OK ? rc : out;
	}
	if (strcmp(state, "active") == 0)
		print_active(s);
	else if (rc == TUNCTL_EXIT_OK)
		printf("%s: %s registered, waiting for %s\n", name, str(s, "local"),
		       str(s, "peer"));
	if (saved && rc == TUNCTL_EXIT_OK)
		printf("saved to %s\n", saved);
	return rc;
}

int cmd_expose(struct tunctl *t, int argc, char **argv)
{
	struct expose_opts o = {.wait_s = DEFAULT_WAIT_S};
	json_t *args = json_object(), *result = NULL, *svc = NULL;
	json_int_t port = 0;
	char name[64], *saved = NULL;
	bool is_new;
	int first = 0, rc;

	rc = expose_options(t, argc, argv, args, &o, &first);
	if (rc >= 0)
		goto out;
	if (argc - first != 2) {
		rc = tunctl_usage_error(argv[0], "expects an interface and a local port");
		goto out;
	}
	if ((rc = parse_port(argv[0], "LOCALPORT", argv[first + 1], &port)) >= 0)
		goto out;
	if (!json_object_get(args, "peer")) {
		rc = tunctl_usage_error(argv[0],
					"--peer is required (the server's name or public key)");
		goto out;
	}
	json_object_set_new(args, "interface", json_string(argv[first]));
	json_object_set_new(args, "local_port", json_integer(port));
	rc = tunctl_call(t, "expose", json_incref(args), &result);
	if (rc != TUNCTL_EXIT_OK)
		goto out;
	snprintf(name, sizeof(name), "%s", str(result, "name") ? str(result, "name") : "");
	is_new = json_is_true(json_object_get(result, "new"));
	if (str(result, "saved") && !(saved = strdup(str(result, "saved")))) {
		rc = TUNCTL_EXIT_FAILURE;
		goto out;
	}
	svc = json_incref(result);
	if (o.wait_s > 0)
		rc = wait_answer(t, argv[first], name, o.wait_s, &svc);
	if (rc == TUNCTL_EXIT_OK)
		rc = report(t, argv[first], svc, is_new, saved, o.wait_s);
out:
	free(saved);
	json_decref(svc);
	json_decref(result);
	json_decref(args);
	return rc;
}

/* ---- tunctl unexpose ---- */

int cmd_unexpose(struct tunctl *t, int argc, char **argv)
{
	json_t *args, *result;
	bool save = false;
	int first = 0, rc;

	rc = tunctl_parse_save(t, tunctl_find_command(argv[0]), argc, argv, &save, &first);
	if (rc >= 0)
		return rc;
	if (argc - first != 2)
		return tunctl_usage_error(
			argv[0], "expects an interface and a service (name or local port)");
	args = json_pack("{s:s,s:s}", "interface", argv[first], "name", argv[first + 1]);
	if (save)
		json_object_set_new(args, "save", json_true());
	rc = tunctl_call(t, "unexpose", args, &result);
	if (rc != TUNCTL_EXIT_OK)
		return rc;
	if (t->json)
		return output_json(result);
	printf("%s: %s no longer published\n", str(result, "interface"), str(result, "name"));
	if (str(result, "saved"))
		printf("saved to %s\n", str(result, "saved"));
	json_decref(result);
	return TUNCTL_EXIT_OK;
}
