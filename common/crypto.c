// SPDX-License-Identifier: MIT
/*
 * Every OpenSSL call of tund. Algorithms are fetched once by crypto_init()
 * (implicit fetching per call is OpenSSL 3's known slowdown); every EVP
 * return is checked. Secrets on the stack are wiped on every exit path.
 * OpenSSL 3.0 gives WireGuard's keyed MAC as EVP_MAC "BLAKE2SMAC" with a
 * 16-byte size; the KDF's HMAC is RFC 2104 over "BLAKE2S-256" (blake2s_hmac).
 */
#include "crypto.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "log.h"

static EVP_CIPHER *chacha20poly1305;
static EVP_MD *blake2s256;
static EVP_MAC *blake2s_mac_alg;

int crypto_init(void)
{
	if (chacha20poly1305 && blake2s256 && blake2s_mac_alg)
		return 0;
	crypto_cleanup();
	chacha20poly1305 = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	blake2s256 = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	blake2s_mac_alg = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	if (!chacha20poly1305 || !blake2s256 || !blake2s_mac_alg) {
		log_error("OpenSSL lacks %s", !chacha20poly1305 ? "ChaCha20-Poly1305"
					      : !blake2s256     ? "BLAKE2S-256"
								: "BLAKE2SMAC");
		crypto_cleanup();
		return -EIO;
	}
	return 0;
}

void crypto_cleanup(void)
{
	EVP_CIPHER_free(chacha20poly1305);
	EVP_MD_free(blake2s256);
	EVP_MAC_free(blake2s_mac_alg);
	chacha20poly1305 = NULL;
	blake2s256 = NULL;
	blake2s_mac_alg = NULL;
}

int crypto_random(void *buf, size_t len)
{
	if (len > (size_t)INT32_MAX)
		return -EINVAL;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

void crypto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

void *crypto_realloc_wiped(void *p, size_t old_len, size_t new_len)
{
	void *q = malloc(new_len ? new_len : 1);

	if (!q)
		return NULL;
	if (p) {
		memcpy(q, p, old_len < new_len ? old_len : new_len);
		crypto_wipe(p, old_len);
		free(p);
	}
	return q;
}

bool crypto_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* ---- X25519 ---- */

void curve25519_clamp(uint8_t key[static CURVE25519_KEY_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

int curve25519_generate_private(uint8_t priv[static CURVE25519_KEY_LEN])
{
	if (crypto_random(priv, CURVE25519_KEY_LEN) != 0)
		return -EIO;
	curve25519_clamp(priv);
	return 0;
}

int curve25519_public_from_private(uint8_t pub[static CURVE25519_KEY_LEN],
				   const uint8_t priv[static CURVE25519_KEY_LEN])
{
	EVP_PKEY *key;
	size_t len = CURVE25519_KEY_LEN;
	int rc;

	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, CURVE25519_KEY_LEN);
	if (!key)
		return -EIO;
	rc = EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == CURVE25519_KEY_LEN ? 0
											 : -EIO;
	EVP_PKEY_free(key);
	return rc;
}

bool curve25519_shared(uint8_t out[static CURVE25519_KEY_LEN],
		       const uint8_t priv[static CURVE25519_KEY_LEN],
		       const uint8_t pub[static CURVE25519_KEY_LEN])
{
	static const uint8_t zero[CURVE25519_KEY_LEN];
	EVP_PKEY *sk = NULL, *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = CURVE25519_KEY_LEN;
	bool ok = false;

	sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, CURVE25519_KEY_LEN);
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, CURVE25519_KEY_LEN);
	if (!sk || !pk)
		goto out;
	ctx = EVP_PKEY_CTX_new(sk, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pk) != 1 ||
	    EVP_PKEY_derive(ctx, out, &len) != 1 || len != CURVE25519_KEY_LEN)
		goto out;
	/* A low-order public key gives all zeros (OpenSSL refuses it too; be sure). */
	ok = !crypto_memeq(out, zero, CURVE25519_KEY_LEN);
out:
	if (!ok)
		crypto_wipe(out, CURVE25519_KEY_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(pk);
	return ok;
}

struct x25519_key {
	EVP_PKEY *pkey;
	EVP_PKEY_CTX *derive; /* EVP_PKEY_derive_init() done once */
};

void x25519_key_destroy(struct x25519_key *key)
{
	if (!key)
		return;
	EVP_PKEY_CTX_free(key->derive);
	EVP_PKEY_free(key->pkey); /* OpenSSL wipes the private key it frees */
	OPENSSL_free(key);
}

