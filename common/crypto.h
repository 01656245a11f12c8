/* SPDX-License-Identifier: MIT */
/*
 * The cryptographic primitives of Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
 * (WireGuard paper, section 5.4), on OpenSSL 3. crypto.c is the only file
 * that includes OpenSSL; no OpenSSL type crosses this header. Algorithms are
 * fetched once by crypto_init(), never per packet.
 */
#ifndef TUND_CRYPTO_H
#define TUND_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURVE25519_KEY_LEN     32
#define CHACHA20POLY1305_KEY_LEN 32
#define CHACHA20POLY1305_TAG_LEN 16
#define XCHACHA20POLY1305_NONCE_LEN 24
#define HCHACHA20_NONCE_LEN    16
#define BLAKE2S_HASH_LEN       32
#define BLAKE2S_MAC_LEN        16
#define TAI64N_LEN             12

/*
 * Fetch every algorithm once. Returns 0, or -EIO when OpenSSL lacks one
 * (the message names it). Call before anything else here; idempotent.
 */
int crypto_init(void);
/* Free what crypto_init() fetched. */
void crypto_cleanup(void);

/* Fill buf from OpenSSL's CSPRNG. Returns 0 or -EIO. */
int crypto_random(void *buf, size_t len);

/* Wipe a secret so the compiler cannot elide it (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t len);
/*
 * realloc for arrays that hold secrets: the new block gets a copy and the
 * old one is wiped before it is freed, where realloc would free it as it
 * is. NULL on failure (p is then unchanged and still owned by the caller).
 */
void *crypto_realloc_wiped(void *p, size_t old_len, size_t new_len);
/* Constant-time equality of two buffers of the same length. */
bool crypto_memeq(const void *a, const void *b, size_t len);

/* ---- X25519 (RFC 7748) ---- */

/* Clamp a private key the way X25519 does (bits 0-2, 255 cleared, 254 set). */
void curve25519_clamp(uint8_t key[static CURVE25519_KEY_LEN]);
/* A new clamped private key. Returns 0 or -EIO. */
int curve25519_generate_private(uint8_t priv[static CURVE25519_KEY_LEN]);
/* pub = X25519(priv, 9). Returns 0 or -EIO. */
int curve25519_public_from_private(uint8_t pub[static CURVE25519_KEY_LEN],
				   const uint8_t priv[static CURVE25519_KEY_LEN]);
/*
 * out = X25519(priv, pub). False on failure and when the result is all
 * zeros (a low-order public key): the handshake must then be dropped.
 */
bool curve25519_shared(uint8_t out[static CURVE25519_KEY_LEN],
		       const uint8_t priv[static CURVE25519_KEY_LEN],
		       const uint8_t pub[static CURVE25519_KEY_LEN]);

/*
 * An X25519 private key made once for several exchanges: the interface's
 * static key, an ephemeral used twice. OpenSSL computes a private key's
 * public half whenever it imports one, which doubles the cost of every
 * curve25519_shared(); with a key object each exchange is one scalar
 * multiplication. Owned by its creator; not for two threads at once.
 */
struct x25519_key;

/*
 * A key object for priv (clamped by X25519 itself); its public key goes to
 * pub unless pub is NULL. Returns 0, -ENOMEM or -EIO.
 */
int x25519_key_create(struct x25519_key **out, const uint8_t priv[static CURVE25519_KEY_LEN],
		      uint8_t *pub);
/*
 * A fresh random key: its clamped private bytes to priv (unless NULL) and
 * its public key to pub. Returns 0, -ENOMEM or -EIO.
 */
int x25519_key_generate(struct x25519_key **out, uint8_t *priv,
			uint8_t pub[static CURVE25519_KEY_LEN]);
/* out = X25519(key, pub); false as for curve25519_shared(). */
bool x25519_key_shared(struct x25519_key *key, uint8_t out[static CURVE25519_KEY_LEN],
		       const uint8_t pub[static CURVE25519_KEY_LEN]);
/* NULL is a no-op. */
void x25519_key_destroy(struct x25519_key *key);

/* ---- BLAKE2s ---- */

/* HASH(a || b): BLAKE2s-256. b may be NULL with blen 0. */
void blake2s_hash(uint8_t out[static BLAKE2S_HASH_LEN], const void *a, size_t alen, const void *b,
		  size_t blen);
/* MAC(key, in): keyed BLAKE2s with a 16-byte output; keylen is 1..32. */
void blake2s_mac(uint8_t out[static BLAKE2S_MAC_LEN], const uint8_t *key, size_t keylen,
		 const void *in, size_t inlen);
/* Keyed BLAKE2s with any output length 1..32 (for the reference vectors). */
void blake2s_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *in,
		   size_t inlen);
/* HMAC(key, in) with BLAKE2s-256, keylen <= 64. */
void blake2s_hmac(uint8_t out[static BLAKE2S_HASH_LEN], const uint8_t *key, size_t keylen,
		  const void *in, size_t inlen);
