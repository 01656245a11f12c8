/* SPDX-License-Identifier: MIT */
/*
 * The Noise_IKpsk2 handshake and the keypairs it yields (WireGuard paper
 * sections 5.4.2-5.4.5). Functions are named after the protocol steps:
 * create/consume initiation, create/consume response, begin session. MACs
 * are added and checked by cookie.c, not here.
 */
#ifndef TUND_NOISE_H
#define TUND_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "index.h"
#include "replay.h"
#include "wire.h"

struct aead_ctx;
struct noise_handshake;
struct x25519_key;

/*
 * What the handshake needs of its interface: the static identity, the index
 * table, and a way to find a peer's handshake by its public key. Embedded in
 * struct iface.
 */
struct noise_local {
	bool has_identity;
	/* Bumped by every noise_local_set_private_key(): invalidates each peer's DH(S_priv, S_pub_r). */
	uint64_t key_generation;
	uint8_t static_public[NOISE_PUBLIC_KEY_LEN];
	uint8_t static_private[NOISE_PUBLIC_KEY_LEN]; /* secret */
	struct x25519_key *static_key; /* owned: static_private set up once for DH */
	struct index_table *index;                    /* borrowed */
	/* The handshake of the peer with this public key, or NULL. */
	struct noise_handshake *(*lookup)(struct noise_local *local,
					  const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);
};

enum noise_handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

/* One per peer, embedded in struct peer. Secrets wiped by noise_handshake_clear(). */
struct noise_handshake {
	struct index_entry entry; /* our sender index while a handshake is in flight */
	struct noise_local *local;
	enum noise_handshake_state state;
	double last_initiation_consumption_s; /* monotonic; flood guard */
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	/*
	 * DH(S_priv, S_pub_r), computed on first use by a handshake (not when the
	 * peer is made: 100,000 peers would cost seconds of X25519 at start) and
	 * kept while local->key_generation equals static_static_generation (0:
	 * not computed). All zeros for a low-order public key: handshakes fail.
	 */
	uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN];
	uint64_t static_static_generation;
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];          /* zeros when none */
	uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN]; /* replay guard for initiations */
	uint32_t remote_index;                         /* the peer's sender index */
};

struct noise_symmetric_key {
	struct aead_ctx *ctx; /* owned */
	double birthdate_s;   /* monotonic */
	bool is_valid;
};

/* A session's keys (section 5.4.5); owned by struct noise_keypairs. */
struct noise_keypair {
	struct index_entry entry; /* our index: the receiver index of data sent to us */
	struct noise_symmetric_key sending;
	struct noise_symmetric_key receiving;
	uint64_t sending_counter; /* next counter to use */
	struct replay_counter receiving_counter;
	uint32_t remote_index;
	bool i_am_the_initiator;
	uint64_t internal_id; /* for logs */
};

/*
 * current carries data both ways; previous still decrypts late packets; next is
 * a responder's keypair waiting for key confirmation (the first data packet).
 */
struct noise_keypairs {
	struct noise_keypair *current;
	struct noise_keypair *previous;
	struct noise_keypair *next;
	struct index_table *index; /* borrowed: where the keypairs' indices live */
};

/* Precompute HASH(CONSTRUCTION) and HASH(that || IDENTIFIER). Call once at start. */
void noise_init(void);

/*
 * Set (or with NULL clear) the interface's private key; the public key
 * follows, and every peer's DH(S_priv, S_pub_r) is recomputed at its next use.
 * Clearing frees what setting made: call it with NULL at the end.
 */
int noise_local_set_private_key(struct noise_local *local,
				const uint8_t private_key[NOISE_PUBLIC_KEY_LEN]);

/*
 * Prepare a peer's handshake; psk may be NULL. peer is stored in entry.peer.
 * No X25519 here: DH(S_priv, S_pub_r) waits for the first handshake.
 */
void noise_handshake_init(struct noise_handshake *hs, struct noise_local *local,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t *preshared_key, struct peer *peer);
void noise_handshake_set_psk(struct noise_handshake *hs, const uint8_t *preshared_key);
/* Forget an in-flight handshake: state ZEROED, index released, ephemerals wiped. */
void noise_handshake_clear(struct noise_handshake *hs);
/* Wipe everything, including remote static and PSK (peer teardown). */
void noise_handshake_destroy(struct noise_handshake *hs);

/* Section 5.4.2. MACs are left zero. */
bool noise_handshake_create_initiation(struct message_handshake_initiation *dst,
				       struct noise_handshake *hs);
/* The matching peer's handshake, or NULL (bad crypto, unknown key, replay or flood). */
struct noise_handshake *
noise_handshake_consume_initiation(const struct message_handshake_initiation *src,
				   struct noise_local *local, double now_s);
/* Section 5.4.3. */
bool noise_handshake_create_response(struct message_handshake_response *dst,
				     struct noise_handshake *hs);
struct noise_handshake *noise_handshake_consume_response(const struct message_handshake_response *src,
							 struct noise_local *local);
/*
 * Section 5.4.5: derive the transport keys from a completed handshake, hand
 * the handshake's index to the new keypair and slot it into kps. False when
 * the handshake is not complete or allocation failed.
 */
bool noise_handshake_begin_session(struct noise_handshake *hs, struct noise_keypairs *kps,
				   double now_s);

/*
 * A data packet authenticated under kp. When kp is the next keypair this is
 * key confirmation: next becomes current. Returns true in that case.
 */
bool noise_received_with_keypair(struct noise_keypairs *kps, struct noise_keypair *kp);
/* Destroy all three keypairs. */
void noise_keypairs_clear(struct noise_keypairs *kps);
/* Stop sending with current (its key is exhausted or we must rekey at once). */
void noise_keypairs_expire_current(struct noise_keypairs *kps);

#endif
