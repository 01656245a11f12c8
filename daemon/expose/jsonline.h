/* SPDX-License-Identifier: MIT */
/*
 * A TCP connection that carries one JSON object per line each way, with
 * bounded buffers: the control connections of localhost tunnels between two
 * tund peers (docs/localhost-tunnels.md). Lines are read and parsed here and
 * handed to the owner one at a time; output is queued and written when the
 * socket takes it. A line over JSONLINE_MAX ends the connection; so does
 * output piling up past JSONLINE_OUT_MAX (the other end stopped reading).
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
 * (-EMSGSIZE: a line too long; -ENOBUFS: output piled up). The owner must
 * destroy conn.
 */
typedef void (*jsonline_close_fn)(struct jsonline *conn, int err);

/* Owned by whoever created it; the owner and callbacks may be handed over. */
struct jsonline {
	struct ev_loop *loop;
	int fd;
	ev_io rw, ww;
	bool connecting; /* a non-blocking connect() in progress */
	char in[JSONLINE_MAX + 1];
	size_t in_len;
	char *out; /* NULL while nothing waits: an idle connection holds no buffer */
	size_t out_len, out_off, out_cap;
	jsonline_msg_fn on_msg;
	jsonline_close_fn on_close;
	void *owner;
};

/* Manage fd (non-blocking; connecting: its connect() is in progress). 0 or -ENOMEM (fd closed). */
int jsonline_create(struct ev_loop *loop, int fd, bool connecting, jsonline_msg_fn on_msg,
		    jsonline_close_fn on_close, void *owner, struct jsonline **out);
/* Close the socket and free. NULL is a no-op. */
void jsonline_destroy(struct jsonline *conn);
/* Queue msg (takes the reference) as one line. 0, or -ENOBUFS / -ENOMEM (nothing queued). */
int jsonline_send(struct jsonline *conn, json_t *msg);
/*
 * Take the socket back and free conn: returns the fd, and copies into rest
 * (cap bytes) what was read after the last line handed out; *rest_len is its
 * length. For a connection that carries raw bytes after its first line.
 */
int jsonline_release(struct jsonline *conn, void *rest, size_t cap, size_t *rest_len);

#endif
