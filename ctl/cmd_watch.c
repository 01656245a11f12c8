// SPDX-License-Identifier: MIT
/*
 * tunctl watch [IFACE]: subscribe to tund's event stream (the control
 * request watch) and print one line per event as it comes: human lines
 * (time, interface, event, peer, details), or with --json the daemon's
 * JSON lines as they are.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control_proto.h"
#include "tunctl.h"

#define FIRST_REPLY_TIMEOUT_MS 30000
/* A line longer than this is not tund's: the stream is given up. */
#define MAX_LINE (1024 * 1024)

/* The fields every event has, printed in their own columns. */
static bool is_common(const char *key)
{
	static const char *const keys[] = {"event", "time", "interface", "peer", "name"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

static void print_value(json_t *v)
{
	json_t *item;
	size_t i;

	if (json_is_string(v))
		fputs(json_string_value(v), stdout);
	else if (json_is_null(v))
		fputs("none", stdout);
	else if (json_is_array(v)) {
		if (json_array_size(v) == 0)
			fputs("none", stdout);
		json_array_foreach(v, i, item)
		{
			if (i)
				fputc(',', stdout);
			print_value(item);
		}
	} else {
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		fputs(text ? text : "?", stdout);
		free(text);
	}
}

/* "2026-12-06 02:50:01  wg0  peer-added  alice  endpoint=192.0.2.1:51820 ..." */
static void print_event(json_t *ev)
{
	double t = json_number_value(json_object_get(ev, "time"));
	const char *iface = json_string_value(json_object_get(ev, "interface"));
	const char *name = json_string_value(json_object_get(ev, "name"));
	const char *peer = json_string_value(json_object_get(ev, "peer"));
	time_t secs = (time_t)t;
	struct tm tm;
	char when[32] = "-";
	const char *key;
	json_t *v;

	if (localtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s  %s  %s", when, iface ? iface : "-",
	       json_string_value(json_object_get(ev, "event")) ?: "?");
	if (name)
		printf("  %s", name);
	else if (peer)
		printf("  %.8s…", peer); /* a short key, as wg's logs */
	json_object_foreach(ev, key, v)
	{
		if (is_common(key))
			continue;
		printf("  %s=", key);
		print_value(v);
	}
	printf("\n");
}

/* The next line from fd into *buf (grown as needed), without its newline; NULL at the end. */
static char *next_line(int fd, char **buf, size_t *len, size_t *cap, size_t *used, int timeout_ms)
{
	for (;;) {
		char *nl;
		ssize_t n;

		/* Drop the line handed out last. */
		if (*used) {
			memmove(*buf, *buf + *used, *len - *used);
			*len -= *used;
			*used = 0;
		}
		nl = *len ? memchr(*buf, '\n', *len) : NULL;
		if (nl) {
			*nl = '\0';
			*used = (size_t)(nl - *buf) + 1;
			return *buf;
		}
		if (*len + 4096 > *cap) {
			char *nb;

			if (*cap >= MAX_LINE)
				return NULL;
			nb = realloc(*buf, *cap ? *cap * 2 : 65536);
			if (!nb)
				return NULL;
			*buf = nb;
			*cap = *cap ? *cap * 2 : 65536;
		}
		if (timeout_ms >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};

			if (poll(&p, 1, timeout_ms) <= 0)
				return NULL;
		}
		n = read(fd, *buf + *len, *cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
	}
}

/* The reply to watch: 0 when subscribed, else an exit code (the error printed). */
static int check_reply(struct tunctl *t, const char *line)
{
	json_t *reply = line ? json_loads(line, 0, NULL) : NULL;
	json_t *err = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	int rc;

	if (!line) {
		fprintf(stderr, "tunctl: watch: no reply from tund on %s\n", t->socket_path);
		return TUNCTL_EXIT_UNREACHABLE;
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		json_decref(reply);
		return 0;
	}
	fprintf(stderr, "tunctl: watch: %s\n",
		json_string_value(json_object_get(err, "message")) ?: "failed");
	rc = code && strcmp(code, "permission_denied") == 0 ? TUNCTL_EXIT_DENIED
							    : TUNCTL_EXIT_FAILURE;
	json_decref(reply);
	return rc;
}

int cmd_watch(struct tunctl *t, int argc, char **argv)
{
	char *buf = NULL, *line, *text;
	size_t len = 0, cap = 0, used = 0;
	int first = 0, fd, rc;
	json_t *req;

	rc = tunctl_parse_common(t, tunctl_find_command("watch"), argc, argv, &first);
	if (rc >= 0)
		return rc;
	if (argc - first > 1)
		return tunctl_usage_error("watch", "takes at most one interface");
	req = json_pack("{s:i,s:s,s:{}}", "version", CONTROL_PROTOCOL_VERSION, "command", "watch",
			"args");
	if (req && first < argc)
		json_object_set_new(json_object_get(req, "args"), "interface",
				    json_string(argv[first]));
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text)
		return TUNCTL_EXIT_FAILURE;
	fd = tunctl_connect(t);
	if (fd < 0) {
		free(text);
		return TUNCTL_EXIT_UNREACHABLE;
	}
	rc = tunctl_send_line(fd, text);
	free(text);
	rc = check_reply(t, rc == 0 ? next_line(fd, &buf, &len, &cap, &used, FIRST_REPLY_TIMEOUT_MS)
				    : NULL);
	/* Each event as it comes, also into a pipe or a file. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (rc == 0 && (line = next_line(fd, &buf, &len, &cap, &used, -1))) {
		json_t *ev = json_loads(line, 0, NULL);
		const char *event = json_string_value(json_object_get(ev, "event"));

		if (t->json)
			printf("%s\n", line);
		else if (event)
			print_event(ev);
		if (event && strcmp(event, "overflow") == 0) {
			fprintf(stderr,
				"tunctl: watch: too slow for the events; tund dropped us\n");
			rc = TUNCTL_EXIT_FAILURE;
		}
		json_decref(ev);
	}
	if (rc == 0)
		fprintf(stderr, "tunctl: watch: tund closed the connection\n");
	free(buf);
	close(fd);
	return rc;
}
