// SPDX-License-Identifier: MIT
/*
 * An Endpoint name followed over time: the periodic and the triggered
 * lookups of a peer's name, and what an answer does to its endpoint
 * (peer_dns.h has the rule).
 */
#include "peer_dns.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "iface_state.h"
#include "resolve.h"
#include "send.h"
#include "timers.h"
#include "udp.h"

enum peer_dns_verdict peer_dns_decide(const struct peer_dns_facts *f)
{
	if (!f->has_endpoint)
		return PEER_DNS_APPLY;
	if (f->endpoint_is_answer)
		return PEER_DNS_SAME;
	if (!f->session_live)
		return PEER_DNS_APPLY;
	if (f->has_last && f->endpoint_is_last)
		return PEER_DNS_APPLY;
	return PEER_DNS_ROAMED;
}

static uint32_t interval_s(const struct peer *peer)
{
	return iface_config_resolve_interval(peer->iface->cfg);
}

static bool handshakes_failing(const struct peer *peer)
{
	return peer->timers.handshake_attempts >= PEER_DNS_FAILING_ATTEMPTS;
}

/* Keys that still carry data, and no run of unanswered initiations. */
static bool session_live(const struct peer *peer, double now_s)
{
	const struct noise_keypair *kp = peer->keypairs.current;

	return kp && kp->sending.is_valid && !handshakes_failing(peer) &&
	       now_s - kp->sending.birthdate_s < PROTO_TIME(REJECT_AFTER_TIME);
}

static void apply(struct peer *peer, const union sockaddr_inet *sa, bool first, double now_s)
{
	struct endpoint ep;
	char now[ADDR_STR_LEN], was[ADDR_STR_LEN];

	if (first)
		peer_log(LOG_LEVEL_DEBUG, peer, "endpoint %s resolved to %s", peer->endpoint_host,
			 sockaddr_format(now, sizeof(now), sa));
	else
		peer_log(LOG_LEVEL_INFO, peer, "endpoint %s now resolves to %s; was %s",
			 peer->endpoint_host, sockaddr_format(now, sizeof(now), sa),
			 peer_endpoint_str(was, sizeof(was), peer));
	memset(&ep, 0, sizeof(ep));
	ep.addr = *sa;
	/* The one setter, as roaming and set-peer --endpoint. */
	peer_set_endpoint_from(peer, &ep);
	peer->dns.last = *sa;
	peer->dns.has_last = true;
	/* Packets that waited for an address, sent now by this interface's socket. */
	send_staged_packets(peer, now_s);
	peer->iface->stats.tx_errors += udp_flush(peer->iface->scratch);
}

/* The answer for Endpoint = NAME:PORT, on the loop (resolve.c). */
static void on_resolved(void *ctx, int rc, const union sockaddr_inet *sa)
{
	struct peer *peer = ctx;
	double now_s = clock_now_s();
	struct peer_dns_facts f;
	char ans[ADDR_STR_LEN];
	bool first = !peer->dns.has_last && !peer->has_endpoint;

	peer->resolving = NULL;
	if (rc != 0) {
		if (peer->dns.failure_logged)
			return;
		peer->dns.failure_logged = true;
		/* Not fatal: the peer may still reach us and be learnt by roaming. */
		peer_log(LOG_LEVEL_WARN, peer, "cannot resolve endpoint %s port %u; %s",
			 peer->endpoint_host, peer->endpoint_port,
			 peer->has_endpoint ? "keeping the endpoint in force"
					    : "waiting for the peer to reach us");
		return;
	}
	if (peer->dns.failure_logged) {
		peer->dns.failure_logged = false;
		peer_log(LOG_LEVEL_INFO, peer, "endpoint %s resolves again", peer->endpoint_host);
	}
	f.has_endpoint = peer->has_endpoint;
	f.endpoint_is_answer = peer->has_endpoint && sockaddr_equal(&peer->endpoint.addr, sa);
	f.has_last = peer->dns.has_last;
	f.endpoint_is_last = peer->has_endpoint && peer->dns.has_last &&
			     sockaddr_equal(&peer->endpoint.addr, &peer->dns.last);
	f.session_live = session_live(peer, now_s);
	switch (peer_dns_decide(&f)) {
	case PEER_DNS_APPLY:
		apply(peer, sa, first, now_s);
		break;
	case PEER_DNS_SAME:
		peer->dns.last = *sa;
		peer->dns.has_last = true;
		break;
	case PEER_DNS_ROAMED:
		peer_log(LOG_LEVEL_DEBUG, peer,
			 "endpoint %s resolves to %s; keeping the address the peer roamed to",
			 peer->endpoint_host, sockaddr_format(ans, sizeof(ans), sa));
		break;
	}
}

/* One lookup, unless one is in flight. */
static void lookup(struct peer *peer, double now_s)
{
	if (peer->resolving)
		return;
	peer->dns.last_start_s = now_s;
	peer->resolving =
		resolve_start(peer->endpoint_host, peer->endpoint_port, on_resolved, peer);
	if (peer->resolving) {
		peer_log(LOG_LEVEL_DEBUG, peer, "resolving endpoint %s", peer->endpoint_host);
		return;
	}
	if (!peer->dns.failure_logged) {
		peer->dns.failure_logged = true;
		peer_log(LOG_LEVEL_WARN, peer, "cannot resolve endpoint %s port %u: %s",
			 peer->endpoint_host, peer->endpoint_port, strerror(errno));
	}
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer *peer = container_of(w, struct peer, dns.timer);

	(void)loop;
	(void)revents;
	lookup(peer, clock_now_s());
}

static void arm(struct peer *peer)
{
	struct ev_loop *loop = peer->iface->loop;
	uint32_t every = interval_s(peer);

	if (!loop)
		return;
	ev_timer_stop(loop, &peer->dns.timer);
	if (!peer->dns.is_name || every == 0)
		return;
	ev_timer_set(&peer->dns.timer, every, every);
	ev_timer_start(loop, &peer->dns.timer);
}

void peer_dns_start(struct peer *peer)
{
	peer_dns_stop(peer);
	peer->dns.is_name = true;
	/*
	 * A name configured in place of an endpoint in force: that endpoint
	 * counts as the last answer, so the first answer replaces it (the
	 * peer has not roamed away from it) unless the peer roams first.
	 */
	if (peer->has_endpoint) {
		peer->dns.last = peer->endpoint.addr;
		peer->dns.has_last = true;
	}
	ev_timer_init(&peer->dns.timer, on_timer, 0, 0);
	lookup(peer, clock_now_s());
	arm(peer);
}

void peer_dns_stop(struct peer *peer)
{
	resolve_cancel(peer->resolving);
	peer->resolving = NULL;
	if (peer->dns.is_name && peer->iface && peer->iface->loop)
		ev_timer_stop(peer->iface->loop, &peer->dns.timer);
	memset(&peer->dns, 0, sizeof(peer->dns));
}

void peer_dns_interval_changed(struct peer *peer)
{
	if (peer->dns.is_name)
		arm(peer);
}

void peer_dns_handshake_failing(struct peer *peer, double now_s)
{
	if (!peer->dns.is_name || interval_s(peer) == 0 || !handshakes_failing(peer) ||
	    peer->resolving)
		return;
	if (peer->dns.last_start_s > 0 &&
	    now_s - peer->dns.last_start_s < PROTO_TIME(PEER_DNS_TRIGGER_MIN_S))
		return;
	peer_log(LOG_LEVEL_DEBUG, peer, "handshakes are failing; resolving endpoint %s again",
		 peer->endpoint_host);
	lookup(peer, now_s);
}
