// SPDX-License-Identifier: MIT
/*
 * Loading a wg-quick INI file with inih. Debian's libinih is built with
 * options that do not fit wg-quick files, and redefining INI_* here changes
 * nothing: '#' after a value stays in the value, ';' after a blank starts a
 * comment (PostUp lines use ';'), an indented line continues the previous
 * key, lines over 199 bytes are cut, and the handler never learns the line
 * number. So inih reads through a reader of ours that takes each raw line
 * (any length), counts it, strips '#' comments and blanks as wg-quick does,
 * checks its shape, keeps the value aside and hands inih only "[Section]" or
 * "Key=<token>"; the handler swaps the token back for the value. inih then
 * does what it is good at, splitting and dispatching, and every message has
 * a file and a line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

#define MAX_LINE_BYTES 65536
#define MAX_FILE_BYTES (64 << 20)
#define MAX_KEY_LEN    64
#define STASH_MARK     '\x01'

enum section {
	SEC_NONE,
	SEC_INTERFACE,
	SEC_PEER,
	SEC_EXPOSE,
	SEC_UNKNOWN,
};

static const char *const section_names[] = {
	[SEC_NONE] = "",
	[SEC_INTERFACE] = "Interface",
	[SEC_PEER] = "Peer",
	[SEC_EXPOSE] = "Expose",
	[SEC_UNKNOWN] = "?",
};

struct loader;
typedef int (*key_parse_fn)(struct loader *l, const char *key, const char *value);

struct key_handler {
	enum section section;
	const char *name;
	bool is_list; /* repeatable and additive; otherwise repeating it warns */
	key_parse_fn parse;
};

/* The state of one file's load; lives on the stack of load(). */
struct loader {
	const char *path; /* for messages */
	char *dir;        /* relative key files are found here */
	struct diag_list *diags;
	struct iface_config *cfg;
	FILE *f;
	char *linebuf;
	size_t linecap;
	unsigned int line;     /* of the line last handed to inih */
	enum section section;  /* of that line */
	unsigned int interface_line;
	unsigned int *peer_key_line; /* per peer: line of its PublicKey, 0 = none */
	unsigned int seen[48];       /* per key of the current section: first line, 0 = unseen */
	struct expose_lines *expose_lines; /* per [Expose]: where its keys were set */
	unsigned int private_key_line;
	bool private_key_from_file; /* where the key at private_key_line came from */
	unsigned int psk_line;      /* the same for the current [Peer]'s preshared key */
	bool psk_from_file;
	bool has_inline_secret;
	char **stash;
	size_t n_stash, cap_stash;
	bool oom;
};

static void err(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void err(struct loader *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(l->diags, DIAG_ERROR, l->path, l->line, "%s", msg);
}

static void warn(struct loader *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(l->diags, DIAG_WARNING, l->path, l->line, "%s", msg);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* ---- Values ---- */

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out <= max;
}

/* Call fn for each comma-separated, trimmed, non-empty element of value. */
static int for_each_item(struct loader *l, const char *key, const char *value,
			 int (*fn)(struct loader *, const char *, char *))
{
	char *copy = strdup(value), *save = NULL, *tok;
	int rc = 0;

	if (!copy) {
		l->oom = true;
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = trim(tok);
		if (*tok && fn(l, key, tok) != 0)
			rc = -1;
	}
	free(copy);
	return rc;
}

static void *grow(struct loader *l, void *arr, size_t n, size_t size)
{
	void *p = realloc(arr, (n + 1) * size);

	if (!p)
		l->oom = true;
	return p;
}

static int push_string(struct loader *l, char ***arr, size_t *n, const char *s)
{
	char **v = grow(l, *arr, *n, sizeof(**arr));
	char *copy;

	if (!v)
		return -1;
	*arr = v;
	copy = strdup(s);
	if (!copy) {
		l->oom = true;
		return -1;
	}
	v[(*n)++] = copy;
	return 0;
}

static struct peer_config *cur_peer(struct loader *l)
{
	return &l->cfg->peers[l->cfg->n_peers - 1];
}

/* Where the keys of one [Expose] were set, for the whole-file checks; 0 = not set. */
struct expose_lines {
	unsigned int local_port, peer, public_port, server_address;
};

static struct expose_config *cur_expose(struct loader *l)
{
	return &l->cfg->exposes[l->cfg->n_exposes - 1];
}

static struct expose_lines *cur_expose_lines(struct loader *l)
{
	return &l->expose_lines[l->cfg->n_exposes - 1];
}

/* Read one base64 key from a file of our own, refusing files others can read. */
static int read_key_file(struct loader *l, const char *key, const char *value,
			 uint8_t out[KEY_LEN])
{
	char path[4096], text[128];
	const char *why;
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if (value[0] == '/')
		snprintf(path, sizeof(path), "%s", value);
	else
		snprintf(path, sizeof(path), "%s/%s", l->dir, value);
	/* O_NONBLOCK: a FIFO in the way must not hang start-up or reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err(l, "%s: \"%s\": cannot read: %s", key, value, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err(l, "%s: \"%s\": not a regular file", key, value);
		goto out;
	}
	if (st.st_mode & 077) {
		err(l, "%s: \"%s\" is readable by group or others (mode %04o); run chmod 600 on it",
		    key, value, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0) {
		err(l, "%s: \"%s\": cannot read: %s", key, value, strerror(errno));
		goto out;
	}
	text[n] = '\0';
	if (key_from_base64(out, trim(text), &why) != 0) {
		err(l, "%s: \"%s\": the key in it %s", key, value, why);
		goto out;
	}
	rc = 0;
out:
	crypto_wipe(text, sizeof(text));
	close(fd);
	return rc;
}

/* ---- [Interface] keys ---- */

static int set_private_key(struct loader *l, const char *key, const char *value, bool from_file)
{
	const char *why;

	/* Repeating PrivateKey (or PrivateKeyFile) is a warning, the last wins; mixing is an error. */
	if (l->private_key_line && l->private_key_line != l->line &&
	    l->private_key_from_file != from_file) {
		err(l, "%s: the private key is already set at line %u; use PrivateKey or PrivateKeyFile, not both",
		    key, l->private_key_line);
		return -1;
	}
	if (from_file) {
		if (read_key_file(l, key, value, l->cfg->private_key) != 0)
			return -1;
	} else if (key_from_base64(l->cfg->private_key, value, &why) != 0) {
		/* Never echo what may be a secret. */
		err(l, "%s: the key %s", key, why);
		return -1;
	} else {
		l->has_inline_secret = true;
	}
	l->cfg->has_private_key = true;
	l->private_key_line = l->line;
	l->private_key_from_file = from_file;
	return 0;
}

static int parse_private_key(struct loader *l, const char *key, const char *value)
{
	return set_private_key(l, key, value, false);
}

static int parse_private_key_file(struct loader *l, const char *key, const char *value)
{
	return set_private_key(l, key, value, true);
}

static int parse_listen_port(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!parse_uint(value, 65535, &v)) {
		err(l, "%s: \"%s\": expected a port number 0-65535 (0: any free port)", key, value);
		return -1;
	}
	l->cfg->listen_port = (uint16_t)v;
	l->cfg->has_listen_port = v != 0;
	return 0;
}

static int parse_fwmark(struct loader *l, const char *key, const char *value)
{
	unsigned long long v;
	char *end;

	if (strcasecmp(value, "off") == 0) {
		l->cfg->fwmark = 0;
		return 0;
	}
	/* As wg: hexadecimal after "0x", decimal otherwise (never octal). */
	errno = 0;
	if (value[0] == '0' && value[1] == 'x')
		v = strtoull(value + 2, &end, 16);
	else
		v = strtoull(value, &end, 10);
	if (value[0] == '0' && value[1] == 'x' && !isxdigit((unsigned char)value[2]))
		end = (char *)value; /* "0x" alone */
	if (!isdigit((unsigned char)value[0]) || *end || errno || v > UINT32_MAX) {
		err(l, "%s: \"%s\": expected off, a number or 0xHEX up to 0xffffffff", key, value);
		return -1;
	}
	l->cfg->fwmark = (uint32_t)v;
	return 0;
}

static int add_address(struct loader *l, const char *key, char *item)
{
	struct ip_prefix p, *arr;
	const char *why;

	if (prefix_parse(item, &p, NULL, &why) != 0) {
		err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	arr = grow(l, l->cfg->addresses, l->cfg->n_addresses, sizeof(*arr));
	if (!arr)
		return -1;
	l->cfg->addresses = arr;
	arr[l->cfg->n_addresses++] = p;
	return 0;
}

static int parse_address(struct loader *l, const char *key, const char *value)
{
	return for_each_item(l, key, value, add_address);
}

static int parse_mtu(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!parse_uint(value, 65535, &v) || v < 576) {
		err(l, "%s: \"%s\": expected a number 576-65535", key, value);
		return -1;
	}
	l->cfg->mtu = (uint32_t)v;
	return 0;
}

/* A numeric address without a port or prefix: "127.0.0.1", "::1". */
static bool parse_ip(const char *s, union sockaddr_inet *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->in.sin_addr) == 1) {
		out->in.sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		return true;
	}
	return false;
}

