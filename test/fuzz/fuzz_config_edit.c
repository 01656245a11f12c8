// SPDX-License-Identifier: MIT
/*
 * Fuzz target for config_edit.c, the text-preserving editor behind tunctl
 * add-peer/set-peer/remove-peer --save (and, for texts that load,
 * expose/unexpose --save: exercise_exposes()). The input is a fixed header of
 * sizeof(struct op_bytes) bytes that describes one edit (add, set with a
 * field mask, or remove; a peer key taken from the file or a fixed one; the
 * values), then the text of wg0.conf. Besides crashes, leaks and UB it
 * checks, on its own rather than through config_edit_verify(), what
 * config_edit.h promises whenever an edit succeeds:
 *  - the result loads (unless the edit asks for a duplicate key or Name, or
 *    an [Expose] depends on the peer) and reads back as asked: the edited
 *    peer as requested, [Interface], [Expose] and every other peer as
 *    before, in order;
 *  - bytes outside the edited section are unchanged: add only appends, set
 *    keeps everything before the section's header and from the next header
 *    on (and inside the section every line but those of the rewritten keys),
 *    remove takes away one run of whole lines around the section;
 *  - add then remove of a new peer gives the text back (with a final newline)
 *    unless the text ends in a blank line, which remove would take too;
 *  - -EINVAL exactly for values that cannot be written, -ENOENT exactly when
 *    a loadable file has no such peer;
 *  - config_edit_verify() agrees with all this.
 * Lines are read here the way config_ini.c reads them, not with the editor's
 * code. As in fuzz_config, texts naming a key file with a '/' are skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_edit.h"
#include "crypto.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TEXT (64 * 1024)

enum op {
	OP_ADD,
	OP_SET,
	OP_REMOVE,
};

/* The header of an input; bytes only, so no padding. */
struct op_bytes {
	uint8_t op; /* % 3: enum op */
	uint8_t key; /* < 0x80: key % n of the file's n keys; else fixed key (key & 0x7f) % 3 */
	uint8_t fields; /* CONFIG_EDIT_*: add: the ones set; set: the ones rewritten */
	uint8_t name_mode; /* % 4: none; 1, 2: name[0] % 32 + 1 of A-Z a-z 0-9 . _ -; 3: raw */
	uint8_t name[16];
	uint8_t psk; /* % 5: none, the key file, "peer.psk", NULL, "/tmp/a#b.psk" */
	uint8_t n_ips; /* % 5 */
	uint8_t ips[4][17]; /* family (bit 7: IPv6) and length, then the address */
	uint8_t endpoint_mode; /* % 4: none, IPv4, IPv6, raw text through endpoint_split */
	uint8_t endpoint[16];
	uint8_t port[2]; /* big endian; 0 is 1 */
	uint8_t keepalive[2]; /* big endian; 0 is off */
};

/* Keys made with tunctl genkey / pubkey: the first is in no seed, the others in most. */
static const char *const fixed_keys[] = {TS_PUB_8, TS_PUB_5, TS_PUB_6};
#define PSK	   TS_PSK_2
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define N_FIXED	   (sizeof(fixed_keys) / sizeof(fixed_keys[0]))
#define MAX_KEYS   16
#define ALL_FIELDS 0x1f

static char dir[TS_DIR_LEN];
static char conf_path[sizeof(dir) + 16];
static char psk_path[sizeof(dir) + 16];
static uint8_t psk_key[KEY_LEN];

static void remove_fixtures(void)
{
	ts_tmpdir_remove(dir);
}

static void init_once(void)
{
	check(crypto_init() == 0);
	ts_tmpdir(dir, "fuzz-edit");
	snprintf(conf_path, sizeof(conf_path), "%s/wg0.conf", dir);
	snprintf(psk_path, sizeof(psk_path), "%s/peer.psk", dir);
	ts_write_text(dir, "peer.psk", PSK "\n", 0600);
	check(key_from_base64(psk_key, PSK, NULL) == 0);
	atexit(remove_fixtures);
}

/* ---- Lines, read the way config_ini.c reads them ---- */

struct text_lines {
	size_t *off; /* n + 1 entries: where line i starts; off[n] is the text's length */
	size_t n;
};

static void split(const char *t, size_t len, struct text_lines *ls)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += t[i] == '\n';
	n += len > 0 && t[len - 1] != '\n';
	ls->off = malloc((n + 1) * sizeof(*ls->off));
	if (!ls->off)
		abort();
	ls->n = 0;
	for (size_t i = 0; i < len; i++)
		if (i == 0 || t[i - 1] == '\n')
			ls->off[ls->n++] = i;
	ls->off[n] = len;
}

