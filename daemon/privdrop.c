// SPDX-License-Identifier: MIT
/*
 * Least privilege (`--user NAME`). After set-up, as root: the bounding set
 * loses every capability but the kept ones (while CAP_SETPCAP is still
 * effective), the supplementary groups, gid and uid become NAME's with
 * PR_SET_KEEPCAPS, then the kept capabilities are made effective,
 * inheritable and ambient (hooks and the programs they run keep them).
 * The raw capget/capset system calls: no libcap. setresuid and setresgid
 * apply to every thread (glibc); the capabilities are this thread's: the
 * crypto threads, without PR_SET_KEEPCAPS, keep none.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

#define KEEP_ALWAYS	  (1ULL << CAP_NET_ADMIN)
#define KEEP_IF_PERMITTED (1ULL << CAP_NET_BIND_SERVICE)

struct caps {
	unsigned long long effective, permitted, inheritable;
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d) != 0)
		return -errno;
	c->effective = d[0].effective | (unsigned long long)d[1].effective << 32;
	c->permitted = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	c->inheritable = d[0].inheritable | (unsigned long long)d[1].inheritable << 32;
	return 0;
}

static int caps_set(unsigned long long set)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {0};

	d[0].effective = d[0].permitted = d[0].inheritable = (__u32)set;
	d[1].effective = d[1].permitted = d[1].inheritable = (__u32)(set >> 32);
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -errno;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 63)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

int privdrop_prepare(const char *name, struct privdrop *p, char *why, size_t why_len)
{
	struct passwd *pw;

	*p = (struct privdrop){0};
	if (geteuid() != 0) {
		snprintf(
			why, why_len,
			"--user %s: tund must be started as root to switch users (it runs as uid %u)",
			name, (unsigned int)geteuid());
		return -1;
	}
	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		snprintf(why, why_len, "--user %s: %s", name,
			 errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, why_len, "--user %s: that is root; nothing would be dropped", name);
		return -1;
	}
	p->name = strdup(pw->pw_name);
	if (!p->name) {
		snprintf(why, why_len, "--user %s: %s", name, strerror(ENOMEM));
		return -1;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	/*
	 * The user's groups from now on, root staying root: files the user's
	 * group may read are the daemon's own already at start-up (tund.conf(5)).
	 */
	if (initgroups(p->name, p->gid) != 0) {
		snprintf(why, why_len, "--user %s: cannot take its groups: %s", name,
			 strerror(errno));
		return -1;
	}
	return 0;
}

void privdrop_give_dir(const struct privdrop *p, const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		log_warn("cannot make %s: %s", dir, strerror(errno));
		return;
	}
	if (chown(dir, p->uid, p->gid) != 0)
		log_warn("cannot give %s to %s: %s (sockets made there after the drop will fail)",
			 dir, p->name, strerror(errno));
}

void privdrop_give_file(const struct privdrop *p, const char *path)
{
	if (path && chown(path, p->uid, p->gid) != 0)
		log_warn("cannot give %s to %s: %s", path, p->name, strerror(errno));
}

/* The bounding set: only the kept capabilities, where CAP_SETPCAP allows it. */
static void drop_bounding(unsigned long long keep)
{
	int last = last_cap();

	for (int cap = 0; cap <= last; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			log_warn("cannot narrow the capability bounding set: %s", strerror(errno));
			return;
		}
	}
}

int privdrop_apply(const struct privdrop *p)
{
	struct caps now = {0};
	unsigned long long keep;
	int rc;

	rc = caps_get(&now);
	if (rc != 0) {
		log_error("--user %s: capget: %s", p->name, strerror(-rc));
		return rc;
	}
	if (!(now.permitted & KEEP_ALWAYS)) {
		log_error("--user %s: tund does not hold CAP_NET_ADMIN, which it must keep",
			  p->name);
		return -EPERM;
	}
	keep = KEEP_ALWAYS | (now.permitted & KEEP_IF_PERMITTED);
	if (now.effective & (1ULL << CAP_SETPCAP))
		drop_bounding(keep);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || initgroups(p->name, p->gid) != 0 ||
	    setresgid(p->gid, p->gid, p->gid) != 0 || setresuid(p->uid, p->uid, p->uid) != 0) {
		rc = -errno;
		log_error("--user %s: cannot switch to uid %u gid %u: %s", p->name,
			  (unsigned int)p->uid, (unsigned int)p->gid, strerror(-rc));
		return rc;
	}
	rc = caps_set(keep);
	for (int cap = 0; rc == 0 && cap < 64; cap++)
		if ((keep & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0))
			rc = -errno;
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (rc != 0) {
		log_error("--user %s: cannot keep CAP_NET_ADMIN: %s", p->name, strerror(-rc));
		return rc;
	}
	log_info("running as %s (uid %u, gid %u) with CAP_NET_ADMIN%s", p->name,
		 (unsigned int)p->uid, (unsigned int)p->gid,
		 keep & KEEP_IF_PERMITTED ? " and CAP_NET_BIND_SERVICE" : "");
	return 0;
}

void privdrop_report(void)
{
	struct caps now = {0};

	if (geteuid() == 0 || caps_get(&now) != 0)
		return;
	log_info("running as uid %u gid %u, capabilities %#llx", (unsigned int)geteuid(),
		 (unsigned int)getegid(), now.effective);
	if (!(now.effective & KEEP_ALWAYS))
		log_warn(
			"tund runs as uid %u without CAP_NET_ADMIN: it cannot make interfaces, routes or nftables rules",
			(unsigned int)geteuid());
}

void privdrop_free(struct privdrop *p)
{
	free(p->name);
	p->name = NULL;
}
