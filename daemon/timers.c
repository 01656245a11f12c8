// SPDX-License-Identifier: MIT
/*
 * Protocol timers (WireGuard paper section 6.2-6.5), one ev_timer per peer
 * set to the earliest of five deadlines. Arming a deadline later than the
 * one the watcher already waits for costs nothing; the watcher re-arms
 * itself when it fires. Each expiry function says which rule it enforces.
 */
#include "timers.h"

#include <stdint.h>

#include "clock.h"
#include "crypto.h"
#include "iface.h"
#include "peer.h"
#include "send.h"
#include "udp.h"
#include "util.h"

double proto_time_scale = 1.0;

/* Up to REKEY_TIMEOUT_JITTER_MAX_MS of jitter, so peers do not retry in step. */
static double jitter_s(void)
{
	uint32_t r = 0;

	(void)crypto_random(&r, sizeof(r));
	return PROTO_TIME((double)(r % REKEY_TIMEOUT_JITTER_MAX_MS) / 1000.0);
}

static void rearm(struct peer *peer, double now_s)
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
	rearm(peer, now_s);
}

static void clear_deadline(double *deadline)
{
	/* The watcher may fire early for it; the expiry check finds nothing due. */
	*deadline = 0;
}

/* Section 6.4: no response to our initiation; retry, and give up after MAX_TIMER_HANDSHAKES. */
static void expired_retransmit_handshake(struct peer *peer, double now_s)
{
	double allowed_s = peer->last_sent_handshake_s + PROTO_TIME(REKEY_TIMEOUT);

	/*
	 * Section 6.4 allows one initiation per REKEY_TIMEOUT, and
	 * send_handshake_initiation() returns without one (and without a timer)
	 * before then. We get here early when the watcher fires within the
	 * slack of timers_on_expire() and the jitter was zero, or when a
	 * response we sent since restarted the rate limit: wait, or the retries
	 * would stop for good.
	 */
	if (allowed_s > now_s) {
		peer->timers.retransmit_handshake = allowed_s;
		return;
	}
	if (peer->timers.handshake_attempts > MAX_TIMER_HANDSHAKES) {
		peer_log(LOG_LEVEL_DEBUG, peer,
			 "handshake did not complete after %u attempts, giving up",
			 MAX_TIMER_HANDSHAKES + 2);
		clear_deadline(&peer->timers.send_keepalive);
		/* Packets waiting for a session would wait forever: drop them. */
		peer->iface->stats.tx_staged_dropped += peer->staged.count;
		peer_purge_staged(peer);
		/* Destroy whatever is left of the partial exchange later. */
		if (!peer->timers.zero_key_material)
			peer->timers.zero_key_material = now_s + PROTO_TIME(REJECT_AFTER_TIME * 3);
		return;
	}
	peer->timers.handshake_attempts++;
	peer_log(LOG_LEVEL_DEBUG, peer, "handshake did not complete after %.0f seconds, retrying (try %u)",
		 PROTO_TIME(REKEY_TIMEOUT), peer->timers.handshake_attempts + 1);
	/* The sticky source address may be the trouble (a roamed laptop). */
	udp_endpoint_clear_src(&peer->endpoint);
	send_handshake_initiation(peer, true, now_s);
}

/* Section 6.5: we received data and have sent nothing back: a keepalive confirms receipt. */
static void expired_send_keepalive(struct peer *peer, double now_s)
{
	send_keepalive(peer, now_s);
	if (peer->timers.need_another_keepalive) {
		peer->timers.need_another_keepalive = false;
		peer->timers.send_keepalive = now_s + PROTO_TIME(KEEPALIVE_TIMEOUT);
	}
}

/* Section 6.5: we sent data and heard nothing for KEEPALIVE + REKEY_TIMEOUT: the session may be dead. */
static void expired_new_handshake(struct peer *peer, double now_s)
{
	peer_log(LOG_LEVEL_DEBUG, peer,
		 "retrying handshake because we stopped hearing back after %.0f seconds",
		 PROTO_TIME(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT));
	udp_endpoint_clear_src(&peer->endpoint);
	send_handshake_initiation(peer, false, now_s);
}

/* Section 6.3: no new session for 3 x REJECT_AFTER_TIME: erase all key material. */
static void expired_zero_key_material(struct peer *peer, double now_s)
{
	(void)now_s;
	peer_log(LOG_LEVEL_DEBUG, peer, "zeroing out all keys after %.0f seconds without a new one",
		 PROTO_TIME(REJECT_AFTER_TIME * 3));
	noise_handshake_clear(&peer->handshake);
	noise_keypairs_clear(&peer->keypairs);
}

static void expired_persistent_keepalive(struct peer *peer, double now_s)
{
	if (peer->persistent_keepalive_s)
		send_keepalive(peer, now_s);
}

static void timers_on_expire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer *peer = container_of(w, struct peer, timers.watcher);
	struct peer_timers *t = &peer->timers;
	double now_s = clock_now_s();
	/* A little slack: libev may fire a hair early against our clock. */
	double due = now_s + 0.001;

	(void)loop;
	(void)revents;
	t->armed_for = 0;
	if (t->retransmit_handshake && t->retransmit_handshake <= due) {
		t->retransmit_handshake = 0;
		expired_retransmit_handshake(peer, now_s);
	}
	if (t->send_keepalive && t->send_keepalive <= due) {
		t->send_keepalive = 0;
		expired_send_keepalive(peer, now_s);
	}
	if (t->new_handshake && t->new_handshake <= due) {
		t->new_handshake = 0;
		expired_new_handshake(peer, now_s);
	}
	if (t->zero_key_material && t->zero_key_material <= due) {
		t->zero_key_material = 0;
		expired_zero_key_material(peer, now_s);
	}
	if (t->persistent_keepalive && t->persistent_keepalive <= due) {
		t->persistent_keepalive = 0;
		expired_persistent_keepalive(peer, now_s);
	}
	peer->iface->stats.tx_errors += udp_flush(peer->iface->scratch);
	rearm(peer, now_s);
}

void timers_init(struct peer *peer)
{
	struct peer_timers *t = &peer->timers;

	*t = (struct peer_timers){0};
	ev_timer_init(&t->watcher, timers_on_expire, 0, 0);
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

void timers_persistent_keepalive_changed(struct peer *peer, double now_s)
{
	if (!peer->persistent_keepalive_s) {
		clear_deadline(&peer->timers.persistent_keepalive);
		return;
	}
	/* Like `wg set ... persistent-keepalive`: send one now, then keep the interval. */
	if (peer->has_endpoint) {
		send_keepalive(peer, now_s);
		/* Called from reload and the control socket: send now, not at some later flush. */
		peer->iface->stats.tx_errors += udp_flush(peer->iface->scratch);
	}
	timers_any_authenticated_packet_traversal(peer, now_s);
}