/* Line i without its "\n": the bytes from *s, returned length. */
static size_t raw_line(const char *t, const struct text_lines *ls, size_t i, const char **s)
{
	size_t n = ls->off[i + 1] - ls->off[i];

	*s = t + ls->off[i];
	return n > 0 && (*s)[n - 1] == '\n' ? n - 1 : n;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* What the loader looks at: up to the first '#', leading blanks and trailing blanks/CR off. */
static size_t view(const char *s, size_t n, const char **v)
{
	const char *hash = memchr(s, '#', n);

	if (hash)
		n = (size_t)(hash - s);
	while (n > 0 && is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	*v = s;
	return n;
}

/* view() of line i; a UTF-8 byte-order mark before the first line is not looked at. */
static size_t line_view(const char *t, const struct text_lines *ls, size_t i, const char **v)
{
	const char *s;
	size_t n = raw_line(t, ls, i, &s);

	if (i == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	return view(s, n, v);
}

static bool ignorable(const char *t, const struct text_lines *ls, size_t i)
{
	const char *v;
	size_t n = line_view(t, ls, i, &v);

	return n == 0 || v[0] == ';';
}

static bool is_header(const char *t, const struct text_lines *ls, size_t i)
{
	const char *v;
	size_t n = line_view(t, ls, i, &v);

	return n > 0 && v[0] == '[';
}

/* Whether line i is "key = ..." for one of the NULL-terminated keys (any case). */
static bool has_key(const char *t, const struct text_lines *ls, size_t i, const char *const *keys)
{
	const char *v, *eq;
	size_t n = line_view(t, ls, i, &v), k;

	if (n == 0 || v[0] == ';' || v[0] == '[' || !(eq = memchr(v, '=', n)))
		return false;
	k = (size_t)(eq - v);
	while (k > 0 && (is_blank(v[k - 1]) || v[k - 1] == '\r'))
		k--;
	for (; *keys; keys++)
		if (strlen(*keys) == k && strncasecmp(v, *keys, k) == 0)
			return true;
	return false;
}

/* The keys of the CONFIG_EDIT_* fields in mask. */
static void field_keys(unsigned int mask, const char *keys[8])
{
	size_t n = 0;

	if (mask & CONFIG_EDIT_NAME)
		keys[n++] = "Name";
	if (mask & CONFIG_EDIT_PRESHARED_KEY) {
		keys[n++] = "PresharedKey";
		keys[n++] = "PresharedKeyFile";
	}
	if (mask & CONFIG_EDIT_ALLOWED_IPS)
		keys[n++] = "AllowedIPs";
	if (mask & CONFIG_EDIT_ENDPOINT)
		keys[n++] = "Endpoint";
	if (mask & CONFIG_EDIT_KEEPALIVE)
		keys[n++] = "PersistentKeepalive";
	keys[n] = NULL;
}

/* The next section header after line h, or ls->n. */
static size_t next_header(const char *t, const struct text_lines *ls, size_t h)
{
	for (h++; h < ls->n; h++)
		if (is_header(t, ls, h))
			break;
	return h;
}

/* ---- The edit's values ---- */

struct edit {
	enum op op;
	uint8_t key[KEY_LEN];
	unsigned int fields; /* add: the ones pc sets; set: the ones rewritten */
	struct peer_config pc; /* add, set: the peer as it must read back */
	const char *psk_file;
	bool name_loads; /* a Name, if any, that the loader takes */
	bool expect_einval; /* a value among fields cannot be written */
};

static char *make_name(const struct op_bytes *o)
{
	char *name = calloc(1, 33);
	size_t len;

	if (!name)
		abort();
	if (o->name_mode % 4 == 3) {
		memcpy(name, o->name, sizeof(o->name)); /* raw, up to a NUL */
		return name;
	}
	len = o->name[0] % 32 + 1;
	for (size_t i = 0; i < len; i++)
		name[i] = NAME_CHARS[(o->name[i % sizeof(o->name)] + i) % (sizeof(NAME_CHARS) - 1)];
	return name;
}

static void make_ips(const struct op_bytes *o, struct peer_config *pc)
{
	size_t n = o->n_ips % 5;

	pc->allowed_ips = calloc(n ? n : 1, sizeof(*pc->allowed_ips));
	if (!pc->allowed_ips)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct ip_prefix *p = &pc->allowed_ips[i];
		bool v6 = o->ips[i][0] & 0x80;

		p->family = v6 ? AF_INET6 : AF_INET;
		p->cidr = (uint8_t)((o->ips[i][0] & 0x7f) % (v6 ? 129 : 33));
		memcpy(p->addr.bytes, &o->ips[i][1], v6 ? 16 : 4);
		prefix_mask(p); /* as tunctl sends them */
	}
	pc->n_allowed_ips = n;
}

/* The endpoint as control.c makes it from what tunctl sends: endpoint_split. */
static void make_endpoint(const struct op_bytes *o, struct peer_config *pc)
{
	char text[64], host[256], addr[INET6_ADDRSTRLEN];
	unsigned int port = (unsigned int)(o->port[0] << 8 | o->port[1]);
	uint16_t p;

	switch (o->endpoint_mode % 4) {
	case 0:
		return;
	case 1:
		inet_ntop(AF_INET, o->endpoint, addr, sizeof(addr));
		snprintf(text, sizeof(text), "%s:%u", addr, port ? port : 1);
		break;
	case 2:
		inet_ntop(AF_INET6, o->endpoint, addr, sizeof(addr));
		snprintf(text, sizeof(text), "[%s]:%u", addr, port ? port : 1);
		break;
	default:
		memcpy(text, o->endpoint, sizeof(o->endpoint));
		text[sizeof(o->endpoint)] = '\0';
		break;
	}
	if (endpoint_split(text, host, sizeof(host), &p, NULL) != 0)
		return;
	pc->endpoint_host = strdup(host);
	if (!pc->endpoint_host)
		abort();
	pc->endpoint_port = p;
}

/* Put into pc the fields in mask from o; those not in mask are left as they are. */
static void make_fields(const struct op_bytes *o, unsigned int mask, struct peer_config *pc,
			struct edit *e)
{
	static const char *const psk_files[] = {NULL, psk_path, "peer.psk", NULL, "/tmp/a#b.psk"};
	struct peer_config v = {0};

	if (o->name_mode % 4)
		v.name = make_name(o);
	v.has_preshared_key = o->psk % 5 != 0;
	if (v.has_preshared_key)
		memcpy(v.preshared_key, psk_key, KEY_LEN);
	make_ips(o, &v);
	make_endpoint(o, &v);
	v.persistent_keepalive_s = (uint16_t)(o->keepalive[0] << 8 | o->keepalive[1]);
	e->psk_file = psk_files[o->psk % 5];

	if (mask & CONFIG_EDIT_NAME) {
		free(pc->name);
		pc->name = v.name;
		v.name = NULL;
	}
	if (mask & CONFIG_EDIT_PRESHARED_KEY) {
		pc->has_preshared_key = v.has_preshared_key;
		memcpy(pc->preshared_key, v.preshared_key, KEY_LEN);
	}
	if (mask & CONFIG_EDIT_ALLOWED_IPS) {
		free(pc->allowed_ips);
		pc->allowed_ips = v.allowed_ips;
		pc->n_allowed_ips = v.n_allowed_ips;
		v.allowed_ips = NULL;
	}
	if (mask & CONFIG_EDIT_ENDPOINT) {
		free(pc->endpoint_host);
		pc->endpoint_host = v.endpoint_host;
		pc->endpoint_port = v.endpoint_port;
		v.endpoint_host = NULL;
	}
	if (mask & CONFIG_EDIT_KEEPALIVE)
		pc->persistent_keepalive_s = v.persistent_keepalive_s;
	peer_config_clear(&v);
}

/* Whether a value among mask cannot be written (config_edit.h: -EINVAL). */
static bool unwritable(const struct peer_config *pc, unsigned int mask, const char *psk_file)
{
	if ((mask & CONFIG_EDIT_NAME) && pc->name && !config_edit_value_ok(pc->name))
		return true;
	if ((mask & CONFIG_EDIT_PRESHARED_KEY) && pc->has_preshared_key &&
	    (!psk_file || psk_file[0] != '/' || !config_edit_value_ok(psk_file)))
		return true;
	return (mask & CONFIG_EDIT_ENDPOINT) && pc->endpoint_host &&
	       !config_edit_value_ok(pc->endpoint_host);
}

/* Up to MAX_KEYS keys of the text: its peers' when it loads, else any value that is a key. */
static size_t file_keys(const char *t, const struct text_lines *ls,
			const struct iface_config *before, uint8_t keys[MAX_KEYS][KEY_LEN])
{
	size_t n = 0;

	if (before) {
		for (size_t i = 0; i < before->n_peers && n < MAX_KEYS; i++)
			memcpy(keys[n++], before->peers[i].public_key, KEY_LEN);
		return n;
	}
	for (size_t i = 0; i < ls->n && n < MAX_KEYS; i++) {
		const char *v, *eq;
		size_t len = line_view(t, ls, i, &v);
		char b64[KEY_BASE64_LEN + 1];

		if (!(eq = memchr(v, '=', len)) || len - (size_t)(eq - v) < KEY_BASE64_LEN + 1)
			continue;
		memcpy(b64, v + len - KEY_BASE64_LEN, KEY_BASE64_LEN);
		b64[KEY_BASE64_LEN] = '\0';
		if (key_from_base64(keys[n], b64, NULL) == 0)
			n++;
	}
	return n;
}

static void make_edit(const struct op_bytes *o, const char *t, const struct text_lines *ls,
		      const struct iface_config *before, struct edit *e)
{
	uint8_t keys[MAX_KEYS][KEY_LEN];
	size_t n = file_keys(t, ls, before, keys);
	const struct peer_config *old;

	memset(e, 0, sizeof(*e));
	e->op = (enum op)(o->op % 3);
	if (o->key < 0x80 && n > 0)
		memcpy(e->key, keys[o->key % n], KEY_LEN);
	else if (key_from_base64(e->key, fixed_keys[(o->key & 0x7f) % N_FIXED], NULL) != 0)
		abort();
	old = before ? iface_config_find_peer_key(before, e->key) : NULL;
	if (e->op == OP_SET && old && peer_config_copy(&e->pc, old) != 0)
		abort();
	memcpy(e->pc.public_key, e->key, KEY_LEN);
	e->fields = o->fields & ALL_FIELDS;
	if (e->op == OP_REMOVE)
		return;
	make_fields(o, e->fields, &e->pc, e);
	e->expect_einval =
		unwritable(&e->pc, e->op == OP_ADD ? ALL_FIELDS : e->fields, e->psk_file);
	e->name_loads = !e->pc.name || (strlen(e->pc.name) <= 32 &&
					strspn(e->pc.name, NAME_CHARS) == strlen(e->pc.name));
}

/* ---- The checks ---- */

/* The file's line ending for new lines: that of its first line with one. */
static const char *eol_of(const char *t, size_t len)
{
	const char *nl = memchr(t, '\n', len);

	return nl && nl > t && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* Whether the last line is blanks only (nothing, blanks, CRs): config_edit.c's LINE_BLANK. */
static bool ends_blank(const char *t, const struct text_lines *ls)
{
	const char *s;
	size_t n = raw_line(t, ls, ls->n - 1, &s);

	for (size_t i = 0; i < n; i++)
		if (!is_blank(s[i]) && s[i] != '\r')
			return false;
	return true;
}

/* add: the text as it was, the line ending it lacked, a blank line, then the new section. */
static void check_add_bytes(const char *t, size_t len, const struct text_lines *ls,
			    const char *header, const char *out, size_t out_len)
{
	size_t hl = strlen(header);

	const char *eol = eol_of(t, len);
	size_t at = len, n_lines = 0;

	check(out_len >= len && memcmp(out, t, len) == 0);
	if (len > 0 && t[len - 1] != '\n') {
		check(out_len - at >= strlen(eol) && memcmp(out + at, eol, strlen(eol)) == 0);
		at += strlen(eol);
	}
	if (len > 0 && !ends_blank(t, ls)) {
		check(out_len - at >= strlen(eol) && memcmp(out + at, eol, strlen(eol)) == 0);
		at += strlen(eol);
	}
	check(out_len - at >= hl + strlen(eol) && memcmp(out + at, header, hl) == 0 &&
	      memcmp(out + at + hl, eol, strlen(eol)) == 0);
	/* Then "Key = value" lines, each with the file's ending: PublicKey or Peer at least. */
	for (at += hl + strlen(eol); at < out_len; n_lines++) {
		const char *nl = memchr(out + at, '\n', out_len - at);

		check(nl && memchr(out + at, '=', (size_t)(nl - (out + at))));
		check(strcmp(eol, "\r\n") == 0 ? nl[-1] == '\r' : nl[-1] != '\r');
		at = (size_t)(nl - out) + 1;
	}
	check(n_lines >= 1 && n_lines <= 6);
}

/*
 * set: everything before the section's header and from the next header on as
 * it was; inside, every line but those of the rewritten keys, in order (a last
 * line may gain an ending), and nothing new but lines of those keys.
 */
static void check_set_bytes(const char *t, size_t len, const struct text_lines *ls, size_t h,
			    unsigned int fields, const char *out, size_t out_len)
{
	size_t nx = next_header(t, ls, h), head = ls->off[h], tail = len - ls->off[nx];
	struct text_lines os;
	const char *keys[8];
	size_t j = h;

	check(out_len >= head + tail);
	check(memcmp(out, t, head) == 0);
	check(memcmp(out + out_len - tail, t + ls->off[nx], tail) == 0);
	field_keys(fields, keys);
	split(out + head, out_len - head - tail, &os);
	for (size_t i = 0; i < os.n; i++) {
		const char *a, *b;
		size_t na = raw_line(out + head, &os, i, &a), nb;

		while (j < nx && has_key(t, ls, j, keys))
			j++;
		if (j < nx) {
			bool was_last = ls->off[j + 1] == len && t[len - 1] != '\n';

			nb = raw_line(t, ls, j, &b);
			/* The last line, without an ending, may have gained "\r\n". */
			if (was_last && na == nb + 1 && a[nb] == '\r')
				na--;
			if (na == nb && memcmp(a, b, na) == 0) {
				j++;
				continue;
			}
		}
		check(has_key(out + head, &os, i, keys));
	}
	while (j < nx && has_key(t, ls, j, keys))
		j++;
	check(j == nx);
	free(os.off);
}

/*
 * remove: out is the text without one run of whole lines [start, stop) that
 * holds the section's header and every line of it but comments and blanks,
 * and otherwise only comments and blank lines next to it.
 */
static void check_remove_bytes(const char *t, size_t len, const struct text_lines *ls, size_t h,
			       const char *out, size_t out_len)
{
	size_t nx = next_header(t, ls, h), first = h, last = h, lcp = 0, lcs = 0;

	check(out_len < len);
	while (first > 0 && ignorable(t, ls, first - 1))
		first--;
	for (size_t i = h + 1; i < nx; i++)
		if (!ignorable(t, ls, i))
			last = i;
	while (lcp < out_len && out[lcp] == t[lcp])
		lcp++;
	while (lcs < out_len && out[out_len - 1 - lcs] == t[len - 1 - lcs])
		lcs++;
	/* out == t[0, a) t[b, len) exactly when a <= lcp and out_len - a <= lcs. */
	for (size_t start = first; start <= h; start++) {
		for (size_t stop = last + 1; stop <= nx; stop++) {
			size_t a = ls->off[start], b = ls->off[stop];

			if (b - a == len - out_len && a <= lcp && out_len - a <= lcs)
				return;
		}
	}
	check(!"remove took away more than the section and the comments around it");
}

/* The [Interface] and [Expose] settings of a and b are the same. */
static bool same_interface(const struct iface_config *a, const struct iface_config *b)
{
	if (!iface_config_same_interface(a, b) || a->has_listen_port != b->has_listen_port ||
	    a->listen_port != b->listen_port || a->expose_control_port != b->expose_control_port ||
	    a->has_expose_bind_address != b->has_expose_bind_address ||
	    (a->has_expose_bind_address && !sockaddr_equal(&a->expose_bind, &b->expose_bind)) ||
	    a->has_expose_grace != b->has_expose_grace || a->expose_grace_s != b->expose_grace_s ||
	    a->expose_max_connections != b->expose_max_connections ||
	    a->n_exposes != b->n_exposes ||
	    !redirect_ports_same(a->redirects, a->n_redirects, b->redirects, b->n_redirects))
		return false;
	for (size_t i = 0; i < a->n_exposes; i++)
		if (!expose_config_same(&a->exposes[i], &b->exposes[i]))
			return false;
	return true;
}

/* The index of key's peer in cfg, or cfg->n_peers. */
static size_t peer_index(const struct iface_config *cfg, const uint8_t key[KEY_LEN])
{
	size_t i = 0;

	while (i < cfg->n_peers && memcmp(cfg->peers[i].public_key, key, KEY_LEN) != 0)
		i++;
	return i;
}

/* after is before with only key's peer changed to want (NULL: gone), in place or, added, last. */
static void check_loaded(const struct iface_config *before, const struct iface_config *after,
			 const struct edit *e)
{
	const struct peer_config *want = e->op == OP_REMOVE ? NULL : &e->pc;
	size_t ib = peer_index(before, e->key), ia = peer_index(after, e->key), i = 0, j = 0;

	check(same_interface(before, after));
	for (;; i++, j++) {
		i += i == ib;
		j += j == ia;
		if (i >= before->n_peers || j >= after->n_peers)
			break;
		check(peer_config_same(&before->peers[i], &after->peers[j]));
	}
	check(i >= before->n_peers && j >= after->n_peers);
	if (!want) {
		check(ia == after->n_peers);
		return;
	}
	check(ia < after->n_peers && peer_config_same(&after->peers[ia], want));
	check(e->op == OP_ADD ? ia == after->n_peers - 1 : ia == ib);
}

/* Load an edited text into *after; it must load when must is set. Returns the loader's code. */
static int load_edited(const char *out, size_t out_len, bool must, struct iface_config **after)
{
	struct diag_list diags = {0};
	int rc = config_load_string(conf_path, out, out_len, after, &diags);

	if (rc != 0 && rc != -ENOMEM && must) {
		diag_print(&diags, stderr);
		check(!"the edited text does not load");
	}
	diag_list_clear(&diags);
	return rc;
}

/* Whether the edit, done right, must load: no duplicate, no [Expose] that depends on the peer. */
static bool must_load(const struct iface_config *before, const struct edit *e)
{
	const struct peer_config *old = iface_config_find_peer_key(before, e->key);
	uint8_t priv[KEY_LEN], own[KEY_LEN];
	bool is_own;

	for (size_t i = 0; i < before->n_exposes; i++)
		if (old && memcmp(before->exposes[i].peer_key, e->key, KEY_LEN) == 0)
			return false;
	if (e->op == OP_REMOVE)
		return old != NULL;
	if (!e->name_loads || (e->op == OP_ADD) == (old != NULL))
		return false;
	for (size_t i = 0; e->pc.name && i < before->n_peers; i++)
		if (&before->peers[i] != old && before->peers[i].name &&
		    strcmp(before->peers[i].name, e->pc.name) == 0)
			return false;
	memcpy(priv, before->private_key, KEY_LEN);
	curve25519_clamp(priv);
	is_own =
		curve25519_public_from_private(own, priv) == 0 && memcmp(own, e->key, KEY_LEN) == 0;
	crypto_wipe(priv, sizeof(priv));
	return !is_own;
}

/*
 * The edit made out of t: it loads and says what was asked, when it must;
 * config_edit_verify(), which --save relies on, says the same.
 */
static void check_result(const struct iface_config *before, const struct edit *e, const char *out,
			 size_t out_len)
{
	const struct peer_config *old = iface_config_find_peer_key(before, e->key);
	struct iface_config *after = NULL;
	int rc = load_edited(out, out_len, must_load(before, e), &after), vrc;
	char why[512];

	if (rc == -ENOMEM)
		goto out;
	if (rc == 0)
		check_loaded(before, after, e);
	vrc = config_edit_verify(conf_path, before, out, out_len, e->key,
				 e->op == OP_REMOVE ? NULL : &e->pc, why, sizeof(why));
	check(vrc == -ENOMEM || vrc == (rc == 0 ? 0 : -EINVAL));
	if (e->op == OP_SET && old)
		check((config_edit_peer_diff(old, &e->pc) & ~e->fields) == 0 &&
		      config_edit_peer_diff(&e->pc, &e->pc) == 0);
out:
	iface_config_free(after);
}

/* add then remove of a key the text does not have gives the text back. */
static void check_round_trip(const char *t, size_t len, const struct text_lines *ls,
			     const struct edit *e, const char *added, size_t added_len)
{
	char *back = NULL, *none = NULL;
	size_t back_len = 0, none_len = 0;
	const char *eol = eol_of(t, len);
	bool lacks_eol = len > 0 && t[len - 1] != '\n';

	if (config_edit_remove_peer(t, len, e->key, &none, &none_len) != -ENOENT) {
		config_edit_free(none, none_len);
		return;
	}
	if (len > 0 && ends_blank(t, ls))
		return; /* remove takes the blank lines before what goes at the end */
	check(config_edit_remove_peer(added, added_len, e->key, &back, &back_len) == 0);
	check(back_len == len + (lacks_eol ? strlen(eol) : 0) && memcmp(back, t, len) == 0);
	check(!lacks_eol || memcmp(back + len, eol, strlen(eol)) == 0);
	config_edit_free(back, back_len);
}

/* ---- [Expose NAME] edits (tunctl expose/unexpose --save) ---- */

/* after is before with the [Expose] of name gone, or now e, and nothing else changed. */
static void check_expose_loaded(const struct iface_config *before, const struct iface_config *after,
				const char *name, const struct expose_config *e)
{
	const struct expose_config *q = iface_config_find_expose(after, name);
	size_t kept = 0;

	check(iface_config_same_interface(before, after) &&
	      before->listen_port == after->listen_port && before->n_peers == after->n_peers);
	for (size_t i = 0; i < before->n_peers; i++)
		check(peer_config_same(&before->peers[i], &after->peers[i]));
	for (size_t i = 0; i < before->n_exposes; i++) {
		const struct expose_config *o = &before->exposes[i];

		if (strcmp(o->name, name) == 0)
			continue;
		check(iface_config_find_expose(after, o->name) &&
		      expose_config_same(o, iface_config_find_expose(after, o->name)));
		kept++;
	}
	check(e ? q && expose_config_same(q, e) : !q);
	check(after->n_exposes == kept + (e ? 1 : 0));
}

/* The edited text loads when it must, says what was asked, and verify agrees. */
static void check_expose_result(const struct iface_config *before, const char *name,
				const struct expose_config *e, bool must, const char *out,
				size_t out_len)
{
	struct iface_config *after = NULL;
	int rc = load_edited(out, out_len, must, &after), vrc;
	char why[512];

	if (rc == -ENOMEM)
		goto out;
	if (rc == 0)
		check_expose_loaded(before, after, name, e);
	vrc = config_edit_verify_expose(conf_path, before, out, out_len, name, e, why, sizeof(why));
	check(vrc == -ENOMEM || vrc == (rc == 0 ? 0 : -EINVAL));
out:
	iface_config_free(after);
}

/* The service the header describes, for a text that loads and has a peer. */
static void make_expose(const struct op_bytes *o, const struct iface_config *before,
			struct expose_config *e)
{
	const struct peer_config *pc = &before->peers[o->key % before->n_peers];
	uint16_t port = (uint16_t)(o->port[0] << 8 | o->port[1]);
	uint16_t pub = (uint16_t)(o->keepalive[0] << 8 | o->keepalive[1]);
	char b64[KEY_BASE64_LEN + 1], *name = make_name(o);

	memset(e, 0, sizeof(*e));
	if (o->name_mode % 4 == 0 && before->n_exposes)
		snprintf(e->name, sizeof(e->name), "%s",
			 before->exposes[o->n_ips % before->n_exposes].name);
	else
		snprintf(e->name, sizeof(e->name), "%s", expose_name_valid(name) ? name : "fz");
	free(name);
	key_to_base64(b64, pc->public_key);
	e->peer = strdup(pc->name && (o->fields & 0x20) ? pc->name : b64);
	if (!e->peer)
		abort();
	memcpy(e->peer_key, pc->public_key, KEY_LEN);
	port = port ? port : 1;
	if (o->endpoint_mode % 4 == 2) {
		e->local.in6.sin6_family = AF_INET6;
		e->local.in6.sin6_addr = in6addr_loopback;
		e->local.in6.sin6_port = htons(port);
	} else {
		e->local.in.sin_family = AF_INET;
		e->local.in.sin_addr.s_addr =
			htonl(o->endpoint_mode % 4 == 1 ? 0x7f000002 : 0x7f000001);
		e->local.in.sin_port = htons(port);
	}
	e->public_port = pub ? pub : port;
	e->proxy_protocol = o->fields & 0x40;
}

/* Whether the text with e put in must load: its peer has a server address, its port is free. */
static bool expose_must_load(const struct iface_config *before, const struct expose_config *e)
{
	const struct peer_config *pc = iface_config_find_peer_key(before, e->peer_key);

	if (!expose_config_default_server(before, pc))
		return false;
	for (size_t i = 0; i < before->n_exposes; i++)
		if (strcmp(before->exposes[i].name, e->name) != 0 &&
		    before->exposes[i].public_port == e->public_port &&
		    memcmp(before->exposes[i].peer_key, e->peer_key, KEY_LEN) == 0)
			return false;
	return true;
}

/*
 * For a text that loads: remove one of its services (always loads, takes
 * only the section's lines), then put the header's service (new: appended,
 * and removing it again gives the text back; there: only its section changes).
 */
static void exercise_exposes(const struct op_bytes *o, const char *t, size_t len,
			     const struct text_lines *ls, const struct iface_config *before)
{
	const struct expose_config *old;
	struct expose_config e;
	char *out = NULL, *back = NULL;
	size_t out_len = 0, back_len = 0;
	int rc;

	if (before->n_exposes) {
		old = &before->exposes[o->key % before->n_exposes];
		rc = config_edit_remove_expose(t, len, old->name, &out, &out_len);
		if (rc == -ENOMEM)
			return;
		check(rc == 0);
		check_remove_bytes(t, len, ls, old->line - 1, out, out_len);
		check_expose_result(before, old->name, NULL, true, out, out_len);
		config_edit_free(out, out_len);
		out = NULL;
	}
	if (!before->n_peers)
		return;
	make_expose(o, before, &e);
	old = iface_config_find_expose(before, e.name);
	rc = config_edit_put_expose(t, len, &e, &out, &out_len);
	check(rc == 0 || rc == -ENOMEM);
	if (rc != 0)
		goto out;
	if (old) {
		size_t h = old->line - 1, nx = next_header(t, ls, h);

		check(out_len >= ls->off[h + 1] + len - ls->off[nx]);
		check(memcmp(out, t, ls->off[h + 1]) == 0);
		check(memcmp(out + out_len - (len - ls->off[nx]), t + ls->off[nx],
			     len - ls->off[nx]) == 0);
	} else {
		char header[EXPOSE_NAME_MAX + 16];

		snprintf(header, sizeof(header), "[Expose %s]", e.name);
		check_add_bytes(t, len, ls, header, out, out_len);
	}
	check_expose_result(before, e.name, &e, expose_must_load(before, &e), out, out_len);
	if (!old && !(len > 0 && ends_blank(t, ls))) {
		rc = config_edit_remove_expose(out, out_len, e.name, &back, &back_len);
		check(rc == 0 || rc == -ENOMEM);
		check(rc != 0 ||
		      (back_len >= len && memcmp(back, t, len) == 0 && back_len - len <= 2));
		config_edit_free(back, back_len);
	}
out:
	config_edit_free(out, out_len);
	expose_config_clear(&e);
}

/* ---- The edit ---- */

static int run_edit(const char *t, size_t len, const struct edit *e, char **out, size_t *out_len)
{
	switch (e->op) {
	case OP_ADD:
		return config_edit_add_peer(t, len, &e->pc, e->psk_file, out, out_len);
	case OP_SET:
		return config_edit_set_peer(t, len, &e->pc, e->fields, e->psk_file, out, out_len);
	default:
		return config_edit_remove_peer(t, len, e->key, out, out_len);
	}
}

/* The return code against what the header and the text say it must be. */
static void check_rc(int rc, const struct edit *e, const struct iface_config *before)
{
	bool has = before && iface_config_find_peer_key(before, e->key);

	if (e->expect_einval) {
		check(rc == -EINVAL);
		return;
	}
	check(rc != -EINVAL);
	if (e->op == OP_ADD)
		check(rc == 0);
	else if (before)
		check(has ? rc == 0 : rc == -ENOENT); /* the loader's peer is the editor's */
	else
		check(rc == 0 || rc == -ENOENT);
}

/*
 * A '/' in a line that names a key file could reach any file on the machine;
 * what follows a '#' is not read.
 */
static bool names_outside_file(const char *t, size_t len)
{
	const char *line = t, *end = t + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line)), *hash;
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line), next = n + 1;
		bool has_slash;

		if ((hash = memchr(line, '#', n)))
			n = (size_t)(hash - line);
		has_slash = memchr(line, '/', n) != NULL;

		for (size_t i = 0; has_slash && i + 7 <= n; i++)
			if (strncasecmp(line + i, "keyfile", 7) == 0)
				return true;
		line += next;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data + sizeof(struct op_bytes);
	size_t len = size - sizeof(struct op_bytes), out_len = 0;
	struct iface_config *before = NULL;
	struct diag_list diags = {0};
	struct text_lines ls = {0};
	struct op_bytes o;
	struct edit e;
	char *out = NULL;
	int rc;

	if (!conf_path[0])
		init_once();
	if (size < sizeof(o) || len > MAX_TEXT || names_outside_file(t, len))
		return 0;
	memcpy(&o, data, sizeof(o));
	if (config_load_string(conf_path, t, len, &before, &diags) != 0)
		before = NULL;
	split(t, len, &ls);
	make_edit(&o, t, &ls, before, &e);
	if (before)
		exercise_exposes(&o, t, len, &ls, before);

	rc = run_edit(t, len, &e, &out, &out_len);
	if (rc == -ENOMEM)
		goto out;
	check_rc(rc, &e, before);
	check(rc == 0 ? out && out[out_len] == '\0' : !out);
	if (rc != 0)
		goto out;
	if (e.op == OP_ADD) {
		check_add_bytes(t, len, &ls, "[Peer]", out, out_len);
		check_round_trip(t, len, &ls, &e, out, out_len);
	}
	if (before && e.op != OP_ADD) {
		size_t h = iface_config_find_peer_key(before, e.key)->line - 1;

		if (e.op == OP_SET)
			check_set_bytes(t, len, &ls, h, e.fields, out, out_len);
		else
			check_remove_bytes(t, len, &ls, h, out, out_len);
	}
	if (before)
		check_result(before, &e, out, out_len);
out:
	config_edit_free(out, out_len);
	peer_config_clear(&e.pc);
	free(ls.off);
	iface_config_free(before);
	diag_list_clear(&diags);
	return 0;
}
