// SPDX-License-Identifier: MIT
/*
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it (paper sections
 * 5.4.2-5.4.5): the two handshake messages in both roles, key derivation,
 * and the current/previous/next keypair rotation. Each step carries its
 * Noise token (e, es, s, ss, {t}, ee, se, psk, {}) in a comment. Every secret
 * on the stack is wiped on the way out, success included.
 */
#include "noise.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "util.h"

static uint8_t handshake_init_chaining_key[NOISE_HASH_LEN];
static uint8_t handshake_init_hash[NOISE_HASH_LEN];
static uint64_t keypair_counter;

void noise_init(void)
{
	blake2s_hash(handshake_init_chaining_key, NOISE_CONSTRUCTION,
		     strlen(NOISE_CONSTRUCTION), NULL, 0);
	blake2s_hash(handshake_init_hash, handshake_init_chaining_key, NOISE_HASH_LEN,
		     NOISE_IDENTIFIER, strlen(NOISE_IDENTIFIER));
}

int noise_local_set_private_key(struct noise_local *local,
				const uint8_t private_key[NOISE_PUBLIC_KEY_LEN])
{
	int rc;

	/* Never 0, the generation of a handshake that has computed nothing. */
	if (++local->key_generation == 0)
		local->key_generation = 1;
	x25519_key_destroy(local->static_key);
	local->static_key = NULL;
	local->has_identity = false;
	if (!private_key) {
		crypto_wipe(local->static_private, NOISE_PUBLIC_KEY_LEN);
		memset(local->static_public, 0, NOISE_PUBLIC_KEY_LEN);
		return 0;
	}
	memcpy(local->static_private, private_key, NOISE_PUBLIC_KEY_LEN);
	curve25519_clamp(local->static_private);
	rc = x25519_key_create(&local->static_key, local->static_private, local->static_public);
	if (rc != 0)
		return rc;
	local->has_identity = true;
	return 0;
}

/*
 * DH(S_priv, S_pub_r) for the local key of now: computed at the first
 * handshake after the peer was made or the local key changed, then kept.
 */
