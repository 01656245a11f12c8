// SPDX-License-Identifier: MIT
/*
 * The table of peer settings and each setting's functions (peer_settings.h):
 * parsing a value as a [Peer] line or tunctl gives it, with the messages a
 * file's diagnostics carry; telling whether a peer sets it; comparing;
 * formatting it back for --save. The control protocol's side is
 * peer_settings_json.c.
 */
#include "peer_settings.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_edit.h"
#include "crypto.h"
#include "ini_lex.h"

#define NAME_CHARS   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define NAME_MAX_LEN 32

static void say(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->report(ctx, sev, msg);
}

/* arr with room for n + 1 elements of size bytes; NULL (and ctx->oom) when out of memory. */
static void *grow(struct peer_setting_ctx *ctx, void *arr, size_t n, size_t size)
{
	void *p = realloc(arr, (n + 1) * size);

	if (!p)
		ctx->oom = true;
	return p;
}

static int fail_oom(struct peer_setting_ctx *ctx)
{
	ctx->oom = true;
	return -1;
}

/* Each comma-separated, trimmed, non-empty item of value through the setting's parse_item. */
static int for_each_item(const struct peer_setting *s, struct peer_config *pc, const char *value,
			 struct peer_setting_ctx *ctx)
{
	char *copy = strdup(value), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return fail_oom(ctx);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = ini_trim(tok);
		if (*tok && s->parse_item(pc, tok, ctx) != 0)
			rc = -1;
	}
	free(copy);
	return rc;
}

int peer_settings_read_key_file(const char *value, uint8_t out[static KEY_LEN],
				struct peer_setting_ctx *ctx)
{
	const char *key = ctx->label, *why;
	char path[4096], text[128];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if (value[0] == '/')
		snprintf(path, sizeof(path), "%s", value);
	else
		snprintf(path, sizeof(path), "%s/%s", ctx->dir ? ctx->dir : ".", value);
	/* O_NONBLOCK: a FIFO in the way must not hang start-up or reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": cannot read: %s", key, value, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": not a regular file", key, value);
		goto out;
	}
	if (config_mode_exposed(&st)) {
		say(ctx, DIAG_ERROR,
		    "%s: \"%s\" is readable by group or others (mode %04o); run chmod 600 on it",
		    key, value, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": cannot read: %s", key, value, strerror(errno));
		goto out;
	}
	text[n] = '\0';
	if (key_from_base64(out, ini_trim(text), &why) != 0) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": the key in it %s", key, value, why);
		goto out;
	}
	rc = 0;
out:
	crypto_wipe(text, sizeof(text));
	close(fd);
	return rc;
}

/* ---- Name ---- */

static int parse_name(struct peer_config *pc, const char *value, struct peer_setting_ctx *ctx)
{
	size_t len = strlen(value);

	if (len == 0 || len > NAME_MAX_LEN || strspn(value, NAME_CHARS) != len) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": expected 1-32 characters of A-Z a-z 0-9 . _ -",
		    ctx->label, value);
		return -1;
	}
	free(pc->name);
	pc->name = strdup(value);
	return pc->name ? 0 : fail_oom(ctx);
}

static bool has_name(const struct peer_config *pc)
{
	return pc->name != NULL;
}

static bool same_name(const struct peer_config *a, const struct peer_config *b)
{
	return (!a->name && !b->name) || (a->name && b->name && strcmp(a->name, b->name) == 0);
}

static char *format_name(const struct peer_config *pc)
{
	return pc->name ? strdup(pc->name) : NULL;
}

/* ---- Keys ---- */

static int parse_public_key(struct peer_config *pc, const char *value, struct peer_setting_ctx *ctx)
{
	const char *why;

	if (key_from_base64(pc->public_key, value, &why) != 0) {
		say(ctx, DIAG_ERROR, "%s: \"%s\" %s", ctx->label, value, why);
		return -1;
	}
	return 0;
}

static bool always(const struct peer_config *pc)
{
	(void)pc;
	return true;
}

static bool same_public_key(const struct peer_config *a, const struct peer_config *b)
{
	return memcmp(a->public_key, b->public_key, KEY_LEN) == 0;
}