static bool is_search_domain(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len < 254 && s[0] != '-' && s[0] != '.' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") == len;
}

/*
 * What wg-quick takes for a server rather than a search domain: digits and
 * dots, or anything with a colon. Such an entry must be an address: a typo
 * like 10.0.0.256 is an error here, not a search domain nobody asked for.
 */
static bool looks_like_address(const char *s)
{
	return strspn(s, "0123456789.") == strlen(s) || strchr(s, ':');
}

static int add_dns(struct loader *l, const char *key, char *item)
{
	union sockaddr_inet sa;

	if (looks_like_address(item) && !parse_ip(item, &sa)) {
		err(l, "%s: \"%s\": not a valid IP address (and a search domain cannot look like one)",
		    key, item);
		return -1;
	}
	if (!looks_like_address(item) && !is_search_domain(item)) {
		err(l, "%s: \"%s\": expected an IP address or a search domain", key, item);
		return -1;
	}
	return push_string(l, &l->cfg->dns, &l->cfg->n_dns, item);
}

static int parse_dns(struct loader *l, const char *key, const char *value)
{
	return for_each_item(l, key, value, add_dns);
}

static int parse_table(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (strcasecmp(value, "auto") == 0) {
		l->cfg->table = TABLE_AUTO;
	} else if (strcasecmp(value, "off") == 0) {
		l->cfg->table = TABLE_OFF;
	} else if (strcasecmp(value, "main") == 0) {
		l->cfg->table = TABLE_ID;
		l->cfg->table_id = 254;
	} else if (parse_uint(value, UINT32_MAX, &v) && v > 0) {
		l->cfg->table = TABLE_ID;
		l->cfg->table_id = (uint32_t)v;
	} else {
		err(l, "%s: \"%s\": expected auto, off, main or a table number", key, value);
		return -1;
	}
	return 0;
}

static int parse_hook(struct loader *l, const char *key, const char *value)
{
	struct iface_config *c = l->cfg;

	/* wg-quick runs an empty hook as nothing: so does tund, but says so. */
	if (!*value) {
		warn(l, "%s: no command; the line is ignored", key);
		return 0;
	}
	if (strcasecmp(key, "PreUp") == 0)
		return push_string(l, &c->pre_up, &c->n_pre_up, value);
	if (strcasecmp(key, "PostUp") == 0)
		return push_string(l, &c->post_up, &c->n_post_up, value);
	if (strcasecmp(key, "PreDown") == 0)
		return push_string(l, &c->pre_down, &c->n_pre_down, value);
	return push_string(l, &c->post_down, &c->n_post_down, value);
}

static int parse_save_config(struct loader *l, const char *key, const char *value)
{
	(void)value;
	warn(l,
	     "%s is a wg-quick setting tund ignores; tund writes this file only for tunctl --save",
	     key);
	return 0;
}

