// SPDX-License-Identifier: MIT
/*
 * The [Interface] keys of an interface file, as wg-quick has them (and
 * PrivateKeyFile): what each takes and where it goes in struct iface_config.
 * The localhost tunnels' [Interface] keys are config_ini_expose.c's.
 */
#include "config_ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"

static int set_private_key(struct loader *l, const char *key, const char *value, bool from_file)
{
	const char *why;

	/* Repeating PrivateKey (or PrivateKeyFile) is a warning, the last wins; mixing is an error.
	 */
	if (l->private_key_line && l->private_key_line != l->line &&
	    l->private_key_from_file != from_file) {
		config_ini_err(
			l,
			"%s: the private key is already set at line %u; use PrivateKey or PrivateKeyFile, not both",
			key, l->private_key_line);
		return -1;
	}
	if (from_file) {
		if (config_ini_read_key_file(l, key, value, l->cfg->private_key) != 0)
			return -1;
	} else if (key_from_base64(l->cfg->private_key, value, &why) != 0) {
		/* Never echo what may be a secret. */
		config_ini_err(l, "%s: the key %s", key, why);
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

	if (!config_ini_parse_uint(value, 65535, &v)) {
		config_ini_err(l, "%s: \"%s\": expected a port number 0-65535 (0: any free port)",
			       key, value);
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
		config_ini_err(l, "%s: \"%s\": expected off, a number or 0xHEX up to 0xffffffff",
			       key, value);
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
		config_ini_err(l, "%s: \"%s\": %s", key, item, why);
		return -1;
	}
	arr = config_ini_grow(l, l->cfg->addresses, l->cfg->n_addresses, sizeof(*arr));
	if (!arr)
		return -1;
	l->cfg->addresses = arr;
	arr[l->cfg->n_addresses++] = p;
	return 0;
}

static int parse_address(struct loader *l, const char *key, const char *value)
{
	return config_ini_for_each_item(l, key, value, add_address);
}

static int parse_mtu(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!config_ini_parse_uint(value, 65535, &v) || v < 576) {
		config_ini_err(l, "%s: \"%s\": expected a number 576-65535", key, value);
		return -1;
	}
	l->cfg->mtu = (uint32_t)v;
	return 0;
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

	if (looks_like_address(item) && !config_ini_parse_ip(item, &sa)) {
		config_ini_err(
			l,
			"%s: \"%s\": not a valid IP address (and a search domain cannot look like one)",
			key, item);
		return -1;
	}
	if (!looks_like_address(item) && !is_search_domain(item)) {
		config_ini_err(l, "%s: \"%s\": expected an IP address or a search domain", key,
			       item);
		return -1;
	}
	return config_ini_push_string(l, &l->cfg->dns, &l->cfg->n_dns, item);
}

static int parse_dns(struct loader *l, const char *key, const char *value)
{
	return config_ini_for_each_item(l, key, value, add_dns);
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
	} else if (config_ini_parse_uint(value, UINT32_MAX, &v) && v > 0) {
		l->cfg->table = TABLE_ID;
		l->cfg->table_id = (uint32_t)v;
	} else {
		config_ini_err(l, "%s: \"%s\": expected auto, off, main or a table number", key,
			       value);
		return -1;
	}
	return 0;
}

static int parse_hook(struct loader *l, const char *key, const char *value)
{
	struct iface_config *c = l->cfg;

	/* wg-quick runs an empty hook as nothing: so does tund, but says so. */
	if (!*value) {
		config_ini_warn(l, "%s: no command; the line is ignored", key);
		return 0;
	}
	if (strcasecmp(key, "PreUp") == 0)
		return config_ini_push_string(l, &c->pre_up, &c->n_pre_up, value);
	if (strcasecmp(key, "PostUp") == 0)
		return config_ini_push_string(l, &c->post_up, &c->n_post_up, value);
	if (strcasecmp(key, "PreDown") == 0)
		return config_ini_push_string(l, &c->pre_down, &c->n_pre_down, value);
	return config_ini_push_string(l, &c->post_down, &c->n_post_down, value);
}

static int parse_resolve_interval(struct loader *l, const char *key, const char *value)
{
	unsigned long v;

	if (!config_ini_parse_uint(value, CONFIG_RESOLVE_INTERVAL_MAX, &v)) {
		config_ini_err(l, "%s: \"%s\": expected seconds 0-%u (0: never look a name up again)",
			       key, value, CONFIG_RESOLVE_INTERVAL_MAX);
		return -1;
	}
	l->cfg->has_resolve_interval = true;
	l->cfg->resolve_interval_s = (uint32_t)v;
	return 0;
}

static int parse_save_config(struct loader *l, const char *key, const char *value)
{
	(void)value;
	config_ini_warn(
		l,
		"%s is a wg-quick setting tund ignores; tund writes this file only for tunctl --save",
		key);
	return 0;
}

static const struct key_handler keys[] = {
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
	{SEC_INTERFACE, "ResolveInterval", false, parse_resolve_interval},
};

const struct key_table config_ini_interface_keys = {keys, sizeof(keys) / sizeof(keys[0])};