static char *format_public_key(const struct peer_config *pc)
{
	char *s = malloc(KEY_BASE64_LEN + 1);

	if (s)
		key_to_base64(s, pc->public_key);
	return s;
}

static int parse_psk(struct peer_config *pc, const char *value, struct peer_setting_ctx *ctx)
{
	const char *why;

	if (key_from_base64(pc->preshared_key, value, &why) != 0) {
		/* Never echo what may be a secret. */
		say(ctx, DIAG_ERROR, "%s: the key %s", ctx->label, why);
		return -1;
	}
	pc->has_preshared_key = true;
	return 0;
}

static int parse_psk_file(struct peer_config *pc, const char *value, struct peer_setting_ctx *ctx)
{
	if (peer_settings_read_key_file(value, pc->preshared_key, ctx) != 0)
		return -1;
	pc->has_preshared_key = true;
	return 0;
}

static bool has_psk(const struct peer_config *pc)
{
	return pc->has_preshared_key;
}

static bool same_psk(const struct peer_config *a, const struct peer_config *b)
{
	return a->has_preshared_key == b->has_preshared_key &&
	       (!a->has_preshared_key || crypto_memeq(a->preshared_key, b->preshared_key, KEY_LEN));
}

/* ---- AllowedIPs ---- */

/* One prefix; host bits are masked, with a warning, in a file as in a request. */
static int add_allowed_ip(struct peer_config *pc, const char *item, struct peer_setting_ctx *ctx)
{
	struct ip_prefix p, *arr;
	const char *why;
	bool host_bits;

	if (prefix_parse(item, &p, &host_bits, &why) != 0) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": %s", ctx->label, item, why);
		return -1;
	}
	if (host_bits) {
		char buf[ADDR_STR_LEN];

		prefix_mask(&p);
		say(ctx, DIAG_WARNING, "%s: \"%s\" has host bits set; using %s", ctx->label, item,
		    prefix_format(buf, sizeof(buf), &p));
	}
	arr = grow(ctx, pc->allowed_ips, pc->n_allowed_ips, sizeof(*arr));
	if (!arr)
		return -1;
	pc->allowed_ips = arr;
	arr[pc->n_allowed_ips++] = p;
	return 0;
}

static int parse_allowed_ips(struct peer_config *pc, const char *value,
			     struct peer_setting_ctx *ctx)
{
	return for_each_item(peer_setting_by_id(PEER_SETTING_ALLOWED_IPS), pc, value, ctx);
}

static bool has_allowed_ips(const struct peer_config *pc)
{
	return pc->n_allowed_ips > 0;
}

static bool same_allowed_ips(const struct peer_config *a, const struct peer_config *b)
{
	if (a->n_allowed_ips != b->n_allowed_ips)
		return false;
	for (size_t i = 0; i < a->n_allowed_ips; i++) {
		const struct ip_prefix *x = &a->allowed_ips[i], *y = &b->allowed_ips[i];

		if (x->family != y->family || x->cidr != y->cidr ||
		    memcmp(x->addr.bytes, y->addr.bytes, x->family == AF_INET ? 4 : 16) != 0)
			return false;
	}
	return true;
}

/* "10.0.0.2/32, 10.1.0.0/16" */
static char *format_allowed_ips(const struct peer_config *pc)
{
	char *s = malloc(pc->n_allowed_ips * (ADDR_STR_LEN + 2) + 1), *p = s;

	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < pc->n_allowed_ips; i++) {
		if (i)
			p = stpcpy(p, ", ");
		prefix_format(p, ADDR_STR_LEN, &pc->allowed_ips[i]);
		p += strlen(p);
	}
	return s;
}

/* ---- Endpoint ---- */

static int parse_endpoint(struct peer_config *pc, const char *value, struct peer_setting_ctx *ctx)
{
	char host[256];
	const char *why;
	uint16_t port;

	if (endpoint_split(value, host, sizeof(host), &port, &why) != 0) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": %s", ctx->label, value, why);
		return -1;
	}
	free(pc->endpoint_host);
	pc->endpoint_host = strdup(host);
	if (!pc->endpoint_host)
		return fail_oom(ctx);
	pc->endpoint_port = port;
	return 0;
}

static bool has_endpoint(const struct peer_config *pc)
{
	return pc->endpoint_host != NULL;
}

