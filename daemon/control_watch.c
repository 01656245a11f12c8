// SPDX-License-Identifier: MIT
/* The watch command and its subscriptions: see control_watch.h. */
#include "control_watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "control_cmd.h"
#include "control_proto.h"
#include "events.h"
#include "jsonline.h"
#include "log.h"
#include "util.h"

_Static_assert(EVENTS_MAX_WATCHERS == 64, "control.c's too_many_watchers message spells the limit");

/* Unsent bytes past which an event tries the socket at once. */
#define WATCH_FLUSH_AT (32 * 1024)
/* Room kept in the buffer for the overflow line. */
#define OVERFLOW_RESERVE 256

struct control_watch {
	struct events_watcher ew;
	struct jsonline *conn; /* borrowed: the client's */
};

int cmd_watch(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err)
{
	const char *name = arg_string(args, "interface");

	(void)env;
	if (json_object_get(args, "interface") &&
	    !json_is_null(json_object_get(args, "interface")) && !name)
		return fail(err, "invalid_argument", "\"interface\" must be a string");
	if (name && !config_iface_name_valid(name))
		return fail(err, "invalid_argument", "\"%.32s\" is not an interface name", name);
	/* An interface need not be up: its creation may be what is watched for. */
	*result = name ? json_pack("{s:s}", "interface", name) : json_object();
	return 0;
}

/* The last line, in the room kept for it; then the connection closes once it is written. */
static void watch_overflow(struct control_watch *w)
{
	char line[OVERFLOW_RESERVE];
	struct timespec ts;
	int len;

	events_unsubscribe(&w->ew);
	clock_gettime(CLOCK_REALTIME, &ts);
	len = snprintf(line, sizeof(line),
		       "{\"event\":\"overflow\",\"time\":%lld.%03ld,\"message\":\"this watcher "
		       "fell %d KiB behind; disconnected\"}\n",
		       (long long)ts.tv_sec, ts.tv_nsec / 1000000, WATCH_BUFFER / 1024);
	(void)jsonline_put(w->conn, line, (size_t)len);
	jsonline_end_input(w->conn);
	log_info("control: a watcher fell %d KiB behind the events; dropping it",
		 WATCH_BUFFER / 1024);
}

static void watch_deliver(struct events_watcher *ew, const char *line, size_t len)
{
	struct control_watch *w = container_of(ew, struct control_watch, ew);

	/* A burst (a batch of peers) goes to the socket's buffer before it fills ours. */
	if (jsonline_pending(w->conn) >= WATCH_FLUSH_AT)
		jsonline_flush(w->conn);
	if (jsonline_pending(w->conn) + len + OVERFLOW_RESERVE > WATCH_BUFFER ||
	    jsonline_put(w->conn, line, len) != 0)
		watch_overflow(w);
}

int control_watch_start(struct jsonline *conn, json_t *plan, struct control_watch **out)
{
	const char *name = json_string_value(json_object_get(plan, "interface"));
	struct control_watch *w;
	json_t *reply;

	*out = NULL;
	if (events_n_watchers >= EVENTS_MAX_WATCHERS)
		return -EBUSY;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->conn = conn;
	w->ew.deliver = watch_deliver;
	if (name)
		snprintf(w->ew.iface, sizeof(w->ew.iface), "%s", name);
	reply = json_pack("{s:i,s:b,s:{s:s?,s:i}}", "version", CONTROL_PROTOCOL_VERSION, "ok", true,
			  "result", "interface", name, "buffer", WATCH_BUFFER);
	if (jsonline_send(conn, reply) != 0 || events_subscribe(&w->ew) != 0) {
		free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void control_watch_destroy(struct control_watch *w)
{
	if (!w)
		return;
	events_unsubscribe(&w->ew);
	free(w);
}

bool control_watch_idle_ok(const struct control_watch *w)
{
	return w && w->ew.subscribed && jsonline_pending(w->conn) == 0;
}