static int parse_port_key(struct loader *l, const char *key, const char *value, uint16_t *out)
{
	unsigned long v;

	if (!parse_uint(value, 65535, &v) || v == 0) {
		err(l, "%s: \"%s\": expected a port number 1-65535", key, value);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static int parse_expose_control_port(struct loader *l, const char *key, const char *value)
{
	return parse_port_key(l, key, value, &l->cfg->expose_control_port);
}

static int parse_expose_bind_address(struct loader *l, const char *key, const char *value)
{
	if (!parse_ip(value, &l->cfg->expose_bind)) {
		err(l, "%s: \"%s\": expected an IP address such as 0.0.0.0, :: or 203.0.113.1",
		    key, value);
		return -1;
	}
	l->cfg->has_expose_bind_address = true;
	return 0;
}

static int parse_expose_grace(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!parse_uint(value, 86400, &v)) {
		err(l, "%s: \"%s\": expected a number of seconds 0-86400", key, value);
		return -1;
	}
	l->cfg->expose_grace_s = (uint32_t)v;
	l->cfg->has_expose_grace = true;
	return 0;
}

static int parse_expose_max_connections(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!parse_uint(value, 1000000, &v) || v == 0) {
		err(l, "%s: \"%s\": expected a number 1-1000000", key, value);
		return -1;
	}
	l->cfg->expose_max_connections = (uint32_t)v;
	return 0;
}

static int parse_expose_max_per_source(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!parse_uint(value, 1000000, &v) || v == 0) {
		err(l, "%s: \"%s\": expected a number 1-1000000", key, value);
		return -1;
	}
	l->cfg->expose_max_per_source = (uint32_t)v;
	return 0;
}

static int parse_expose_idle_timeout(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!parse_uint(value, EXPOSE_IDLE_TIMEOUT_MAX_S, &v)) {
		err(l, "%s: \"%s\": expected a number of seconds 0-%d (0: never)", key, value,
		    EXPOSE_IDLE_TIMEOUT_MAX_S);
		return -1;
	}
	l->cfg->expose_idle_timeout_s = (uint32_t)v;
	l->cfg->has_expose_idle_timeout = true;
	return 0;
}