static const uint8_t *static_static(struct noise_handshake *hs)
{
	struct noise_local *local = hs->local;

	if (hs->static_static_generation == local->key_generation)
		return hs->precomputed_static_static;
	/* An all-zero result (low-order public key) leaves zeros: handshakes then fail. */
	if (!local->has_identity ||
	    !x25519_key_shared(local->static_key, hs->precomputed_static_static, hs->remote_static))
		crypto_wipe(hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
	hs->static_static_generation = local->key_generation;
	return hs->precomputed_static_static;
}

void noise_handshake_init(struct noise_handshake *hs, struct noise_local *local,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t *preshared_key, struct peer *peer)
{
	memset(hs, 0, sizeof(*hs));
	hs->entry.type = INDEX_HANDSHAKE;
	hs->entry.peer = peer;
	hs->local = local;
	hs->last_initiation_consumption_s = -1e9;
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
	noise_handshake_set_psk(hs, preshared_key);
}

void noise_handshake_set_psk(struct noise_handshake *hs, const uint8_t *preshared_key)
{
	if (preshared_key)
		memcpy(hs->preshared_key, preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	else
		crypto_wipe(hs->preshared_key, NOISE_SYMMETRIC_KEY_LEN);
}

/* Wipe the per-handshake state; the static parts and replay guards stay. */
static void handshake_zero(struct noise_handshake *hs)
{
	crypto_wipe(hs->ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	crypto_wipe(hs->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
	crypto_wipe(hs->hash, NOISE_HASH_LEN);
	crypto_wipe(hs->chaining_key, NOISE_HASH_LEN);
	hs->remote_index = 0;
	hs->state = HANDSHAKE_ZEROED;
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	index_table_remove(hs->local->index, &hs->entry);
	handshake_zero(hs);
}

void noise_handshake_destroy(struct noise_handshake *hs)
{
	noise_handshake_clear(hs);
	crypto_wipe(hs, sizeof(*hs));
}

/* ---- The symmetric state operations of the Noise framework ---- */

static void mix_hash(uint8_t hash[NOISE_HASH_LEN], const uint8_t *src, size_t len)
{
	blake2s_hash(hash, hash, NOISE_HASH_LEN, src, len);
}

/* (ck, key) = KDF2(ck, DH(priv, pub)); key may be NULL (KDF1). */
static bool mix_dh(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t *key,
		   const uint8_t priv[NOISE_PUBLIC_KEY_LEN], const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t dh[NOISE_PUBLIC_KEY_LEN];

	if (!curve25519_shared(dh, priv, pub))
		return false;
	noise_kdf(chaining_key, key, NULL, chaining_key, dh, sizeof(dh));
	crypto_wipe(dh, sizeof(dh));
	return true;
}

/* The same with a key object: one scalar multiplication. */
static bool mix_dh_key(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t *key, struct x25519_key *priv,
		       const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t dh[NOISE_PUBLIC_KEY_LEN];

	if (!x25519_key_shared(priv, dh, pub))
		return false;
	noise_kdf(chaining_key, key, NULL, chaining_key, dh, sizeof(dh));
	crypto_wipe(dh, sizeof(dh));
	return true;
}

static bool mix_precomputed_dh(uint8_t chaining_key[NOISE_HASH_LEN],
			       uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
			       const uint8_t precomputed[NOISE_PUBLIC_KEY_LEN])
{
	static const uint8_t zero[NOISE_PUBLIC_KEY_LEN];

	if (crypto_memeq(precomputed, zero, NOISE_PUBLIC_KEY_LEN))
		return false;
	noise_kdf(chaining_key, key, NULL, chaining_key, precomputed, NOISE_PUBLIC_KEY_LEN);
	return true;
}

/* (ck, tau, key) = KDF3(ck, Q); H = HASH(H || tau) */
static void mix_psk(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN],
		    uint8_t key[NOISE_SYMMETRIC_KEY_LEN], const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t tau[NOISE_HASH_LEN];

	noise_kdf(chaining_key, tau, key, chaining_key, psk, NOISE_SYMMETRIC_KEY_LEN);
	mix_hash(hash, tau, sizeof(tau));
	crypto_wipe(tau, sizeof(tau));
}

static void handshake_start(uint8_t chaining_key[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN],
			    const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN])
{
	memcpy(chaining_key, handshake_init_chaining_key, NOISE_HASH_LEN);
	memcpy(hash, handshake_init_hash, NOISE_HASH_LEN);
	mix_hash(hash, responder_static, NOISE_PUBLIC_KEY_LEN);
}

/* dst = AEAD(key, 0, src, H); H = HASH(H || dst) */
static bool message_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
			    const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t hash[NOISE_HASH_LEN])
{
	if (!chacha20poly1305_seal(dst, src, len, hash, NOISE_HASH_LEN, 0, key))
		return false;
	mix_hash(hash, dst, noise_encrypted_len(len));
	return true;
}

static bool message_decrypt(uint8_t *dst, const uint8_t *src, size_t src_len,
			    const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t hash[NOISE_HASH_LEN])
{
	if (!chacha20poly1305_open(dst, src, src_len, hash, NOISE_HASH_LEN, 0, key))
		return false;
	mix_hash(hash, src, src_len);
	return true;
}

/* e: the ephemeral goes out in the clear, into H and into ck. */
static void message_ephemeral(uint8_t dst[NOISE_PUBLIC_KEY_LEN],
			      const uint8_t src[NOISE_PUBLIC_KEY_LEN],
			      uint8_t chaining_key[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN])
{
	if (dst != src)
		memcpy(dst, src, NOISE_PUBLIC_KEY_LEN);
	mix_hash(hash, src, NOISE_PUBLIC_KEY_LEN);
	noise_kdf(chaining_key, NULL, NULL, chaining_key, src, NOISE_PUBLIC_KEY_LEN);
}

/*
 * Both create steps end here. When the message is built (ok), the handshake
 * takes an index, which the message carries as its sender index, and moves
 * to state; on any failure its half-built state is wiped. The message key is
 * wiped either way. Returns the index, 0 on failure.
 */
static uint32_t handshake_created(struct noise_handshake *hs, bool ok,
				  enum noise_handshake_state state,
				  uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	uint32_t index = 0;

	if (ok)
		index = index_table_insert(hs->local->index, &hs->entry);
	if (index)
		hs->state = state;
	else
		handshake_zero(hs);
	crypto_wipe(key, NOISE_SYMMETRIC_KEY_LEN);
	return index;
}

/* ---- Section 5.4.2: the initiation ---- */

bool noise_handshake_create_initiation(struct message_handshake_initiation *dst,
				       struct noise_handshake *hs)
{
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t ephemeral_public[NOISE_PUBLIC_KEY_LEN];
	struct x25519_key *ephemeral = NULL;
	bool ok = false;

	if (!hs->local->has_identity)
		goto out;
	memset(dst, 0, sizeof(*dst));
	dst->header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);

	handshake_start(hs->chaining_key, hs->hash, hs->remote_static);

	/* e */
	if (x25519_key_generate(&ephemeral, hs->ephemeral_private, ephemeral_public) != 0)
		goto out;
	message_ephemeral(dst->unencrypted_ephemeral, ephemeral_public, hs->chaining_key,
			  hs->hash);

	/* es */
	if (!mix_dh_key(hs->chaining_key, key, ephemeral, hs->remote_static))
		goto out;

	/* s */
	if (!message_encrypt(dst->encrypted_static, hs->local->static_public,
			     NOISE_PUBLIC_KEY_LEN, key, hs->hash))
		goto out;

	/* ss */
	if (!mix_precomputed_dh(hs->chaining_key, key, static_static(hs)))
		goto out;

	/* {t} */
	tai64n_now(timestamp);
	ok = message_encrypt(dst->encrypted_timestamp, timestamp, NOISE_TIMESTAMP_LEN, key,
			     hs->hash);
out:
	x25519_key_destroy(ephemeral);
	dst->sender_index = htole32(handshake_created(hs, ok, HANDSHAKE_CREATED_INITIATION, key));
	return dst->sender_index != 0;
}

