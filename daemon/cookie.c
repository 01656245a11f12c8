// SPDX-License-Identifier: MIT
/*
 * Cookies and MACs (WireGuard paper section 5.4.4 and 5.4.7). mac1 =
 * MAC(HASH(LABEL_MAC1 || S_pub_receiver), msg up to mac1); mac2 =
 * MAC(cookie, msg up to mac2); cookie = MAC(R_m, source IP || port), with R_m
 * random and renewed every two minutes; the reply carries it sealed with
 * XChaCha20-Poly1305 under HASH(LABEL_COOKIE || S_pub_sender), the mac1 of
 * the message it answers as associated data.
 */
#include "cookie.h"

#include <endian.h>
#include <string.h>

#include "crypto.h"
#include "ratelimiter.h"

static void precompute_key(uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
			   const uint8_t public_key[NOISE_PUBLIC_KEY_LEN], const char *label)
{
	blake2s_hash(key, label, strlen(label), public_key, NOISE_PUBLIC_KEY_LEN);
}

void cookie_checker_init(struct cookie_checker *checker, const uint8_t *our_public)
{
	crypto_wipe(checker, sizeof(*checker));
	checker->secret_birthdate_s = -1e9;
	if (!our_public)
		return;
	precompute_key(checker->message_mac1_key, our_public, COOKIE_LABEL_MAC1);
	precompute_key(checker->cookie_encryption_key, our_public, COOKIE_LABEL_COOKIE);
}

void cookie_init(struct cookie *cookie, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN])
{
	memset(cookie, 0, sizeof(*cookie));
	precompute_key(cookie->cookie_decryption_key, peer_public, COOKIE_LABEL_COOKIE);
	precompute_key(cookie->message_mac1_key, peer_public, COOKIE_LABEL_MAC1);
}

static size_t mac1_offset(size_t len)
{
	return len - sizeof(struct message_macs);
}

static size_t mac2_offset(size_t len)
{
	return len - COOKIE_LEN;
}