static int add_redirect(struct loader *l, const char *key, char *item)
{
	struct redirect_ports r, *arr;
	const char *why;

	if (redirect_ports_parse(item, &r, &why) != 0) {
		err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	arr = grow(l, l->cfg->redirects, l->cfg->n_redirects, sizeof(*arr));
	if (!arr)
		return -1;
	l->cfg->redirects = arr;
	arr[l->cfg->n_redirects++] = r;
	return 0;
}

static int parse_redirect(struct loader *l, const char *key, const char *value)
{
	return for_each_item(l, key, value, add_redirect);
}

/* ---- [Peer] keys ---- */

static int parse_public_key(struct loader *l, const char *key, const char *value)
{
	const char *why;

	if (key_from_base64(cur_peer(l)->public_key, value, &why) != 0) {
		err(l, "%s: \"%s\" %s", key, value, why);
		return -1;
	}
	l->peer_key_line[l->cfg->n_peers - 1] = l->line;
	return 0;
}

static int set_psk(struct loader *l, const char *key, const char *value, bool from_file)
{
	struct peer_config *pc = cur_peer(l);
	const char *why;

	/* As for the private key: repeating one key warns, the last wins; mixing is an error. */
	if (l->psk_line && l->psk_from_file != from_file) {
		err(l, "%s: the preshared key is already set at line %u; use PresharedKey or PresharedKeyFile, not both",
		    key, l->psk_line);
		return -1;
	}
	if (from_file) {
		if (read_key_file(l, key, value, pc->preshared_key) != 0)
			return -1;
	} else if (key_from_base64(pc->preshared_key, value, &why) != 0) {
		err(l, "%s: the key %s", key, why);
		return -1;
	} else {
		l->has_inline_secret = true;
	}
	pc->has_preshared_key = true;
	l->psk_line = l->line;
	l->psk_from_file = from_file;
	return 0;
}

static int parse_psk(struct loader *l, const char *key, const char *value)
{
	return set_psk(l, key, value, false);
}

static int parse_psk_file(struct loader *l, const char *key, const char *value)
{
	return set_psk(l, key, value, true);
}

static int add_allowed_ip(struct loader *l, const char *key, char *item)
{
	struct peer_config *pc = cur_peer(l);
	struct ip_prefix p, *arr;
	const char *why;
	bool host_bits;

	if (prefix_parse(item, &p, &host_bits, &why) != 0) {
		err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	if (host_bits) {
		char buf[ADDR_STR_LEN];

		prefix_mask(&p);
		warn(l, "%s: \"%s\" has host bits set; using %s", key, item,
		     prefix_format(buf, sizeof(buf), &p));
	}
	arr = grow(l, pc->allowed_ips, pc->n_allowed_ips, sizeof(*arr));
	if (!arr)
		return -1;
	pc->allowed_ips = arr;
	arr[pc->n_allowed_ips++] = p;
	return 0;
}

static int parse_allowed_ips(struct loader *l, const char *key, const char *value)
{
	return for_each_item(l, key, value, add_allowed_ip);
}

static int parse_endpoint(struct loader *l, const char *key, const char *value)
{
	struct peer_config *pc = cur_peer(l);
	char host[256];
	const char *why;
	uint16_t port;

	if (endpoint_split(value, host, sizeof(host), &port, &why) != 0) {
		err(l, "%s: \"%s\": %s", key, value, why);
		return -1;
	}
	free(pc->endpoint_host);
	pc->endpoint_host = strdup(host);
	if (!pc->endpoint_host) {
		l->oom = true;
		return -1;
	}
	pc->endpoint_port = port;
	return 0;
}

static int parse_keepalive(struct loader *l, const char *key, const char *value)
{
	unsigned long v = 0;

	if (strcasecmp(value, "off") != 0 && !parse_uint(value, 65535, &v)) {
		err(l, "%s: \"%s\": expected off or a number of seconds 1-65535", key, value);
		return -1;
	}
	cur_peer(l)->persistent_keepalive_s = (uint16_t)v;
	return 0;
}

static int parse_name(struct loader *l, const char *key, const char *value)
{
	struct peer_config *pc = cur_peer(l);
	size_t len = strlen(value);

	if (len == 0 || len > 32 ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		    len) {
		err(l, "%s: \"%s\": expected 1-32 characters of A-Z a-z 0-9 . _ -", key, value);
		return -1;
	}
	free(pc->name);
	pc->name = strdup(value);
	if (!pc->name) {
		l->oom = true;
		return -1;
	}
	return 0;
}

static int add_allow_expose(struct loader *l, const char *key, char *item)
{
	struct peer_config *pc = cur_peer(l);
	struct port_range r, *arr;
	const char *why;

	if (port_range_parse(item, &r, &why) != 0) {
		err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	arr = grow(l, pc->allow_expose, pc->n_allow_expose, sizeof(*arr));
	if (!arr)
		return -1;
	pc->allow_expose = arr;
	arr[pc->n_allow_expose++] = r;
	return 0;
}

static int parse_allow_expose(struct loader *l, const char *key, const char *value)
{
	if (!cur_peer(l)->allow_expose_line)
		cur_peer(l)->allow_expose_line = l->line;
	return for_each_item(l, key, value, add_allow_expose);
}

/* One address of AllowExposeFrom: a host, written without a prefix or as /32, /128. */
static int add_expose_from(struct loader *l, const char *key, char *item)
{
	struct peer_config *pc = cur_peer(l);
	struct ip_prefix p, *arr;
	bool host_bits = false;

	if (prefix_parse(item, &p, &host_bits, NULL) != 0 ||
	    p.cidr != (p.family == AF_INET ? 32 : 128)) {
		err(l, "%s: \"%s\": expected the peer's own tunnel address, such as 10.0.0.2 (one address, not a network)",
		    key, item);
		return -1;
	}
	arr = grow(l, pc->expose_from, pc->n_expose_from, sizeof(*arr));
	if (!arr)
		return -1;
	pc->expose_from = arr;
	arr[pc->n_expose_from++] = p;
	return 0;
}

static int parse_expose_from(struct loader *l, const char *key, const char *value)
{
	if (!cur_peer(l)->expose_from_line)
		cur_peer(l)->expose_from_line = l->line;
	return for_each_item(l, key, value, add_expose_from);
}

/* ---- [Expose NAME] keys ---- */

static int parse_local_port(struct loader *l, const char *key, const char *value)
{
	uint16_t port;

	if (parse_port_key(l, key, value, &port) != 0)
		return -1;
	if (cur_expose(l)->local.sa.sa_family == AF_INET6)
		cur_expose(l)->local.in6.sin6_port = htons(port);
	else
		cur_expose(l)->local.in.sin_port = htons(port);
	cur_expose_lines(l)->local_port = l->line;
	return 0;
}

static int parse_local_address(struct loader *l, const char *key, const char *value)
{
	struct expose_config *e = cur_expose(l);
	uint16_t port = e->local.sa.sa_family == AF_INET6 ? e->local.in6.sin6_port
							  : e->local.in.sin_port;

	if (!parse_ip(value, &e->local)) {
		err(l, "%s: \"%s\": expected an IP address such as 127.0.0.1 or ::1", key, value);
		return -1;
	}
	if (e->local.sa.sa_family == AF_INET6)
		e->local.in6.sin6_port = port;
	else
		e->local.in.sin_port = port;
	return 0;
}

static int parse_expose_peer(struct loader *l, const char *key, const char *value)
{
	struct expose_config *e = cur_expose(l);

	free(e->peer);
	e->peer = strdup(value);
	if (!e->peer) {
		l->oom = true;
		return -1;
	}
	cur_expose_lines(l)->peer = l->line;
	(void)key;
	return 0;
}

static int parse_public_port(struct loader *l, const char *key, const char *value)
{
	if (parse_port_key(l, key, value, &cur_expose(l)->public_port) != 0)
		return -1;
	cur_expose_lines(l)->public_port = l->line;
	return 0;
}

static int parse_proxy_protocol(struct loader *l, const char *key, const char *value)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
										 "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
			cur_expose(l)->proxy_protocol = strcasecmp(value, yes[i]) == 0;
			return 0;
		}
	}
	err(l, "%s: \"%s\": expected yes or no", key, value);
	return -1;
}

static int parse_server_address(struct loader *l, const char *key, const char *value)
{
	struct expose_config *e = cur_expose(l);
	const char *why = NULL;

	if (strchr(value, '/') || prefix_parse(value, &e->server_address, NULL, &why) != 0) {
		err(l, "%s: \"%s\": expected the server's tunnel address, such as 10.0.0.1", key,
		    value);
		return -1;
	}
	e->has_server_address = true;
	cur_expose_lines(l)->server_address = l->line;
	return 0;
}

