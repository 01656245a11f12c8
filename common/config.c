// SPDX-License-Identifier: MIT
/*
 * The configuration model: diagnostics, freeing, the checks that need a
 * whole file (missing keys, duplicates, overlaps, permissions), and loading
 * a directory. Parsing lines and values is config_ini.c's.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "control_proto.h"
#include "crypto.h"

/* ---- Diagnostics ---- */

void diag_add(struct diag_list *d, enum diag_severity sev, const char *file, unsigned int line,
	      const char *fmt, ...)
{
	struct diag *item;
	va_list ap;
	char *msg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag *items = realloc(d->items, cap * sizeof(*items));

		if (!items)
			return;
		d->items = items;
		d->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	item = &d->items[d->n];
	item->severity = sev;
	item->line = line;
	item->msg = msg;
	item->file = strdup(file ? file : "");
	if (!item->msg || !item->file) {
		free(item->msg);
		free(item->file);
		return;
	}
	d->n++;
	if (sev == DIAG_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
}

char *diag_format(char *buf, size_t len, const struct diag *item)
{
	const char *sev = item->severity == DIAG_ERROR ? "error" : "warning";

	if (item->line)
		snprintf(buf, len, "%s:%u: %s: %s", item->file, item->line, sev, item->msg);
	else
		snprintf(buf, len, "%s: %s: %s", item->file, sev, item->msg);
	return buf;
}

void diag_print(const struct diag_list *d, FILE *out)
{
	char buf[1024];

	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", diag_format(buf, sizeof(buf), &d->items[i]));
}

void diag_list_clear(struct diag_list *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

/* ---- Model ---- */

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void peer_config_clear(struct peer_config *pc)
{
	free(pc->name);
	free(pc->allowed_ips);
	free(pc->endpoint_host);
	free(pc->allow_expose);
	free(pc->expose_from);
	crypto_wipe(pc, sizeof(*pc));
}

int peer_config_copy(struct peer_config *dst, const struct peer_config *src)
{
	*dst = *src;
	dst->name = NULL;
	dst->allowed_ips = NULL;
	dst->endpoint_host = NULL;
	dst->allow_expose = NULL;
	dst->expose_from = NULL;
	if (src->name && !(dst->name = strdup(src->name)))
		goto nomem;
	if (src->endpoint_host && !(dst->endpoint_host = strdup(src->endpoint_host)))
		goto nomem;
	if (src->n_allowed_ips) {
		dst->allowed_ips = calloc(src->n_allowed_ips, sizeof(*dst->allowed_ips));
		if (!dst->allowed_ips)
			goto nomem;
		memcpy(dst->allowed_ips, src->allowed_ips,
		       src->n_allowed_ips * sizeof(*dst->allowed_ips));
	}
	if (src->n_allow_expose) {
		dst->allow_expose = calloc(src->n_allow_expose, sizeof(*dst->allow_expose));
		if (!dst->allow_expose)
			goto nomem;
		memcpy(dst->allow_expose, src->allow_expose,
		       src->n_allow_expose * sizeof(*dst->allow_expose));
	}
	if (src->n_expose_from) {
		dst->expose_from = calloc(src->n_expose_from, sizeof(*dst->expose_from));
		if (!dst->expose_from)
			goto nomem;
		memcpy(dst->expose_from, src->expose_from,
		       src->n_expose_from * sizeof(*dst->expose_from));
	}
	return 0;
nomem:
	peer_config_clear(dst);
	return -ENOMEM;
}

int iface_config_reserve_peer(struct iface_config *cfg)
{
	size_t have = cfg->cap_peers > cfg->n_peers ? cfg->cap_peers : cfg->n_peers, want;
	struct peer_config *np;

	if (cfg->n_peers < cfg->cap_peers)
		return 0;
	want = have < 4 ? 8 : have * 2;
	if (want > SIZE_MAX / sizeof(*np))
		return -ENOMEM;
	/* The entries hold preshared keys: the old array is wiped, not just freed. */
	np = crypto_realloc_wiped(cfg->peers, have * sizeof(*np), want * sizeof(*np));
	if (!np)
		return -ENOMEM;
	memset(np + cfg->n_peers, 0, (want - cfg->n_peers) * sizeof(*np));
	cfg->peers = np;
	cfg->cap_peers = want;
	return 0;
}

/* ---- Peers by public key ---- */

/* Keys in a file are the administrator's: no attacker chooses them, so any mix will do. */
static size_t key_slot(const uint8_t key[static KEY_LEN], size_t len)
{
	uint64_t w[4];

	memcpy(w, key, sizeof(w));
	return (size_t)(((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b97f4a7c15ULL) >> 32) & (len - 1);
}

/* Put peers[i] in the table, or find that its key is already there. */
static void key_slots_put(struct iface_config *cfg, size_t i)
{
	size_t h = key_slot(cfg->peers[i].public_key, cfg->key_slots_len);

	while (cfg->key_slots[h]) {
		if (memcmp(cfg->peers[cfg->key_slots[h] - 1].public_key, cfg->peers[i].public_key,
			   KEY_LEN) == 0)
			return; /* a duplicate (a file with errors): the first one wins */
		h = (h + 1) & (cfg->key_slots_len - 1);
	}
	cfg->key_slots[h] = (uint32_t)(i + 1);
}

/* Index every peer, in a table at most half full. False (no index) when out of memory. */
static bool key_slots_build(struct iface_config *cfg)
{
	size_t len = 16;

	if (cfg->n_peers >= UINT32_MAX)
		return false;
	while (len < 2 * cfg->n_peers)
		len *= 2;
	if (len != cfg->key_slots_len) {
		uint32_t *slots = calloc(len, sizeof(*slots));

		if (!slots)
			return false;
		free(cfg->key_slots);
		cfg->key_slots = slots;
		cfg->key_slots_len = len;
	} else {
		memset(cfg->key_slots, 0, len * sizeof(*cfg->key_slots));
	}
	for (size_t i = 0; i < cfg->n_peers; i++)
		key_slots_put(cfg, i);
	cfg->key_slots_peers = cfg->n_peers;
	return true;
}

static bool key_slots_fresh(const struct iface_config *cfg)
{
	return cfg->key_slots_len && cfg->key_slots_peers == cfg->n_peers;
}

/* The index of the peer with this key in cfg->peers, or -1. */
static ptrdiff_t find_key(const struct iface_config *cfg, const uint8_t key[static KEY_LEN])
{
	/* The table is a cache of cfg's own array: filling it changes nothing cfg says. */
	struct iface_config *c = (struct iface_config *)cfg;

	if (key_slots_fresh(c) || key_slots_build(c)) {
		for (size_t h = key_slot(key, c->key_slots_len); c->key_slots[h];
		     h = (h + 1) & (c->key_slots_len - 1)) {
			size_t i = c->key_slots[h] - 1;

			/* Public keys: no need for a constant-time compare. */
			if (memcmp(c->peers[i].public_key, key, KEY_LEN) == 0)
				return (ptrdiff_t)i;
		}
		return -1;
	}
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (memcmp(cfg->peers[i].public_key, key, KEY_LEN) == 0)
			return (ptrdiff_t)i;
	return -1;
}

int iface_config_put_peer(struct iface_config *cfg, const struct peer_config *pc)
{
	struct peer_config copy;
	ptrdiff_t i;
	bool fresh;

	if (peer_config_copy(&copy, pc) != 0)
		return -ENOMEM;
	i = find_key(cfg, pc->public_key);
	fresh = key_slots_fresh(cfg);
	if (i >= 0) {
		cfg->n_expose_peers -= cfg->peers[i].n_allow_expose > 0;
		cfg->n_expose_peers += copy.n_allow_expose > 0;
		peer_config_clear(&cfg->peers[i]);
		cfg->peers[i] = copy;
		return 0;
	}
	if (iface_config_reserve_peer(cfg) != 0) {
		peer_config_clear(&copy);
		return -ENOMEM;
	}
	cfg->n_expose_peers += copy.n_allow_expose > 0;
	cfg->peers[cfg->n_peers++] = copy;
	/* Kept fresh while at most half full; past that the next lookup rebuilds it larger. */
	if (fresh && 2 * cfg->n_peers <= cfg->key_slots_len) {
		key_slots_put(cfg, cfg->n_peers - 1);
		cfg->key_slots_peers = cfg->n_peers;
	}
	return 0;
}

/* The slot of the table that holds peers[i], or SIZE_MAX (not indexed: a duplicate). */
static size_t key_slot_of(const struct iface_config *cfg, size_t i)
{
	for (size_t h = key_slot(cfg->peers[i].public_key, cfg->key_slots_len); cfg->key_slots[h];
	     h = (h + 1) & (cfg->key_slots_len - 1))
		if (cfg->key_slots[h] == i + 1)
			return h;
	return SIZE_MAX;
}

/*
 * Empty slot h of the table, moving the entries of its run that would no
 * longer be found past the hole back into it (linear probing's deletion).
 */
static void key_slots_delete(struct iface_config *cfg, size_t h)
{
	size_t mask = cfg->key_slots_len - 1;

	for (size_t j = (h + 1) & mask; cfg->key_slots[j]; j = (j + 1) & mask) {
		size_t home =
			key_slot(cfg->peers[cfg->key_slots[j] - 1].public_key, cfg->key_slots_len);

		/* Stays when its home is in (h, j], cyclically. */
		if (((j - home) & mask) < ((j - h) & mask))
			continue;
		cfg->key_slots[h] = cfg->key_slots[j];
		h = j;
	}
	cfg->key_slots[h] = 0;
}

int iface_config_drop_peer(struct iface_config *cfg, const uint8_t key[static KEY_LEN])
{
	ptrdiff_t found = find_key(cfg, key);
	size_t i, last, h;

	if (found < 0)
		return -ENOENT;
	i = (size_t)found;
	last = cfg->n_peers - 1;
	/*
	 * The last peer takes the dropped one's place (the order of peers
	 * means nothing: a save sorts them), and the index follows both, so
	 * that a drop costs the same at any size.
	 */
	if (key_slots_fresh(cfg) && (h = key_slot_of(cfg, i)) != SIZE_MAX) {
		key_slots_delete(cfg, h);
		if (i != last && (h = key_slot_of(cfg, last)) != SIZE_MAX)
			cfg->key_slots[h] = (uint32_t)(i + 1);
		cfg->key_slots_peers = h != SIZE_MAX ? last : SIZE_MAX;
	} else {
		cfg->key_slots_peers = SIZE_MAX; /* rebuilt by the next lookup */
	}
	cfg->n_expose_peers -= cfg->peers[i].n_allow_expose > 0;
	peer_config_clear(&cfg->peers[i]);
	if (i != last)
		cfg->peers[i] = cfg->peers[last];
	cfg->n_peers = last;
	/* The last entry's old place still holds its preshared key. */
	crypto_wipe(&cfg->peers[last], sizeof(*cfg->peers));
	return 0;
}

void iface_config_swap_peer(struct iface_config *a, size_t i, struct iface_config *b, size_t j)
{
	struct peer_config tmp = a->peers[i];
	bool a_exposes = tmp.n_allow_expose > 0, b_exposes = b->peers[j].n_allow_expose > 0;

	a->peers[i] = b->peers[j];
	b->peers[j] = tmp;
	a->n_expose_peers = a->n_expose_peers - a_exposes + b_exposes;
	b->n_expose_peers = b->n_expose_peers - b_exposes + a_exposes;
	crypto_wipe(&tmp, sizeof(tmp));
}

void iface_config_free(struct iface_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_peers; i++)
		peer_config_clear(&cfg->peers[i]);
	free(cfg->peers);
	free(cfg->key_slots);
	for (size_t i = 0; i < cfg->n_exposes; i++)
		expose_config_clear(&cfg->exposes[i]);
	free(cfg->exposes);
	free(cfg->redirects);
	free(cfg->path);
	free(cfg->addresses);
	free_strings(cfg->dns, cfg->n_dns);
	free_strings(cfg->pre_up, cfg->n_pre_up);
	free_strings(cfg->post_up, cfg->n_post_up);
	free_strings(cfg->pre_down, cfg->n_pre_down);
	free_strings(cfg->post_down, cfg->n_post_down);
	crypto_wipe(cfg, sizeof(*cfg));
	free(cfg);
}

struct iface_config *iface_config_new_fileless(const char *name)
{
	struct iface_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	snprintf(cfg->name, sizeof(cfg->name), "%s", name);
	/* wg-quick (or whoever configures it) adds the routes: tund adds none. */
	cfg->table = TABLE_OFF;
	return cfg;
}

bool config_iface_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=+.-") ==
	       len;
}

const struct peer_config *iface_config_find_peer(const struct iface_config *cfg, const char *id)
{
	uint8_t key[KEY_LEN];

	/* A Name is at most 32 of [A-Za-z0-9._-]: never a base64 key (44 characters). */
	if (key_from_base64(key, id, NULL) == 0)
		return iface_config_find_peer_key(cfg, key);
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].name && strcmp(cfg->peers[i].name, id) == 0)
			return &cfg->peers[i];
	return NULL;
}