static int x25519_key_wrap(struct x25519_key **out, EVP_PKEY *pkey, uint8_t *pub)
{
	struct x25519_key *k;
	size_t len = CURVE25519_KEY_LEN;

	*out = NULL;
	if (!pkey)
		return -EIO;
	k = OPENSSL_zalloc(sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	k->pkey = pkey;
	k->derive = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!k->derive || EVP_PKEY_derive_init(k->derive) != 1 ||
	    (pub && (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 ||
		     len != CURVE25519_KEY_LEN))) {
		x25519_key_destroy(k);
		return -EIO;
	}
	*out = k;
	return 0;
}

int x25519_key_create(struct x25519_key **out, const uint8_t priv[static CURVE25519_KEY_LEN],
		      uint8_t *pub)
{
	return x25519_key_wrap(out,
			       EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
							    CURVE25519_KEY_LEN),
			       pub);
}

int x25519_key_generate(struct x25519_key **out, uint8_t *priv,
			uint8_t pub[static CURVE25519_KEY_LEN])
{
	uint8_t raw[CURVE25519_KEY_LEN];
	int rc;

	*out = NULL;
	if (curve25519_generate_private(raw) != 0)
		return -EIO;
	rc = x25519_key_create(out, raw, pub);
	if (rc == 0 && priv)
		memcpy(priv, raw, CURVE25519_KEY_LEN);
	crypto_wipe(raw, sizeof(raw));
	return rc;
}

bool x25519_key_shared(struct x25519_key *key, uint8_t out[static CURVE25519_KEY_LEN],
		       const uint8_t pub[static CURVE25519_KEY_LEN])
{
	static const uint8_t zero[CURVE25519_KEY_LEN];
	EVP_PKEY *pk;
	size_t len = CURVE25519_KEY_LEN;
	bool ok = false;

	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, CURVE25519_KEY_LEN);
	/* No validation context per call: X25519 has no public key check to make. */
	if (pk && EVP_PKEY_derive_set_peer_ex(key->derive, pk, 0) == 1 &&
	    EVP_PKEY_derive(key->derive, out, &len) == 1 && len == CURVE25519_KEY_LEN)
		ok = !crypto_memeq(out, zero, CURVE25519_KEY_LEN);
	if (!ok)
		crypto_wipe(out, CURVE25519_KEY_LEN);
	EVP_PKEY_free(pk);
	return ok;
}

/* ---- BLAKE2s ---- */

void blake2s_hash(uint8_t out[static BLAKE2S_HASH_LEN], const void *a, size_t alen, const void *b,
		  size_t blen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = BLAKE2S_HASH_LEN;
	uint8_t tmp[BLAKE2S_HASH_LEN];

	/* Inputs may alias out (H = HASH(H || x)), so finish into tmp. */
	if (!ctx || EVP_DigestInit_ex2(ctx, blake2s256, NULL) != 1 ||
	    (alen && EVP_DigestUpdate(ctx, a, alen) != 1) ||
	    (blen && EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(ctx, tmp, &len) != 1) {
		/* Zeros make every MAC and handshake that depends on this fail. */
		log_error("BLAKE2s failed");
		memset(tmp, 0, sizeof(tmp));
	}
	memcpy(out, tmp, BLAKE2S_HASH_LEN);
	crypto_wipe(tmp, sizeof(tmp));
	EVP_MD_CTX_free(ctx);
}

static bool mac_run(EVP_MAC *alg, const OSSL_PARAM *params, uint8_t *out, size_t outlen,
		    const uint8_t *key, size_t keylen, const void *in, size_t inlen)
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(alg);
	uint8_t tmp[BLAKE2S_HASH_LEN];
	size_t len = 0;
	bool ok;

	ok = ctx && outlen <= sizeof(tmp) && EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	     (!inlen || EVP_MAC_update(ctx, in, inlen) == 1) &&
	     EVP_MAC_final(ctx, tmp, &len, sizeof(tmp)) == 1 && len == outlen;
	if (!ok) {
		log_error("MAC computation failed");
		memset(tmp, 0, sizeof(tmp));
	}
	memcpy(out, tmp, outlen);
	crypto_wipe(tmp, sizeof(tmp));
	EVP_MAC_CTX_free(ctx);
	return ok;
}

void blake2s_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *in,
		   size_t inlen)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen),
		OSSL_PARAM_construct_end(),
	};

	mac_run(blake2s_mac_alg, params, out, outlen, key, keylen, in, inlen);
}