struct noise_handshake *
noise_handshake_consume_initiation(const struct message_handshake_initiation *src,
				   struct noise_local *local, double now_s)
{
	struct noise_handshake *hs = NULL, *ret = NULL;
	uint8_t s[NOISE_PUBLIC_KEY_LEN];
	uint8_t e[NOISE_PUBLIC_KEY_LEN];
	uint8_t t[NOISE_TIMESTAMP_LEN];
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	bool replay_attack, flood_attack;

	if (!local->has_identity)
		goto out;

	handshake_start(chaining_key, hash, local->static_public);

	/* e */
	message_ephemeral(e, src->unencrypted_ephemeral, chaining_key, hash);

	/* es */
	if (!mix_dh_key(chaining_key, key, local->static_key, e))
		goto out;

	/* s */
	if (!message_decrypt(s, src->encrypted_static, sizeof(src->encrypted_static), key, hash))
		goto out;

	/* Only now is the initiator's identity known: is it one of our peers? */
	hs = local->lookup(local, s);
	if (!hs)
		goto out;

	/* ss */
	if (!mix_precomputed_dh(chaining_key, key, static_static(hs)))
		goto out;

	/* {t} */
	if (!message_decrypt(t, src->encrypted_timestamp, sizeof(src->encrypted_timestamp), key,
			     hash))
		goto out;

