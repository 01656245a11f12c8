/* SPDX-License-Identifier: MIT */
/*
 * The DoS defence of WireGuard paper section 5.4.7: mac1 proves a handshake
 * message was made by someone who knows our public key; under load, mac2
 * proves the sender owns its IP address, via a cookie we sent it sealed with
 * XChaCha20-Poly1305. The checker is per interface, the cookie per peer.
 */
#ifndef TUND_COOKIE_H
#define TUND_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "wire.h"

struct ratelimiter;

/* Per interface: what we need to check and answer other peers' MACs. */
struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN]; /* R_m, renewed every COOKIE_SECRET_MAX_AGE */
	double secret_birthdate_s;      /* monotonic; < 0 when never set */
	bool has_secret;                /* the random source gave R_m at least once */
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];     /* HASH(LABEL_MAC1 || S_pub) */
	uint8_t cookie_encryption_key[NOISE_SYMMETRIC_KEY_LEN]; /* HASH(LABEL_COOKIE || S_pub) */
};

/* Per peer: the MAC keys for messages to it, and the cookie it gave us. */
struct cookie {
	double birthdate_s; /* when the cookie was received */
	bool is_valid;
	uint8_t cookie[COOKIE_LEN];
	bool have_sent_mac1;
	uint8_t last_mac1_sent[COOKIE_LEN];
	uint8_t cookie_decryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
};

enum cookie_mac_state {
	INVALID_MAC,
	VALID_MAC_BUT_NO_COOKIE,
	VALID_MAC_WITH_COOKIE_BUT_RATELIMITED,
	VALID_MAC_WITH_COOKIE,
};

/* (Re)derive the checker's keys from the interface's public key (NULL: none). */
void cookie_checker_init(struct cookie_checker *checker, const uint8_t *our_public);
void cookie_init(struct cookie *cookie, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN]);

/*
 * Check the MACs at the end of a handshake message of len bytes from src.
 * mac2 (and the rate limiter, when rl is not NULL) only when check_cookie.
 */
enum cookie_mac_state cookie_validate_packet(struct cookie_checker *checker, const uint8_t *msg,
					     size_t len, const union sockaddr_inet *src,
					     bool check_cookie, struct ratelimiter *rl,
					     double now_s);

/* Fill mac1, and mac2 when we hold a fresh cookie from this peer. */
void cookie_add_mac_to_packet(uint8_t *msg, size_t len, struct cookie *cookie, double now_s);

/*
 * Build the cookie reply to a handshake message of len bytes from src whose
 * sender index was index (little endian as on the wire).
 */
bool cookie_message_create(struct message_handshake_cookie *dst, const uint8_t *msg, size_t len,
			   uint32_t index_le, struct cookie_checker *checker,
			   const union sockaddr_inet *src, double now_s);
/* Open a cookie reply addressed to a message we sent with cookie's peer. */
bool cookie_message_consume(const struct message_handshake_cookie *src, struct cookie *cookie,
			    double now_s);

#endif