static const struct key_handler key_handlers[] = {
	{SEC_INTERFACE, "PrivateKey", false, parse_private_key},
	{SEC_INTERFACE, "PrivateKeyFile", false, parse_private_key_file},
	{SEC_INTERFACE, "ListenPort", false, parse_listen_port},
	{SEC_INTERFACE, "FwMark", false, parse_fwmark},
	{SEC_INTERFACE, "Address", true, parse_address},
	{SEC_INTERFACE, "MTU", false, parse_mtu},
	{SEC_INTERFACE, "DNS", true, parse_dns},
	{SEC_INTERFACE, "Table", false, parse_table},
	{SEC_INTERFACE, "PreUp", true, parse_hook},
	{SEC_INTERFACE, "PostUp", true, parse_hook},
	{SEC_INTERFACE, "PreDown", true, parse_hook},
	{SEC_INTERFACE, "PostDown", true, parse_hook},
	{SEC_INTERFACE, "SaveConfig", false, parse_save_config},
	{SEC_INTERFACE, "ExposeControlPort", false, parse_expose_control_port},
	{SEC_INTERFACE, "ExposeBindAddress", false, parse_expose_bind_address},
	{SEC_INTERFACE, "ExposeGracePeriod", false, parse_expose_grace},
	{SEC_INTERFACE, "ExposeMaxConnections", false, parse_expose_max_connections},
	{SEC_INTERFACE, "ExposeMaxConnectionsPerSource", false, parse_expose_max_per_source},
	{SEC_INTERFACE, "ExposeIdleTimeout", false, parse_expose_idle_timeout},
	{SEC_INTERFACE, "RedirectToLocalhost", true, parse_redirect},
	{SEC_PEER, "PublicKey", false, parse_public_key},
	{SEC_PEER, "PresharedKey", false, parse_psk},
	{SEC_PEER, "PresharedKeyFile", false, parse_psk_file},
	{SEC_PEER, "AllowedIPs", true, parse_allowed_ips},
	{SEC_PEER, "Endpoint", false, parse_endpoint},
	{SEC_PEER, "PersistentKeepalive", false, parse_keepalive},
	{SEC_PEER, "Name", false, parse_name},
	{SEC_PEER, "AllowExpose", true, parse_allow_expose},
	{SEC_PEER, "AllowExposeFrom", true, parse_expose_from},
	{SEC_EXPOSE, "LocalPort", false, parse_local_port},
	{SEC_EXPOSE, "LocalAddress", false, parse_local_address},
	{SEC_EXPOSE, "Peer", false, parse_expose_peer},
	{SEC_EXPOSE, "PublicPort", false, parse_public_port},
	{SEC_EXPOSE, "ProxyProtocol", false, parse_proxy_protocol},
	{SEC_EXPOSE, "ServerAddress", false, parse_server_address},
};

_Static_assert(sizeof(key_handlers) / sizeof(key_handlers[0]) <=
		       sizeof(((struct loader *)0)->seen) / sizeof(unsigned int),
	       "one 'seen' slot per key");

/* ---- The reader inih reads through ---- */

static int stash_value(struct loader *l, const char *value)
{
	char **v;

	if (l->n_stash == l->cap_stash) {
		size_t cap = l->cap_stash ? l->cap_stash * 2 : 16;

		v = realloc(l->stash, cap * sizeof(*v));
		if (!v) {
			l->oom = true;
			return -1;
		}
		l->stash = v;
		l->cap_stash = cap;
	}
	l->stash[l->n_stash] = strdup(value);
	if (!l->stash[l->n_stash]) {
		l->oom = true;
		return -1;
	}
	return (int)l->n_stash++;
}

/* [Expose NAME]: one published service. */
static void start_expose(struct loader *l, const char *name)
{
	struct expose_config *arr;
	struct expose_lines *lines;

	if (!expose_name_valid(name)) {
		err(l, "\"%.64s\" is not a service name: expected [Expose NAME], NAME 1-%d of A-Z a-z 0-9 . _ -",
		    name, EXPOSE_NAME_MAX);
		l->section = SEC_UNKNOWN;
		return;
	}
	arr = grow(l, l->cfg->exposes, l->cfg->n_exposes, sizeof(*arr));
	if (arr)
		l->cfg->exposes = arr;
	lines = grow(l, l->expose_lines, l->cfg->n_exposes, sizeof(*lines));
	if (lines)
		l->expose_lines = lines;
	if (!arr || !lines) {
		l->section = SEC_UNKNOWN;
		return;
	}
	memset(&arr[l->cfg->n_exposes], 0, sizeof(*arr));
	memset(&lines[l->cfg->n_exposes], 0, sizeof(*lines));
	arr[l->cfg->n_exposes].line = l->line;
	snprintf(arr[l->cfg->n_exposes].name, sizeof(arr->name), "%s", name);
	arr[l->cfg->n_exposes].local.in.sin_family = AF_INET;
	arr[l->cfg->n_exposes].local.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->cfg->n_exposes++;
	l->section = SEC_EXPOSE;
}

static void start_section(struct loader *l, const char *name)
{
	memset(l->seen, 0, sizeof(l->seen));
	if (strcasecmp(name, "Interface") == 0) {
		/* wg-quick would merge them; two are a mistake (two files pasted together?). */
		if (l->interface_line) {
			err(l, "a second [Interface]; the first is at line %u, and a file has one",
			    l->interface_line);
			l->section = SEC_UNKNOWN;
			return;
		}
		l->section = SEC_INTERFACE;
		l->interface_line = l->line;
		return;
	}
	if (strcasecmp(name, "Peer") == 0) {
		struct peer_config *peers;
		unsigned int *lines;

		if (iface_config_reserve_peer(l->cfg) == 0) {
			peers = l->cfg->peers;
		} else {
			peers = NULL;
			l->oom = true;
		}
		lines = grow(l, l->peer_key_line, l->cfg->n_peers, sizeof(*lines));
		if (lines)
			l->peer_key_line = lines;
		if (!peers || !lines) {
			l->section = SEC_UNKNOWN;
			return;
		}
		memset(&peers[l->cfg->n_peers], 0, sizeof(*peers));
		peers[l->cfg->n_peers].line = l->line;
		lines[l->cfg->n_peers] = 0;
		l->cfg->n_peers++;
		l->section = SEC_PEER;
		l->psk_line = 0;
		return;
	}
	if (strncasecmp(name, "Expose", 6) == 0 && (!name[6] || name[6] == ' ' || name[6] == '\t')) {
		const char *n = name + 6;

		while (*n == ' ' || *n == '\t')
			n++;
		start_expose(l, n);
		return;
	}
	err(l, "unknown section [%s]; expected [Interface], [Peer] or [Expose NAME]", name);
	l->section = SEC_UNKNOWN;
}

