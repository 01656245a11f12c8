// SPDX-License-Identifier: MIT
/*
 * The Noise handshake between two in-memory sides, with the MACs and
 * cookies of cookie.c: a full exchange derives matching keys that carry
 * data both ways; key confirmation promotes the responder's keypair; a
 * replayed initiation, a wrong PSK, a tampered message, an unknown static
 * key and a flood of initiations are all refused; a cookie reply round-trips.
 * DH(S_priv, S_pub_r) is computed at the first handshake, again after the
 * local key changed, and a low-order peer key (zero DH) is refused.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cookie.h"
#include "crypto.h"
#include "index.h"
#include "noise.h"
#include "support.h"
#include "twopeer.h"
#include "util.h"

/* The two sides are twopeer.h's in-memory peers, each knowing the other. */
struct fixture {
	struct ts_peer a, b;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(crypto_init(), 0);
	noise_init();
	ts_peer_init(&f.a, NULL);
	ts_peer_init(&f.b, NULL);
	ts_peer_meet(&f.a, f.b.local.static_public, NULL);
	ts_peer_meet(&f.b, f.a.local.static_public, NULL);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ts_peer_free(&f->a);
	ts_peer_free(&f->b);
	return 0;
}

/* One full handshake a -> b at time t; returns whether both ends derived keys. */
static bool handshake(struct ts_peer *a, struct ts_peer *b, double t)
{
	return ts_handshake(a, &b->local, &b->kps, t);
}

/* Send len bytes with from's current keypair and open them with to's keypair of that index. */
static bool carry(struct ts_peer *from, struct ts_peer *to, const char *text)
{
	uint8_t buf[256];
	size_t len = strlen(text);
	struct noise_keypair *kp = from->kps.current, *rk;
	struct index_entry *e;
	uint64_t ctr;

	if (!kp)
		return false;
	ctr = kp->sending_counter++;
	memcpy(buf, text, len);
	assert_true(aead_ctx_seal(kp->sending.ctx, 0, ctr, buf, buf, len));
	e = index_table_lookup(to->local.index, INDEX_KEYPAIR, kp->remote_index);
	if (!e)
		return false;
	rk = container_of(e, struct noise_keypair, entry);
	if (!aead_ctx_open(rk->receiving.ctx, 0, ctr, buf, buf, len + 16))
		return false;
	if (!replay_check(&rk->receiving_counter, ctr))
		return false;
	noise_received_with_keypair(&to->kps, rk);
	return memcmp(buf, text, len) == 0;
}

static void test_full_handshake(void **state)
{
	struct fixture *f = *state;

	assert_true(handshake(&f->a, &f->b, 100));
	/* The initiator may send at once; the responder waits for confirmation. */
	assert_non_null(f->a.kps.current);
	assert_true(f->a.kps.current->i_am_the_initiator);
	assert_null(f->b.kps.current);
	assert_non_null(f->b.kps.next);
	assert_true(carry(&f->a, &f->b, "hello from the initiator"));
	assert_non_null(f->b.kps.current);
	assert_null(f->b.kps.next);
	assert_true(carry(&f->b, &f->a, "and back from the responder"));
	assert_int_equal(f->a.hs.state, HANDSHAKE_ZEROED);
	assert_int_equal(f->b.hs.state, HANDSHAKE_ZEROED);
}

static void test_rekey_rotates(void **state)
{
	struct fixture *f = *state;
	struct noise_keypair *first;

	assert_true(handshake(&f->a, &f->b, 100));
	assert_true(carry(&f->a, &f->b, "one"));
	first = f->a.kps.current;
	/* The responder starts the second handshake: roles swap. */
	assert_true(handshake(&f->b, &f->a, 101));
	assert_true(f->b.kps.current->i_am_the_initiator);
	assert_ptr_equal(f->a.kps.current, first); /* a waits for confirmation */
	assert_true(carry(&f->b, &f->a, "two"));
	assert_ptr_not_equal(f->a.kps.current, first);
	assert_ptr_equal(f->a.kps.previous, first);
	assert_true(carry(&f->a, &f->b, "three"));
}

static void test_replayed_initiation_refused(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_initiation init;

	assert_true(noise_handshake_create_initiation(&init, &f->a.hs));
	assert_non_null(noise_handshake_consume_initiation(&init, &f->b.local, 100));
	/* Same timestamp again, even much later: a replay. */
	assert_null(noise_handshake_consume_initiation(&init, &f->b.local, 200));
}