void blake2s_mac(uint8_t out[static BLAKE2S_MAC_LEN], const uint8_t *key, size_t keylen,
		 const void *in, size_t inlen)
{
	blake2s_keyed(out, BLAKE2S_MAC_LEN, key, keylen, in, inlen);
}

/*
 * HMAC (RFC 2104) over the BLAKE2s digest directly: two hashes in one
 * digest context. OpenSSL's EVP_MAC "HMAC" makes and frees a digest
 * context and parses its parameters on every call, three times the cost,
 * and the Noise KDF calls this six to ten times a handshake message.
 */
void blake2s_hmac(uint8_t out[static BLAKE2S_HASH_LEN], const uint8_t *key, size_t keylen,
		  const void *in, size_t inlen)
{
	enum { BLOCK = 64 };
	uint8_t pad[BLOCK], inner[BLAKE2S_HASH_LEN];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = BLAKE2S_HASH_LEN;
	bool ok = ctx && keylen <= BLOCK;

	if (ok) {
		memset(pad, 0x36, sizeof(pad));
		for (size_t i = 0; i < keylen; i++)
			pad[i] ^= key[i];
		ok = EVP_DigestInit_ex2(ctx, blake2s256, NULL) == 1 &&
		     EVP_DigestUpdate(ctx, pad, sizeof(pad)) == 1 &&
		     (!inlen || EVP_DigestUpdate(ctx, in, inlen) == 1) &&
		     EVP_DigestFinal_ex(ctx, inner, &len) == 1;
	}
	if (ok) {
		/* 0x36 ^ 0x5c turns the inner pad into the outer one. */
		for (size_t i = 0; i < sizeof(pad); i++)
			pad[i] ^= 0x36 ^ 0x5c;
		/* out may alias key or in: both were read already. */
		ok = EVP_DigestInit_ex2(ctx, blake2s256, NULL) == 1 &&
		     EVP_DigestUpdate(ctx, pad, sizeof(pad)) == 1 &&
		     EVP_DigestUpdate(ctx, inner, sizeof(inner)) == 1 &&
		     EVP_DigestFinal_ex(ctx, inner, &len) == 1;
	}
	if (!ok) {
		/* Zeros make every handshake that depends on this fail. */
		log_error("HMAC computation failed");
		memset(inner, 0, sizeof(inner));
	}
	memcpy(out, inner, BLAKE2S_HASH_LEN);
	crypto_wipe(pad, sizeof(pad));
	crypto_wipe(inner, sizeof(inner));
	EVP_MD_CTX_free(ctx);
}

void noise_kdf(uint8_t *out1, uint8_t *out2, uint8_t *out3,
	       const uint8_t key[static BLAKE2S_HASH_LEN], const void *in, size_t inlen)
{
	uint8_t t0[BLAKE2S_HASH_LEN], t[BLAKE2S_HASH_LEN + 1];

	/* t0 first: outputs may alias the key (ck = KDF(ck, ...)). */
	blake2s_hmac(t0, key, BLAKE2S_HASH_LEN, in, inlen);
	t[0] = 1;
	blake2s_hmac(t, t0, sizeof(t0), t, 1);
	if (out1)
		memcpy(out1, t, BLAKE2S_HASH_LEN);
	if (out2 || out3) {
		t[BLAKE2S_HASH_LEN] = 2;
		blake2s_hmac(t, t0, sizeof(t0), t, sizeof(t));
		if (out2)
			memcpy(out2, t, BLAKE2S_HASH_LEN);
	}
	if (out3) {
		t[BLAKE2S_HASH_LEN] = 3;
		blake2s_hmac(t, t0, sizeof(t0), t, sizeof(t));
		memcpy(out3, t, BLAKE2S_HASH_LEN);
	}
	crypto_wipe(t0, sizeof(t0));
	crypto_wipe(t, sizeof(t));
}

/* ---- ChaCha20-Poly1305 ---- */

static void wg_nonce(uint8_t nonce[12], uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &le, 8);
}

