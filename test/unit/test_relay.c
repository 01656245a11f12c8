// SPDX-License-Identifier: MIT
/*
 * relay.c, the byte pump of the localhost tunnels, between two socketpairs
 * in a private libev loop (user <-> relay <-> service): bytes go both ways
 * in order, the bytes given at the start go first; a FIN is passed on only
 * after the bytes before it, and the other direction keeps going until its
 * own FIN ends the relay; a reader that stops makes the relay stop reading
 * (at most RELAY_BUF_LEN of its own buffered) and everything arrives once
 * it reads again; a connection idle past its timeout is reset (-ETIME), one
 * that keeps moving is not; a failed write, a refused connect and a connect
 * that never finishes end the relay with their error; relay_destroy and a
 * start with too much to send first close both sides without calling done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay.h"

struct bench {
	struct ev_loop *loop;
	struct relay *r;
	int user, service; /* the test's ends of the two socketpairs */
	int relay_user, relay_service; /* the relay's ends */
	uint8_t scratch[RELAY_BUF_LEN];
	int done_calls;
	int done_err;
};

static void on_done(struct relay *r, void *owner, int err)
{
	struct bench *b = owner;

	assert_ptr_equal(r, b->r);
	b->done_calls++;
	b->done_err = err;
	b->r = NULL;
}

static void pair(int *ours, int *theirs)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	*ours = sv[0];
	*theirs = sv[1];
}

static int setup(void **state)
{
	static struct bench b;

	memset(&b, 0, sizeof(b));
	b.loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(b.loop);
	pair(&b.user, &b.relay_user);
	pair(&b.service, &b.relay_service);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;

	relay_destroy(b->r);
	close(b->user);
	close(b->service);
	ev_loop_destroy(b->loop);
	return 0;
}

static void start(struct bench *b, const char *pre)
{
	assert_int_equal(relay_start(b->loop, b->relay_user, b->relay_service, false, 5.0, pre,
				     pre ? strlen(pre) : 0, b->scratch, on_done, b, &b->r),
			 0);
}

static void turn(struct bench *b)
{
	for (int i = 0; i < 4; i++)
		ev_run(b->loop, EVRUN_NOWAIT);
}

static void on_alarm(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(bool *)w->data = true;
}

/* Run the loop for s seconds, or until the relay is done. */
static void run_for(struct bench *b, double s)
{
	bool rang = false;
	ev_timer alarm;

	ev_timer_init(&alarm, on_alarm, s, 0);
	alarm.data = &rang;
	ev_timer_start(b->loop, &alarm);
	while (!rang && b->done_calls == 0)
		ev_run(b->loop, EVRUN_ONCE);
	ev_timer_stop(b->loop, &alarm);
}

static void put(struct bench *b, int fd, const char *text)
{
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	turn(b);
}

/* What fd has now: read until it would block or cap - 1 bytes; NUL-terminated. */
static ssize_t take(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n = 0;

	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	if (n == 0 && len == 0)
		return 0; /* EOF */
	return len ? (ssize_t)len : -1;
}