static bool same_strings(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool same_prefixes(const struct ip_prefix *a, size_t na, const struct ip_prefix *b,
			  size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t len = a[i].family == AF_INET ? 4 : 16;

		if (a[i].family != b[i].family || a[i].cidr != b[i].cidr ||
		    memcmp(a[i].addr.bytes, b[i].addr.bytes, len) != 0)
			return false;
	}
	return true;
}

bool iface_config_same_interface(const struct iface_config *a, const struct iface_config *b)
{
	return a->has_private_key == b->has_private_key &&
	       crypto_memeq(a->private_key, b->private_key, KEY_LEN) && a->fwmark == b->fwmark &&
	       same_prefixes(a->addresses, a->n_addresses, b->addresses, b->n_addresses) &&
	       a->mtu == b->mtu && same_strings(a->dns, a->n_dns, b->dns, b->n_dns) &&
	       a->table == b->table && a->table_id == b->table_id &&
	       same_strings(a->pre_up, a->n_pre_up, b->pre_up, b->n_pre_up) &&
	       same_strings(a->post_up, a->n_post_up, b->post_up, b->n_post_up) &&
	       same_strings(a->pre_down, a->n_pre_down, b->pre_down, b->n_pre_down) &&
	       same_strings(a->post_down, a->n_post_down, b->post_down, b->n_post_down);
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool peer_config_same(const struct peer_config *a, const struct peer_config *b)
{
	return crypto_memeq(a->public_key, b->public_key, KEY_LEN) &&
	       same_string(a->name, b->name) && a->has_preshared_key == b->has_preshared_key &&
	       crypto_memeq(a->preshared_key, b->preshared_key, KEY_LEN) &&
	       same_prefixes(a->allowed_ips, a->n_allowed_ips, b->allowed_ips, b->n_allowed_ips) &&
	       same_string(a->endpoint_host, b->endpoint_host) &&
	       a->endpoint_port == b->endpoint_port &&
	       a->persistent_keepalive_s == b->persistent_keepalive_s &&
	       a->n_allow_expose == b->n_allow_expose &&
	       (a->n_allow_expose == 0 ||
		memcmp(a->allow_expose, b->allow_expose,
		       a->n_allow_expose * sizeof(*a->allow_expose)) == 0) &&
	       same_prefixes(a->expose_from, a->n_expose_from, b->expose_from, b->n_expose_from);
}

const struct peer_config *iface_config_find_peer_key(const struct iface_config *cfg,
						     const uint8_t key[static KEY_LEN])
{
	ptrdiff_t i = find_key(cfg, key);

	return i >= 0 ? &cfg->peers[i] : NULL;
}

/* ---- Directory ---- */

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

static int list_conf_files(const char *dir, char ***out, size_t *n_out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*n_out = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!is_conf_name(de->d_name))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 8) * sizeof(*nn));

			if (!nn)
				goto nomem;
			names = nn;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			goto nomem;
		n++;
	}
	closedir(d);
	if (n > 0) /* with no file, names is NULL: not for qsort() */
		qsort(names, n, sizeof(*names), compare_names);
	*out = names;
	*n_out = n;
	return 0;