static bool valid_key_name(const char *k)
{
	size_t len = strlen(k);

	return len > 0 && len <= MAX_KEY_LEN &&
	       strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* Turn one raw line into what inih gets: "", "[Section]" or "Key=\x01N". */
static void sanitize_line(struct loader *l, char *raw, size_t len, char *out, int outlen)
{
	char *s, *eq, *hash;

	out[0] = '\0';
	if (len > MAX_LINE_BYTES) {
		err(l, "line is longer than %d bytes", MAX_LINE_BYTES);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
			err(l, "line contains a control character (byte 0x%02x)", c);
			return;
		}
	}
	/* wg-quick drops everything from the first '#'. */
	hash = strchr(raw, '#');
	if (hash)
		*hash = '\0';
	s = trim(raw);
	if (!*s || *s == ';')
		return;
	if (*s == '[') {
		size_t n = strlen(s);

		if (s[n - 1] != ']') {
			err(l, "expected a section header like [Peer]");
			l->section = SEC_UNKNOWN;
			return;
		}
		s[n - 1] = '\0';
		s = trim(s + 1);
		start_section(l, s);
		snprintf(out, (size_t)outlen, "[%s]", section_names[l->section]);
		return;
	}
	eq = strchr(s, '=');
	if (!eq) {
		err(l, "expected \"Key = Value\", a [Section] or a comment");
		return;
	}
	*eq = '\0';
	s = trim(s);
	if (!valid_key_name(s)) {
		err(l, "\"%.64s\" is not a key name", s);
		return;
	}
	{
		int idx = stash_value(l, trim(eq + 1));

		if (idx < 0)
			return;
		snprintf(out, (size_t)outlen, "%s=%c%d", s, STASH_MARK, idx);
	}
}

static char *reader(char *str, int num, void *stream)
{
	struct loader *l = stream;
	ssize_t n;

	n = getline(&l->linebuf, &l->linecap, l->f);
	if (n < 0)
		return NULL;
	l->line++;
	/* Editors on some systems start a UTF-8 file with a byte-order mark. */
	if (l->line == 1 && n >= 3 && memcmp(l->linebuf, "\xEF\xBB\xBF", 3) == 0) {
		memmove(l->linebuf, l->linebuf + 3, (size_t)n - 2);
		n -= 3;
	}
	if (memchr(l->linebuf, '\0', (size_t)n)) {
		err(l, "line contains a NUL byte");
		str[0] = '\0';
		return str;
	}
	sanitize_line(l, l->linebuf, (size_t)n, str, num);
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	const char *raw = "";

	(void)section;
	if (value[0] == STASH_MARK) {
		size_t idx = strtoul(value + 1, NULL, 10);

		if (idx < l->n_stash)
			raw = l->stash[idx];
	}
	if (l->section == SEC_UNKNOWN)
		return 1; /* already reported */
	if (l->section == SEC_NONE) {
		err(l, "\"%s\" is outside any section; expected [Interface] or [Peer] first", name);
		return 1;
	}
	for (size_t i = 0; i < sizeof(key_handlers) / sizeof(key_handlers[0]); i++) {
		const struct key_handler *h = &key_handlers[i];

		if (h->section != l->section || strcasecmp(h->name, name) != 0)
			continue;
		if (!h->is_list) {
			if (l->seen[i])
				warn(l, "%s is set again (first at line %u); the last value is used",
				     h->name, l->seen[i]);
			else
				l->seen[i] = l->line;
		}
		if (!*raw && !h->is_list) {
			err(l, "%s: expected a value", h->name);
			return 1;
		}
		h->parse(l, h->name, raw);
		return 1;
	}
	err(l, "unknown key \"%s\" in [%s]", name, section_names[l->section]);
	return 1;
}

/* ---- Whole-file checks ---- */

struct sort_item {
	const uint8_t *key; /* or prefix bytes */
	const char *name;
	const struct ip_prefix *prefix;
	size_t peer;
};

static int cmp_key(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c = memcmp(x->key, y->key, KEY_LEN);

	return c ? c : (x->peer > y->peer) - (x->peer < y->peer);
}

static int cmp_name(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->peer > y->peer) - (x->peer < y->peer);
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c = (int)x->prefix->family - (int)y->prefix->family;

	if (!c)
		c = (int)x->prefix->cidr - (int)y->prefix->cidr;
	if (!c)
		c = memcmp(x->prefix->addr.bytes, y->prefix->addr.bytes, 16);
	return c ? c : (x->peer > y->peer) - (x->peer < y->peer);
}

/* Duplicate keys and names are errors; a prefix on two peers goes to the later, as in wg. */
static void check_duplicates(struct loader *l)
{
	struct iface_config *c = l->cfg;
	struct sort_item *items;
	size_t n = 0, total = 0;

	for (size_t i = 0; i < c->n_peers; i++)
		total += c->peers[i].n_allowed_ips;
	items = calloc((total > c->n_peers ? total : c->n_peers) + 1, sizeof(*items));
	if (!items) {
		l->oom = true;
		return;
	}
	for (size_t i = 0; i < c->n_peers; i++)
		if (l->peer_key_line[i])
			items[n++] = (struct sort_item){.key = c->peers[i].public_key, .peer = i};
	qsort(items, n, sizeof(*items), cmp_key);
	for (size_t i = 1; i < n; i++)
		if (memcmp(items[i].key, items[i - 1].key, KEY_LEN) == 0)
			diag_add(l->diags, DIAG_ERROR, l->path, l->peer_key_line[items[i].peer],
				 "duplicate peer: this PublicKey is already used by the [Peer] at line %u",
				 c->peers[items[i - 1].peer].line);

	n = 0;
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].name)
			items[n++] = (struct sort_item){.name = c->peers[i].name, .peer = i};
	qsort(items, n, sizeof(*items), cmp_name);
	for (size_t i = 1; i < n; i++)
		if (strcmp(items[i].name, items[i - 1].name) == 0)
			diag_add(l->diags, DIAG_ERROR, l->path, c->peers[items[i].peer].line,
				 "duplicate Name \"%s\": already used by the [Peer] at line %u",
				 items[i].name, c->peers[items[i - 1].peer].line);

	n = 0;
	for (size_t i = 0; i < c->n_peers; i++)
		for (size_t j = 0; j < c->peers[i].n_allowed_ips; j++)
			items[n++] = (struct sort_item){.prefix = &c->peers[i].allowed_ips[j],
							.peer = i};
	qsort(items, n, sizeof(*items), cmp_prefix);
	for (size_t i = 1; i < n; i++) {
		char buf[ADDR_STR_LEN];

		if (items[i].peer == items[i - 1].peer ||
		    cmp_prefix(&(struct sort_item){.prefix = items[i].prefix},
			       &(struct sort_item){.prefix = items[i - 1].prefix}) != 0)
			continue;
		diag_add(l->diags, DIAG_WARNING, l->path, c->peers[items[i].peer].line,
			 "AllowedIPs: %s is also in the [Peer] at line %u; this later peer gets it",
			 prefix_format(buf, sizeof(buf), items[i].prefix),
			 c->peers[items[i - 1].peer].line);
	}
	free(items);
}