	/*
	 * Section 5.1: a replayed initiation must not make us discard a working
	 * session, so its timestamp must be newer than the last one accepted;
	 * and at most INITIATIONS_PER_SECOND are consumed per peer.
	 */
	replay_attack = memcmp(t, hs->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0;
	flood_attack = hs->last_initiation_consumption_s + 1.0 / INITIATIONS_PER_SECOND > now_s;
	if (replay_attack || flood_attack)
		goto out;

	memcpy(hs->remote_ephemeral, e, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->latest_timestamp, t, NOISE_TIMESTAMP_LEN);
	memcpy(hs->hash, hash, NOISE_HASH_LEN);
	memcpy(hs->chaining_key, chaining_key, NOISE_HASH_LEN);
	hs->remote_index = le32toh(src->sender_index);
	hs->last_initiation_consumption_s = now_s;
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	ret = hs;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(hash, sizeof(hash));
	crypto_wipe(chaining_key, sizeof(chaining_key));
	crypto_wipe(e, sizeof(e));
	return ret;
}

/* ---- Section 5.4.3: the response ---- */

bool noise_handshake_create_response(struct message_handshake_response *dst,
				     struct noise_handshake *hs)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t ephemeral_public[NOISE_PUBLIC_KEY_LEN];
	struct x25519_key *ephemeral = NULL;
	bool ok = false;

	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		goto out;
	memset(dst, 0, sizeof(*dst));
	dst->header.type = htole32(MESSAGE_HANDSHAKE_RESPONSE);
	dst->receiver_index = htole32(hs->remote_index);

	/* e: the responder's ephemeral serves ee and se here and is never needed again */
	if (x25519_key_generate(&ephemeral, NULL, ephemeral_public) != 0)
		goto out;
	message_ephemeral(dst->unencrypted_ephemeral, ephemeral_public, hs->chaining_key,
			  hs->hash);

	/* ee */
	if (!mix_dh_key(hs->chaining_key, NULL, ephemeral, hs->remote_ephemeral))
		goto out;

	/* se */
	if (!mix_dh_key(hs->chaining_key, NULL, ephemeral, hs->remote_static))
		goto out;

	/* psk */
	mix_psk(hs->chaining_key, hs->hash, key, hs->preshared_key);

	/* {} */
	ok = message_encrypt(dst->encrypted_nothing, NULL, 0, key, hs->hash);
out:
	x25519_key_destroy(ephemeral);
	dst->sender_index = htole32(handshake_created(hs, ok, HANDSHAKE_CREATED_RESPONSE, key));
	return dst->sender_index != 0;
}

struct noise_handshake *noise_handshake_consume_response(const struct message_handshake_response *src,
							 struct noise_local *local)
{
	struct noise_handshake *hs, *ret = NULL;
	struct index_entry *entry;
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t e[NOISE_PUBLIC_KEY_LEN];

	if (!local->has_identity)
		return NULL;
	entry = index_table_lookup(local->index, INDEX_HANDSHAKE, le32toh(src->receiver_index));
	if (!entry)
		return NULL;
	hs = container_of(entry, struct noise_handshake, entry);
	if (hs->state != HANDSHAKE_CREATED_INITIATION)
		return NULL;

	/* Work on copies: a forged response must not disturb the initiation in flight. */
	memcpy(hash, hs->hash, NOISE_HASH_LEN);
	memcpy(chaining_key, hs->chaining_key, NOISE_HASH_LEN);

	/* e */
	message_ephemeral(e, src->unencrypted_ephemeral, chaining_key, hash);

	/* ee */
	if (!mix_dh(chaining_key, NULL, hs->ephemeral_private, e))
		goto out;

	/* se */
	if (!mix_dh_key(chaining_key, NULL, local->static_key, e))
		goto out;

	/* psk */
	mix_psk(chaining_key, hash, key, hs->preshared_key);

	/* {} */
	if (!message_decrypt(NULL, src->encrypted_nothing, sizeof(src->encrypted_nothing), key,
			     hash))
		goto out;

	memcpy(hs->remote_ephemeral, e, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->hash, hash, NOISE_HASH_LEN);
	memcpy(hs->chaining_key, chaining_key, NOISE_HASH_LEN);
	hs->remote_index = le32toh(src->sender_index);
	hs->state = HANDSHAKE_CONSUMED_RESPONSE;
	ret = hs;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(hash, sizeof(hash));
	crypto_wipe(chaining_key, sizeof(chaining_key));
	crypto_wipe(e, sizeof(e));
	return ret;
}

/* ---- Section 5.4.5: transport keys ---- */

static void keypair_destroy(struct noise_keypair *kp, struct index_table *index)
{
	if (!kp)
		return;
	index_table_remove(index, &kp->entry);
	aead_ctx_destroy(kp->sending.ctx);
	aead_ctx_destroy(kp->receiving.ctx);
	crypto_wipe(kp, sizeof(*kp));
	free(kp);
}