static void compute_mac1(uint8_t out[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	blake2s_mac(out, key, NOISE_SYMMETRIC_KEY_LEN, msg, mac1_offset(len));
}

static void compute_mac2(uint8_t out[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[COOKIE_LEN])
{
	blake2s_mac(out, cookie, COOKIE_LEN, msg, mac2_offset(len));
}

/*
 * R_m, renewed when COOKIE_SECRET_MAX_AGE old. When the random source fails
 * the old secret stays (and renewal is tried again on the next use); with
 * no secret yet there is none to make cookies with: false. A predictable
 * R_m would let anyone compute the cookie of any address without receiving
 * our reply, which is the whole point of section 5.4.7.
 */
static bool fresh_secret(struct cookie_checker *checker, double now_s)
{
	uint8_t secret[sizeof(checker->secret)];

	if (checker->secret_birthdate_s + COOKIE_SECRET_MAX_AGE > now_s)
		return true;
	if (crypto_random(secret, sizeof(secret)) != 0)
		return checker->has_secret;
	memcpy(checker->secret, secret, sizeof(secret));
	crypto_wipe(secret, sizeof(secret));
	checker->has_secret = true;
	checker->secret_birthdate_s = now_s;
	return true;
}

/* cookie = MAC(R_m, A_m): the source address and port as they appear on the wire. */
static bool make_cookie(uint8_t cookie[COOKIE_LEN], struct cookie_checker *checker,
			const union sockaddr_inet *src, double now_s)
{
	uint8_t a[16 + 2];
	size_t alen;

	if (!fresh_secret(checker, now_s))
		return false;
	if (src->sa.sa_family == AF_INET) {
		memcpy(a, &src->in.sin_addr, 4);
		memcpy(a + 4, &src->in.sin_port, 2);
		alen = 6;
	} else {
		memcpy(a, &src->in6.sin6_addr, 16);
		memcpy(a + 16, &src->in6.sin6_port, 2);
		alen = 18;
	}
	blake2s_mac(cookie, checker->secret, sizeof(checker->secret), a, alen);
	return true;
}

enum cookie_mac_state cookie_validate_packet(struct cookie_checker *checker, const uint8_t *msg,
					     size_t len, const union sockaddr_inet *src,
					     bool check_cookie, struct ratelimiter *rl,
					     double now_s)
{
	const struct message_macs *macs = (const void *)(msg + mac1_offset(len));
	uint8_t computed[COOKIE_LEN];
	uint8_t cookie[COOKIE_LEN];

	compute_mac1(computed, msg, len, checker->message_mac1_key);
	if (!crypto_memeq(computed, macs->mac1, COOKIE_LEN))
		return INVALID_MAC;
	if (!check_cookie)
		return VALID_MAC_BUT_NO_COOKIE;

	/* Without a secret no mac2 is valid: the sender gets no cookie reply either. */
	if (!make_cookie(cookie, checker, src, now_s))
		return VALID_MAC_BUT_NO_COOKIE;
	compute_mac2(computed, msg, len, cookie);
	crypto_wipe(cookie, sizeof(cookie));
	if (!crypto_memeq(computed, macs->mac2, COOKIE_LEN))
		return VALID_MAC_BUT_NO_COOKIE;
	if (rl && !ratelimiter_allow(rl, src, now_s))
		return VALID_MAC_WITH_COOKIE_BUT_RATELIMITED;
	return VALID_MAC_WITH_COOKIE;
}

void cookie_add_mac_to_packet(uint8_t *msg, size_t len, struct cookie *cookie, double now_s)
{
	struct message_macs *macs = (void *)(msg + mac1_offset(len));

	compute_mac1(macs->mac1, msg, len, cookie->message_mac1_key);
	memcpy(cookie->last_mac1_sent, macs->mac1, COOKIE_LEN);
	cookie->have_sent_mac1 = true;

	if (cookie->is_valid &&
	    cookie->birthdate_s + COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY > now_s)
		compute_mac2(macs->mac2, msg, len, cookie->cookie);
	else
		memset(macs->mac2, 0, COOKIE_LEN);
}

bool cookie_message_create(struct message_handshake_cookie *dst, const uint8_t *msg, size_t len,
			   uint32_t index_le, struct cookie_checker *checker,
			   const union sockaddr_inet *src, double now_s)
{
	const struct message_macs *macs = (const void *)(msg + mac1_offset(len));
	uint8_t cookie[COOKIE_LEN];
	bool ok;

	dst->header.type = htole32(MESSAGE_HANDSHAKE_COOKIE);
	dst->receiver_index = index_le;
	if (crypto_random(dst->nonce, COOKIE_NONCE_LEN) != 0)
		return false;
	if (!make_cookie(cookie, checker, src, now_s))
		return false;
	ok = xchacha20poly1305_seal(dst->encrypted_cookie, cookie, COOKIE_LEN, macs->mac1,
				    COOKIE_LEN, dst->nonce, checker->cookie_encryption_key);
	crypto_wipe(cookie, sizeof(cookie));
	return ok;
}

bool cookie_message_consume(const struct message_handshake_cookie *src, struct cookie *cookie,
			    double now_s)
{
	uint8_t plain[COOKIE_LEN];

	if (!cookie->have_sent_mac1)
		return false;
	if (!xchacha20poly1305_open(plain, src->encrypted_cookie, sizeof(src->encrypted_cookie),
				    cookie->last_mac1_sent, COOKIE_LEN, src->nonce,
				    cookie->cookie_decryption_key))
		return false;
	memcpy(cookie->cookie, plain, COOKIE_LEN);
	cookie->birthdate_s = now_s;
	cookie->is_valid = true;
	cookie->have_sent_mac1 = false;
	crypto_wipe(plain, sizeof(plain));
	return true;
}
