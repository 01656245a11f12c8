/* SPDX-License-Identifier: MIT */
/*
 * A peer of an interface: its identity and handshake, its keypairs, its
 * endpoint, its staged packets and timers, every protocol object embedded
 * here; and what the data path does to a peer (roaming, staging packets,
 * its log prefix). Creating, updating and destroying one is peer.h's; the
 * protocol modules include this header, not that one.
 */
#ifndef TUND_PEER_STATE_H
#define TUND_PEER_STATE_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cookie.h"
#include "list.h"
#include "log.h"
#include "noise.h"
#include "pkt.h"

/* Per peer, embedded in struct peer. Deadlines are monotonic seconds, 0 = off. */
struct peer_timers {
	ev_timer watcher;
	double armed_for; /* deadline the watcher is set to fire at; 0 = stopped */
	double retransmit_handshake;
	double send_keepalive;
	double new_handshake;
	double zero_key_material;
	double persistent_keepalive;
	unsigned int handshake_attempts;
	bool need_another_keepalive;
};

/*
 * An Endpoint given as a name, looked up again over time (peer_dns.c):
 * every ResolveInterval, and at once when handshakes to the peer keep
 * failing. Embedded in struct peer; all zero is "not a name".
 */
struct peer_dns {
	ev_timer timer;           /* the next periodic lookup; active only for a name */
	union sockaddr_inet last; /* the last answer put in force (or found in force) */
	bool has_last;
	bool is_name;
	bool failure_logged; /* "does not resolve" said once, until it resolves again */
	double last_start_s; /* monotonic: when the last lookup started */
};

struct iface;
struct resolve_req;
struct allowedips_node;

/*
 * The prefixes a peer owns in its interface's allowed-IPs table: a list
 * through the table's nodes, which only allowedips.c reads and changes.
 * All zero is the empty list (peer_create's calloc needs nothing more).
 */
struct allowedips_list {
	struct allowedips_node *first;
	size_t n; /* how many */
};

struct peer {
	struct iface *iface;       /* owner */
	struct list_head node;     /* in iface->peers, in order of creation */
	struct peer *hash_next;    /* in iface's public-key table */
	uint64_t id;               /* small number for logs, unique per daemon run */
	char *name;                /* Name=, or NULL; owned */
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	bool has_preshared_key;

	struct noise_handshake handshake;
	struct noise_keypairs keypairs;
	struct cookie cookie;
	struct peer_timers timers;

	bool has_endpoint;
	struct endpoint endpoint; /* follows the last authenticated packet (roaming) */
	char *endpoint_host;      /* as configured (a name or address), or NULL; owned */
	uint16_t endpoint_port;
	struct resolve_req *resolving; /* Endpoint= name being resolved, or NULL */
	struct peer_dns dns;           /* that name, followed (peer_dns.c) */

	struct allowedips_list allowed_ips; /* what it owns in iface->allowedips; the table's */

	uint16_t persistent_keepalive_s; /* 0 = off */
	struct staged_queue staged;      /* packets waiting for a session */
	double last_sent_handshake_s;    /* monotonic; rate limit of initiations */
	bool sent_lastminute_handshake;

	/* Statistics for `tunctl show`. */
	uint64_t rx_bytes, tx_bytes;
	struct timespec last_handshake_wall; /* CLOCK_REALTIME of the latest handshake; 0 = never */
};

/*
 * The one setter of a peer's endpoint: an authenticated packet's source
 * (roaming), an Endpoint= set, a name resolved (peer_dns.c). A new address
 * is an "endpoint-changed" event (events.h) with the old and the new one.
 */
void peer_set_endpoint_from(struct peer *peer, const struct endpoint *from);

/* Queue a copy of an IP packet (len bytes) for when a session exists; drops the oldest past MAX_STAGED_PACKETS. */
void peer_stage_packet(struct peer *peer, const uint8_t *packet, size_t len);
/* Queue an empty packet (a keepalive) unless something is already queued. */
void peer_stage_keepalive(struct peer *peer);
void peer_purge_staged(struct peer *peer);

/* "wg0: peer 7 (192.0.2.1:51820): " + message, at level. */
void peer_log(enum log_level level, const struct peer *peer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * An event of peer's (events.h): event, the details object (taken, or
 * NULL). Callers build details only when events_wanted().
 */
void peer_event(const struct peer *peer, const char *event, json_t *details);
/* The endpoint as text, or "(none)". */
char *peer_endpoint_str(char *buf, size_t len, const struct peer *peer);

#endif
