/* SPDX-License-Identifier: MIT */
/*
 * tunctl's commands. Each command is one function taking its own argv (argv[0]
 * is the command name) and returning one of the exit codes below, which the
 * man page documents and scripts may rely on.
 */
#ifndef TUND_TUNCTL_H
#define TUND_TUNCTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

enum tunctl_exit {
	TUNCTL_EXIT_OK = 0,      /* done */
	TUNCTL_EXIT_FAILURE = 1, /* the command ran and failed: bad key, config errors, I/O */
	TUNCTL_EXIT_USAGE = 2,   /* wrong command line */
	TUNCTL_EXIT_UNREACHABLE = 3, /* tund is not running, or its socket cannot be used */
	TUNCTL_EXIT_DENIED = 4,      /* tund refused: changing state needs root or the group */
};

struct tunctl {
	bool json;               /* --json: machine-readable output on stdout */
	const char *socket_path; /* --socket */
	const char *prog;        /* for messages: "tunctl", "tund-wg" */
};

/* The control socket: $TUND_CONTROL_SOCKET when set and not empty, else the default. */
const char *tunctl_default_socket(void);

struct tunctl_command {
	const char *name;
	const char *args;    /* "[FILE|DIR]" for the usage line */
	const char *summary; /* one line for the command list */
	const char *help;    /* the rest of `tunctl help NAME`, or NULL */
	int (*run)(struct tunctl *t, int argc, char **argv);
};

int cmd_genkey(struct tunctl *t, int argc, char **argv);
int cmd_genpsk(struct tunctl *t, int argc, char **argv);
int cmd_pubkey(struct tunctl *t, int argc, char **argv);
int cmd_check_config(struct tunctl *t, int argc, char **argv);
int cmd_status(struct tunctl *t, int argc, char **argv);
int cmd_show(struct tunctl *t, int argc, char **argv);
int cmd_metrics(struct tunctl *t, int argc, char **argv);
int cmd_add_peer(struct tunctl *t, int argc, char **argv);
/* add-peer --from FILE (cmd_batch.c): the [Peer] sections of FILE ("-": stdin) to iface. */
int tunctl_add_peers_from(struct tunctl *t, const char *cmd, const char *iface, const char *path);
int cmd_set_peer(struct tunctl *t, int argc, char **argv);
int cmd_remove_peer(struct tunctl *t, int argc, char **argv);
int cmd_reload(struct tunctl *t, int argc, char **argv);
int cmd_up_down(struct tunctl *t, int argc, char **argv);
int cmd_log_level(struct tunctl *t, int argc, char **argv);
int cmd_expose(struct tunctl *t, int argc, char **argv);
int cmd_unexpose(struct tunctl *t, int argc, char **argv);
/* watch [IFACE] (cmd_watch.c): the event stream, until tund closes it. */
int cmd_watch(struct tunctl *t, int argc, char **argv);
/* tunctl show: an interface's published services and public ports (cmd_expose.c). */
void print_exposes(json_t *ifc);

/*
 * Send one request to tund and wait for its reply. On success *result gets
 * the reply's result (a reference). On an error reply the message is
 * printed (and the whole reply on stdout with --json). Returns an exit code.
 */
int tunctl_call(struct tunctl *t, const char *command, json_t *args, json_t **result);
/* A connection to tund's control socket (client.c): the fd, or -1 with the reason printed. */
int tunctl_connect(struct tunctl *t);
/* Send text and a newline on fd: 0 or -1. */
int tunctl_send_line(int fd, const char *text);

/*
 * Parse a command's own options: only --help/-h and --json are common to all.
 * Returns -1 to go on, or an exit code to return at once (help printed or a
 * usage error reported). On return *first is the index of the first operand.
 */
int tunctl_parse_common(struct tunctl *t, const struct tunctl_command *cmd, int argc, char **argv,
			int *first);
/* The same, and --save when save is not NULL (then *save is set when given). */
int tunctl_parse_save(struct tunctl *t, const struct tunctl_command *cmd, int argc, char **argv,
		      bool *save, int *first);
/*
 * The options every command has, for the default branch of a command's own
 * getopt loop: c is -j (JSON output) or -h (cmd's help printed), anything
 * else a usage error. Returns -1 to go on, or an exit code to return at once.
 */
int tunctl_common_option(struct tunctl *t, const struct tunctl_command *cmd, int c, char **argv);
const struct tunctl_command *tunctl_find_command(const char *name);
void tunctl_command_help(const struct tunctl_command *cmd, FILE *out);
/* "tunctl: CMD: message" on stderr; returns TUNCTL_EXIT_USAGE. */
int tunctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a JSON value on stdout as one line; takes the reference. */
int output_json(json_t *value);

#endif
