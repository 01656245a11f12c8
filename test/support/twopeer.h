/* SPDX-License-Identifier: MIT */
/*
 * The other peer, in memory: a Noise identity with its handshake state,
 * keypairs, cookie MACs and cookie checker, the way a remote WireGuard
 * peer holds them. Two of them make a pair for protocol tests
 * (test_noise); one facing a real interface object (iface_new, no device)
 * is the remote end of the data path (fuzz_receive, test_timers). Failures
 * abort (see check() in support.h).
 */
#ifndef TUND_TEST_TWOPEER_H
#define TUND_TEST_TWOPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cookie.h"
#include "noise.h"

struct iface_config;

struct ts_peer {
	struct noise_local local;
	struct noise_handshake hs; /* the handshake with the one peer it knows */
	struct noise_keypairs kps;
	struct cookie_checker checker; /* MACs of messages to it */
	struct cookie cookie; /* MAC state for messages to the other side */
	bool knows_peer; /* false: initiations from the other side find no one */
};

/* An identity from priv (NULL: a fresh key); it knows no peer yet. */
void ts_peer_init(struct ts_peer *p, const uint8_t *priv);
/* Know the peer with public key pub (and psk, or NULL) as the one to talk to. */
void ts_peer_meet(struct ts_peer *p, const uint8_t pub[32], const uint8_t *psk);
void ts_peer_free(struct ts_peer *p);

/*
 * A full handshake at time t, from initiating to the responder whose
 * identity is to (its keypairs: to_kps): initiation, response, both
 * sessions derived. False where any step refuses.
 */
bool ts_handshake(struct ts_peer *from, struct noise_local *to, struct noise_keypairs *to_kps,
		  double t);

/*
 * A data message (wire format) with p's current keypair and the given
 * counter: len bytes of plain, zero-padded to 16, sealed into out. Its
 * length; out needs sizeof(struct message_data) + len + 31 bytes.
 */
size_t ts_peer_seal_data(const struct ts_peer *p, const uint8_t *plain, size_t len,
			 uint64_t counter, uint8_t *out);

/*
 * The configuration of interface NAME (file NAME.conf) with private key
 * priv and one peer, pub: AllowedIPs 10.0.0.2/32 and fd00::2/128,
 * Endpoint 192.0.2.2:51820. Loaded by the real loader.
 */
struct iface_config *ts_one_peer_config(const char *name, const uint8_t priv[32],
					const uint8_t pub[32]);

#endif
