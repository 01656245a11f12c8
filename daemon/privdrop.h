/* SPDX-License-Identifier: MIT */
/*
 * Least privilege: `--user NAME` drops from root to NAME after set-up,
 * keeping CAP_NET_ADMIN (and CAP_NET_BIND_SERVICE when permitted), also as
 * ambient capabilities so that hooks run with them.
 */
#ifndef TUND_PRIVDROP_H
#define TUND_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

struct privdrop {
	char *name;
	uid_t uid;
	gid_t gid;
};

/*
 * Look NAME up before any set-up, and check that the process can switch to
 * it (it runs as root); take the user's supplementary groups already (so
 * that files its group may read count as the daemon's own during set-up).
 * Returns 0, or -1 with why (a sentence) filled in.
 */
int privdrop_prepare(const char *name, struct privdrop *p, char *why, size_t why_len);

/*
 * Give DIR (made if missing, 0755) to the user: tund's own runtime
 * directories, where it makes and removes sockets after the drop.
 */
void privdrop_give_dir(const struct privdrop *p, const char *dir);

/* Give PATH (a socket made before the drop) to the user; NULL: nothing. */
void privdrop_give_file(const struct privdrop *p, const char *path);

/* Switch to the user, keeping the network capabilities. Returns 0 or -errno (logged). */
int privdrop_apply(const struct privdrop *p);

/* Log what the process runs as, and warn when it lacks CAP_NET_ADMIN. */
void privdrop_report(void);

void privdrop_free(struct privdrop *p);

#endif