static uint16_t local_port(const struct expose_config *e)
{
	return ntohs(e->local.sa.sa_family == AF_INET6 ? e->local.in6.sin6_port
						      : e->local.in.sin_port);
}

/* Same peer and public port as an earlier [Expose]: its header line, else 0. */
static unsigned int public_port_taken(const struct iface_config *c, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (c->exposes[j].public_port == c->exposes[i].public_port &&
		    memcmp(c->exposes[j].peer_key, c->exposes[i].peer_key, KEY_LEN) == 0)
			return c->exposes[j].line;
	return 0;
}

/* One [Expose]: the keys it needs, its peer, the server's tunnel address. */
static bool check_expose(struct loader *l, size_t i)
{
	struct iface_config *c = l->cfg;
	struct expose_config *e = &c->exposes[i];
	const struct expose_lines *ln = &l->expose_lines[i];
	const struct peer_config *pc;
	char buf[ADDR_STR_LEN];

	for (size_t j = 0; j < i; j++) {
		if (strcmp(c->exposes[j].name, e->name) == 0) {
			diag_add(l->diags, DIAG_ERROR, l->path, e->line,
				 "duplicate [Expose %s]: already at line %u", e->name,
				 c->exposes[j].line);
			return false;
		}
	}
	if (!ln->local_port)
		diag_add(l->diags, DIAG_ERROR, l->path, e->line,
			 "[Expose %s] has no LocalPort (the port of the local service)", e->name);
	else if (!ln->public_port)
		e->public_port = local_port(e);
	if (!ln->peer) {
		diag_add(l->diags, DIAG_ERROR, l->path, e->line,
			 "[Expose %s] has no Peer (the Name or PublicKey of the server's [Peer])",
			 e->name);
		return false;
	}
	pc = iface_config_find_peer(c, e->peer);
	if (!pc) {
		diag_add(l->diags, DIAG_ERROR, l->path, ln->peer,
			 "Peer: \"%s\": no [Peer] has this Name or PublicKey", e->peer);
		return false;
	}
	memcpy(e->peer_key, pc->public_key, KEY_LEN);
	if (e->has_server_address) {
		const struct peer_config *owner = iface_config_route_owner(c, &e->server_address);

		if (owner != pc) {
			prefix_format_addr(buf, sizeof(buf), &e->server_address);
			if (owner)
				diag_add(l->diags, DIAG_ERROR, l->path, ln->server_address,
					 "ServerAddress: %s goes to the [Peer] at line %u (a longer AllowedIPs entry), not to peer %s",
					 buf, owner->line, e->peer);
			else
				diag_add(l->diags, DIAG_ERROR, l->path, ln->server_address,
					 "ServerAddress: %s is not in the AllowedIPs of peer %s",
					 buf, e->peer);
			return false;
		}
	}
	if (!e->has_server_address && !expose_config_default_server(c, pc)) {
		diag_add(l->diags, DIAG_ERROR, l->path, e->line,
			 "[Expose %s]: peer %s has no single-address AllowedIPs entry (/32 or /128); set ServerAddress to the server's tunnel address",
			 e->name, e->peer);
		return false;
	}
	return true;
}

static void check_exposes(struct loader *l)
{
	struct iface_config *c = l->cfg;

	for (size_t i = 0; i < c->n_exposes; i++) {
		struct expose_config *e = &c->exposes[i];
		unsigned int other;

		if (!check_expose(l, i) || !e->public_port)
			continue;
		other = public_port_taken(c, i);
		if (other)
			diag_add(l->diags, DIAG_ERROR, l->path,
				 l->expose_lines[i].public_port ? l->expose_lines[i].public_port
								: e->line,
				 "PublicPort %u through peer %s is already asked for by the [Expose] at line %u",
				 e->public_port, e->peer, other);
	}
}

/*
 * A peer's AllowExposeFrom, or the address it stands for: the peer's own
 * tunnel address, from which alone it may open localhost-tunnel control
 * sessions here (not from the hosts behind it that its AllowedIPs route).
 */
static void check_expose_from(struct loader *l, const struct peer_config *pc)
{
	char buf[ADDR_STR_LEN];

	if (pc->n_expose_from && !pc->n_allow_expose)
		diag_add(l->diags, DIAG_WARNING, l->path, pc->expose_from_line,
			 "AllowExposeFrom has no effect without AllowExpose");
	for (size_t i = 0; i < pc->n_expose_from; i++) {
		const struct peer_config *owner =
			iface_config_route_owner(l->cfg, &pc->expose_from[i]);

		if (owner == pc)
			continue;
		prefix_format_addr(buf, sizeof(buf), &pc->expose_from[i]);
		if (owner)
			diag_add(l->diags, DIAG_ERROR, l->path, pc->expose_from_line,
				 "AllowExposeFrom: %s goes to the [Peer] at line %u (a longer AllowedIPs entry), not to this peer",
				 buf, owner->line);
		else
			diag_add(l->diags, DIAG_ERROR, l->path, pc->expose_from_line,
				 "AllowExposeFrom: %s is not in this peer's AllowedIPs", buf);
	}
	if (pc->n_allow_expose && !pc->n_expose_from &&
	    !expose_config_client_address(pc, AF_INET, 0) &&
	    !expose_config_client_address(pc, AF_INET6, 0))
		diag_add(l->diags, DIAG_ERROR, l->path, pc->allow_expose_line,
			 "AllowExpose: the peer has no single-address AllowedIPs entry (/32 or /128) to publish from; set AllowExposeFrom to its own tunnel address");
}

