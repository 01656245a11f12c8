// SPDX-License-Identifier: MIT
/*
 * The send queue (udp.c): a datagram leaves by the socket of the interface
 * that queued it, whoever flushes; a run of equal-size datagrams to one
 * endpoint arrives as separate datagrams of the right sizes (GSO or not);
 * a sticky source address this host no longer has is forgotten and the
 * datagrams sent again (queued, in a GSO run, or at once) while a valid one
 * is kept; and a peer removed with datagrams still queued is never touched
 * after it is freed (the refused send of a stale source address clears the
 * peer's source, which must happen while the peer exists). Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "iface.h"
#include "log.h"
#include "noise.h"
#include "peer.h"
#include "support.h"
#include "twopeer.h"
#include "udp.h"

/* A receiving socket on 127.0.0.1 and an endpoint that points at it. */
static int receiver(struct endpoint *ep)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	memset(ep, 0, sizeof(*ep));
	ep->addr.in = sa;
	return fd;
}

/* The next datagram on fd (waits up to 2 s): its length, and its source port in *port. */
static ssize_t next_datagram(int fd, uint8_t *buf, size_t cap, uint16_t *port)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	struct timeval tv = {.tv_sec = 2};
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &len);
	*port = ntohs(from.sin_port);
	return n;
}

static void each_datagram_leaves_by_its_own_socket(void **state)
{
	struct scratch *s;
	struct udp u1, u2;
	struct endpoint ep;
	uint8_t a[100], b[100], buf[200];
	uint16_t port;
	int r = receiver(&ep);

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	assert_int_equal(scratch_create(&s), 0);
	assert_int_equal(udp_open(&u1, 0, 0, true), 0);
	assert_int_equal(udp_open(&u2, 0, 0, true), 0);
	/* Interleaved, as an interface's timers and another's data path would queue. */
	udp_queue(&u1, s, &ep, a, sizeof(a), NULL);
	udp_queue(&u2, s, &ep, b, sizeof(b), NULL);
	udp_queue(&u1, s, &ep, a, 50, NULL);
	assert_int_equal(udp_flush(s), 0);
	assert_int_equal(s->out.n, 0);

	assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 100);
	assert_int_equal(port, u1.port);
	assert_int_equal(buf[0], 'a');
	assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 100);
	assert_int_equal(port, u2.port);
	assert_int_equal(buf[0], 'b');
	assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 50);
	assert_int_equal(port, u1.port);
	udp_close(&u1);
	udp_close(&u2);
	close(r);
	scratch_destroy(s);
}