static void test_initiation_flood_refused(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_initiation i1, i2;

	assert_true(noise_handshake_create_initiation(&i1, &f->a.hs));
	assert_non_null(noise_handshake_consume_initiation(&i1, &f->b.local, 100));
	/* A fresh timestamp needs the clock to move by the TAI64N step (2^24 ns). */
	usleep(40000);
	assert_true(noise_handshake_create_initiation(&i2, &f->a.hs));
	assert_null(noise_handshake_consume_initiation(&i2, &f->b.local, 100.001));
	assert_non_null(noise_handshake_consume_initiation(&i2, &f->b.local, 100.5));
}

static void test_wrong_psk_fails(void **state)
{
	struct fixture *f = *state;
	uint8_t psk1[32], psk2[32];

	memset(psk1, 1, 32);
	memset(psk2, 2, 32);
	noise_handshake_set_psk(&f->a.hs, psk1);
	noise_handshake_set_psk(&f->b.hs, psk2);
	assert_false(handshake(&f->a, &f->b, 100));
	assert_null(f->a.kps.current);

	usleep(40000);
	noise_handshake_set_psk(&f->b.hs, psk1);
	assert_true(handshake(&f->a, &f->b, 101));
	assert_true(carry(&f->a, &f->b, "with psk"));
}

static void test_unknown_peer_refused(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_initiation init;

	f->b.knows_peer = false;
	assert_true(noise_handshake_create_initiation(&init, &f->a.hs));
	assert_null(noise_handshake_consume_initiation(&init, &f->b.local, 100));
}

static void test_tampered_messages_refused(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_initiation init, bad;
	struct message_handshake_response resp;
	struct noise_handshake *hs;

	assert_true(noise_handshake_create_initiation(&init, &f->a.hs));
	for (size_t off = 4; off < offsetof(struct message_handshake_initiation, macs); off += 7) {
		bad = init;
		((uint8_t *)&bad)[off] ^= 0x40;
		/* A changed sender index is not authenticated by Noise, only by mac1. */
		if (off >= offsetof(struct message_handshake_initiation, sender_index) &&
		    off < offsetof(struct message_handshake_initiation, unencrypted_ephemeral))
			continue;
		assert_null(noise_handshake_consume_initiation(&bad, &f->b.local, 100));
	}
	hs = noise_handshake_consume_initiation(&init, &f->b.local, 100);
	assert_non_null(hs);
	assert_true(noise_handshake_create_response(&resp, hs));
	resp.encrypted_nothing[3] ^= 1;
	assert_null(noise_handshake_consume_response(&resp, &f->a.local));
	/* The initiation in flight survives a forged response. */
	assert_int_equal(f->a.hs.state, HANDSHAKE_CREATED_INITIATION);
}

static void test_response_for_unknown_index(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_response resp;

	memset(&resp, 0, sizeof(resp));
	resp.header.type = htole32(MESSAGE_HANDSHAKE_RESPONSE);
	resp.receiver_index = htole32(12345);
	assert_null(noise_handshake_consume_response(&resp, &f->a.local));
}

static void test_macs_and_cookie(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_initiation init;
	struct message_handshake_cookie reply;
	union sockaddr_inet src = {0};

	src.in.sin_family = AF_INET;
	src.in.sin_port = htons(51820);
	src.in.sin_addr.s_addr = htonl(0xc0000201);

	assert_true(noise_handshake_create_initiation(&init, &f->a.hs));
	cookie_add_mac_to_packet((uint8_t *)&init, sizeof(init), &f->a.cookie, 100);
	/* Not under load: mac1 suffices. */
	assert_int_equal(cookie_validate_packet(&f->b.checker, (uint8_t *)&init, sizeof(init), &src,
						false, NULL, 100),
			 VALID_MAC_BUT_NO_COOKIE);
	/* Under load, no cookie yet: b answers with a cookie reply. */
	assert_int_equal(cookie_validate_packet(&f->b.checker, (uint8_t *)&init, sizeof(init), &src,
						true, NULL, 100),
			 VALID_MAC_BUT_NO_COOKIE);
	assert_true(cookie_message_create(&reply, (uint8_t *)&init, sizeof(init), init.sender_index,
					  &f->b.checker, &src, 100));
	assert_true(cookie_message_consume(&reply, &f->a.cookie, 100));
	/* A second reply to the same mac1 is refused (have_sent_mac1 is spent). */
	assert_false(cookie_message_consume(&reply, &f->a.cookie, 100));
	/* The retry carries mac2 and passes under load. */
	usleep(40000);
	assert_true(noise_handshake_create_initiation(&init, &f->a.hs));
	cookie_add_mac_to_packet((uint8_t *)&init, sizeof(init), &f->a.cookie, 101);
	assert_int_equal(cookie_validate_packet(&f->b.checker, (uint8_t *)&init, sizeof(init), &src,
						true, NULL, 101),
			 VALID_MAC_WITH_COOKIE);
	/* From another address the cookie is worth nothing. */
	src.in.sin_port = htons(51821);
	assert_int_equal(cookie_validate_packet(&f->b.checker, (uint8_t *)&init, sizeof(init), &src,
						true, NULL, 101),
			 VALID_MAC_BUT_NO_COOKIE);
	/* A flipped bit breaks mac1. */
	init.unencrypted_ephemeral[0] ^= 1;
	assert_int_equal(cookie_validate_packet(&f->b.checker, (uint8_t *)&init, sizeof(init), &src,
						false, NULL, 101),
			 INVALID_MAC);
}

