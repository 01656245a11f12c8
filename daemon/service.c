// SPDX-License-Identifier: MIT
/* systemd notifications and the watchdog; see service.h. */
#include "service.h"

#include <stdint.h>
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

void service_init(struct service *s, struct ev_loop *loop)
{
	uint64_t usec = 0;

	s->loop = loop;
	s->watchdog_interval_s = 0;
	ev_timer_init(&s->watchdog, service_on_watchdog, 0, 0);
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

void service_ready(struct service *s, const struct daemon *d)
{
	char buf[128];

	(void)s;
	summary(d, buf, sizeof(buf));
	sd_notifyf(0, "READY=1\nSTATUS=%s", buf);
}

void service_status(struct service *s, const struct daemon *d)
{
	char buf[128];

	(void)s;
	summary(d, buf, sizeof(buf));
	sd_notifyf(0, "STATUS=%s", buf);
}

void service_reloading(struct service *s)
{
	(void)s;
	sd_notify(0, "RELOADING=1\nSTATUS=reloading");
}

void service_stopping(struct service *s)
{
	ev_timer_stop(s->loop, &s->watchdog);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
