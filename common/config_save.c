// SPDX-License-Identifier: MIT
/*
 * The rest of --save (config_edit.h): checking an edited text by loading it
 * (config_edit_verify*: only the one peer or service changed, everything
 * else reads back as before), replacing the file atomically
 * (config_edit_write), and one save from the file on disk to the new text
 * (config_save_*), refused when the file changed since it was loaded.
 */
#include "config_edit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

/* ---- Verify ---- */

static int because(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int because(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int cmp_peer_key(const void *a, const void *b)
{
	const struct peer_config *x = *(const struct peer_config *const *)a;
	const struct peer_config *y = *(const struct peer_config *const *)b;

	return memcmp(x->public_key, y->public_key, KEY_LEN);
}

/* cfg's peers but key's (all when key is NULL), sorted by public key (memcmp will do). */
static const struct peer_config **sorted_others(const struct iface_config *cfg,
						const uint8_t key[KEY_LEN], size_t *n)
{
	const struct peer_config **v = calloc(cfg->n_peers + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!key || memcmp(cfg->peers[i].public_key, key, KEY_LEN) != 0)
			v[(*n)++] = &cfg->peers[i];
	qsort(v, *n, sizeof(*v), cmp_peer_key);
	return v;
}

/*
 * Whether a and b have the same peers apart from key's (NULL: all); *line is the line in
 * a (or b) of the first that differs. Sorted, so that a file of thousands of
 * peers is checked in n log n. -ENOMEM when out of memory.
 */
static int others_same(const struct iface_config *a, const struct iface_config *b,
		       const uint8_t key[KEY_LEN], unsigned int *line)
{
	size_t na, nb, i;
	const struct peer_config **va = sorted_others(a, key, &na);
	const struct peer_config **vb = sorted_others(b, key, &nb);
	int rc = 0;

	if (!va || !vb) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < na && i < nb; i++) {
		if (!peer_config_same(va[i], vb[i])) {
			/* The one with the lower key is missing from the other, or both differ. */
			*line = cmp_peer_key(&va[i], &vb[i]) <= 0 ? va[i]->line : vb[i]->line;
			rc = -EINVAL;
			goto out;
		}
	}
	if (na != nb) {
		*line = i < na ? va[i]->line : vb[i]->line;
		rc = -EINVAL;
	}
out:
	free(va);
	free(vb);
	return rc;
}

/* The first error of diags, or "" . */
static void first_error(const struct diag_list *diags, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < diags->n; i++) {
		if (diags->items[i].severity == DIAG_ERROR) {
			diag_format(buf, len, &diags->items[i]);
			return;
		}
	}
}

/* Load the edited text; -EINVAL with why set to its first error when it does not load. */
static int load_after(const char *path, const char *after, size_t after_len,
		      struct iface_config **cfg, char *why, size_t why_len)
{
	struct diag_list diags = {0};
	char msg[512];
	int rc;

	rc = config_load_string(path, after, after_len, cfg, &diags);
	if (rc != 0) {
		first_error(&diags, msg, sizeof(msg));
		diag_list_clear(&diags);
		if (rc == -ENOMEM)
			return -ENOMEM;
		return because(why, why_len, "the edited file would not load: %s",
			       msg[0] ? msg : strerror(-rc));
	}
	diag_list_clear(&diags);
	return 0;
}

/*
 * Every [Interface] setting alike, those that a reload applies in place too
 * (which iface_config_same_interface() leaves out).
 */
static bool interface_same(const struct iface_config *a, const struct iface_config *b)
{
	return iface_config_same_interface(a, b) && a->has_listen_port == b->has_listen_port &&
	       a->listen_port == b->listen_port &&
	       a->expose_control_port == b->expose_control_port &&
	       a->has_expose_bind_address == b->has_expose_bind_address &&
	       (!a->has_expose_bind_address || sockaddr_equal(&a->expose_bind, &b->expose_bind)) &&
	       a->has_expose_grace == b->has_expose_grace &&
	       a->expose_grace_s == b->expose_grace_s &&
	       a->expose_max_connections == b->expose_max_connections &&
	       a->expose_max_per_source == b->expose_max_per_source &&
	       a->has_expose_idle_timeout == b->has_expose_idle_timeout &&
	       a->expose_idle_timeout_s == b->expose_idle_timeout_s &&
	       redirect_ports_same(a->redirects, a->n_redirects, b->redirects, b->n_redirects);
}

