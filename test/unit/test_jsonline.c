// SPDX-License-Identifier: MIT
/*
 * jsonline.c, the JSON-lines framing of the localhost tunnels' control
 * connections, over a Unix socketpair in a private libev loop: a line split
 * across reads arrives once, whole; several lines in one read arrive in
 * order (empty lines skipped, a line that is not an object as NULL); the
 * longest line that fits is taken and one byte more ends the connection
 * (-EMSGSIZE); EOF in the middle of a line ends it cleanly without handing
 * out the fragment; an owner that stops (returns false) gets no more lines;
 * output goes out as compact lines, stops reading while it piles up and is
 * refused past JSONLINE_OUT_MAX; jsonline_release hands back what followed
 * the last line.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "jsonline.h"

#define MAX_SEEN 16

struct bench {
	struct ev_loop *loop;
	struct jsonline *conn;
	int peer; /* the other end: the test writes and reads here */
	json_t *seen[MAX_SEEN]; /* the objects handed out, in order (NULL: not an object) */
	unsigned int n_seen;
	bool closed;
	int close_err;
	unsigned int stop_after; /* on_msg returns false at this many lines; 0: never */
};

static bool on_msg(struct jsonline *conn, json_t *msg)
{
	struct bench *b = conn->owner;

	assert_true(b->n_seen < MAX_SEEN);
	b->seen[b->n_seen++] = msg ? json_incref(msg) : NULL;
	if (b->stop_after && b->n_seen == b->stop_after) {
		jsonline_destroy(conn);
		b->conn = NULL;
		return false;
	}
	return true;
}

static void on_close(struct jsonline *conn, int err)
{
	struct bench *b = conn->owner;

	assert_false(b->closed);
	b->closed = true;
	b->close_err = err;
	jsonline_destroy(conn);
	b->conn = NULL;
}

static int setup(void **state)
{
	static struct bench b;
	int sv[2];

	memset(&b, 0, sizeof(b));
	b.loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(b.loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(jsonline_create(b.loop, sv[0], false, on_msg, on_close, &b, &b.conn), 0);
	b.peer = sv[1];
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;

	jsonline_destroy(b->conn);
	for (unsigned int i = 0; i < b->n_seen; i++)
		json_decref(b->seen[i]);
	close(b->peer);
	ev_loop_destroy(b->loop);
	return 0;
}

/* Let the loop handle whatever is ready, a few times over. */
static void turn(struct bench *b)
{
	for (int i = 0; i < 4; i++)
		ev_run(b->loop, EVRUN_NOWAIT);
}

static void put(struct bench *b, const char *text)
{
	size_t len = strlen(text);

	assert_int_equal(write(b->peer, text, len), (ssize_t)len);
	turn(b);
}

static void assert_seen(const struct bench *b, unsigned int i, const char *key, int value)
{
	assert_true(i < b->n_seen);
	assert_non_null(b->seen[i]);
	assert_int_equal(json_integer_value(json_object_get(b->seen[i], key)), value);
}

static void a_line_split_across_reads_arrives_once(void **state)
{
	struct bench *b = *state;

	put(b, "{\"op\":");
	assert_int_equal(b->n_seen, 0);
	put(b, "1,\"n\"");
	assert_int_equal(b->n_seen, 0);
	put(b, ":7}\n");
	assert_int_equal(b->n_seen, 1);
	assert_seen(b, 0, "n", 7);
	assert_false(b->closed);
}

static void several_lines_in_one_read_arrive_in_order(void **state)
{
	struct bench *b = *state;

	put(b, "{\"a\":1}\n\n{\"a\":2}\n[1,2]\nnot json\n{\"a\":3}\n{\"a\":");
	assert_int_equal(b->n_seen, 5);
	assert_seen(b, 0, "a", 1);
	assert_seen(b, 1, "a", 2);
	assert_null(b->seen[2]); /* an array is not an object */
	assert_null(b->seen[3]);
	assert_seen(b, 4, "a", 3);
	put(b, "4}\n");
	assert_int_equal(b->n_seen, 6);
	assert_seen(b, 5, "a", 4);
	assert_false(b->closed);
}

/* {"s":"xxx..."} of exactly len bytes, without the newline. */
static char *object_of(size_t len)
{
	char *s = malloc(len + 2);

	assert_non_null(s);
	memset(s, 'x', len);
	memcpy(s, "{\"s\":\"", 6);
	memcpy(s + len - 2, "\"}", 2);
	s[len] = '\0';
	return s;
}

/* Written in pieces, as the socket takes them, turning the loop in between. */
static void put_all(struct bench *b, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(b->peer, text, len < 1000 ? len : 1000);

		assert_true(n > 0);
		text += n;
		len -= (size_t)n;
		turn(b);
	}
}

