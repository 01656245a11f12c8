// SPDX-License-Identifier: MIT
/*
 * The receiving side's defence under load (receive.c): handshake messages
 * that carry a valid cookie get their Diffie-Hellman work only up to
 * UNDER_LOAD_HANDSHAKES_PER_TURN per turn of the loop; the rest of the turn's
 * are dropped and counted as rate limited, so that a flood cannot keep the
 * loop from the established sessions' data. The other peer is in memory
 * (twopeer.h); the UDP socket is mocked.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cookie.h"
#include "crypto.h"
#include "iface.h"
#include "key.h"
#include "noise.h"
#include "peer.h"
#include "receive.h"
#include "support.h"
#include "twopeer.h"

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
int __wrap_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	(void)fd;
	(void)flags;
	return (ssize_t)(mh->msg_iovlen ? mh->msg_iov[0].iov_len : 0);
}

int __wrap_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	(void)fd;
	(void)flags;
	for (unsigned int i = 0; i < n; i++)
		v[i].msg_len =
			(unsigned int)(v[i].msg_hdr.msg_iovlen ? v[i].msg_hdr.msg_iov[0].iov_len
							       : 0);
	return (int)n;
}

struct fixture {
	struct ts_peer them;
	struct scratch *scratch;
	struct iface *iface;
	struct peer *peer;
	uint64_t next_id;
};

static int setup(void **state)
{
	static struct fixture f;
	uint8_t priv[KEY_LEN];

	memset(&f, 0, sizeof(f));
	ts_keypair(priv, NULL);
	ts_peer_init(&f.them, NULL);
	assert_int_equal(scratch_create(&f.scratch), 0);
	assert_int_equal(iface_new(ev_default_loop(0), f.scratch, NULL, &f.next_id,
				   ts_one_peer_config("rx0", priv, f.them.local.static_public),
				   &f.iface),
			 0);
	f.iface->udp.fd[0] = 0; /* sendmsg and sendmmsg are mocked */
	f.peer = list_entry(f.iface->peers.next, struct peer, node);
	ts_peer_meet(&f.them, f.iface->local.static_public, NULL);
	/* Every handshake message finds the interface under load. */
	f.iface->under_load_threshold = 0;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->iface->udp.fd[0] = -1;
	iface_destroy(f->iface);
	scratch_destroy(f->scratch);
	ts_peer_free(&f->them);
	return 0;
}

/*
 * An initiation from them at time t, from 198.51.100.<i>:40000, with the
 * mac2 of the cookie that address gets (asked of the interface's checker
 * the way a cookie reply would bring it), handed to receive_packet().
 */
static void initiation_with_cookie(struct fixture *f, unsigned int i, double t)
{
	struct message_handshake_initiation m;
	struct message_handshake_cookie reply;
	struct endpoint from;

	memset(&from, 0, sizeof(from));
	from.addr.in.sin_family = AF_INET;
	from.addr.in.sin_port = htons(40000);
	from.addr.in.sin_addr.s_addr = htonl(0xc6336400 + i);
	assert_true(noise_handshake_create_initiation(&m, &f->them.hs));
	cookie_add_mac_to_packet((uint8_t *)&m, sizeof(m), &f->them.cookie, t);
	assert_true(cookie_message_create(&reply, (uint8_t *)&m, sizeof(m), m.sender_index,
					  &f->iface->cookie_checker, &from.addr, t));
	assert_true(cookie_message_consume(&reply, &f->them.cookie, t));
	cookie_add_mac_to_packet((uint8_t *)&m, sizeof(m), &f->them.cookie, t);
	/* Initiations made within 1/60 s carry the same timestamp: not a replay here. */
	memset(f->peer->handshake.latest_timestamp, 0, sizeof(f->peer->handshake.latest_timestamp));
	receive_packet(f->iface, (uint8_t *)&m, sizeof(m), &from, t);
}

static void test_handshake_budget_per_turn(void **state)
{
	struct fixture *f = *state;
	const unsigned int extra = 4;
	double t = 1000.0;

	receive_turn_begin(f->scratch);
	/* Each from its own address (no per-source limit), 30 ms apart (no per-peer flood guard).
	 */
	for (unsigned int i = 0; i < UNDER_LOAD_HANDSHAKES_PER_TURN + extra; i++, t += 0.03)
		initiation_with_cookie(f, i, t);
	assert_int_equal(f->iface->stats.rx_ratelimited, extra);
	assert_int_equal(f->peer->rx_bytes, UNDER_LOAD_HANDSHAKES_PER_TURN *
						    sizeof(struct message_handshake_initiation));

	/* The next turn has its budget again. */
	receive_turn_begin(f->scratch);
	initiation_with_cookie(f, 200, t);
	assert_int_equal(f->iface->stats.rx_ratelimited, extra);
	assert_int_equal(f->peer->rx_bytes, (UNDER_LOAD_HANDSHAKES_PER_TURN + 1) *
						    sizeof(struct message_handshake_initiation));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_budget_per_turn, setup, teardown),
	};

	if (crypto_init() != 0)
		return 1;
	noise_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