/* The checks of config_edit_verify() on the loaded result. */
static int check_edit(const struct iface_config *before, const struct iface_config *after,
		      const uint8_t key[KEY_LEN], const struct peer_config *pc, char *why,
		      size_t why_len)
{
	const struct peer_config *q = iface_config_find_peer_key(after, key);
	unsigned int line = 0;
	int rc;

	if (!interface_same(before, after))
		return because(why, why_len, "the edit would change [Interface]");
	rc = others_same(before, after, key, &line);
	if (rc == -EINVAL)
		return because(why, why_len, "the edit would change the [Peer] at line %u", line);
	if (rc != 0)
		return rc;
	if (pc && !q)
		return because(why, why_len, "the edited file would not have the peer");
	if (pc && !peer_config_same(q, pc))
		return because(why, why_len, "the peer would not read back as it runs (line %u)",
			       q->line);
	if (!pc && q)
		return because(why, why_len, "the edited file would still have the peer (line %u)",
			       q->line);
	return 0;
}

int config_edit_verify(const char *path, const struct iface_config *before, const char *after,
		       size_t after_len, const uint8_t key[static KEY_LEN],
		       const struct peer_config *pc, char *why, size_t why_len)
{
	struct iface_config *cfg;
	int rc = load_after(path, after, after_len, &cfg, why, why_len);

	if (rc != 0)
		return rc;
	rc = check_edit(before, cfg, key, pc, why, why_len);
	iface_config_free(cfg);
	return rc;
}

/* The checks of config_edit_verify_expose() on the loaded result. */
static int check_expose_edit(const struct iface_config *before, const struct iface_config *after,
			     const char *name, const struct expose_config *e, char *why,
			     size_t why_len)
{
	const struct expose_config *q = iface_config_find_expose(after, name);
	unsigned int line = 0;
	size_t kept = 0;
	int rc;

	if (!interface_same(before, after))
		return because(why, why_len, "the edit would change [Interface]");
	rc = others_same(before, after, NULL, &line);
	if (rc == -EINVAL)
		return because(why, why_len, "the edit would change the [Peer] at line %u", line);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < before->n_exposes; i++) {
		const struct expose_config *o = &before->exposes[i], *p;

		if (strcmp(o->name, name) == 0)
			continue;
		p = iface_config_find_expose(after, o->name);
		if (!p || !expose_config_same(o, p))
			return because(why, why_len,
				       "the edit would change the [Expose %s] at line %u", o->name,
				       o->line);
		kept++;
	}
	if (after->n_exposes != kept + (q ? 1 : 0))
		return because(why, why_len, "the edit would add another [Expose] section");
	if (e && !q)
		return because(why, why_len, "the edited file would not have [Expose %s]", name);
	if (e && !expose_config_same(q, e))
		return because(why, why_len, "[Expose %s] would not read back as it runs (line %u)",
			       name, q->line);
	if (!e && q)
		return because(why, why_len,
			       "the edited file would still have [Expose %s] (line %u)", name,
			       q->line);
	return 0;
}

int config_edit_verify_expose(const char *path, const struct iface_config *before,
			      const char *after, size_t after_len, const char *name,
			      const struct expose_config *e, char *why, size_t why_len)
{
	struct iface_config *cfg;
	int rc = load_after(path, after, after_len, &cfg, why, why_len);

	if (rc != 0)
		return rc;
	rc = check_expose_edit(before, cfg, name, e, why, why_len);
	iface_config_free(cfg);
	return rc;
}

/* ---- Replacing the file ---- */

