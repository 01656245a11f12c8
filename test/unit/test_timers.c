// SPDX-License-Identifier: MIT
/*
 * The protocol timers against a controlled clock: the handshake retry of
 * section 6.4 keeps going until it gives up after MAX_TIMER_HANDSHAKES, even
 * when the watcher fires a little early and the jitter is zero, two
 * initiations are never less than REKEY_TIMEOUT apart, and giving up drops
 * the staged packets and wipes the keys later, each with its event for
 * `tunctl watch` (handshake-failing, once, after REKEY_ATTEMPT_TIME, with
 * the packets dropped; session-expired): the e2e tests would wait 90 s. With a session (the other
 * peer of twopeer.h initiated it): the keepalive of section 6.5 after data
 * received (twice when more data came), a new handshake when data sent was
 * not answered (neither when the other direction moved), keys wiped after
 * 3 x REJECT_AFTER_TIME, and the persistent keepalive's rhythm.
 *
 * Mocked at the system boundary (-Wl,--wrap): clock_gettime (CLOCK_BOOTTIME
 * is the test's clock, the others pass through), crypto_random (the jitter
 * can be forced to zero) and sendmsg/sendmmsg (datagrams are counted, never
 * sent). The watcher is fired by hand the way libev does: stopped, then its
 * callback, at a moment the test picks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "events.h"
#include "iface.h"
#include "key.h"
#include "log.h"
#include "noise.h"
#include "peer.h"
#include "send.h"
#include "support.h"
#include "timers.h"
#include "timers_expiry.h"
#include "twopeer.h"
#include "udp.h"
#include "util.h"
#include "wire.h"

/* libev may fire this much before the deadline by our clock (its time is read earlier). */
#define EARLY_S 0.0005
/* libev waits at least this long when a timer is already due (epoll's resolution). */
#define MIN_WAIT_S 0.001

static double mock_now_s = 1000.0;
static bool zero_jitter;
static double sent_at[64]; /* when each initiation went out */
static unsigned int n_sent;
static double keepalive_at[64]; /* when each keepalive went out */
static unsigned int n_keepalives;

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);
int __real_crypto_random(void *buf, size_t len);
int __wrap_crypto_random(void *buf, size_t len);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
int __wrap_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (id != CLOCK_BOOTTIME)
		return __real_clock_gettime(id, ts);
	ts->tv_sec = (time_t)mock_now_s;
	ts->tv_nsec = (long)((mock_now_s - (double)ts->tv_sec) * 1e9);
	return 0;
}

/* The jitter is the only 4-byte draw on this path besides the sender index: keep both random. */
int __wrap_crypto_random(void *buf, size_t len)
{
	int rc = __real_crypto_random(buf, len);
	uint32_t r;

	if (rc == 0 && zero_jitter && len == sizeof(r)) {
		memcpy(&r, buf, sizeof(r));
		r -= r % REKEY_TIMEOUT_JITTER_MAX_MS;
		memcpy(buf, &r, sizeof(r));
	}
	return rc;
}

static void count(const struct iovec *iov, size_t n)
{
	uint8_t type;

	if (n == 0 || iov[0].iov_len == 0)
		return;
	memcpy(&type, iov[0].iov_base, 1);
	if (type == MESSAGE_HANDSHAKE_INITIATION &&
	    iov[0].iov_len == sizeof(struct message_handshake_initiation) &&
	    n_sent < ARRAY_SIZE(sent_at))
		sent_at[n_sent++] = mock_now_s;
	if (type == MESSAGE_DATA && iov[0].iov_len == message_data_len(0) &&
	    n_keepalives < ARRAY_SIZE(keepalive_at))
		keepalive_at[n_keepalives++] = mock_now_s;
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	(void)fd;
	(void)flags;
	count(mh->msg_iov, mh->msg_iovlen);
	return (ssize_t)(mh->msg_iovlen ? mh->msg_iov[0].iov_len : 0);
}

int __wrap_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	(void)fd;
	(void)flags;
	for (unsigned int i = 0; i < n; i++) {
		struct msghdr *mh = &v[i].msg_hdr;

		count(mh->msg_iov, mh->msg_iovlen);
		v[i].msg_len = (unsigned int)(mh->msg_iovlen ? mh->msg_iov[0].iov_len : 0);
	}
	return (int)n;
}