nomem:
	closedir(d);
	free_strings(names, n);
	return -ENOMEM;
}

/* Remember the stem of a file that did not load. */
static int add_failed(struct config_set *set, const char *path)
{
	const char *base = strrchr(path, '/');
	char **nf;
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base) - strlen(".conf");
	nf = realloc(set->failed, (set->n_failed + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	set->failed = nf;
	set->failed[set->n_failed] = strndup(base, len);
	if (!set->failed[set->n_failed])
		return -ENOMEM;
	set->n_failed++;
	return 0;
}

int config_load_dir(const char *dir, struct config_set *out, struct diag_list *diags)
{
	char **paths;
	size_t n;
	int rc, ret = 0;

	memset(out, 0, sizeof(*out));
	rc = list_conf_files(dir, &paths, &n);
	if (rc != 0) {
		diag_add(diags, DIAG_ERROR, dir, 0, "cannot read the configuration directory: %s",
			 strerror(-rc));
		return rc;
	}
	out->ifaces = calloc(n ? n : 1, sizeof(*out->ifaces));
	if (!out->ifaces) {
		free_strings(paths, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct iface_config *cfg;

		rc = config_load_file(paths[i], &cfg, diags);
		if (rc == 0) {
			out->ifaces[out->n++] = cfg;
			continue;
		}
		ret = -EINVAL;
		if (add_failed(out, paths[i]) != 0) {
			free_strings(paths, n);
			config_set_clear(out);
			return -ENOMEM;
		}
	}
	free_strings(paths, n);
	return ret;
}

void config_set_clear(struct config_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		iface_config_free(set->ifaces[i]);
	free(set->ifaces);
	free_strings(set->failed, set->n_failed);
	memset(set, 0, sizeof(*set));
}

bool config_mode_exposed(const struct stat *st)
{
	gid_t groups[256];
	struct group *gr;
	int n;

	if (st->st_mode & S_IRWXO)
		return true;
	if (!(st->st_mode & S_IRWXG) || st->st_gid == getegid() || st->st_gid == getgid())
		return false;
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == st->st_gid)
			return false;
	gr = getgrnam(CONTROL_DEFAULT_GROUP);
	return !gr || gr->gr_gid != st->st_gid;
}