static int failed_to(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "cannot <what>: <strerror>"; returns -err. */
static int failed_to(char *why, size_t len, int err, const char *fmt, ...)
{
	char what[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, len, "cannot %s: %s", what, strerror(err));
	return -err;
}

static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int config_edit_write(const char *path, const char *text, size_t len, char *why, size_t why_len)
{
	char *copy = strdup(path), *dir, *tmp = NULL;
	struct stat st;
	int fd = -1, dfd, rc;

	if (!copy)
		return failed_to(why, why_len, ENOMEM, "save %s", path);
	dir = dirname(copy);
	if (stat(path, &st) != 0) {
		rc = failed_to(why, why_len, errno, "stat %s", path);
		goto out;
	}
	/* A dot name: never taken for an interface file, should it be left behind. */
	if (asprintf(&tmp, "%s/.%s.save-XXXXXX", dir,
		     strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0) {
		tmp = NULL;
		rc = failed_to(why, why_len, ENOMEM, "save %s", path);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, mode 0600 */
	if (fd < 0) {
		rc = failed_to(why, why_len, errno, "create a temporary file in %s", dir);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/*
	 * Owner first: fchown may clear mode bits that fchmod then sets. A
	 * daemon that is not root (User=tund) cannot give the file to its
	 * owner (root): it keeps the group, and the file becomes the daemon's.
	 */
	if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) != 0 &&
	    (errno != EPERM || fchown(fd, (uid_t)-1, st.st_gid) != 0)) {
		rc = failed_to(why, why_len, errno, "give %s the owner and group of %s", tmp, path);
		goto out;
	}
	if (fchmod(fd, st.st_mode & 07777) != 0) {
		rc = failed_to(why, why_len, errno, "give %s the mode of %s", tmp, path);
		goto out;
	}
	rc = write_all(fd, text, len);
	if (rc != 0) {
		rc = failed_to(why, why_len, -rc, "write %s", tmp);
		goto out;
	}
	if (fsync(fd) != 0) {
		rc = failed_to(why, why_len, errno, "sync %s", tmp);
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		rc = failed_to(why, why_len, errno, "write %s", tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		rc = failed_to(why, why_len, errno, "rename %s to %s", tmp, path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* The rename is done and visible; a failed directory sync only weakens it. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		log_warn("%s: saved, but syncing %s failed: %s", path, dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(copy);
	return rc;
}

/* ---- A save ---- */

static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0)
		return -errno;
	rc = config_read_fd(fd, text, len);
	close(fd);
	return rc;
}

/*
 * The start of every save: out->path, the file's text as it is on disk (it
 * must be what cfg was loaded from) and *before, that text loaded. 0, or
 * -errno with why set.
 */
static int save_begin(const struct iface_config *cfg, struct config_save *out, char **text,
		      size_t *len, struct iface_config **before, char *why, size_t why_len)
{
	struct diag_list diags = {0};
	uint8_t digest[CONFIG_DIGEST_LEN];
	char msg[512];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cfg->path) {
		snprintf(why, why_len, "%s has no file (it was created by tund-wg)", cfg->name);
		return -ENOENT;
	}
	out->path = realpath(cfg->path, NULL);
	if (!out->path)
		return failed_to(why, why_len, errno, "read %s", cfg->path);
	rc = read_file(out->path, text, len);
	if (rc != 0)
		return failed_to(why, why_len, -rc, "read %s", out->path);
	blake2s_hash(digest, *text, *len, NULL, 0);
	if (!crypto_memeq(digest, cfg->text_digest, sizeof(digest))) {
		snprintf(why, why_len,
			 "%s changed on disk since it was loaded; run tunctl reload first",
			 cfg->path);
		return -ESTALE;
	}
	rc = config_load_string(cfg->path, *text, *len, before, &diags);
	if (rc != 0) {
		first_error(&diags, msg, sizeof(msg));
		snprintf(why, why_len, "%s does not load as it is now: %s", cfg->path,
			 msg[0] ? msg : strerror(-rc));
	}
	diag_list_clear(&diags);
	return rc;
}

/* The end of every save: *rc from the edit; on success the digest of the new text. */
static int save_end(int rc, struct config_save *out, struct iface_config *before, char *text,
		    size_t len)
{
	if (rc == 0 && out->text)
		blake2s_hash(out->digest, out->text, out->len, NULL, 0);
	if (rc != 0)
		config_save_clear(out);
	iface_config_free(before);
	config_edit_free(text, len);
	return rc;
}

int config_save_prepare(const struct iface_config *cfg, const uint8_t key[static KEY_LEN],
			const struct peer_config *pc, const char *psk_file, struct config_save *out,
			char *why, size_t why_len)
{
	struct iface_config *before = NULL;
	const struct peer_config *fp;
	char *text = NULL;
	size_t len = 0;
	unsigned int which;
	int rc;

	rc = save_begin(cfg, out, &text, &len, &before, why, why_len);
	if (rc != 0)
		goto out;
	if (pc && pc->has_preshared_key && psk_file && !config_edit_psk_file_ok(psk_file)) {
		snprintf(
			why, why_len,
			"PresharedKeyFile \"%s\" cannot be written into the file: it must be an absolute path without '#' or control characters",
			psk_file);
		rc = -EINVAL;
		goto out;
	}
	fp = iface_config_find_peer_key(before, key);
	which = pc && fp ? config_edit_peer_diff(fp, pc) : 0;
	if (pc && pc->has_preshared_key && psk_file)
		which |= CONFIG_EDIT_PRESHARED_KEY;
	if (pc && pc->has_preshared_key && !psk_file &&
	    (!fp || (which & CONFIG_EDIT_PRESHARED_KEY))) {
		snprintf(
			why, why_len,
			"a preshared key is saved only as PresharedKeyFile: give its file (tunctl --preshared-key-file)");
		rc = -EINVAL;
		goto out;
	}
	if (pc && fp)
		rc = which ? config_edit_set_peer(text, len, pc, which, psk_file, &out->text,
						  &out->len)
			   : 0;
	else if (pc)
		rc = config_edit_add_peer(text, len, pc, psk_file, &out->text, &out->len);
	else
		rc = fp ? config_edit_remove_peer(text, len, key, &out->text, &out->len) : 0;
	if (rc == -EINVAL) {
		snprintf(why, why_len, "a value of the peer cannot be written into the file");
		goto out;
	}
	if (rc != 0) {
		failed_to(why, why_len, -rc, "edit %s", cfg->path);
		goto out;
	}
	if (out->text) /* else the file says it already */
		rc = config_edit_verify(cfg->path, before, out->text, out->len, key, pc, why,
					why_len);
out:
	return save_end(rc, out, before, text, len);
}

int config_save_prepare_expose(const struct iface_config *cfg, const char *name,
			       const struct expose_config *e, struct config_save *out, char *why,
			       size_t why_len)
{
	struct iface_config *before = NULL;
	const struct expose_config *fe;
	const struct peer_config *pc;
	struct expose_config want = {0};
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = save_begin(cfg, out, &text, &len, &before, why, why_len);
	if (rc != 0)
		goto out;
	fe = iface_config_find_expose(before, name);
	if (e) {
		/* Its peer as the file names it: one added without --save is not there. */
		pc = e->peer ? iface_config_find_peer(before, e->peer) : NULL;
		if (!pc) {
			snprintf(why, why_len, "%s has no peer \"%s\" (one added without --save?)",
				 cfg->path, e->peer ? e->peer : "");
			rc = -ENOENT;
			goto out;
		}
		rc = expose_config_copy(&want, e);
		if (rc != 0)
			goto out;
		memcpy(want.peer_key, pc->public_key, KEY_LEN);
		if (!fe || !expose_config_same(fe, &want))
			rc = config_edit_put_expose(text, len, &want, &out->text, &out->len);
	} else if (fe) {
		rc = config_edit_remove_expose(text, len, name, &out->text, &out->len);
	}
	if (rc == -EINVAL) {
		snprintf(why, why_len, "a value of the service cannot be written into the file");
		goto out;
	}
	if (rc != 0) {
		failed_to(why, why_len, -rc, "edit %s", cfg->path);
		goto out;
	}
	if (out->text) /* else the file says it already */
		rc = config_edit_verify_expose(cfg->path, before, out->text, out->len, name,
					       e ? &want : NULL, why, why_len);
out:
	expose_config_clear(&want);
	return save_end(rc, out, before, text, len);
}

int config_save_commit(const struct config_save *s, struct iface_config *cfg, char *why,
		       size_t why_len)
{
	int rc;

	if (!s->text)
		return 0;
	rc = config_edit_write(s->path, s->text, s->len, why, why_len);
	if (rc == 0)
		memcpy(cfg->text_digest, s->digest, sizeof(s->digest));
	return rc;
}

void config_save_clear(struct config_save *s)
{
	free(s->path);
	config_edit_free(s->text, s->len);
	memset(s, 0, sizeof(*s));
}
