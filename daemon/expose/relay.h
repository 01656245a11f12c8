/* SPDX-License-Identifier: MIT */
/*
 * A TCP relay: the bytes of one connection copied both ways between two
 * non-blocking sockets in the event loop, as a localhost tunnel needs
 * (expose.c). Flow control stays in the kernel: at most one read's worth
 * (RELAY_BUF_LEN) waits per direction, and while it waits the relay stops
 * reading that side, so a slow reader slows the writer down instead of
 * making tund buffer. A FIN is passed on as shutdown(SHUT_WR) once the bytes
 * before it are written (half-close); an error or reset on either side
 * resets both, and so does a connection idle for longer than its idle
 * timeout (no byte moved either way), so that abandoned connections do not
 * hold descriptors for ever.
 */
#ifndef TUND_RELAY_H
#define TUND_RELAY_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"

/*
 * The most a relay reads at once, and so buffers per direction. A stalled
 * reader costs tund this much per direction (a user may hold thousands of
 * such connections open); the kernel's own socket buffers carry the bulk.
 */
#define RELAY_BUF_LEN (16 * 1024)

struct relay;
/*
 * The relay ended (both directions closed, or failed: err is then -errno;
 * -ETIME: reset after its idle timeout).
 * Called once, from the relay's own callbacks; the relay is freed right
 * after it returns, so the owner only unlinks it.
 */
typedef void (*relay_done_fn)(struct relay *r, void *owner, int err);

/* What waits to go one way: read from fd[i], for fd[1 - i]. */
struct relay_dir {
	uint8_t *buf; /* what waits (at most RELAY_BUF_LEN bytes), else NULL */
	size_t off, len;
	bool eof; /* fd[i] sent its FIN */
	bool shut; /* ... and it was passed on: shutdown(fd[1 - i], SHUT_WR) */
	uint64_t bytes;
};

/* Owned by whoever started it (through its list node); freed by itself when done. */
struct relay {
	struct list_head node; /* in the owner's list */
	void *owner; /* given to done; may be set NULL to detach */
	struct ev_loop *loop;
	int fd[2];
	ev_io rd[2], wr[2];
	struct relay_dir dir[2];
	bool connecting; /* fd[1] is still connecting */
	ev_timer connect_timer;
	ev_timer idle_timer; /* re-armed lazily from last_s */
	double idle_s; /* 0: no idle timeout */
	double last_s; /* ev_now() when a byte last moved */
	uint8_t *scratch; /* borrowed: RELAY_BUF_LEN bytes to read into */
	relay_done_fn done;
	void *tag; /* the starter's, untouched here (expose: the user's source entry) */
};

/*
 * Relay between fd_a and fd_b (both non-blocking; fd_b may be connecting,
 * then connect_timeout_s bounds the wait). The first len bytes of pre
 * (at most RELAY_BUF_LEN) go to fd_b before anything read from fd_a.
 * Takes both fds in every case (closed on failure). 0 or -ENOMEM.
 */
int relay_start(struct ev_loop *loop, int fd_a, int fd_b, bool b_connecting,
		double connect_timeout_s, const void *pre, size_t len, uint8_t *scratch,
		relay_done_fn done, void *owner, struct relay **out);
/*
 * Reset both sides once no byte has moved for idle_s seconds (0: never),
 * counted from the last byte, also for a relay already running.
 */
void relay_set_idle_timeout(struct relay *r, double idle_s);
/* Close fd with a reset (RST) rather than a FIN: a failure, not the end of the data. */
void relay_close_reset(int fd);
/* Reset both connections and free, without calling done. NULL is a no-op. */
void relay_destroy(struct relay *r);

#endif