/*
 * The Noise KDF_n: t0 = HMAC(key, in); t1 = HMAC(t0, 0x1); t2 = HMAC(t0, t1 ||
 * 0x2); t3 = HMAC(t0, t2 || 0x3). Outputs t1..t3 go to out1..out3; out2 and
 * out3 may be NULL for KDF1 and KDF2. Intermediates are wiped.
 */
void noise_kdf(uint8_t *out1, uint8_t *out2, uint8_t *out3,
	       const uint8_t key[static BLAKE2S_HASH_LEN], const void *in, size_t inlen);

/* ---- ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce ---- */

/*
 * WireGuard's nonce is 32 zero bits followed by the 64-bit counter in little
 * endian. One-shot seal/open for the handshake (counter 0) and cookies:
 * seal writes srclen + 16 bytes to dst; open reads srclen bytes including the
 * tag and writes srclen - 16. dst may equal src. Open returns false when
 * authentication fails (dst content is then unspecified).
 */
bool chacha20poly1305_seal(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			   size_t adlen, uint64_t counter,
			   const uint8_t key[static CHACHA20POLY1305_KEY_LEN]);
bool chacha20poly1305_open(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			   size_t adlen, uint64_t counter,
			   const uint8_t key[static CHACHA20POLY1305_KEY_LEN]);

/* The same with a caller's 96-bit nonce (for RFC 8439's own test vectors). */
bool chacha20poly1305_seal_nonce96(uint8_t *dst, const uint8_t *src, size_t srclen,
				   const uint8_t *ad, size_t adlen, const uint8_t nonce[static 12],
				   const uint8_t key[static CHACHA20POLY1305_KEY_LEN]);
bool chacha20poly1305_open_nonce96(uint8_t *dst, const uint8_t *src, size_t srclen,
				   const uint8_t *ad, size_t adlen, const uint8_t nonce[static 12],
				   const uint8_t key[static CHACHA20POLY1305_KEY_LEN]);

/*
 * A cipher context bound to one key and one direction, for the data path:
 * the key schedule is set up once, and per packet only the nonce is set.
 * Owned by the keypair that created it.
 */
struct aead_ctx;

int aead_ctx_create(struct aead_ctx **out, const uint8_t key[static CHACHA20POLY1305_KEY_LEN],
		    bool is_encrypt);
void aead_ctx_destroy(struct aead_ctx *ctx);
/*
 * In place allowed (dst == src). No associated data (WireGuard data
 * messages). lane < the count given to crypto_set_lanes() when the context
 * was made: each thread uses its own lane, so that lanes run at once.
 */
bool aead_ctx_seal(struct aead_ctx *ctx, unsigned int lane, uint64_t counter, uint8_t *dst,
		   const uint8_t *src, size_t srclen);
bool aead_ctx_open(struct aead_ctx *ctx, unsigned int lane, uint64_t counter, uint8_t *dst,
		   const uint8_t *src, size_t srclen);

#define CRYPTO_MAX_LANES 64
/* How many lanes contexts made from now on have (1..CRYPTO_MAX_LANES; default 1). */
int crypto_set_lanes(unsigned int n);

/* ---- XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), for cookie replies ---- */

/* HChaCha20: the one primitive OpenSSL lacks, written in hchacha20.c. */
void hchacha20(uint8_t out[static 32], const uint8_t nonce[static HCHACHA20_NONCE_LEN],
	       const uint8_t key[static 32]);

bool xchacha20poly1305_seal(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			    size_t adlen, const uint8_t nonce[static XCHACHA20POLY1305_NONCE_LEN],
			    const uint8_t key[static CHACHA20POLY1305_KEY_LEN]);
bool xchacha20poly1305_open(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
			    size_t adlen, const uint8_t nonce[static XCHACHA20POLY1305_NONCE_LEN],
			    const uint8_t key[static CHACHA20POLY1305_KEY_LEN]);

/* ---- TAI64N ---- */

/*
 * TAI64N of a wall-clock time: 8 bytes big-endian 2^62 + 10 + seconds, 4
 * bytes big-endian nanoseconds. The nanoseconds are rounded down to a
 * multiple of 2^24 so that the timestamp does not leak a fine clock (the
 * driver does the same, one step per 1/50 s).
 */
void tai64n_from_time(uint8_t out[static TAI64N_LEN], int64_t sec, long nsec);
/* tai64n_from_time() of CLOCK_REALTIME now. */
void tai64n_now(uint8_t out[static TAI64N_LEN]);

/* ---- Base64 through OpenSSL, for keys ---- */

/* Encode len bytes; out needs 4 * ceil(len / 3) + 1 bytes. Returns chars written. */
size_t crypto_base64_encode(char *out, const uint8_t *in, size_t len);
/*
 * Decode exactly: returns the decoded length, or -EINVAL on any character
 * outside the alphabet, bad padding or a length not a multiple of 4.
 */
int crypto_base64_decode(uint8_t *out, size_t outcap, const char *in, size_t inlen);

#endif
