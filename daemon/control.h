/* SPDX-License-Identifier: MIT */
/*
 * The control server: tunctl's Unix socket. JSON lines in, JSON lines out
 * (common/control_proto.h), many clients at once, never blocking the loop:
 * reads and writes are non-blocking, a request line is bounded, a client
 * that stops reading stops being read from and is dropped after a timeout.
 * SO_PEERCRED decides who may change state: root, the daemon's own user, or
 * a process whose group is the control group; everyone else who can connect may only read.
 * Changes go through the same functions as config load and reload.
 */
#ifndef TUND_CONTROL_H
#define TUND_CONTROL_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

struct daemon;
struct service;
struct control;

struct control_options {
	const char *path;  /* socket path (ignored when systemd passed a socket) */
	const char *group; /* name or number; when it does not exist the socket is 0600 */
};

/*
 * Listen on the socket systemd passed (socket activation), or create opts'
 * path: a stale socket is replaced, a live one (another tund) is an error.
 * Returns 0 or -errno (logged).
 */
int control_create(struct ev_loop *loop, struct daemon *d, struct service *svc,
		   const struct control_options *opts, struct control **out);
/* Close every client and the socket; remove the path if we created it. */
void control_destroy(struct control *ctl);

#endif
