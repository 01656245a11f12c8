// SPDX-License-Identifier: MIT
/* The event stream's subscribers and the events' JSON lines: see events.h. */
#include "events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "key.h"

unsigned int events_n_watchers;
static struct list_head watchers = LIST_HEAD_INIT(watchers);

int events_subscribe(struct events_watcher *w)
{
	if (events_n_watchers >= EVENTS_MAX_WATCHERS)
		return -EBUSY;
	list_add_tail(&w->node, &watchers);
	w->subscribed = true;
	events_n_watchers++;
	return 0;
}

void events_unsubscribe(struct events_watcher *w)
{
	if (!w->subscribed)
		return;
	list_del(&w->node);
	w->subscribed = false;
	events_n_watchers--;
}

/* The wall clock in Unix seconds, to the millisecond. */
static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

/* The line: event, time, interface, peer and name first, then the details. */
static char *event_line(const char *event, const char *iface, const uint8_t *peer_key,
			const char *peer_name, json_t *details, size_t *len)
{
	char key[KEY_BASE64_LEN + 1];
	json_t *o;
	char *text;

	o = json_pack("{s:s,s:f,s:s?}", "event", event, "time", wall_now(), "interface", iface);
	if (o && peer_key) {
		key_to_base64(key, peer_key);
		json_object_set_new(o, "peer", json_string(key));
		json_object_set_new(o, "name", peer_name ? json_string(peer_name) : json_null());
	}
	if (o && details)
		json_object_update(o, details);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return NULL;
	*len = strlen(text);
	text[*len] = '\n'; /* in place of the NUL: the line is text[0..len] */
	(*len)++;
	return text;
}

void events_emit(const char *event, const char *iface, const uint8_t *peer_key,
		 const char *peer_name, json_t *details)
{
	struct events_watcher *w, *next;
	char *line = NULL;
	size_t len = 0;

	if (!events_wanted()) {
		json_decref(details);
		return;
	}
	list_for_each_safe(w, next, &watchers, node) {
		if (w->iface[0] && (!iface || strcmp(w->iface, iface) != 0))
			continue;
		if (!line && !(line = event_line(event, iface, peer_key, peer_name, details, &len)))
			break;
		w->deliver(w, line, len);
	}
	free(line);
	json_decref(details);
}