static bool same_endpoint(const struct peer_config *a, const struct peer_config *b)
{
	return a->endpoint_port == b->endpoint_port &&
	       ((!a->endpoint_host && !b->endpoint_host) ||
		(a->endpoint_host && b->endpoint_host &&
		 strcmp(a->endpoint_host, b->endpoint_host) == 0));
}

static char *format_endpoint(const struct peer_config *pc)
{
	/* A host with a ':', or one that begins with '[', reads back only in brackets. */
	bool brackets = strchr(pc->endpoint_host, ':') || pc->endpoint_host[0] == '[';
	char *s = NULL;

	if (asprintf(&s, brackets ? "[%s]:%u" : "%s:%u", pc->endpoint_host,
		     (unsigned int)pc->endpoint_port) < 0)
		return NULL;
	return s;
}

/* ---- PersistentKeepalive ---- */

/* "off" (0) or 0-65535, in decimal digits only. */
static bool parse_seconds(const char *s, unsigned long *out)
{
	char *end;

	*out = 0;
	if (strcasecmp(s, "off") == 0)
		return true;
	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out <= 65535;
}

static int parse_keepalive(struct peer_config *pc, const char *value, struct peer_setting_ctx *ctx)
{
	unsigned long v;

	if (!parse_seconds(value, &v)) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": expected off or a number of seconds 1-65535",
		    ctx->label, value);
		return -1;
	}
	pc->persistent_keepalive_s = (uint16_t)v;
	return 0;
}

static bool has_keepalive(const struct peer_config *pc)
{
	return pc->persistent_keepalive_s != 0;
}

static bool same_keepalive(const struct peer_config *a, const struct peer_config *b)
{
	return a->persistent_keepalive_s == b->persistent_keepalive_s;
}

static char *format_keepalive(const struct peer_config *pc)
{
	char *s = NULL;

	if (asprintf(&s, "%u", (unsigned int)pc->persistent_keepalive_s) < 0)
		return NULL;
	return s;
}

/* ---- AllowExpose, AllowExposeFrom (localhost tunnels) ---- */

static int add_allow_expose(struct peer_config *pc, const char *item, struct peer_setting_ctx *ctx)
{
	struct port_range r, *arr;
	const char *why;

	if (port_range_parse(item, &r, &why) != 0) {
		say(ctx, DIAG_ERROR, "%s: \"%s\": %s", ctx->label, item, why);
		return -1;
	}
	arr = grow(ctx, pc->allow_expose, pc->n_allow_expose, sizeof(*arr));
	if (!arr)
		return -1;
	pc->allow_expose = arr;
	arr[pc->n_allow_expose++] = r;
	return 0;
}

static int parse_allow_expose(struct peer_config *pc, const char *value,
			      struct peer_setting_ctx *ctx)
{
	return for_each_item(peer_setting_by_id(PEER_SETTING_ALLOW_EXPOSE), pc, value, ctx);
}

/* One address of AllowExposeFrom: a host, written without a prefix or as /32, /128. */
static int add_expose_from(struct peer_config *pc, const char *item, struct peer_setting_ctx *ctx)
{
	struct ip_prefix p, *arr;
	bool host_bits = false;

	if (prefix_parse(item, &p, &host_bits, NULL) != 0 ||
	    p.cidr != (p.family == AF_INET ? 32 : 128)) {
		say(ctx, DIAG_ERROR,
		    "%s: \"%s\": expected the peer's own tunnel address, such as 10.0.0.2 (one address, not a network)",
		    ctx->label, item);
		return -1;
	}
	arr = grow(ctx, pc->expose_from, pc->n_expose_from, sizeof(*arr));
	if (!arr)
		return -1;
	pc->expose_from = arr;
	arr[pc->n_expose_from++] = p;
	return 0;
}

static int parse_expose_from(struct peer_config *pc, const char *value,
			     struct peer_setting_ctx *ctx)
{
	return for_each_item(peer_setting_by_id(PEER_SETTING_ALLOW_EXPOSE_FROM), pc, value, ctx);
}

static bool has_allow_expose(const struct peer_config *pc)
{
	return pc->n_allow_expose > 0;
}

