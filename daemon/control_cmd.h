/* SPDX-License-Identifier: MIT */
/*
 * The control socket's commands (docs/control-protocol.md): a table of name,
 * whether the command changes state, whether its reply is streamed, and its
 * handler; dispatch of one request through it; and the helpers the commands
 * share for arguments, errors and --save. Commands see the daemon only
 * through a struct control_env, so they run without a socket (unit tests).
 * The socket and its client sessions are control.c's.
 */
#ifndef TUND_CONTROL_CMD_H
#define TUND_CONTROL_CMD_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "key.h"

struct config_save;
struct daemon;
struct iface;
struct peer;
struct peer_config;
struct service;

/* What the commands act on; both borrowed. */
struct control_env {
	struct daemon *daemon; /* the interfaces, the config directory */
	struct service *service; /* told when a command reloads or takes interfaces up or down */
};

/* A command's failure: the reply's error code and message. */
struct cmd_error {
	const char *code;
	char message[512];
};

/*
 * A command: args is an object (borrowed; {} when the request had none). On
 * success 0 and *result (a new reference, or NULL for {}); on failure -1
 * and err.
 */
typedef int (*control_cmd_fn)(const struct control_env *env, json_t *args, json_t **result,
			      struct cmd_error *err);

struct control_cmd {
	const char *name;
	bool changes_state; /* refused to a client that may only read */
	bool streams; /* the result says what to stream (show), it is not the reply */
	control_cmd_fn run;
};

/* The command called name, or NULL. */
const struct control_cmd *control_cmd_find(const char *name);
/* The table: *n commands. */
const struct control_cmd *control_cmd_table(size_t *n);

/*
 * One request (req borrowed; NULL when the line was not JSON): checks the
 * version, command and args, refuses a changes_state command when
 * !may_write, and runs it. 0 with *cmd and *result as the command left
 * them, or -1 with err (code always set) and *result NULL.
 */
int control_dispatch(const struct control_env *env, json_t *req, bool may_write,
		     const struct control_cmd **cmd, json_t **result, struct cmd_error *err);

/*
 * Set err and return -1. Short because every command uses it; cmocka.h
 * defines a fail() macro, so a test includes this header first.
 */
static inline __attribute__((format(printf, 3, 4))) int fail(struct cmd_error *err,
							     const char *code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- Arguments (control_cmd.c) ---- */

/* args[name] when it is a string, else NULL. */
const char *arg_string(json_t *args, const char *name);
int need_string(json_t *args, const char *name, const char **out, struct cmd_error *err);
/* args.interface, an interface that is up. */
struct iface *need_iface(const struct control_env *env, json_t *args, struct cmd_error *err);
/* args.peer: a Name= or a public key of iface's. */
const struct peer_config *need_peer(struct iface *iface, json_t *args, struct cmd_error *err);
/* Whether args ask for --save: 1, 0, or -1 when "save" is not a boolean. */
int save_wanted(json_t *args, struct cmd_error *err);
/* --save, after the change is live: write what a save_prepare made (nothing if s is empty). */
int save_commit(struct iface *iface, const struct config_save *s, json_t **result,
		struct cmd_error *err);

/* ---- Results (control_iface.c), for status and show's stream ---- */

/*
 * Text built in memory: show's peers are written into it as JSON text
 * straight from the peer, without a jansson object per peer. failed is set
 * (and nothing more is added) once memory ran out.
 */
struct textbuf {
	char *data; /* not NUL-terminated */
	size_t len, cap;
	bool failed;
};

void textbuf_put(struct textbuf *b, const char *text, size_t len);
void textbuf_free(struct textbuf *b);
/*
 * A peer as show's JSON object (docs/control-protocol.md), pc its
 * configuration (allowed_ips) or NULL: byte for byte what jansson's
 * json_dumps(JSON_COMPACT) makes of the same fields (test_show_json.c).
 */
void peer_json_write(struct textbuf *b, const struct peer *peer, const struct peer_config *pc);
json_t *iface_json(const struct iface *iface, bool detail);

/* ---- The commands ---- */

/* control_iface.c */
int cmd_status(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err);
int cmd_show(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err);
int cmd_reload(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err);
int cmd_up(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err);
int cmd_down(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err);
/* An interface without a file (tund-wg), and its deletion. */
int cmd_create(const struct control_env *env, json_t *args, json_t **result,
	       struct cmd_error *err);
int cmd_delete(const struct control_env *env, json_t *args, json_t **result,
	       struct cmd_error *err);
int cmd_log_level(const struct control_env *env, json_t *args, json_t **result,
		  struct cmd_error *err);
/* control_peer.c */
/* Many peers in one request (args.peers), all or nothing; existing ones updated like set-peer. */
int cmd_add_peers(const struct control_env *env, json_t *args, json_t **result,
		  struct cmd_error *err);
int cmd_add_peer(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err);
int cmd_set_peer(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err);
int cmd_remove_peer(const struct control_env *env, json_t *args, json_t **result,
		    struct cmd_error *err);
/* metrics.c: Prometheus text, streamed by control.c */
int cmd_metrics(const struct control_env *env, json_t *args, json_t **result,
		struct cmd_error *err);
/* control_watch.c: checks the arguments; control.c turns the client into a subscription. */
int cmd_watch(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err);
/* control_expose.c */
int cmd_expose(const struct control_env *env, json_t *args, json_t **result, struct cmd_error *err);
int cmd_unexpose(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err);

#endif