/* Seal or open with a context that already holds the key; sets the nonce. */
static bool aead_run(EVP_CIPHER_CTX *ctx, bool is_encrypt, const uint8_t *key,
		     const uint8_t nonce[12], uint8_t *dst, const uint8_t *src, size_t srclen,
		     const uint8_t *ad, size_t adlen)
{
	uint8_t tag[CHACHA20POLY1305_TAG_LEN];
	size_t mlen = srclen;
	int outl = 0, finl = 0;
	bool ok = false;

	if (!is_encrypt) {
		if (srclen < CHACHA20POLY1305_TAG_LEN)
			return false;
		mlen = srclen - CHACHA20POLY1305_TAG_LEN;
		/* Copy the tag out first: opening in place overwrites nothing past mlen, but be sure. */
		memcpy(tag, src + mlen, sizeof(tag));
	}
	if (mlen > (size_t)INT32_MAX || adlen > (size_t)INT32_MAX)
		return false;
	if (EVP_CipherInit_ex2(ctx, key ? chacha20poly1305 : NULL, key, nonce, is_encrypt, NULL) !=
	    1)
		goto out;
	if (!is_encrypt &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof(tag), tag) != 1)
		goto out;
	if (adlen && EVP_CipherUpdate(ctx, NULL, &outl, ad, (int)adlen) != 1)
		goto out;
	/* A NULL output would mean "associated data": skip empty messages entirely. */
	if (mlen && EVP_CipherUpdate(ctx, dst, &outl, src, (int)mlen) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, mlen ? dst + outl : tag, &finl) != 1)
		goto out;
	if (is_encrypt &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CHACHA20POLY1305_TAG_LEN, dst + mlen) !=
		    1)
		goto out;
	ok = true;
out:
	crypto_wipe(tag, sizeof(tag));
	return ok;
}

