// SPDX-License-Identifier: MIT
/*
 * What the data path asks of an interface: the load meter of paper section
 * 5.4.7 (when handshakes need cookies) and the rate-limited log of what a
 * remote party caused.
 */
#include "iface_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Section 5.4.7 leaves "under load" to the implementation. tund counts the
 * handshake messages an interface receives; above this many per second
 * (a sliding one-second estimate) it is under load and stays so for one
 * second after the rate falls. A busy server with 10,000 peers rekeying
 * every two minutes sees about 85 per second; one X25519 costs about 30 us,
 * so 1000 per second keeps handshake work under a tenth of a core.
 */
#define UNDER_LOAD_HANDSHAKES_PER_SECOND 1000

unsigned int iface_under_load_threshold(void)
{
	const char *s = getenv("TUND_TEST_UNDER_LOAD_THRESHOLD");

	/* For tests only: 0 makes every handshake need a cookie. */
	if (s && *s)
		return (unsigned int)strtoul(s, NULL, 10);
	return UNDER_LOAD_HANDSHAKES_PER_SECOND;
}

bool iface_under_load(struct iface *iface, double now_s)
{
	struct load_meter *m = &iface->load;
	double elapsed = now_s - m->window_start_s, rate;

	if (elapsed >= 1.0) {
		m->prev = elapsed >= 2.0 ? 0 : m->count;
		m->count = 0;
		m->window_start_s = now_s;
		elapsed = 0;
	}
	m->count++;
	/* The previous window's share of the last second, plus this window. */
	rate = m->prev * (1.0 - elapsed) + m->count;
	if (rate > iface->under_load_threshold) {
		m->last_under_load_s = now_s;
		return true;
	}
	return m->last_under_load_s > 0 && now_s - m->last_under_load_s < 1.0;
}

void iface_log_remote(struct iface *iface, double now_s, enum log_level level, const char *fmt,
		      ...)
{
	char msg[768];
	va_list ap;

	if (!log_enabled(level) || !log_ratelimit_ok(&iface->log_rl, now_s, 10, 20))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "%s", msg);
}