static struct noise_keypair *keypair_create(struct noise_handshake *hs, double now_s)
{
	uint8_t first[NOISE_SYMMETRIC_KEY_LEN], second[NOISE_SYMMETRIC_KEY_LEN];
	struct noise_keypair *kp;
	bool is_initiator = hs->state == HANDSHAKE_CONSUMED_RESPONSE;
	int rc = -ENOMEM;

	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return NULL;
	kp->entry.type = INDEX_KEYPAIR;
	kp->entry.peer = hs->entry.peer;
	kp->i_am_the_initiator = is_initiator;
	kp->remote_index = hs->remote_index;
	kp->internal_id = ++keypair_counter;
	replay_init(&kp->receiving_counter);

	/* (T_send, T_recv) = KDF2(C, e) for the initiator; swapped for the responder. */
	noise_kdf(first, second, NULL, hs->chaining_key, NULL, 0);
	rc = aead_ctx_create(&kp->sending.ctx, is_initiator ? first : second, true);
	if (rc == 0)
		rc = aead_ctx_create(&kp->receiving.ctx, is_initiator ? second : first, false);
	crypto_wipe(first, sizeof(first));
	crypto_wipe(second, sizeof(second));
	if (rc != 0) {
		aead_ctx_destroy(kp->sending.ctx);
		aead_ctx_destroy(kp->receiving.ctx);
		free(kp);
		return NULL;
	}
	kp->sending.birthdate_s = kp->receiving.birthdate_s = now_s;
	kp->sending.is_valid = kp->receiving.is_valid = true;
	return kp;
}

static void add_new_keypair(struct noise_keypairs *kps, struct noise_keypair *kp)
{
	struct index_table *index = kps->index;

	if (kp->i_am_the_initiator) {
		/*
		 * We sent the initiation and got the response: the keypair is
		 * confirmed and usable at once. A pending next keypair (we were
		 * also responding) becomes previous so its late packets still
		 * decrypt; otherwise the old current does.
		 */
		if (kps->next) {
			keypair_destroy(kps->previous, index);
			kps->previous = kps->next;
			kps->next = NULL;
			keypair_destroy(kps->current, index);
		} else {
			keypair_destroy(kps->previous, index);
			kps->previous = kps->current;
		}
		kps->current = kp;
	} else {
		/*
		 * As responder we may not send with the new keys until the
		 * initiator proves it has them (its first data packet), so the
		 * keypair waits in next; current goes on carrying traffic.
		 */
		keypair_destroy(kps->next, index);
		kps->next = kp;
		keypair_destroy(kps->previous, index);
		kps->previous = NULL;
	}
}

bool noise_handshake_begin_session(struct noise_handshake *hs, struct noise_keypairs *kps,
				   double now_s)
{
	struct noise_keypair *kp;

	if (hs->state != HANDSHAKE_CREATED_RESPONSE && hs->state != HANDSHAKE_CONSUMED_RESPONSE)
		return false;
	kp = keypair_create(hs, now_s);
	if (!kp) {
		noise_handshake_clear(hs);
		return false;
	}
	/* The index the peer knows for this handshake now names the session. */
	index_table_replace(hs->local->index, &hs->entry, &kp->entry);
	handshake_zero(hs);
	add_new_keypair(kps, kp);
	return true;
}

bool noise_received_with_keypair(struct noise_keypairs *kps, struct noise_keypair *kp)
{
	if (kp != kps->next)
		return false;
	/* Key confirmation: slide next into current, current into previous. */
	keypair_destroy(kps->previous, kps->index);
	kps->previous = kps->current;
	kps->current = kp;
	kps->next = NULL;
	return true;
}

void noise_keypairs_clear(struct noise_keypairs *kps)
{
	keypair_destroy(kps->current, kps->index);
	keypair_destroy(kps->previous, kps->index);
	keypair_destroy(kps->next, kps->index);
	kps->current = kps->previous = kps->next = NULL;
}

void noise_keypairs_expire_current(struct noise_keypairs *kps)
{
	if (kps->current)
		kps->current->sending.is_valid = false;
}
