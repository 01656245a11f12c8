// SPDX-License-Identifier: MIT
/*
 * Protocol timers (WireGuard paper section 6.2-6.5), one ev_timer per peer
 * set to the earliest of five deadlines: the events that set and clear
 * them. Arming a deadline later than the one the watcher already waits for
 * costs nothing; the watcher re-arms itself when it fires. What each
 * deadline does when it passes is timers_expiry.c's, above send.c.
 */
#include "timers.h"

#include <stdint.h>

#include "clock.h"
#include "crypto.h"
#include "events.h"
#include "iface_state.h"
#include "peer_state.h"
#include "util.h"

double proto_time_scale = 1.0;

/* Up to REKEY_TIMEOUT_JITTER_MAX_MS of jitter, so peers do not retry in step. */
static double jitter_s(void)
{
	uint32_t r = 0;

	(void)crypto_random(&r, sizeof(r));
	return PROTO_TIME((double)(r % REKEY_TIMEOUT_JITTER_MAX_MS) / 1000.0);
}

void timers_rearm(struct peer *peer, double now_s)
{
	struct peer_timers *t = &peer->timers;
	double deadlines[] = {t->retransmit_handshake, t->send_keepalive, t->new_handshake,
			      t->zero_key_material, t->persistent_keepalive};
	double next = 0;

	for (size_t i = 0; i < ARRAY_SIZE(deadlines); i++)
		if (deadlines[i] > 0 && (next == 0 || deadlines[i] < next))
			next = deadlines[i];
	if (next == 0) {
		ev_timer_stop(peer->iface->loop, &t->watcher);
		t->armed_for = 0;
		return;
	}
	/* Already waiting for an earlier or equal moment: it will re-arm then. */
	if (t->armed_for > 0 && t->armed_for <= next && ev_is_active(&t->watcher))
		return;
	ev_timer_stop(peer->iface->loop, &t->watcher);
	ev_timer_set(&t->watcher, next > now_s ? next - now_s : 0, 0);
	ev_timer_start(peer->iface->loop, &t->watcher);
	t->armed_for = next;
}

static void set_deadline(struct peer *peer, double *deadline, double when, double now_s)
{
	*deadline = when;
	timers_rearm(peer, now_s);
}

static void clear_deadline(double *deadline)
{
	/* The watcher may fire early for it; the expiry check finds nothing due. */
	*deadline = 0;
}

void timers_stop(struct peer *peer)
{
	struct peer_timers *t = &peer->timers;

	ev_timer_stop(peer->iface->loop, &t->watcher);
	t->armed_for = 0;
	t->retransmit_handshake = t->send_keepalive = t->new_handshake = 0;
	t->zero_key_material = t->persistent_keepalive = 0;
}

/* After an authenticated data packet is sent. */
void timers_data_sent(struct peer *peer, double now_s)
{
	if (!peer->timers.new_handshake)
		set_deadline(peer, &peer->timers.new_handshake,
			     now_s + PROTO_TIME(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) + jitter_s(),
			     now_s);
}

/* After an authenticated data packet is received. */
void timers_data_received(struct peer *peer, double now_s)
{
	if (!peer->timers.send_keepalive)
		set_deadline(peer, &peer->timers.send_keepalive,
			     now_s + PROTO_TIME(KEEPALIVE_TIMEOUT), now_s);
	else
		peer->timers.need_another_keepalive = true;
}

/* After any authenticated packet is sent: data, keepalive or handshake. */
void timers_any_authenticated_packet_sent(struct peer *peer, double now_s)
{
	(void)now_s;
	clear_deadline(&peer->timers.send_keepalive);
}

/* After any authenticated packet is received. */
void timers_any_authenticated_packet_received(struct peer *peer, double now_s)
{
	(void)now_s;
	clear_deadline(&peer->timers.new_handshake);
}

/* After an initiation is sent. */
void timers_handshake_initiated(struct peer *peer, double now_s)
{
	set_deadline(peer, &peer->timers.retransmit_handshake,
		     now_s + PROTO_TIME(REKEY_TIMEOUT) + jitter_s(), now_s);
}

/* After a response is consumed, or a data packet confirms the responder's keys. */
void timers_handshake_complete(struct peer *peer, double now_s)
{
	(void)now_s;
	clear_deadline(&peer->timers.retransmit_handshake);
	peer->timers.handshake_attempts = 0;
	peer->sent_lastminute_handshake = false;
	clock_gettime(CLOCK_REALTIME, &peer->last_handshake_wall);
	if (events_wanted())
		peer_event(peer, "handshake-completed", NULL);
}

/* After new keys are derived (sending a response or consuming one). */
void timers_session_derived(struct peer *peer, double now_s)
{
	set_deadline(peer, &peer->timers.zero_key_material,
		     now_s + PROTO_TIME(REJECT_AFTER_TIME * 3), now_s);
}

/* Before sending or after receiving any authenticated packet. */
void timers_any_authenticated_packet_traversal(struct peer *peer, double now_s)
{
	if (peer->persistent_keepalive_s)
		set_deadline(peer, &peer->timers.persistent_keepalive,
			     now_s + peer->persistent_keepalive_s, now_s);
}