struct fixture {
	struct ts_peer them; /* the other peer, in memory */
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
	mock_now_s = 1000.0;
	zero_jitter = false;
	n_sent = n_keepalives = 0;
	ts_keypair(priv, NULL);
	ts_peer_init(&f.them, NULL);
	assert_int_equal(scratch_create(&f.scratch), 0);
	assert_int_equal(iface_new(ev_default_loop(0), f.scratch, NULL, &f.next_id,
				   ts_one_peer_config("tm0", priv, f.them.local.static_public),
				   &f.iface),
			 0);
	/* Any descriptor: sendmsg and sendmmsg are mocked. */
	f.iface->udp.fd[0] = 0;
	f.peer = list_entry(f.iface->peers.next, struct peer, node);
	assert_true(f.peer->has_endpoint);
	ts_peer_meet(&f.them, f.iface->local.static_public, NULL);
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
 * Fire the peer's watcher as libev would: EARLY_S before the deadline it
 * was armed for, or MIN_WAIT_S from now when that moment has passed.
 * False when the watcher is not armed.
 */
static bool fire(struct peer *peer)
{
	ev_timer *w = &peer->timers.watcher;
	double at = peer->timers.armed_for - EARLY_S;

	if (!ev_is_active(w))
		return false;
	mock_now_s = at > mock_now_s ? at : mock_now_s + MIN_WAIT_S;
	ev_timer_stop(ev_default_loop(0), w);
	w->cb(ev_default_loop(0), w, EV_TIMER);
	return true;
}

/* Fire until n initiations went out or the watcher stops; at most max_fires times. */
static void fire_until(struct peer *peer, unsigned int n, unsigned int max_fires)
{
	while (n_sent < n && max_fires-- && fire(peer))
		;
}

/* Fire until the watcher stops; at most max_fires times. */
static void fire_all(struct peer *peer, unsigned int max_fires)
{
	while (max_fires-- && fire(peer))
		;
	assert_false(ev_is_active(&peer->timers.watcher));
}

/* A session: the other peer initiated, and its first data confirmed our keys. */
static void establish(struct fixture *f)
{
	struct noise_keypairs *kps = &f->peer->keypairs;

	assert_true(ts_handshake(&f->them, &f->iface->local, kps, mock_now_s));
	assert_true(noise_received_with_keypair(kps, kps->next));
	assert_non_null(kps->current);
}

/* b - a is d seconds, give or take how early fire() comes and a hundredth. */
static void assert_apart(double a, double b, double d)
{
	assert_true(b - a >= d - 2 * EARLY_S);
	assert_true(b - a < d + 0.01);
}

static void start_handshake(struct peer *peer)
{
	send_handshake_initiation(peer, false, mock_now_s);
	assert_int_equal(n_sent, 1);
}

/* The watcher comes a hair early and the jitter is zero: the retry waits, it is not lost. */
static void test_early_retry_with_zero_jitter_is_not_lost(void **state)
{
	struct fixture *f = *state;

	zero_jitter = true;
	start_handshake(f->peer);
	fire_until(f->peer, 2, 50);
	assert_int_equal(n_sent, 2);
	assert_true(sent_at[1] - sent_at[0] >= REKEY_TIMEOUT);
	assert_true(sent_at[1] - sent_at[0] < REKEY_TIMEOUT + 0.01);
}

/* Section 6.4: every retry happens, then tund gives up; no two initiations within REKEY_TIMEOUT. */
static void check_retries_then_give_up(void)
{
	unsigned int i;

	for (i = 1; i < n_sent; i++) {
		assert_true(sent_at[i] - sent_at[i - 1] >= REKEY_TIMEOUT);
		assert_true(sent_at[i] - sent_at[i - 1] <=
			    REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX_MS / 1000.0 + 0.01);
	}
	assert_int_equal(n_sent, MAX_TIMER_HANDSHAKES + 2);
}

static void test_every_retry_then_give_up_zero_jitter(void **state)
{
	struct fixture *f = *state;

	zero_jitter = true;
	start_handshake(f->peer);
	fire_until(f->peer, ARRAY_SIZE(sent_at), 1000);
	check_retries_then_give_up();
	assert_int_equal(f->peer->timers.retransmit_handshake, 0);
}

static void test_every_retry_then_give_up_random_jitter(void **state)
{
	struct fixture *f = *state;

	start_handshake(f->peer);
	fire_until(f->peer, ARRAY_SIZE(sent_at), 1000);
	check_retries_then_give_up();
}

/* A response we sent resets the rate limit too: the pending retry waits for it, then goes. */
static void test_retry_after_our_response_is_not_lost(void **state)
{
	struct fixture *f = *state;

	start_handshake(f->peer);
	/* As if we answered the peer's own initiation 3 s later (send_handshake_response). */
	f->peer->last_sent_handshake_s = mock_now_s + 3.0;
	fire_until(f->peer, 2, 50);
	assert_int_equal(n_sent, 2);
	assert_true(sent_at[1] - sent_at[0] >= 3.0 + REKEY_TIMEOUT);
	assert_true(sent_at[1] - sent_at[0] < 3.0 + REKEY_TIMEOUT + 0.01);
}

/* The event stream (events.h): every line, as a watcher gets it. */
static char events_seen[16384];
static size_t events_len;

static void record_event(struct events_watcher *w, const char *line, size_t len)
{
	(void)w;
	assert_true(events_len + len < sizeof(events_seen));
	memcpy(events_seen + events_len, line, len);
	events_len += len;
	events_seen[events_len] = '\0';
}

static struct events_watcher recorder = {.deliver = record_event};

static unsigned int count_of(const char *text, const char *what)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Giving up: the packets waiting for a session are dropped, the keys wiped 3 x REJECT_AFTER_TIME
 * later. */
static void test_give_up_drops_staged_then_wipes(void **state)
{
	struct fixture *f = *state;
	double gave_up;

	zero_jitter = true;
	events_len = 0;
	assert_int_equal(events_subscribe(&recorder), 0);
	peer_stage_keepalive(f->peer);
	start_handshake(f->peer);
	fire_until(f->peer, MAX_TIMER_HANDSHAKES + 2, 1000);
	assert_int_equal(f->peer->staged.count, 1);
	assert_int_equal(count_of(events_seen, "\"handshake-failing\""), 0);
	/* The retry that gives up (the watcher may come a hair early for it first). */
	for (int i = 0; i < 3 && f->peer->staged.count; i++)
		assert_true(fire(f->peer));
	gave_up = mock_now_s;
	assert_apart(sent_at[n_sent - 1], gave_up, REKEY_TIMEOUT);
	assert_int_equal(n_sent, MAX_TIMER_HANDSHAKES + 2);
	assert_int_equal(f->peer->staged.count, 0);
	assert_int_equal(f->iface->stats.tx_staged_dropped, 1);
	assert_apart(gave_up, f->peer->timers.zero_key_material, REJECT_AFTER_TIME * 3);
	assert_int_equal(f->peer->handshake.state, HANDSHAKE_CREATED_INITIATION);
	/* The event: once, when the driver gives up, with what it dropped. */
	assert_int_equal(count_of(events_seen, "{\"event\":\"handshake-failing\""), 1);
	assert_non_null(strstr(events_seen, "\"attempts\":20,\"seconds\":90.0,\"dropped_packets\":1}"));
	assert_int_equal(count_of(events_seen, "\"session-expired\""), 0);
	fire_all(f->peer, 5);
	assert_apart(gave_up, mock_now_s, REJECT_AFTER_TIME * 3);
	assert_int_equal(f->peer->handshake.state, HANDSHAKE_ZEROED);
	assert_int_equal(n_sent, MAX_TIMER_HANDSHAKES + 2);
	assert_int_equal(count_of(events_seen, "{\"event\":\"handshake-failing\""), 1);
	assert_int_equal(count_of(events_seen, "{\"event\":\"session-expired\""), 1);
	assert_int_equal(count_of(events_seen, "\"event\""), 2);
	events_unsubscribe(&recorder);
}

/* Section 6.5: data received and nothing sent back: one keepalive, KEEPALIVE_TIMEOUT later. */
static void test_keepalive_after_data_received(void **state)
{
	struct fixture *f = *state;
	double t0 = mock_now_s;

	establish(f);
	timers_data_received(f->peer, t0);
	fire_all(f->peer, 5);
	assert_int_equal(n_keepalives, 1);
	assert_apart(t0, keepalive_at[0], KEEPALIVE_TIMEOUT);
	assert_int_equal(n_sent, 0);
}

/* More data while a keepalive is pending: another one, KEEPALIVE_TIMEOUT after the first. */
static void test_data_while_pending_gets_another_keepalive(void **state)
{
	struct fixture *f = *state;
	double t0 = mock_now_s;

	establish(f);
	timers_data_received(f->peer, t0);
	mock_now_s += 4;
	timers_data_received(f->peer, mock_now_s);
	fire_all(f->peer, 5);
	assert_int_equal(n_keepalives, 2);
	assert_apart(t0, keepalive_at[0], KEEPALIVE_TIMEOUT);
	assert_apart(keepalive_at[0], keepalive_at[1], KEEPALIVE_TIMEOUT);
}

/* Section 6.5: data sent, nothing heard for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT: a new handshake. */
static void test_new_handshake_when_not_heard_back(void **state)
{
	struct fixture *f = *state;
	double t0 = mock_now_s;

	zero_jitter = true;
	establish(f);
	timers_data_sent(f->peer, t0);
	fire_until(f->peer, 1, 5);
	assert_int_equal(n_sent, 1);
	assert_apart(t0, sent_at[0], KEEPALIVE_TIMEOUT + REKEY_TIMEOUT);
}

/*
 * Both deadlines of section 6.5 fall when the other direction moves in
 * time: something we send is the confirmation a keepalive would be, and
 * anything heard from the peer shows the session is alive.
 */
static void test_cancelled_in_time(void **state)
{
	static const struct {
		void (*arm)(struct peer *peer, double now_s);
		double after_s;
		void (*cancel)(struct peer *peer, double now_s);
		unsigned int *count; /* of what must not go out */
	} cases[] = {
		{timers_data_received, 3, timers_any_authenticated_packet_sent, &n_keepalives},
		{timers_data_sent, KEEPALIVE_TIMEOUT, timers_any_authenticated_packet_received,
		 &n_sent},
	};
	struct fixture *f = *state;

	establish(f);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cases[i].arm(f->peer, mock_now_s);
		mock_now_s += cases[i].after_s;
		cases[i].cancel(f->peer, mock_now_s);
		fire_all(f->peer, 5);
		assert_int_equal(*cases[i].count, 0);
	}
}