static void the_longest_line_fits_one_more_byte_ends_it(void **state)
{
	struct bench *b = *state;
	char *line = object_of(JSONLINE_MAX - 1);

	put_all(b, line, strlen(line));
	put(b, "\n");
	assert_int_equal(b->n_seen, 1);
	assert_int_equal(strlen(json_string_value(json_object_get(b->seen[0], "s"))),
			 JSONLINE_MAX - 1 - 8);
	assert_false(b->closed);
	free(line);

	line = object_of(JSONLINE_MAX);
	put_all(b, line, strlen(line));
	assert_true(b->closed);
	assert_int_equal(b->close_err, -EMSGSIZE);
	assert_int_equal(b->n_seen, 1);
	free(line);
}

static void eof_mid_line_ends_without_the_fragment(void **state)
{
	struct bench *b = *state;

	put(b, "{\"a\":1}\n{\"a\":2");
	assert_int_equal(shutdown(b->peer, SHUT_WR), 0);
	turn(b);
	assert_true(b->closed);
	assert_int_equal(b->close_err, 0);
	assert_int_equal(b->n_seen, 1);
	assert_seen(b, 0, "a", 1);
}

static void an_owner_that_stops_gets_no_more_lines(void **state)
{
	struct bench *b = *state;

	b->stop_after = 2;
	put(b, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
	assert_int_equal(b->n_seen, 2);
	assert_null(b->conn);
	assert_false(b->closed);
}

/* Read what the peer end has now, up to cap - 1 bytes, NUL-terminated. */
static size_t drain(struct bench *b, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && (n = read(b->peer, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

static void output_goes_out_as_compact_lines(void **state)
{
	struct bench *b = *state;
	char buf[256];

	assert_int_equal(jsonline_send(b->conn, json_pack("{s:s,s:i}", "op", "ping", "n", 1)), 0);
	assert_int_equal(jsonline_send(b->conn, json_pack("{s:[i,i]}", "l", 1, 2)), 0);
	turn(b);
	drain(b, buf, sizeof(buf));
	assert_string_equal(buf, "{\"op\":\"ping\",\"n\":1}\n{\"l\":[1,2]}\n");
	/* All written: an idle connection holds no output buffer. */
	assert_null(b->conn->out);
	assert_false(ev_is_active(&b->conn->ww));
	assert_int_equal(jsonline_send(b->conn, NULL), -ENOMEM);
}

/*
 * The peer reads nothing: output piles up in jsonline's buffer once the
 * socket is full. Reading stops while 16 KiB or more wait, the buffer never
 * goes past JSONLINE_OUT_MAX (-ENOBUFS, nothing queued), and once the peer
 * reads, every line arrives whole and reading resumes.
 */
static void piled_up_output_stops_reading_then_is_refused(void **state)
{
	struct bench *b = *state;
	int small = 4096, rc;
	unsigned int sent = 0;
	char *pad = object_of(1000), buf[4096];
	size_t got = 0, lines = 0;

	assert_int_equal(setsockopt(b->conn->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	while ((rc = jsonline_send(b->conn, json_loads(pad, 0, NULL))) == 0) {
		sent++;
		turn(b);
		assert_true(sent < 1000);
	}
	assert_int_equal(rc, -ENOBUFS);
	assert_true(b->conn->out_len - b->conn->out_off <= JSONLINE_OUT_MAX);
	assert_true(b->conn->out_len - b->conn->out_off > JSONLINE_OUT_MAX - 1001);
	assert_false(ev_is_active(&b->conn->rw));
	put(b, "{\"a\":1}\n");
	assert_int_equal(b->n_seen, 0);

	while (lines < sent) {
		size_t n = drain(b, buf, sizeof(buf));

		for (size_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		got += n;
		turn(b);
	}
	assert_int_equal(got, (size_t)sent * 1001);
	assert_true(ev_is_active(&b->conn->rw));
	turn(b);
	assert_int_equal(b->n_seen, 1);
	assert_seen(b, 0, "a", 1);
	free(pad);
}

static bool take_first(struct jsonline *conn, json_t *msg)
{
	struct bench *b = conn->owner;

	(void)msg;
	b->n_seen++;
	return false; /* the owner takes the socket back from here on */
}

static void release_hands_back_what_followed(void **state)
{
	struct bench *b = *state;
	char rest[64];
	size_t rest_len;
	int fd;

	b->conn->on_msg = take_first;
	put_all(b, "{\"op\":\"connect\"}\nraw bytes\0after", 32);
	assert_int_equal(b->n_seen, 1);
	fd = jsonline_release(b->conn, rest, sizeof(rest), &rest_len);
	b->conn = NULL;
	assert_int_equal(rest_len, 15);
	assert_memory_equal(rest, "raw bytes\0after", 15);
	/* The socket is the caller's now, and still open. */
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(read(b->peer, rest, sizeof(rest)), 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_line_split_across_reads_arrives_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(several_lines_in_one_read_arrive_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(the_longest_line_fits_one_more_byte_ends_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(eof_mid_line_ends_without_the_fragment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_owner_that_stops_gets_no_more_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(output_goes_out_as_compact_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(piled_up_output_stops_reading_then_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(release_hands_back_what_followed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