static bool aead_oneshot(bool is_encrypt, uint8_t *dst, const uint8_t *src, size_t srclen,
			 const uint8_t *ad, size_t adlen, const uint8_t nonce[12],
			 const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok;

	if (!ctx)
		return false;
	ok = aead_run(ctx, is_encrypt, key, nonce, dst, src, srclen, ad, adlen);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

bool chacha20poly1305_seal_nonce96(uint8_t *dst, const uint8_t *src, size_t srclen,
				   const uint8_t *ad, size_t adlen, const uint8_t nonce[static 12],
				   const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	return aead_oneshot(true, dst, src, srclen, ad, adlen, nonce, key);
}

bool chacha20poly1305_open_nonce96(uint8_t *dst, const uint8_t *src, size_t srclen,
				   const uint8_t *ad, size_t adlen, const uint8_t nonce[static 12],
				   const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	return aead_oneshot(false, dst, src, srclen, ad, adlen, nonce, key);
}

bool chacha20poly1305_seal(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			   size_t adlen, uint64_t counter,
			   const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	uint8_t nonce[12];

	wg_nonce(nonce, counter);
	return aead_oneshot(true, dst, src, srclen, ad, adlen, nonce, key);
}

bool chacha20poly1305_open(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			   size_t adlen, uint64_t counter,
			   const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	uint8_t nonce[12];

	wg_nonce(nonce, counter);
	return aead_oneshot(false, dst, src, srclen, ad, adlen, nonce, key);
}

/*
 * A keyed context per lane: the data path's worker threads (one lane each,
 * lane 0 the event loop's) seal and open with the same key at once, and an
 * EVP_CIPHER_CTX must not be shared between threads.
 */
struct aead_ctx {
	bool is_encrypt;
	unsigned int n_lanes;
	EVP_CIPHER_CTX *ctx[]; /* keyed once; only the nonce changes per packet */
};

static unsigned int aead_lanes = 1;

int crypto_set_lanes(unsigned int n)
{
	if (n < 1 || n > CRYPTO_MAX_LANES)
		return -EINVAL;
	aead_lanes = n;
	return 0;
}

int aead_ctx_create(struct aead_ctx **out, const uint8_t key[static CHACHA20POLY1305_KEY_LEN],
		    bool is_encrypt)
{
	struct aead_ctx *a;

	*out = NULL;
	a = OPENSSL_zalloc(sizeof(*a) + aead_lanes * sizeof(a->ctx[0]));
	if (!a)
		return -ENOMEM;
	a->is_encrypt = is_encrypt;
	a->n_lanes = aead_lanes;
	for (unsigned int i = 0; i < a->n_lanes; i++) {
		a->ctx[i] = EVP_CIPHER_CTX_new();
		if (!a->ctx[i] || EVP_CipherInit_ex2(a->ctx[i], chacha20poly1305, key, NULL,
						     is_encrypt, NULL) != 1) {
			aead_ctx_destroy(a);
			return -EIO;
		}
	}
	*out = a;
	return 0;
}

void aead_ctx_destroy(struct aead_ctx *ctx)
{
	if (!ctx)
		return;
	for (unsigned int i = 0; i < ctx->n_lanes; i++)
		EVP_CIPHER_CTX_free(ctx->ctx[i]);
	OPENSSL_free(ctx);
}

bool aead_ctx_seal(struct aead_ctx *ctx, unsigned int lane, uint64_t counter, uint8_t *dst,
		   const uint8_t *src, size_t srclen)
{
	uint8_t nonce[12];

	if (!ctx->is_encrypt || lane >= ctx->n_lanes)
		return false;
	wg_nonce(nonce, counter);
	return aead_run(ctx->ctx[lane], true, NULL, nonce, dst, src, srclen, NULL, 0);
}

bool aead_ctx_open(struct aead_ctx *ctx, unsigned int lane, uint64_t counter, uint8_t *dst,
		   const uint8_t *src, size_t srclen)
{
	uint8_t nonce[12];

	if (ctx->is_encrypt || lane >= ctx->n_lanes)
		return false;
	wg_nonce(nonce, counter);
	return aead_run(ctx->ctx[lane], false, NULL, nonce, dst, src, srclen, NULL, 0);
}

/* ---- XChaCha20-Poly1305 ---- */

static bool xaead(bool is_encrypt, uint8_t *dst, const uint8_t *src, size_t srclen,
		  const uint8_t *ad, size_t adlen,
		  const uint8_t nonce[static XCHACHA20POLY1305_NONCE_LEN],
		  const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	uint8_t subkey[32], n12[12] = {0};
	bool ok;

	/* Subkey from the first 16 nonce bytes; the last 8 complete a ChaCha20 nonce. */
	hchacha20(subkey, nonce, key);
	memcpy(n12 + 4, nonce + 16, 8);
	ok = aead_oneshot(is_encrypt, dst, src, srclen, ad, adlen, n12, subkey);
	crypto_wipe(subkey, sizeof(subkey));
	return ok;
}

bool xchacha20poly1305_seal(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			    size_t adlen, const uint8_t nonce[static XCHACHA20POLY1305_NONCE_LEN],
			    const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	return xaead(true, dst, src, srclen, ad, adlen, nonce, key);
}

bool xchacha20poly1305_open(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			    size_t adlen, const uint8_t nonce[static XCHACHA20POLY1305_NONCE_LEN],
			    const uint8_t key[static CHACHA20POLY1305_KEY_LEN])
{
	return xaead(false, dst, src, srclen, ad, adlen, nonce, key);
}

/* ---- TAI64N ---- */

void tai64n_from_time(uint8_t out[static TAI64N_LEN], int64_t sec, long nsec)
{
	/* TAI64 labels second s as 2^62 + 10 + s (the 10 is TAI's offset in 1970). */
	uint64_t s = htobe64(0x400000000000000aULL + (uint64_t)sec);
	uint32_t ns = htobe32((uint32_t)nsec & ~((1U << 24) - 1));

	memcpy(out, &s, 8);
	memcpy(out + 8, &ns, 4);
}

void tai64n_now(uint8_t out[static TAI64N_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	tai64n_from_time(out, ts.tv_sec, ts.tv_nsec);
}

/* ---- Base64 ---- */

/* Keys and PSKs are 44 characters; nothing tund decodes is longer than this. */
#define BASE64_MAX_TEXT 1024

size_t crypto_base64_encode(char *out, const uint8_t *in, size_t len)
{
	if (len > BASE64_MAX_TEXT / 4 * 3)
		return 0;
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static bool base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int crypto_base64_decode(uint8_t *out, size_t outcap, const char *in, size_t inlen)
{
	uint8_t tmp[BASE64_MAX_TEXT / 4 * 3];
	size_t pad = 0;
	int n;

	/* EVP_DecodeBlock skips blanks and keeps padding bytes: check strictly first. */
	if (inlen == 0 || inlen % 4 != 0 || inlen > BASE64_MAX_TEXT)
		return -EINVAL;
	if (in[inlen - 1] == '=')
		pad = in[inlen - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < inlen - pad; i++)
		if (!base64_char(in[i]))
			return -EINVAL;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)inlen);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > outcap) {
		crypto_wipe(tmp, sizeof(tmp));
		return -EINVAL;
	}
	n -= (int)pad;
	memcpy(out, tmp, (size_t)n);
	crypto_wipe(tmp, sizeof(tmp));
	return n;
}