/* Section 6.3: no new session for 3 x REJECT_AFTER_TIME: every key is wiped. */
static void test_key_material_wiped(void **state)
{
	struct fixture *f = *state;
	double t0 = mock_now_s;

	establish(f);
	timers_session_derived(f->peer, t0);
	assert_true(fire(f->peer));
	assert_apart(t0, mock_now_s, REJECT_AFTER_TIME * 3);
	assert_null(f->peer->keypairs.current);
	assert_null(f->peer->keypairs.previous);
	assert_null(f->peer->keypairs.next);
	assert_false(ev_is_active(&f->peer->timers.watcher));
}

/* PersistentKeepalive: one at once when set, then one every interval; none once it is off. */
static void test_persistent_keepalive_rhythm(void **state)
{
	struct fixture *f = *state;
	double t0 = mock_now_s;

	establish(f);
	f->peer->persistent_keepalive_s = 25;
	timers_persistent_keepalive_changed(f->peer, t0);
	assert_int_equal(n_keepalives, 1);
	for (int i = 0; i < 3; i++)
		assert_true(fire(f->peer));
	assert_int_equal(n_keepalives, 4);
	for (unsigned int i = 1; i < n_keepalives; i++)
		assert_apart(keepalive_at[i - 1], keepalive_at[i], 25);
	f->peer->persistent_keepalive_s = 0;
	timers_persistent_keepalive_changed(f->peer, mock_now_s);
	fire_all(f->peer, 5);
	assert_int_equal(n_keepalives, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_early_retry_with_zero_jitter_is_not_lost,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_retry_then_give_up_zero_jitter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_retry_then_give_up_random_jitter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_our_response_is_not_lost, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_give_up_drops_staged_then_wipes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_after_data_received, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_data_while_pending_gets_another_keepalive,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_handshake_when_not_heard_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancelled_in_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_material_wiped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistent_keepalive_rhythm, setup, teardown),
	};

	log_init(LOG_LEVEL_ERROR);
	if (crypto_init() != 0)
		return 1;
	noise_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
