// SPDX-License-Identifier: MIT
/*
 * jsonline's sessions (the control socket's clients), over a socketpair
 * with no daemon: framing (lines across reads, empty lines, lines that are
 * not JSON objects), a line over the limit (the lines before it answered
 * first, then the owner's reply, then the close, and never inside a
 * streamed line), the high-water mark (lines wait and reading pauses, and
 * both resume when the output is read), a streamed line (its pieces in
 * order, the next reply after it), EOF (what came before it still
 * answered), input wiped after use, and the idle timeout.
 */
#include "jsonline.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_LINE 256

/* The owner's side: what it was handed, what it answers. */
struct bench {
	struct ev_loop *loop;
	struct jsonline *conn; /* NULL once closed */
	int peer;	       /* the client's end, non-blocking */
	int n_msgs, n_null, n_overlong, n_closes, close_err;
	char seen[64][32];	/* the "id" of each object handed out */
	size_t reply_len;	/* pad each reply to about this many bytes */
	int stream_pieces;	/* pieces left of the streamed reply in progress */
	bool streaming;		/* a stream was started and is not finished */
	bool msg_during_stream; /* a line was handed out while streaming (must not happen) */
};

static struct bench *bench_of(struct jsonline *conn)
{
	return conn->owner;
}

/* Streams "{"stream":[0,1,2,...]}" in one piece per call. */
static int stream_piece(struct jsonline *conn)
{
	struct bench *b = bench_of(conn);
	char text[32];
	int n;

	if (b->stream_pieces == 0) {
		b->streaming = false;
		return jsonline_put(conn, "]}\n", 3);
	}
	n = snprintf(text, sizeof(text), "%s%d", b->stream_pieces == 3 ? "" : ",",
		     3 - b->stream_pieces);
	b->stream_pieces--;
	return jsonline_put(conn, text, (size_t)n) == 0 ? 1 : -ENOMEM;
}

/* Answer {"id":X} with {"re":X,"pad":...}; {"id":"stream"} with a streamed line. */
static bool on_msg(struct jsonline *conn, json_t *msg)
{
	struct bench *b = bench_of(conn);
	const char *id = json_string_value(json_object_get(msg, "id"));
	char *pad;
	int rc;

	if (b->streaming)
		b->msg_during_stream = true;
	if (!msg) {
		b->n_null++;
		return jsonline_send(conn, json_pack("{s:b}", "bad", true)) == 0;
	}
	assert_true(b->n_msgs < 64);
	snprintf(b->seen[b->n_msgs++], sizeof(b->seen[0]), "%s", id ? id : "?");
	if (id && strcmp(id, "stream") == 0) {
		b->stream_pieces = 3;
		b->streaming = true;
		assert_int_equal(jsonline_put(conn, "{\"stream\":[", 11), 0);
		rc = jsonline_stream(conn, stream_piece);
		assert_int_equal(rc, 1);
		return true;
	}
	pad = calloc(1, b->reply_len + 1);
	assert_non_null(pad);
	memset(pad, 'p', b->reply_len);
	rc = jsonline_send(conn, json_pack("{s:s,s:s}", "re", id ? id : "?", "pad", pad));
	free(pad);
	return rc == 0;
}

static bool on_overlong(struct jsonline *conn)
{
	struct bench *b = bench_of(conn);

	b->n_overlong++;
	return jsonline_send(conn, json_pack("{s:s}", "error", "too long")) == 0;
}

static void on_close(struct jsonline *conn, int err)
{
	struct bench *b = bench_of(conn);

	b->n_closes++;
	b->close_err = err;
	jsonline_destroy(conn);
	b->conn = NULL;
}

static struct bench *open_bench(size_t high_water, double idle_s)
{
	static struct bench b;
	struct jsonline_session s = {
		.max_line = MAX_LINE,
		.high_water = high_water,
		.idle_timeout_s = idle_s,
		.on_overlong = on_overlong,
	};
	int sv[2];

