// SPDX-License-Identifier: MIT
/*
 * Known answers for every primitive of crypto.c: X25519 (RFC 7748),
 * ChaCha20-Poly1305 (RFC 8439), HChaCha20 and XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha-03), BLAKE2s (RFC 7693 and the BLAKE2 reference
 * keyed vectors), HMAC-BLAKE2s and the Noise KDF (values from Python's
 * hashlib/hmac, which implement BLAKE2s independently: the one-liners are
 * next to each vector), TAI64N, and the per-key AEAD contexts against the
 * one-shot functions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "util.h"
#include "wire.h"

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned int v;

		while (*hex == ' ' || *hex == ':')
			hex++;
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

#define assert_hex_equal(buf, len, hex)                                                            \
	do {                                                                                       \
		uint8_t expect_[1024];                                                             \
		size_t n_ = unhex(expect_, hex);                                                   \
		assert_int_equal(n_, len);                                                         \
		assert_memory_equal(buf, expect_, len);                                            \
	} while (0)

static int setup(void **state)
{
	(void)state;
	return crypto_init();
}

/* RFC 7748 section 5.2 (first vector) and section 6.1. */
static void test_x25519(void **state)
{
	uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32], u[32], out[32];

	(void)state;
	unhex(a, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	unhex(u, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
	assert_true(curve25519_shared(out, a, u));
	assert_hex_equal(out, 32, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");

	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	assert_int_equal(curve25519_public_from_private(pa, a), 0);
	assert_int_equal(curve25519_public_from_private(pb, b), 0);
	assert_hex_equal(pa, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_hex_equal(pb, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_true(curve25519_shared(s1, a, pb));
	assert_true(curve25519_shared(s2, b, pa));
	assert_hex_equal(s1, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_memory_equal(s1, s2, 32);
}

/*
 * The key object gives the same answers: RFC 7748 section 6.1, the same key
 * against several public keys (the static key's use), low-order points
 * refused, and a generated key whose private bytes and public key agree.
 */
static void test_x25519_key(void **state)
{
	uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32], zero[32] = {0}, priv[32], pub[32];
	struct x25519_key *ka, *kg;

	(void)state;
	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(pb, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_int_equal(x25519_key_create(&ka, a, pa), 0);
	assert_hex_equal(pa, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	for (int i = 0; i < 3; i++) {
		assert_true(x25519_key_shared(ka, s1, pb));
		assert_hex_equal(s1, 32,
				 "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
		assert_false(x25519_key_shared(ka, s2, zero));
		assert_memory_equal(s2, zero, 32);
	}
	assert_int_equal(x25519_key_generate(&kg, priv, pub), 0);
	assert_int_equal(curve25519_public_from_private(b, priv), 0);
	assert_memory_equal(b, pub, 32);
	assert_true(x25519_key_shared(kg, s1, pa));
	assert_true(x25519_key_shared(ka, s2, pub));
	assert_memory_equal(s1, s2, 32);
	assert_true(curve25519_shared(s2, priv, pa));
	assert_memory_equal(s1, s2, 32);
	x25519_key_destroy(kg);
	x25519_key_destroy(ka);
	x25519_key_destroy(NULL);
}

/* A low-order point (here u = 0 and u = 1) must be refused: the result would be all zeros. */
static void test_x25519_low_order(void **state)
{
	uint8_t priv[32], pub[32] = {0}, out[32];

	(void)state;
	assert_int_equal(curve25519_generate_private(priv), 0);
	assert_false(curve25519_shared(out, priv, pub));
	pub[0] = 1;
	assert_false(curve25519_shared(out, priv, pub));
}

static void test_clamp_and_generate(void **state)
{
	uint8_t k[32];

	(void)state;
	memset(k, 0xff, sizeof(k));
	curve25519_clamp(k);
	assert_int_equal(k[0], 0xf8);
	assert_int_equal(k[31], 0x7f);
	memset(k, 0, sizeof(k));
	curve25519_clamp(k);
	assert_int_equal(k[31], 0x40);
	for (int i = 0; i < 32; i++) {
		assert_int_equal(curve25519_generate_private(k), 0);
		assert_int_equal(k[0] & 7, 0);
		assert_int_equal(k[31] & 0xc0, 0x40);
	}
}

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				"only one tip for the future, sunscreen would be it.";

/* RFC 8439 section 2.8.2. */
static void test_chacha20poly1305_rfc8439(void **state)
{
	uint8_t key[32], nonce[12], aad[12], ct[256], pt[256];
	size_t len = strlen(sunscreen);

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	unhex(nonce, "070000004041424344454647");
	unhex(aad, "50515253c0c1c2c3c4c5c6c7");
	assert_true(chacha20poly1305_seal_nonce96(ct, (const uint8_t *)sunscreen, len, aad, 12,
						  nonce, key));
	assert_hex_equal(ct, len + 16,
			 "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
			 "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
			 "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
			 "3ff4def08e4b7a9de576d26586cec64b6116"
			 "1ae10b594f09e26a7e902ecbd0600691");
	assert_true(chacha20poly1305_open_nonce96(pt, ct, len + 16, aad, 12, nonce, key));
	assert_memory_equal(pt, sunscreen, len);
	/* Any change to ciphertext, tag or associated data is refused. */
	ct[len + 15] ^= 1;
	assert_false(chacha20poly1305_open_nonce96(pt, ct, len + 16, aad, 12, nonce, key));
	ct[len + 15] ^= 1;
	ct[0] ^= 0x80;
	assert_false(chacha20poly1305_open_nonce96(pt, ct, len + 16, aad, 12, nonce, key));
	ct[0] ^= 0x80;
	aad[0] ^= 1;
	assert_false(chacha20poly1305_open_nonce96(pt, ct, len + 16, aad, 12, nonce, key));
	/* Shorter than a tag. */
	assert_false(chacha20poly1305_open_nonce96(pt, ct, 15, NULL, 0, nonce, key));
}

/* WireGuard's nonce: 4 zero bytes, then the counter little endian. */
static void test_wireguard_nonce_layout(void **state)
{
	uint8_t key[32] = {1}, nonce[12] = {0}, a[64], b[64];
	const uint64_t counter = 0x0102030405060708ULL;

	(void)state;
	unhex(nonce + 4, "0807060504030201");
	assert_true(chacha20poly1305_seal(a, (const uint8_t *)"wireguard", 9, NULL, 0, counter, key));
	assert_true(chacha20poly1305_seal_nonce96(b, (const uint8_t *)"wireguard", 9, NULL, 0,
						  nonce, key));
	assert_memory_equal(a, b, 9 + 16);
	/* The empty message of the handshake: just a tag, open with a NULL destination. */
	assert_true(chacha20poly1305_seal(a, NULL, 0, key, 32, 0, key));
	assert_true(chacha20poly1305_open(NULL, a, 16, key, 32, 0, key));
	assert_false(chacha20poly1305_open(NULL, a, 16, key, 31, 0, key));
}

/* draft-irtf-cfrg-xchacha-03 section 2.2.1. */
static void test_hchacha20(void **state)
{
	uint8_t key[32], nonce[16], out[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	unhex(nonce, "000000090000004a0000000031415927");
	hchacha20(out, nonce, key);
	assert_hex_equal(out, 32, "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
}

/* draft-irtf-cfrg-xchacha-03 appendix A.3.1. */
static void test_xchacha20poly1305(void **state)
{
	uint8_t key[32], nonce[24], aad[12], ct[256], pt[256];
	size_t len = strlen(sunscreen);

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x40 + i);
	unhex(aad, "50515253c0c1c2c3c4c5c6c7");
	assert_true(xchacha20poly1305_seal(ct, (const uint8_t *)sunscreen, len, aad, 12, nonce, key));
	assert_hex_equal(ct, len + 16,
			 "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
			 "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
			 "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
			 "21f9664c97637da9768812f615c68b13b52e"
			 "c0875924c1c7987947deafd8780acf49");
	assert_true(xchacha20poly1305_open(pt, ct, len + 16, aad, 12, nonce, key));
	assert_memory_equal(pt, sunscreen, len);
	nonce[23] ^= 1;
	assert_false(xchacha20poly1305_open(pt, ct, len + 16, aad, 12, nonce, key));
}

/* RFC 7693 appendix B, and the construction hash every WireGuard peer starts from. */
static void test_blake2s_hash(void **state)
{
	uint8_t out[32];

	(void)state;
	blake2s_hash(out, "abc", 3, NULL, 0);
	assert_hex_equal(out, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	/* Split input hashes like the concatenation; output may alias input. */
	blake2s_hash(out, "a", 1, "bc", 2);
	assert_hex_equal(out, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	blake2s_hash(out, NOISE_CONSTRUCTION, strlen(NOISE_CONSTRUCTION), NULL, 0);
	assert_hex_equal(out, 32, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
}

/*
 * BLAKE2 reference keyed vectors (blake2s-kat.txt): key 00..1f, input 00 01 .. of
 * length n. python3: hashlib.blake2s(bytes(range(n)), key=bytes(range(32))).hexdigest()
 */
static void test_blake2s_keyed_reference(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
		{0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
		{1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
		{2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"},
		{63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"},
		{64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"},
		{65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8"},
		{255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd"},
	};
	uint8_t key[32], in[256], out[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		blake2s_keyed(out, 32, key, 32, in, v[i].n);
		assert_hex_equal(out, 32, v[i].hex);
	}
}

/*
 * WireGuard's 16-byte MAC with a 16-byte key (a cookie as key).
 * python3: hashlib.blake2s(b'The quick brown fox', key=b'cookie-key-16byt', digest_size=16)
 */
static void test_blake2s_mac16(void **state)
{
	uint8_t out[16];

	(void)state;
	blake2s_mac(out, (const uint8_t *)"cookie-key-16byt", 16, "The quick brown fox", 19);
	assert_hex_equal(out, 16, "0cf491ed72d82f871ac2425e78361fdf");
}

/* python3: hmac.new(key, b'The quick brown fox jumps over the lazy dog', hashlib.blake2s) */
static void test_hmac_blake2s(void **state)
{
	const char *msg = "The quick brown fox jumps over the lazy dog";
	uint8_t key[64], out[32];

	(void)state;
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	blake2s_hmac(out, (const uint8_t *)"key", 3, msg, strlen(msg));
	assert_hex_equal(out, 32, "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0");
	blake2s_hmac(out, key, 32, msg, strlen(msg));
	assert_hex_equal(out, 32, "f4660dee21c6a48e2a3d695ceedc26693e37b64b5ac5227476578517ee87fe6d");
	/* A 64-byte key is exactly one block: used as is, not hashed. */
	blake2s_hmac(out, key, 64, msg, strlen(msg));
	assert_hex_equal(out, 32, "6f63987034d431c748d559dc973b62adbd732bf4e23c55298188267797da210c");
}

/*
 * KDF1/2/3 with key 00..1f and input "input keying material".
 * python3: H=lambda k,m: hmac.new(k,m,hashlib.blake2s).digest(); t0=H(ck,inp);
 *          t1=H(t0,b'\x01'); t2=H(t0,t1+b'\x02'); t3=H(t0,t2+b'\x03')
 */
static void test_noise_kdf(void **state)
{
	const char *t1 = "d49ec1ae587b690ec2d4c38d1802dd052d26ab3338bc0b665629ece5dfc61ae1";
	const char *t2 = "46d705e3e5cbc140bbfdf613d3733a0c3905bf21d5e1b34213c5a2a883b10553";
	const char *t3 = "17e6966e3a04136a899866a1650d1a323fdcdcb19956e0e97c6be5291850b302";
	const char *in = "input keying material";
	uint8_t ck[32], o1[32], o2[32], o3[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		ck[i] = (uint8_t)i;
	noise_kdf(o1, NULL, NULL, ck, in, strlen(in));
	assert_hex_equal(o1, 32, t1);
	noise_kdf(o1, o2, NULL, ck, in, strlen(in));
	assert_hex_equal(o1, 32, t1);
	assert_hex_equal(o2, 32, t2);
	noise_kdf(o1, o2, o3, ck, in, strlen(in));
	assert_hex_equal(o3, 32, t3);
	/* ck = KDF(ck, ...): the first output may be the key itself. */
	noise_kdf(ck, o2, NULL, ck, in, strlen(in));
	assert_hex_equal(ck, 32, t1);
	assert_hex_equal(o2, 32, t2);
}

static void test_tai64n(void **state)
{
	uint8_t t[12], u[12];

	(void)state;
	/* 2^62 + 10 + 1e9 seconds; 123456789 ns rounded down to a multiple of 2^24. */
	tai64n_from_time(t, 1000000000, 123456789);
	assert_hex_equal(t, 12, "400000003b9aca0a" "07000000");
	tai64n_from_time(t, 0, 0);
	assert_hex_equal(t, 12, "400000000000000a" "00000000");
	/* Later times compare greater byte-wise, as the replay check needs. */
	tai64n_from_time(t, 1700000000, 999999999);
	tai64n_from_time(u, 1700000001, 0);
	assert_true(memcmp(u, t, 12) > 0);
	tai64n_now(t);
	assert_true(memcmp(t, u, 12) > 0);
}

static void test_memeq_and_wipe(void **state)
{
	uint8_t a[40], b[40];

	(void)state;
	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(crypto_memeq(a, b, sizeof(a)));
	b[39] ^= 1;
	assert_false(crypto_memeq(a, b, sizeof(a)));
	crypto_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0);
}

/* The data-path contexts give exactly what the one-shot functions give. */
static void test_aead_ctx(void **state)
{
	struct aead_ctx *enc, *dec;
	uint8_t key[32], buf[1500 + 16], ref[1500 + 16], plain[1500];

	(void)state;
	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	assert_int_equal(crypto_random(plain, sizeof(plain)), 0);
	assert_int_equal(aead_ctx_create(&enc, key, true), 0);
	assert_int_equal(aead_ctx_create(&dec, key, false), 0);
	for (uint64_t c = 0; c < 200; c++) {
		size_t len = (size_t)(c * 7 % 1500);

		memcpy(buf, plain, len);
		assert_true(aead_ctx_seal(enc, 0, c, buf, buf, len)); /* in place */
		assert_true(chacha20poly1305_seal(ref, plain, len, NULL, 0, c, key));
		assert_memory_equal(buf, ref, len + 16);
		assert_true(aead_ctx_open(dec, 0, c, buf, buf, len + 16));
		assert_memory_equal(buf, plain, len);
		/* The wrong counter, or one flipped bit, and it does not open. */
		assert_false(aead_ctx_open(dec, 0, c + 1, ref, ref, len + 16));
		memcpy(ref, buf, 0);
	}
	memcpy(buf, plain, 64);
	assert_true(aead_ctx_seal(enc, 0, 5, buf, buf, 64));
	buf[10] ^= 4;
	assert_false(aead_ctx_open(dec, 0, 5, buf, buf, 64 + 16));
	/* A context refuses the other direction. */
	assert_false(aead_ctx_seal(dec, 0, 0, buf, buf, 10));
	assert_false(aead_ctx_open(enc, 0, 0, buf, buf, 26));
	aead_ctx_destroy(enc);
	aead_ctx_destroy(dec);
	aead_ctx_destroy(NULL);
}

/* Every lane of a context seals and opens as lane 0 does; lanes past the count are refused. */
static void test_aead_ctx_lanes(void **state)
{
	struct aead_ctx *enc, *dec;
	uint8_t key[32], a[300 + 16], b[300 + 16];

	(void)state;
	assert_int_equal(crypto_set_lanes(0), -EINVAL);
	assert_int_equal(crypto_set_lanes(CRYPTO_MAX_LANES + 1), -EINVAL);
	assert_int_equal(crypto_set_lanes(3), 0);
	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	assert_int_equal(crypto_random(a, 300), 0);
	memcpy(b, a, 300);
	assert_int_equal(aead_ctx_create(&enc, key, true), 0);
	assert_int_equal(aead_ctx_create(&dec, key, false), 0);
	assert_true(aead_ctx_seal(enc, 0, 9, a, a, 300));
	assert_true(aead_ctx_seal(enc, 2, 9, b, b, 300));
	assert_memory_equal(a, b, sizeof(a));
	assert_true(aead_ctx_open(dec, 1, 9, b, b, 316));
	assert_false(aead_ctx_seal(enc, 3, 10, a, a, 10));
	assert_false(aead_ctx_open(dec, 3, 9, a, a, 316));
	aead_ctx_destroy(enc);
	aead_ctx_destroy(dec);
	assert_int_equal(crypto_set_lanes(1), 0);
}

static void test_base64(void **state)
{
	uint8_t in[32], out[40];
	char text[64];

	(void)state;
	for (int i = 0; i < 32; i++)
		in[i] = (uint8_t)(i * 37);
	assert_int_equal(crypto_base64_encode(text, in, 32), 44);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), text, 44), 32);
	assert_memory_equal(in, out, 32);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "Zm9v", 4), 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "Zm8=", 4), 2);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "Zg==", 4), 1);
	/* Strict: length, alphabet, padding only at the end, blanks refused, room checked. */
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "Zm9", 3), -EINVAL);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "Zm 9", 4), -EINVAL);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "Z=9v", 4), -EINVAL);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "Zm-v", 4), -EINVAL);
	assert_int_equal(crypto_base64_decode(out, sizeof(out), "", 0), -EINVAL);
	assert_int_equal(crypto_base64_decode(out, 2, "Zm9v", 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x25519),
		cmocka_unit_test(test_x25519_low_order),
		cmocka_unit_test(test_x25519_key),
		cmocka_unit_test(test_clamp_and_generate),
		cmocka_unit_test(test_chacha20poly1305_rfc8439),
		cmocka_unit_test(test_wireguard_nonce_layout),
		cmocka_unit_test(test_hchacha20),
		cmocka_unit_test(test_xchacha20poly1305),
		cmocka_unit_test(test_blake2s_hash),
		cmocka_unit_test(test_blake2s_keyed_reference),
		cmocka_unit_test(test_blake2s_mac16),
		cmocka_unit_test(test_hmac_blake2s),
		cmocka_unit_test(test_noise_kdf),
		cmocka_unit_test(test_tai64n),
		cmocka_unit_test(test_memeq_and_wipe),
		cmocka_unit_test(test_aead_ctx),
		cmocka_unit_test(test_aead_ctx_lanes),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
