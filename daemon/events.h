/* SPDX-License-Identifier: MIT */
/*
 * The event stream (`tunctl watch`, docs/control-protocol.md): the core
 * reports what happens (a peer added, a handshake completed, an endpoint
 * changed, an interface up, ...) through events_emit(), and each watcher
 * subscribed here gets the event as one JSON line. A leaf of the core: it
 * includes no other daemon header, so any module may call it; callers pass
 * plain values (names, keys), never their structs. Cheap when nobody
 * watches: callers test events_wanted(), one load of a counter, before they
 * build anything. Events never carry a private or preshared key.
 */
#ifndef TUND_EVENTS_H
#define TUND_EVENTS_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"

/* Watchers at once, daemon-wide; one more is refused (control_watch.c). */
#define EVENTS_MAX_WATCHERS 64

/* How many watchers are subscribed: read it through events_wanted(). */
extern unsigned int events_n_watchers;

static inline bool events_wanted(void)
{
	return events_n_watchers != 0;
}

struct events_watcher;
/*
 * One event's line (len bytes, newline included; borrowed) for w. May call
 * events_unsubscribe(w), and nothing else of this module.
 */
typedef void (*events_deliver_fn)(struct events_watcher *w, const char *line, size_t len);

/* Owned by the subscriber; linked here while subscribed. */
struct events_watcher {
	struct list_head node;
	char iface[IFNAMSIZ]; /* only this interface's events; "" for all */
	events_deliver_fn deliver;
	bool subscribed;
};

/* Add w (iface and deliver set): 0, or -EBUSY with EVENTS_MAX_WATCHERS already. */
int events_subscribe(struct events_watcher *w);
/* Remove w; a no-op when it is not subscribed. */
void events_unsubscribe(struct events_watcher *w);

/*
 * An event: its name ("peer-added"), the interface's name, the peer's
 * public key and Name= (both NULL when the event is not a peer's), and
 * details, an object whose fields are added to the line (taken; NULL for
 * none). Delivered to every watcher of the interface, at once.
 */
void events_emit(const char *event, const char *iface, const uint8_t *peer_key,
		 const char *peer_name, json_t *details);

#endif
