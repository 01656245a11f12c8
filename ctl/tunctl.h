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
};

struct tunctl {
	bool json; /* --json: machine-readable output on stdout */
};

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

/*
 * Parse a command's own options: only --help/-h and --json are common to all.
 * Returns -1 to go on, or an exit code to return at once (help printed or a
 * usage error reported). On return *first is the index of the first operand.
 */
int tunctl_parse_common(struct tunctl *t, const struct tunctl_command *cmd, int argc, char **argv,
			int *first);
const struct tunctl_command *tunctl_find_command(const char *name);
void tunctl_command_help(const struct tunctl_command *cmd, FILE *out);
/* "tunctl: CMD: message" on stderr; returns TUNCTL_EXIT_USAGE. */
int tunctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a JSON value on stdout as one line; takes the reference. */
int output_json(json_t *value);

#endif
