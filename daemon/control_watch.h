/* SPDX-License-Identifier: MIT */
/*
 * `watch`: a control connection turned into a subscription to the event
 * stream (events.h, docs/control-protocol.md). After the reply line the
 * connection carries one JSON line per event, held to a bounded output
 * buffer: a watcher that falls behind by WATCH_BUFFER bytes is sent a last
 * {"event":"overflow"} line and disconnected, so it never holds the daemon
 * or the other watchers. At most EVENTS_MAX_WATCHERS at once.
 */
#ifndef TUND_CONTROL_WATCH_H
#define TUND_CONTROL_WATCH_H

#include <jansson.h>
#include <stdbool.h>

/* Unsent event bytes a watcher may hold, the overflow line included. */
#define WATCH_BUFFER (256 * 1024)

struct jsonline;
struct control_watch;

/*
 * Subscribe conn (a control session) to the events plan names (cmd_watch's
 * result, borrowed: {"interface": NAME} or {} for all) and queue the reply.
 * 0, -EBUSY when EVENTS_MAX_WATCHERS watch already (nothing queued), or
 * -ENOMEM.
 */
int control_watch_start(struct jsonline *conn, json_t *plan, struct control_watch **out);
/* Unsubscribe and free (the connection is its owner's). NULL is a no-op. */
void control_watch_destroy(struct control_watch *w);
/*
 * Whether the session's idle timeout is to be ignored: a subscribed watcher
 * with nothing to send waits for events, not for its client.
 */
bool control_watch_idle_ok(const struct control_watch *w);

#endif
