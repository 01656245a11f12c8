/* SPDX-License-Identifier: MIT */
/*
 * A peer's Endpoint given as a name follows DNS. The name is looked up
 * when it is configured, then again every ResolveInterval seconds
 * ([Interface], default 300, 0 = never), and at once when handshakes to
 * the peer keep failing (rate limited). Lookups run off the loop
 * (resolve.h), one at a time per peer.
 *
 * An answer never pulls back a peer that roamed. The rule
 * (peer_dns_decide()): the peer's endpoint is set to the answer when
 *  - it has no endpoint yet; or
 *  - its endpoint is the last answer put in force (it did not roam since,
 *    so the name's new address is where it went); or
 *  - it has no live session (no current keys, or PEER_DNS_FAILING_ATTEMPTS
 *    handshake initiations in a row unanswered): what roaming learnt has
 *    evidently stopped working.
 * Otherwise (the peer roamed and its session is live) the roamed address
 * stays. An answer equal to the endpoint in force changes nothing. A name
 * that stops resolving keeps the endpoint in force, and says so once.
 */
#ifndef TUND_PEER_DNS_H
#define TUND_PEER_DNS_H

#include <stdbool.h>

#include "peer_state.h"

/* Unanswered initiations in a row after which a peer's handshakes are failing. */
#define PEER_DNS_FAILING_ATTEMPTS 2
/* At most one lookup triggered by failing handshakes per this many (protocol) seconds. */
#define PEER_DNS_TRIGGER_MIN_S 30

/* What peer_dns_decide() looks at. */
struct peer_dns_facts {
	bool has_endpoint;
	bool endpoint_is_answer; /* the endpoint in force is the answer's address */
	bool has_last;
	bool endpoint_is_last; /* the endpoint in force is the last answer put in force */
	bool session_live;
};

enum peer_dns_verdict {
	PEER_DNS_SAME, /* the answer is in force already: nothing to do */
	PEER_DNS_APPLY, /* set the endpoint to the answer */
	PEER_DNS_ROAMED, /* keep the roamed endpoint, whose session is live */
};

/* The rule above, a pure function. */
enum peer_dns_verdict peer_dns_decide(const struct peer_dns_facts *f);

/*
 * peer->endpoint_host (a name, not an address) is configured: look it up
 * now and then every ResolveInterval.
 */
void peer_dns_start(struct peer *peer);
/* Forget the name: the lookup in flight is cancelled, the timer stopped. */
void peer_dns_stop(struct peer *peer);
/* The interface's ResolveInterval changed: the timer follows. */
void peer_dns_interval_changed(struct peer *peer);
/*
 * A handshake initiation to the peer went unanswered again
 * (timers_expiry.c): from the PEER_DNS_FAILING_ATTEMPTS-th on, look the
 * name up at once, at most once per PEER_DNS_TRIGGER_MIN_S.
 */
void peer_dns_handshake_failing(struct peer *peer, double now_s);

#endif