static bool has_expose_from(const struct peer_config *pc)
{
	return pc->n_expose_from > 0;
}

/* ---- The table ---- */

/*
 * In the order --save writes a new [Peer]. A setting's keys: in the file,
 * whether repeatable; in the control protocol and how it is carried; tunctl's
 * option; `wg`'s UAPI; the --save field. The protocol has no AllowExpose or
 * AllowExposeFrom (they are set in the file only), and `wg` knows neither of
 * those nor Name nor a key file.
 */
const struct peer_setting peer_settings[] = {
	{PEER_SETTING_NAME, "Name", false, "name", PEER_JSON_STRING, "name", NULL, CONFIG_EDIT_NAME,
	 parse_name, NULL, has_name, same_name, format_name},
	{PEER_SETTING_PUBLIC_KEY, "PublicKey", false, "public_key", PEER_JSON_NONE, "public-key",
	 "public_key", 0, parse_public_key, NULL, always, same_public_key, format_public_key},
	{PEER_SETTING_PRESHARED_KEY, "PresharedKey", false, "preshared_key", PEER_JSON_REMOVABLE,
	 NULL, "preshared_key", CONFIG_EDIT_PRESHARED_KEY, parse_psk, NULL, has_psk, same_psk,
	 NULL},
	{PEER_SETTING_PRESHARED_KEY_FILE, "PresharedKeyFile", false, "preshared_key_file",
	 PEER_JSON_NONE, "preshared-key-file", NULL, CONFIG_EDIT_PRESHARED_KEY, parse_psk_file,
	 NULL, has_psk, same_psk, NULL},
	{PEER_SETTING_ALLOWED_IPS, "AllowedIPs", true, "allowed_ips", PEER_JSON_LIST, "allowed-ips",
	 "allowed_ip", CONFIG_EDIT_ALLOWED_IPS, parse_allowed_ips, add_allowed_ip, has_allowed_ips,
	 same_allowed_ips, format_allowed_ips},
	{PEER_SETTING_ENDPOINT, "Endpoint", false, "endpoint", PEER_JSON_REMOVABLE, "endpoint",
	 "endpoint", CONFIG_EDIT_ENDPOINT, parse_endpoint, NULL, has_endpoint, same_endpoint,
	 format_endpoint},
	{PEER_SETTING_PERSISTENT_KEEPALIVE, "PersistentKeepalive", false, "persistent_keepalive",
	 PEER_JSON_NUMBER, "keepalive", "persistent_keepalive_interval", CONFIG_EDIT_KEEPALIVE,
	 parse_keepalive, NULL, has_keepalive, same_keepalive, format_keepalive},
	{PEER_SETTING_ALLOW_EXPOSE, "AllowExpose", true, NULL, PEER_JSON_NONE, NULL, NULL, 0,
	 parse_allow_expose, add_allow_expose, has_allow_expose, NULL, NULL},
	{PEER_SETTING_ALLOW_EXPOSE_FROM, "AllowExposeFrom", true, NULL, PEER_JSON_NONE, NULL, NULL,
	 0, parse_expose_from, add_expose_from, has_expose_from, NULL, NULL},
};

const size_t peer_settings_count = sizeof(peer_settings) / sizeof(peer_settings[0]);
_Static_assert(sizeof(peer_settings) / sizeof(peer_settings[0]) <= PEER_SETTINGS_MAX,
	       "PEER_SETTINGS_MAX bounds the table");

const struct peer_setting *peer_setting_by_file_key(const char *key)
{
	for (size_t i = 0; i < peer_settings_count; i++)
		if (strcasecmp(peer_settings[i].file_key, key) == 0)
			return &peer_settings[i];
	return NULL;
}

const struct peer_setting *peer_setting_by_option(const char *option)
{
	for (size_t i = 0; i < peer_settings_count; i++)
		if (peer_settings[i].tunctl_option &&
		    strcmp(peer_settings[i].tunctl_option, option) == 0)
			return &peer_settings[i];
	return NULL;
}

const struct peer_setting *peer_setting_by_id(enum peer_setting_id id)
{
	for (size_t i = 0; i < peer_settings_count; i++)
		if (peer_settings[i].id == id)
			return &peer_settings[i];
	return NULL;
}