/* fd's other end is closed: EOF, or a reset where bytes it had sent were never read. */
static bool closed(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void bytes_go_both_ways_after_what_came_first(void **state)
{
	struct bench *b = *state;
	char buf[128];

	start(b, "PROXY header;");
	put(b, b->user, "GET / HTTP/1.0\r\n");
	assert_int_equal(take(b->service, buf, sizeof(buf)), 29);
	assert_string_equal(buf, "PROXY header;GET / HTTP/1.0\r\n");
	put(b, b->service, "HTTP/1.0 200 OK\r\n");
	put(b, b->user, "more");
	assert_int_equal(take(b->user, buf, sizeof(buf)), 17);
	assert_string_equal(buf, "HTTP/1.0 200 OK\r\n");
	assert_int_equal(take(b->service, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "more");
	assert_int_equal(b->r->dir[0].bytes, 16 + 4);
	assert_int_equal(b->r->dir[1].bytes, 17);
	assert_int_equal(b->done_calls, 0);
}

static void a_half_close_passes_on_and_the_other_way_goes_on(void **state)
{
	struct bench *b = *state;
	char buf[64];

	start(b, NULL);
	put(b, b->user, "request");
	assert_int_equal(shutdown(b->user, SHUT_WR), 0);
	turn(b);
	assert_int_equal(take(b->service, buf, sizeof(buf)), 7);
	assert_int_equal(take(b->service, buf, sizeof(buf)), 0); /* the FIN, after the bytes */
	assert_true(b->r->dir[0].shut);
	/* The answer still flows the other way. */
	put(b, b->service, "answer");
	assert_int_equal(take(b->user, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "answer");
	assert_int_equal(b->done_calls, 0);
	assert_int_equal(shutdown(b->service, SHUT_WR), 0);
	turn(b);
	assert_int_equal(take(b->user, buf, sizeof(buf)), 0);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->done_err, 0);
}

/*
 * The service reads nothing: the relay keeps at most one read's worth,
 * stops reading the user, and the kernel holds the rest. When the service
 * reads again, every byte arrives, in order.
 */
static void a_stalled_reader_stops_the_relay_reading(void **state)
{
	struct bench *b = *state;
	enum {
		TOTAL = 1024 * 1024
	};
	uint8_t *data = malloc(TOTAL), *got = malloc(TOTAL);
	size_t sent = 0, recvd = 0;
	int small = 8192;

	assert_non_null(data);
	assert_non_null(got);
	for (size_t i = 0; i < TOTAL; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(setsockopt(b->relay_service, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
			 0);
	start(b, NULL);
	for (int i = 0; i < 200 && sent < TOTAL; i++) {
		ssize_t n = write(b->user, data + sent, TOTAL - sent);

		if (n > 0)
			sent += (size_t)n;
		turn(b);
	}
	assert_true(sent < TOTAL); /* the writer was slowed down */
	/* What the relay took is bounded by its buffer and the service's socket, not by the writer.
	 */
	assert_true(b->r->dir[0].bytes <= 4 * RELAY_BUF_LEN);
	assert_non_null(b->r->dir[0].buf);
	assert_true(b->r->dir[0].len <= RELAY_BUF_LEN);
	assert_false(ev_is_active(&b->r->rd[0]));
	assert_true(ev_is_active(&b->r->wr[1]));

	while (recvd < TOTAL) {
		ssize_t n = read(b->service, got + recvd, TOTAL - recvd);

		if (n > 0)
			recvd += (size_t)n;
		if (sent < TOTAL && (n = write(b->user, data + sent, TOTAL - sent)) > 0)
			sent += (size_t)n;
		turn(b);
	}
	assert_memory_equal(got, data, TOTAL);
	assert_null(b->r->dir[0].buf);
	assert_true(ev_is_active(&b->r->rd[0]));
	free(data);
	free(got);
}

static void an_idle_relay_is_reset(void **state)
{
	struct bench *b = *state;
	char buf[8];

	start(b, NULL);
	relay_set_idle_timeout(b->r, 0.3);
	/* Traffic every 50 ms for 0.4 s keeps it alive (with room for a busy machine). */
	for (int i = 0; i < 8; i++) {
		put(b, b->user, "x");
		run_for(b, 0.05);
		assert_int_equal(take(b->service, buf, sizeof(buf)), 1);
	}
	assert_int_equal(b->done_calls, 0);
	run_for(b, 1.0);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->done_err, -ETIME);
	/* Both sides were closed. */
	assert_true(closed(b->user));
	assert_true(closed(b->service));
}

static void a_failed_write_ends_the_relay(void **state)
{
	struct bench *b = *state;

	start(b, NULL);
	close(b->service);
	b->service = -1;
	put(b, b->user, "into the void");
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->done_err, -EPIPE);
	assert_true(closed(b->user));
}

/* A TCP socket on 127.0.0.1 connecting to a port nothing listens on. */
static int refused_connect(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;

	/* A port that was free a moment ago: bound, then closed without listening. */
	assert_true(probe >= 0);
	assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&sa, &len), 0);
	close(probe);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_true(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS ||
		    errno == ECONNREFUSED);
	return fd;
}

static void a_refused_connect_ends_the_relay(void **state)
{
	struct bench *b = *state;

	close(b->relay_service);
	b->relay_service = refused_connect();
	assert_int_equal(relay_start(b->loop, b->relay_user, b->relay_service, true, 5.0, "pre", 3,
				     b->scratch, on_done, b, &b->r),
			 0);
	run_for(b, 2.0);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->done_err, -ECONNREFUSED);
}

/*
 * A connect that never finishes: the relay's socket to the service never
 * becomes writable (its send buffer is full and nobody reads), so the
 * connect timeout ends it. Nothing the user sent was read meanwhile.
 */
static void a_connect_that_never_finishes_times_out(void **state)
{
	struct bench *b = *state;
	char fill[4096];

	memset(fill, 'f', sizeof(fill));
	while (write(b->relay_service, fill, sizeof(fill)) > 0)
		;
	assert_int_equal(relay_start(b->loop, b->relay_user, b->relay_service, true, 0.1, NULL, 0,
				     b->scratch, on_done, b, &b->r),
			 0);
	put(b, b->user, "early");
	assert_false(ev_is_active(&b->r->rd[0]));
	run_for(b, 2.0);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->done_err, -ETIMEDOUT);
	assert_true(closed(b->user));
}

static void destroy_and_oversized_start_close_both_sides(void **state)
{
	struct bench *b = *state;
	static uint8_t big[RELAY_BUF_LEN + 1];
	struct relay *r;

	start(b, NULL);
	relay_destroy(b->r);
	b->r = NULL;
	assert_true(closed(b->user));
	assert_true(closed(b->service));
	assert_int_equal(b->done_calls, 0);

	close(b->user);
	close(b->service);
	pair(&b->user, &b->relay_user);
	pair(&b->service, &b->relay_service);
	assert_int_equal(relay_start(b->loop, b->relay_user, b->relay_service, false, 5.0, big,
				     sizeof(big), b->scratch, on_done, b, &r),
			 -ENOMEM);
	assert_null(r);
	assert_true(closed(b->user));
	assert_true(closed(b->service));
	assert_int_equal(b->done_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bytes_go_both_ways_after_what_came_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_half_close_passes_on_and_the_other_way_goes_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_stalled_reader_stops_the_relay_reading, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_idle_relay_is_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_write_ends_the_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(a_refused_connect_ends_the_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(a_connect_that_never_finishes_times_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(destroy_and_oversized_start_close_both_sides, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