/* DH(S_priv, S_pub_r) waits for the first handshake, and is kept after it. */
static void test_static_static_computed_on_first_use(void **state)
{
	struct fixture *f = *state;
	uint8_t kept[NOISE_PUBLIC_KEY_LEN];

	assert_int_equal(f->a.hs.static_static_generation, 0);
	assert_int_equal(f->b.hs.static_static_generation, 0);
	assert_true(handshake(&f->a, &f->b, 100));
	assert_int_equal(f->a.hs.static_static_generation, f->a.local.key_generation);
	assert_int_equal(f->b.hs.static_static_generation, f->b.local.key_generation);
	memcpy(kept, f->a.hs.precomputed_static_static, sizeof(kept));
	assert_true(carry(&f->a, &f->b, "lazily"));
	assert_true(handshake(&f->b, &f->a, 101));
	assert_memory_equal(kept, f->a.hs.precomputed_static_static, sizeof(kept));
	assert_true(carry(&f->b, &f->a, "computed"));
}

/* A new local private key: each peer's DH(S_priv, S_pub_r) is computed again. */
static void test_private_key_change_recomputes(void **state)
{
	struct fixture *f = *state;
	uint8_t priv[NOISE_PUBLIC_KEY_LEN], old[NOISE_PUBLIC_KEY_LEN];

	assert_true(handshake(&f->a, &f->b, 100));
	memcpy(old, f->a.hs.precomputed_static_static, sizeof(old));
	ts_keypair(priv, NULL);
	assert_int_equal(noise_local_set_private_key(&f->a.local, priv), 0);
	crypto_wipe(priv, sizeof(priv));
	assert_int_not_equal(f->a.hs.static_static_generation, f->a.local.key_generation);
	/* b learns a's new public key, as a reload would tell it. */
	noise_keypairs_clear(&f->b.kps);
	noise_handshake_destroy(&f->b.hs);
	ts_peer_meet(&f->b, f->a.local.static_public, NULL);
	assert_true(handshake(&f->a, &f->b, 101));
	assert_memory_not_equal(old, f->a.hs.precomputed_static_static, sizeof(old));
	assert_true(carry(&f->a, &f->b, "new key"));
	assert_true(handshake(&f->b, &f->a, 102));
	assert_true(carry(&f->b, &f->a, "both ways"));
}

/* A peer whose public key has low order: DH gives zeros and every handshake fails. */
static void test_low_order_public_key_refused(void **state)
{
	struct fixture *f = *state;
	static const uint8_t zero[NOISE_PUBLIC_KEY_LEN];
	/* Order 8 on Curve25519 (the Linux driver's and libsodium's blocklists). */
	static const uint8_t low_order[NOISE_PUBLIC_KEY_LEN] = {
		0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
		0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
		0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
	};
	struct message_handshake_initiation init;

	/* b knows a by the low-order key, and a claims that key as its own. */
	noise_handshake_destroy(&f->b.hs);
	ts_peer_meet(&f->b, low_order, NULL);
	memcpy(f->a.local.static_public, low_order, sizeof(low_order));
	assert_true(noise_handshake_create_initiation(&init, &f->a.hs));
	assert_null(noise_handshake_consume_initiation(&init, &f->b.local, 100));
	assert_int_equal(f->b.hs.static_static_generation, f->b.local.key_generation);
	assert_memory_equal(f->b.hs.precomputed_static_static, zero, sizeof(zero));
	/* Nor can b start a handshake with it. */
	assert_false(noise_handshake_create_initiation(&init, &f->b.hs));
	/* Still refused the second time, from the cached zeros. */
	assert_true(noise_handshake_create_initiation(&init, &f->a.hs));
	assert_null(noise_handshake_consume_initiation(&init, &f->b.local, 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_rotates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed_initiation_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initiation_flood_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_psk_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_peer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_messages_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_for_unknown_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_macs_and_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_static_computed_on_first_use, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private_key_change_recomputes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_low_order_public_key_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