static void check_file(struct loader *l)
{
	struct iface_config *c = l->cfg;
	uint8_t own_public[KEY_LEN];
	bool has_public = false;

	if (!l->interface_line) {
		diag_add(l->diags, DIAG_ERROR, l->path, 0, "no [Interface] section");
	} else if (!c->has_private_key) {
		diag_add(l->diags, DIAG_ERROR, l->path, l->interface_line,
			 "[Interface] has no PrivateKey or PrivateKeyFile");
	} else {
		uint8_t priv[KEY_LEN];

		memcpy(priv, c->private_key, KEY_LEN);
		curve25519_clamp(priv);
		has_public = curve25519_public_from_private(own_public, priv) == 0;
		crypto_wipe(priv, sizeof(priv));
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		if (!l->peer_key_line[i])
			diag_add(l->diags, DIAG_ERROR, l->path, c->peers[i].line,
				 "[Peer] has no PublicKey");
		else if (has_public && memcmp(c->peers[i].public_key, own_public, KEY_LEN) == 0)
			diag_add(l->diags, DIAG_ERROR, l->path, l->peer_key_line[i],
				 "PublicKey: this is the interface's own public key");
	}
	check_duplicates(l);
	check_exposes(l);
	for (size_t i = 0; i < c->n_peers; i++)
		check_expose_from(l, &c->peers[i]);
}

/* ---- Entry points ---- */

static int load(struct loader *l, struct iface_config **out)
{
	size_t errors_before = l->diags->n_errors;
	char *copy, *base, *dot;
	int rc;

	l->cfg = calloc(1, sizeof(*l->cfg));
	copy = strdup(l->path);
	if (!l->cfg || !copy || !(l->cfg->path = strdup(l->path))) {
		free(copy);
		iface_config_free(l->cfg);
		return -ENOMEM;
	}
	base = basename(copy);
	dot = strrchr(base, '.');
	if (dot && strcmp(dot, ".conf") == 0)
		*dot = '\0';
	if (!config_iface_name_valid(base))
		diag_add(l->diags, DIAG_ERROR, l->path, 0,
			 "\"%s\" is not a valid interface name (1-15 of A-Z a-z 0-9 _ = + . -); rename the file",
			 base);
	snprintf(l->cfg->name, sizeof(l->cfg->name), "%s", base);
	free(copy);

	rc = ini_parse_stream(reader, l, handler, l);
	if (rc == -2)
		l->oom = true;
	if (!l->oom)
		check_file(l);
	if (l->oom)
		diag_add(l->diags, DIAG_ERROR, l->path, 0, "out of memory");

	for (size_t i = 0; i < l->n_stash; i++) {
		crypto_wipe(l->stash[i], strlen(l->stash[i]));
		free(l->stash[i]);
	}
	free(l->stash);
	if (l->linebuf) {
		crypto_wipe(l->linebuf, l->linecap);
		free(l->linebuf);
	}
	free(l->peer_key_line);
	free(l->expose_lines);
	if (l->diags->n_errors > errors_before) {
		iface_config_free(l->cfg);
		return -EINVAL;
	}
	*out = l->cfg;
	return 0;
}

static char *dir_of(const char *path)
{
	char *copy = strdup(path), *d;

	if (!copy)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

_Static_assert(CONFIG_DIGEST_LEN == BLAKE2S_HASH_LEN, "the text digest is a BLAKE2s-256 hash");

/* Load text, and remember its digest: --save checks it before editing the file. */
static int load_text(struct loader *l, const char *text, size_t len, struct iface_config **out)
{
	int rc;

	/* fmemopen refuses an empty buffer: an empty file reads as one empty line. */
	l->f = len ? fmemopen((void *)text, len, "r") : fmemopen((void *)"\n", 1, "r");
	if (!l->f)
		return -errno;
	l->dir = dir_of(l->path);
	if (!l->dir) {
		fclose(l->f);
		return -ENOMEM;
	}
	rc = load(l, out);
	if (rc == 0)
		blake2s_hash((*out)->text_digest, text, len, NULL, 0);
	fclose(l->f);
	free(l->dir);
	return rc;
}

int config_read_fd(int fd, char **text, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t got;

	while (buf) {
		if (n + 1 == cap) {
			if (cap >= MAX_FILE_BYTES) {
				crypto_wipe(buf, n);
				free(buf);
				return -EFBIG;
			}
			bigger = malloc(cap * 2);
			if (bigger)
				memcpy(bigger, buf, n);
			crypto_wipe(buf, n);
			free(buf);
			buf = bigger;
			cap *= 2;
			continue;
		}
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int rc = -errno;

			crypto_wipe(buf, n);
			free(buf);
			return rc;
		}
		if (got == 0) {
			buf[n] = '\0';
			*text = buf;
			*len = n;
			return 0;
		}
		n += (size_t)got;
	}
	return -ENOMEM;
}

int config_load_file(const char *path, struct iface_config **out, struct diag_list *diags)
{
	struct loader l = {.path = path, .diags = diags};
	char *text = NULL;
	struct stat st;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		diag_add(diags, DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	/* Read once, parse those bytes: the digest is of exactly what was loaded. */
	rc = fstat(fd, &st) == 0 ? config_read_fd(fd, &text, &len) : -errno;
	close(fd);
	if (rc != 0) {
		if (rc == -EFBIG)
			diag_add(diags, DIAG_ERROR, path, 0, "the file is larger than %d MiB",
				 MAX_FILE_BYTES >> 20);
		else
			diag_add(diags, DIAG_ERROR, path, 0, "cannot read: %s", strerror(-rc));
		return rc;
	}
	rc = load_text(&l, text, len, out);
	if (rc == 0 && l.has_inline_secret && (st.st_mode & 077))
		diag_add(diags, DIAG_WARNING, path, 0,
			 "contains a private or preshared key and is readable by group or others (mode %04o); run chmod 600 on it",
			 (unsigned int)(st.st_mode & 07777));
	crypto_wipe(text, len);
	free(text);
	return rc;
}

int config_load_string(const char *path, const char *text, size_t len, struct iface_config **out,
		       struct diag_list *diags)
{
	struct loader l = {.path = path, .diags = diags};

	*out = NULL;
	return load_text(&l, text, len, out);
}
