// SPDX-License-Identifier: MIT
/*
 * What the protocol timers do when their deadlines pass (WireGuard paper
 * section 6.2-6.5): each expiry function says which rule it enforces. The
 * deadlines themselves are timers.c's; this file sits above send.c, which
 * it calls, while send.c only reports events to timers.c.
 */
#include "timers_expiry.h"

#include "clock.h"
#include "events.h"
#include "iface_state.h"
#include "peer_dns.h"
#include "peer_state.h"
#include "send.h"
#include "timers.h"
#include "udp.h"
#include "util.h"

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
		if (events_wanted())
			peer_event(peer, "handshake-failing",
				   json_pack("{s:i,s:f,s:I}", "attempts", MAX_TIMER_HANDSHAKES + 2,
					     "seconds", PROTO_TIME(REKEY_ATTEMPT_TIME),
					     "dropped_packets", (json_int_t)peer->staged.count));
		/* The watcher may still fire for it: nothing is due then. */
		peer->timers.send_keepalive = 0;
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
	/* An Endpoint name may point elsewhere by now: look it up (rate limited). */
	peer_dns_handshake_failing(peer, now_s);
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
	if (events_wanted())
		peer_event(peer, "session-expired",
			   json_pack("{s:f}", "seconds", PROTO_TIME(REJECT_AFTER_TIME * 3)));
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
	timers_rearm(peer, now_s);
}

void timers_init(struct peer *peer)
{
	struct peer_timers *t = &peer->timers;

	*t = (struct peer_timers){0};
	ev_timer_init(&t->watcher, timers_on_expire, 0, 0);
}

void timers_persistent_keepalive_changed(struct peer *peer, double now_s)
{
	if (!peer->persistent_keepalive_s) {
		peer->timers.persistent_keepalive = 0;
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
