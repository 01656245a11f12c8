// SPDX-License-Identifier: MIT
/* systemd notifications and the watchdog; see service.h. */
#include "service.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "iface.h"
#include "log.h"

static void service_on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* The loop turned, so the daemon is alive: tell the manager. */
	sd_notify(0, "WATCHDOG=1");
}

static void service_on_refresh(struct ev_loop *loop, ev_timer *w, int revents);

void service_init(struct service *s, struct ev_loop *loop)
{
	uint64_t usec = 0;

	s->loop = loop;
	s->watchdog_interval_s = 0;
	s->daemon = NULL;
	s->reloading = false;
	s->sent[0] = '\0';
	ev_timer_init(&s->watchdog, service_on_watchdog, 0, 0);
	ev_timer_init(&s->refresh, service_on_refresh, 1, 1);
	s->refresh.data = s;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		s->watchdog_interval_s = (double)usec / 2e6;
		ev_timer_set(&s->watchdog, 0, s->watchdog_interval_s);
		ev_timer_again(loop, &s->watchdog);
		log_debug("systemd watchdog: pinging every %.1f s", s->watchdog_interval_s);
	}
}

static void summary(const struct daemon *d, char *buf, size_t len)
{
	struct iface *iface;
	size_t n_ifaces = 0, n_peers = 0;

	list_for_each(iface, &d->ifaces, node) {
		n_ifaces++;
		n_peers += iface->n_peers;
	}
	snprintf(buf, len, "%zu interface%s up, %zu peer%s", n_ifaces, n_ifaces == 1 ? "" : "s",
		 n_peers, n_peers == 1 ? "" : "s");
}

static void send_status(struct service *s, const struct daemon *d, const char *prefix)
{
	char buf[sizeof(s->sent)];

	summary(d, buf, sizeof(buf));
	sd_notifyf(0, "%sSTATUS=%s", prefix, buf);
	memcpy(s->sent, buf, sizeof(buf));
}

static void service_on_refresh(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct service *s = w->data;
	char buf[sizeof(s->sent)];

	(void)loop;
	(void)revents;
	if (!s->daemon || s->reloading)
		return;
	summary(s->daemon, buf, sizeof(buf));
	if (strcmp(buf, s->sent) != 0)
		send_status(s, s->daemon, "");
}

void service_ready(struct service *s, const struct daemon *d)
{
	s->reloading = false;
	send_status(s, d, "READY=1\n");
	/* Without a manager to tell, nothing to refresh. */
	if (!s->daemon && getenv("NOTIFY_SOCKET")) {
		s->daemon = d;
		ev_timer_start(s->loop, &s->refresh);
	}
}

void service_status(struct service *s, const struct daemon *d)
{
	send_status(s, d, "");
}

void service_reloading(struct service *s)
{
	s->reloading = true;
	sd_notify(0, "RELOADING=1\nSTATUS=reloading");
}

void service_stopping(struct service *s)
{
	ev_timer_stop(s->loop, &s->watchdog);
	ev_timer_stop(s->loop, &s->refresh);
	s->daemon = NULL;
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
