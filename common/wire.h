/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's message layouts and the protocol constants, under the paper's
 * names (WireGuard paper sections 5.4 and 6; the driver's messages.h).
 * Multi-byte integers on the wire are little endian.
 */
#ifndef TUND_WIRE_H
#define TUND_WIRE_H

#include <stdint.h>

#include "crypto.h"

#define NOISE_PUBLIC_KEY_LEN    32
#define NOISE_SYMMETRIC_KEY_LEN 32
#define NOISE_HASH_LEN          32
#define NOISE_TIMESTAMP_LEN     TAI64N_LEN
#define NOISE_AUTHTAG_LEN       16
#define noise_encrypted_len(plain_len) ((plain_len) + NOISE_AUTHTAG_LEN)
#define COOKIE_LEN              16
#define COOKIE_NONCE_LEN        XCHACHA20POLY1305_NONCE_LEN

#define NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_IDENTIFIER   "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define COOKIE_LABEL_MAC1  "mac1----"
#define COOKIE_LABEL_COOKIE "cookie--"

/* Section 6.1 (timers and limits); times in seconds. */
#define REKEY_AFTER_MESSAGES  (1ULL << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - COUNTER_WINDOW_SIZE - 1)
#define REKEY_TIMEOUT         5
#define REKEY_TIMEOUT_JITTER_MAX_MS 333
#define KEEPALIVE_TIMEOUT     10
#define REKEY_AFTER_TIME      120
#define REJECT_AFTER_TIME     180
#define REKEY_ATTEMPT_TIME    90
#define MAX_TIMER_HANDSHAKES  (REKEY_ATTEMPT_TIME / REKEY_TIMEOUT)
#define INITIATIONS_PER_SECOND 50
#define COOKIE_SECRET_MAX_AGE 120
#define COOKIE_SECRET_LATENCY 5

/* The replay window (RFC 6479 style bitmap), in packets. */
#define COUNTER_BITS_TOTAL  8192
#define COUNTER_WINDOW_SIZE (COUNTER_BITS_TOTAL - 64)

/* Packets queued per peer while a handshake is in flight. */
#define MAX_STAGED_PACKETS 128

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

/* The type is one byte followed by three reserved zero bytes: a le32. */
struct message_header {
	uint32_t type;
} __attribute__((packed));

struct message_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
} __attribute__((packed));

struct message_handshake_initiation {
	struct message_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[noise_encrypted_len(NOISE_PUBLIC_KEY_LEN)];
	uint8_t encrypted_timestamp[noise_encrypted_len(NOISE_TIMESTAMP_LEN)];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_response {
	struct message_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[noise_encrypted_len(0)];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_cookie {
	struct message_header header;
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[noise_encrypted_len(COOKIE_LEN)];
} __attribute__((packed));

struct message_data {
	struct message_header header;
	uint32_t key_idx; /* the receiver's index */
	uint64_t counter;
	uint8_t encrypted_data[];
} __attribute__((packed));

#define message_data_len(plain_len) (sizeof(struct message_data) + noise_encrypted_len(plain_len))

/* Data is padded to a multiple of 16 bytes before encryption (section 5.4.6). */
#define MESSAGE_PADDING_MULTIPLE 16
#define MESSAGE_MINIMUM_LENGTH   message_data_len(0)

_Static_assert(sizeof(struct message_handshake_initiation) == 148, "initiation layout");
_Static_assert(sizeof(struct message_handshake_response) == 92, "response layout");
_Static_assert(sizeof(struct message_handshake_cookie) == 64, "cookie layout");
_Static_assert(sizeof(struct message_data) == 16, "data header layout");

#endif
