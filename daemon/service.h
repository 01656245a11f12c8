/* SPDX-License-Identifier: MIT */
/*
 * Telling the service manager how tund is doing: READY, STOPPING, STATUS and
 * the watchdog, through libsystemd's sd_notify(). Every call is a no-op when
 * tund was not started by systemd (no NOTIFY_SOCKET).
 */
#ifndef TUND_SERVICE_H
#define TUND_SERVICE_H

#include <ev.h>
#include <stdbool.h>

struct daemon;

struct service {
	struct ev_loop *loop; /* borrowed */
	ev_timer watchdog;    /* pings at half of WatchdogSec, when enabled */
	double watchdog_interval_s;
	/*
	 * Under a service manager, from READY=1 on: once a second the summary
	 * is made again and sent when it differs from the last one sent, so
	 * that changes no control request announces (a link deleted under
	 * tund, `wg set`, a peer added) reach `systemctl status` too.
	 */
	ev_timer refresh;
	const struct daemon *daemon; /* borrowed; set by service_ready() */
	bool reloading;
	char sent[128]; /* the last STATUS= */
};

/* Start the watchdog timer when systemd asked for one (WATCHDOG_USEC). */
void service_init(struct service *s, struct ev_loop *loop);
/* READY=1 with a STATUS= one-line summary of the daemon. */
void service_ready(struct service *s, const struct daemon *d);
/* STATUS= only, at once, e.g. after an interface changed. */
void service_status(struct service *s, const struct daemon *d);
/* RELOADING=1; service_ready() ends the reload. */
void service_reloading(struct service *s);
/* STOPPING=1 and stop the watchdog timer. */
void service_stopping(struct service *s);

#endif
