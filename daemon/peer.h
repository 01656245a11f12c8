/* SPDX-License-Identifier: MIT */
/*
 * A peer of an interface: its identity and handshake, its keypairs, its
 * endpoint, its staged packets and timers. Peers are owned by their
 * interface (iface.c creates and destroys them through this file); every
 * protocol object of a peer is embedded here.
 */
#ifndef TUND_PEER_H
#define TUND_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "cookie.h"
#include "list.h"
#include "log.h"
#include "noise.h"
#include "pkt.h"
#include "timers.h"

struct iface;
struct resolve_req;

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

	uint16_t persistent_keepalive_s; /* 0 = off */
	struct staged_queue staged;      /* packets waiting for a session */
	double last_sent_handshake_s;    /* monotonic; rate limit of initiations */
	bool sent_lastminute_handshake;

	/* Statistics for `tunctl show`. */
	uint64_t rx_bytes, tx_bytes;
	struct timespec last_handshake_wall; /* CLOCK_REALTIME of the latest handshake; 0 = never */
};

/*
 * Create a peer of iface from pc (not yet in the interface's tables: iface.c
 * links it). A numeric endpoint is taken at once; a name is resolved
 * without blocking (resolve.h) and used when the answer comes.
 * Returns 0 or -errno; *out is NULL on failure.
 */
int peer_create(struct iface *iface, const struct peer_config *pc, uint64_t id, struct peer **out);
/*
 * Apply pc to an existing peer with the same public key: name, PSK, endpoint
 * and keepalive change in place; the session is kept (a changed PSK applies
 * from the next handshake). Allowed IPs are iface.c's business. 0, or
 * -ENOMEM with the peer unchanged.
 */
int peer_update(struct peer *peer, const struct peer_config *pc, double now_s);
/* Stop timers, drop staged packets, wipe keys and free. NULL is a no-op. */
void peer_destroy(struct peer *peer);

/* Set the endpoint from an authenticated packet's source (roaming). */
void peer_set_endpoint_from(struct peer *peer, const struct endpoint *from);

/* Queue a copy of an IP packet (len bytes) for when a session exists; drops the oldest past MAX_STAGED_PACKETS. */
void peer_stage_packet(struct peer *peer, const uint8_t *packet, size_t len);
/* Queue an empty packet (a keepalive) unless something is already queued. */
void peer_stage_keepalive(struct peer *peer);
void peer_purge_staged(struct peer *peer);

/* "wg0: peer 7 (192.0.2.1:51820): " + message, at level. */
void peer_log(enum log_level level, const struct peer *peer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The endpoint as text, or "(none)". */
char *peer_endpoint_str(char *buf, size_t len, const struct peer *peer);

#endif