/* 40 datagrams of 1000 bytes and a last of 300: one GSO send where the kernel has it. */
static void a_run_arrives_as_datagrams(void **state)
{
	static uint8_t data[41][1000];
	struct scratch *s;
	struct udp u;
	struct endpoint ep;
	uint8_t buf[70000];
	uint16_t port;
	int r = receiver(&ep), size = 4 << 20;

	(void)state;
	setsockopt(r, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	assert_int_equal(scratch_create(&s), 0);
	assert_int_equal(udp_open(&u, 0, 0, true), 0);
	for (int i = 0; i < 41; i++) {
		memset(data[i], i, sizeof(data[i]));
		udp_queue(&u, s, &ep, data[i], i == 40 ? 300 : 1000, NULL);
	}
	assert_int_equal(udp_flush(s), 0);
	for (int i = 0; i < 41; i++) {
		ssize_t n = next_datagram(r, buf, sizeof(buf), &port);

		assert_int_equal(n, i == 40 ? 300 : 1000);
		assert_int_equal(buf[0], i);
		assert_int_equal(buf[n - 1], i);
	}
	udp_close(&u);
	close(r);
	scratch_destroy(s);
}

/*
 * The peer's endpoint has a sticky source address this host does not have,
 * so the kernel refuses the send and udp.c clears the peer's source. Remove
 * the peer with that datagram queued: the queue must be empty afterwards
 * (under ASan a later flush would otherwise write to the freed peer).
 */
static void removing_a_peer_leaves_nothing_queued_for_it(void **state)
{
	uint8_t priv[32], other_pub[32], data[64] = {0};
	struct scratch *s;
	struct iface *iface;
	struct peer *peer;
	uint64_t next_id = 1;

	(void)state;
	assert_int_equal(scratch_create(&s), 0);
	ts_keypair(priv, NULL);
	ts_keypair(NULL, other_pub);
	assert_int_equal(iface_new(NULL, s, NULL, &next_id,
				   ts_one_peer_config("test0", priv, other_pub), &iface),
			 0);
	assert_int_equal(udp_open(&iface->udp, 0, 0, true), 0);
	peer = iface_find_peer(iface, other_pub);
	assert_non_null(peer);
	close(receiver(&peer->endpoint));
	peer->endpoint.has_src = 1;
	inet_pton(AF_INET, "198.51.100.77", &peer->endpoint.src4);
	peer->has_endpoint = true;

	udp_queue(&iface->udp, s, &peer->endpoint, data, sizeof(data), NULL);
	assert_int_equal(s->out.n, 1);
	assert_int_equal(iface_remove_peer(iface, other_pub), 0);
	assert_int_equal(s->out.n, 0);
	assert_int_equal(udp_flush(s), 0);
	iface_destroy(iface);
	scratch_destroy(s);
}

/* An address no interface of this host has (TEST-NET-2). */
static void stale_src(struct endpoint *ep)
{
	ep->has_src = 1;
	inet_pton(AF_INET, "198.51.100.77", &ep->src4);
}

/*
 * Two datagrams queued for an endpoint whose source address is gone, one
 * for another endpoint with a valid source between them: all three arrive,
 * the stale source is forgotten in the endpoint and the valid one kept.
 */
static void a_stale_source_is_forgotten_and_the_datagram_sent(void **state)
{
	struct scratch *s;
	struct udp u;
	struct endpoint ep, good;
	uint8_t a[100], b[60], buf[200];
	uint16_t port;
	int r = receiver(&ep);

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	good = ep;
	good.has_src = 1;
	good.src4.s_addr = htonl(INADDR_LOOPBACK);
	stale_src(&ep);
	assert_int_equal(scratch_create(&s), 0);
	assert_int_equal(udp_open(&u, 0, 0, true), 0);
	udp_queue(&u, s, &ep, a, sizeof(a), NULL);
	udp_queue(&u, s, &good, b, sizeof(b), NULL);
	udp_queue(&u, s, &ep, a, 50, NULL);
	assert_int_equal(udp_flush(s), 0);
	assert_false(ep.has_src);
	assert_true(good.has_src);
	assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 100);
	assert_int_equal(buf[0], 'a');
	assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 60);
	assert_int_equal(buf[0], 'b');
	assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 50);
	assert_int_equal(port, u.port);
	udp_close(&u);
	close(r);
	scratch_destroy(s);
}

/* A GSO run from a stale source arrives whole, and GSO stays on: it was not to blame. */
static void a_stale_source_does_not_turn_gso_off(void **state)
{
	static uint8_t data[10][1000];
	struct scratch *s;
	struct udp u;
	struct endpoint ep;
	uint8_t buf[2000];
	uint16_t port;
	int r = receiver(&ep);
	bool gso;

	(void)state;
	stale_src(&ep);
	assert_int_equal(scratch_create(&s), 0);
	assert_int_equal(udp_open(&u, 0, 0, true), 0);
	gso = u.gso[0];
	for (int i = 0; i < 10; i++) {
		memset(data[i], i, sizeof(data[i]));
		udp_queue(&u, s, &ep, data[i], sizeof(data[i]), NULL);
	}
	assert_int_equal(udp_flush(s), 0);
	assert_false(ep.has_src);
	assert_int_equal(u.gso[0], gso);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 1000);
		assert_int_equal(buf[0], i);
	}
	udp_close(&u);
	close(r);
	scratch_destroy(s);
}

/* udp_send (handshakes, keepalives) does the same. */
static void udp_send_forgets_a_stale_source(void **state)
{
	struct udp u;
	struct endpoint ep;
	uint8_t a[80], buf[200];
	uint16_t port;
	int r = receiver(&ep);

	(void)state;
	memset(a, 'a', sizeof(a));
	stale_src(&ep);
	assert_int_equal(udp_open(&u, 0, 0, true), 0);
	assert_int_equal(udp_send(&u, &ep, a, sizeof(a)), 0);
	assert_false(ep.has_src);
	assert_int_equal(next_datagram(r, buf, sizeof(buf), &port), 80);
	assert_int_equal(port, u.port);
	udp_close(&u);
	close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_datagram_leaves_by_its_own_socket),
		cmocka_unit_test(a_run_arrives_as_datagrams),
		cmocka_unit_test(removing_a_peer_leaves_nothing_queued_for_it),
		cmocka_unit_test(a_stale_source_is_forgotten_and_the_datagram_sent),
		cmocka_unit_test(a_stale_source_does_not_turn_gso_off),
		cmocka_unit_test(udp_send_forgets_a_stale_source),
	};

	log_init(LOG_LEVEL_ERROR);
	if (crypto_init() != 0)
		return 1;
	noise_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