	memset(&b, 0, sizeof(b));
	b.loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(b.loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	b.peer = sv[1];
	assert_int_equal(jsonline_create_session(b.loop, sv[0], &s, on_msg, on_close, &b, &b.conn),
			 0);
	return &b;
}

static int teardown(void **state)
{
	struct bench *b = *state;

	jsonline_destroy(b->conn);
	close(b->peer);
	ev_loop_destroy(b->loop);
	return 0;
}

static void spin(struct bench *b)
{
	for (int i = 0; i < 20; i++)
		ev_run(b->loop, EVRUN_NOWAIT);
}

static void put(struct bench *b, const char *text)
{
	assert_int_equal(write(b->peer, text, strlen(text)), (ssize_t)strlen(text));
	spin(b);
}

/* Everything the owner wrote so far, as a string (the caller frees it). */
static char *take(struct bench *b)
{
	size_t len = 0, cap = 1 << 20;
	char *out = malloc(cap + 1);
	ssize_t n;

	assert_non_null(out);
	for (int quiet = 0; quiet < 3;) {
		n = read(b->peer, out + len, cap - len);
		if (n > 0) {
			len += (size_t)n;
			quiet = 0;
		} else {
			quiet++;
		}
		spin(b);
	}
	out[len] = '\0';
	return out;
}

static void test_framing(void **state)
{
	struct bench *b = *state = open_bench(1 << 20, 30);
	char *out;

	put(b, "{\"id\":\"a\"}\n\n[1]\nnot json\n{\"id\":");
	assert_int_equal(b->n_msgs, 1);
	assert_int_equal(b->n_null, 2); /* an empty line is skipped */
	put(b, "\"b\"}\n");
	assert_int_equal(b->n_msgs, 2);
	assert_string_equal(b->seen[0], "a");
	assert_string_equal(b->seen[1], "b");
	out = take(b);
	assert_string_equal(out, "{\"re\":\"a\",\"pad\":\"\"}\n{\"bad\":true}\n{\"bad\":true}\n"
				 "{\"re\":\"b\",\"pad\":\"\"}\n");
	free(out);
	assert_int_equal(b->n_closes, 0);
}

/* A line of MAX_LINE - 1 bytes and its newline fits; one byte more does not. */
static void test_too_long(void **state)
{
	struct bench *b = *state = open_bench(1 << 20, 30);
	char line[MAX_LINE + 2];
	char *out;

	memset(line, ' ', sizeof(line));
	memcpy(line, "{\"id\":\"fits\"}", 13);
	line[MAX_LINE - 1] = '\n';
	line[MAX_LINE] = '\0';
	put(b, line);
	assert_int_equal(b->n_msgs, 1);
	assert_int_equal(b->n_overlong, 0);

	memcpy(line, "{\"id\":\"long\"}", 13);
	line[MAX_LINE - 1] = ' ';
	line[MAX_LINE] = '\n';
	line[MAX_LINE + 1] = '\0';
	put(b, "{\"id\":\"before\"}\n");
	put(b, line);
	assert_int_equal(b->n_msgs, 2); /* "long" never handed out */
	assert_int_equal(b->n_overlong, 1);
	out = take(b);
	assert_string_equal(out, "{\"re\":\"fits\",\"pad\":\"\"}\n{\"re\":\"before\",\"pad\":\"\"}\n"
				 "{\"error\":\"too long\"}\n");
	free(out);
	/* Closed once the reply was written, with nothing more read. */
	assert_int_equal(b->n_closes, 1);
	assert_int_equal(b->close_err, -EMSGSIZE);
	assert_null(b->conn);
}

/* Past the high-water mark lines wait and reading pauses; both resume when the output is read. */
static void test_high_water(void **state)
{
	struct bench *b = *state = open_bench(4096, 30);
	char reqs[MAX_LINE] = "", *out;
	int small = 4096, handled;

	/* A small socket buffer, so that output stays queued in jsonline. */
	assert_int_equal(setsockopt(b->conn->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	b->reply_len = 3000;
	for (int i = 0; i < 12; i++)
		snprintf(reqs + strlen(reqs), sizeof(reqs) - strlen(reqs), "{\"id\":\"%d\"}\n", i);
	put(b, reqs); /* one read: all twelve are in the buffer */
	handled = b->n_msgs;
	assert_true(handled >= 1 && handled < 12);
	assert_true(jsonline_pending(b->conn) >= 4096);
	assert_false(ev_is_active(&b->conn->rw));

	/* Two more lines: in the socket, not read. */
	put(b, "{\"id\":\"w1\"}\n{\"id\":\"w2\"}\n");
	assert_int_equal(b->n_msgs, handled);

	out = take(b); /* reading the replies lets the waiting lines through, in order */
	assert_int_equal(b->n_msgs, 14);
	for (int i = 0; i < 12; i++) {
		char id[8];

		snprintf(id, sizeof(id), "%d", i);
		assert_string_equal(b->seen[i], id);
	}
	assert_string_equal(b->seen[12], "w1");
	assert_string_equal(b->seen[13], "w2");
	assert_non_null(strstr(out, "\"re\":\"11\""));
	assert_non_null(strstr(out, "\"re\":\"w1\""));
	assert_true(strstr(out, "\"re\":\"11\"") < strstr(out, "\"re\":\"w1\""));
	assert_true(ev_is_active(&b->conn->rw));
	free(out);
}

/* A streamed line goes out whole before the next reply, and no line is handed out meanwhile. */
static void test_stream_order(void **state)
{
	struct bench *b = *state = open_bench(1 << 20, 30);
	char *out;

	put(b, "{\"id\":\"a\"}\n{\"id\":\"stream\"}\n{\"id\":\"b\"}\n");
	out = take(b);
	assert_string_equal(out, "{\"re\":\"a\",\"pad\":\"\"}\n{\"stream\":[0,1,2]}\n"
				 "{\"re\":\"b\",\"pad\":\"\"}\n");
	free(out);
	assert_false(b->msg_during_stream);
	assert_int_equal(b->n_msgs, 3);
}

/* A line over the limit during a stream: its reply comes after the streamed line, not inside it. */
static void test_too_long_during_stream(void **state)
{
	struct bench *b = *state = open_bench(1 << 20, 30);
	char junk[MAX_LINE + 1];
	char *out;

	memset(junk, 'x', MAX_LINE);
	junk[MAX_LINE] = '\0';
	assert_int_equal(write(b->peer, "{\"id\":\"stream\"}\n", 16), 16);
	assert_int_equal(write(b->peer, junk, MAX_LINE), MAX_LINE);
	out = take(b);
	assert_string_equal(out, "{\"stream\":[0,1,2]}\n{\"error\":\"too long\"}\n");
	free(out);
	assert_int_equal(b->close_err, -EMSGSIZE);
}

/* EOF: the lines before it are answered, a stream finishes, then the session closes. */
static void test_eof(void **state)
{
	struct bench *b = *state = open_bench(1 << 20, 30);
	char *out;

	assert_int_equal(write(b->peer, "{\"id\":\"stream\"}\n{\"id\":\"a\"}\n{\"id\":", 33), 33);
	shutdown(b->peer, SHUT_WR);
	out = take(b);
	assert_string_equal(out, "{\"stream\":[0,1,2]}\n{\"re\":\"a\",\"pad\":\"\"}\n");
	free(out);
	assert_int_equal(b->n_closes, 1);
	assert_int_equal(b->close_err, 0);
}

/* A handled line does not stay in the input buffer (preshared keys). */
static void test_input_wiped(void **state)
{
	struct bench *b = *state = open_bench(1 << 20, 30);
	static const char secret[] = "SECRETSECRETSECRET";

	put(b, "{\"id\":\"k\",\"key\":\"SECRETSECRETSECRET\"}\n{\"id\":\"next");
	assert_int_equal(b->n_msgs, 1);
	assert_null(memmem(b->conn->in, b->conn->max_line, secret, sizeof(secret) - 1));
	assert_int_equal(b->conn->in_len, strlen("{\"id\":\"next"));
}

static void test_idle_timeout(void **state)
{
	struct bench *b = *state = open_bench(1 << 20, 0.02);

	for (int i = 0; i < 100 && b->conn; i++) {
		usleep(2000);
		ev_run(b->loop, EVRUN_NOWAIT);
	}
	assert_int_equal(b->n_closes, 1);
	assert_int_equal(b->close_err, -ETIMEDOUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_framing, teardown),
		cmocka_unit_test_teardown(test_too_long, teardown),
		cmocka_unit_test_teardown(test_high_water, teardown),
		cmocka_unit_test_teardown(test_stream_order, teardown),
		cmocka_unit_test_teardown(test_too_long_during_stream, teardown),
		cmocka_unit_test_teardown(test_eof, teardown),
		cmocka_unit_test_teardown(test_input_wiped, teardown),
		cmocka_unit_test_teardown(test_idle_timeout, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
