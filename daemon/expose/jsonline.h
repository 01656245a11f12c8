/* SPDX-License-Identifier: MIT */
/*
 * A stream connection that carries one JSON object per line each way, with
 * bounded buffers. Lines are read and parsed here and handed to the owner
 * one at a time; output is queued and written when the socket takes it.
 *
 * Two kinds:
 *  - jsonline_create(): the control connections of localhost tunnels
 *    between two tund peers (docs/localhost-tunnels.md). A line over
 *    JSONLINE_MAX ends the connection; so does output piling up past
 *    JSONLINE_OUT_MAX (the other end stopped reading).
 *  - jsonline_create_session(): a client of the control socket. A line
 *    over the limit, like EOF, ends only the input: every line before it is
 *    still answered, then the owner queues one last reply, and the
 *    connection closes once its output is written. Lines wait and reading
 *    pauses while output is at the high-water mark; a reply may be streamed
 *    in pieces (jsonline_stream), and lines wait for it too, so replies
 *    keep the requests' order. Lines may hold secrets (preshared keys):
 *    input is wiped as soon as it is used.
 */
#ifndef TUND_JSONLINE_H
#define TUND_JSONLINE_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JSONLINE_MAX	 4096
#define JSONLINE_OUT_MAX (64 * 1024)

struct jsonline;
/*
 * One line arrived: msg is its JSON object (borrowed), or NULL when the line
 * is not a JSON object. Returns false when the owner destroyed conn (then
 * nothing more is read).
 */
typedef bool (*jsonline_msg_fn)(struct jsonline *conn, json_t *msg);
/*
 * The connection ended: err is 0 for an orderly end (EOF), else -errno
 * (-EMSGSIZE: a line too long; -ENOBUFS: output piled up; -ETIMEDOUT: a
 * session made no progress). The owner must destroy conn.
 */
typedef void (*jsonline_close_fn)(struct jsonline *conn, int err);
/*
 * A session's line was over its max_line, and every line before it has
 * been answered: queue the reply. As jsonline_msg_fn, false when the owner
 * destroyed conn.
 */
typedef bool (*jsonline_overlong_fn)(struct jsonline *conn);
/*
 * The next piece of a streamed line, queued with jsonline_put(). Called
 * when the stream starts and each time the output before has been written.
 * Returns 1 while more is to come, 0 once the line is complete (its newline
 * queued), or -errno to end the connection (on_close). Never destroys conn.
 */
typedef int (*jsonline_stream_fn)(struct jsonline *conn);

/* What a session (jsonline_create_session) is given. */
struct jsonline_session {
	size_t max_line;	/* bytes a line may take, newline included */
	size_t high_water;	/* bytes of unsent output at which lines wait and reading pauses */
	double idle_timeout_s;	/* no bytes either way for this long: on_close(-ETIMEDOUT) */
	jsonline_overlong_fn on_overlong;
};

/* Owned by whoever created it; the owner and callbacks may be handed over. */
struct jsonline {
	struct ev_loop *loop;
	int fd;
	ev_io rw, ww;
	ev_timer idle;	 /* sessions only */
	bool connecting; /* a non-blocking connect() in progress */
	bool is_session;
	bool input_ended;	     /* session: EOF or a line too long; nothing more is read */
	int end_err;		     /* session: on_close's err once the output is written */
	size_t max_line, high_water; /* bytes */
	size_t out_max;		     /* bytes of output queued at most (0: no limit) */
	char *out; /* NULL while nothing waits: an idle connection holds no buffer */
	size_t out_len, out_off, out_cap;
	jsonline_stream_fn stream; /* a streamed line in progress, or NULL */
	jsonline_msg_fn on_msg;
	jsonline_close_fn on_close;
	jsonline_overlong_fn on_overlong;
	void *owner;
	size_t in_len;
	char in[]; /* max_line bytes */
};

/* Manage fd (non-blocking; connecting: its connect() is in progress). 0 or -ENOMEM (fd closed). */
int jsonline_create(struct ev_loop *loop, int fd, bool connecting, jsonline_msg_fn on_msg,
		    jsonline_close_fn on_close, void *owner, struct jsonline **out);
/* A session on an accepted fd (see above). 0 or -ENOMEM (fd closed). */
int jsonline_create_session(struct ev_loop *loop, int fd, const struct jsonline_session *s,
			    jsonline_msg_fn on_msg, jsonline_close_fn on_close, void *owner,
			    struct jsonline **out);
/* Close the socket and free (a session's input wiped). NULL is a no-op. */
void jsonline_destroy(struct jsonline *conn);
/* Queue msg (takes the reference) as one line. 0, or -ENOBUFS / -ENOMEM (nothing queued). */
int jsonline_send(struct jsonline *conn, json_t *msg);
/*
 * Session: stream a line in pieces, fn queueing each (jsonline_put). fn is
 * called now; while the stream lasts no line is handed out. Returns what fn
 * returned the first time (1, 0 or -errno; on -errno the owner ends conn).
 */
int jsonline_stream(struct jsonline *conn, jsonline_stream_fn fn);
/* Queue len bytes of a streamed line as they are. 0, or -ENOBUFS / -ENOMEM (nothing queued). */
int jsonline_put(struct jsonline *conn, const void *text, size_t len);
/*
 * Session: read no more lines; the connection closes (on_close, err 0)
 * once what is queued is written.
 */
void jsonline_end_input(struct jsonline *conn);
/*
 * Write what the socket takes of the queued output now, without waiting
 * for the loop and without any callback (a failure is found by the next
 * write). For output queued in bursts faster than the loop turns.
 */
void jsonline_flush(struct jsonline *conn);
/* Bytes queued and not yet written. */
size_t jsonline_pending(const struct jsonline *conn);
/*
 * Take the socket back and free conn: returns the fd, and copies into rest
 * (cap bytes) what was read after the last line handed out; *rest_len is its
 * length. For a connection that carries raw bytes after its first line.
 */
int jsonline_release(struct jsonline *conn, void *rest, size_t cap, size_t *rest_len);

#endif
