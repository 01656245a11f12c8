// SPDX-License-Identifier: MIT
/*
 * The peer commands of the control socket: add-peer, set-peer and
 * remove-peer, each through iface_apply_peer()/iface_remove_peer() like a
 * config load, and with "save": true also into the interface's file.
 */
#include "control_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "config.h"
#include "config_edit.h"
#include "crypto.h"
#include "iface.h"
#include "key.h"
#include "log.h"

/*
 * Apply the optional peer fields of args onto pc: name, allowed_ips,
 * endpoint, persistent_keepalive, preshared_key ("" or null removes the
 * last three).
 */
static int apply_peer_args(struct iface *iface, json_t *args, struct peer_config *pc,
			   struct cmd_error *err)
{
	json_t *v;

	if ((v = json_object_get(args, "name"))) {
		const char *name = json_string_value(v);
		const struct peer_config *other;

		if (!json_is_string(v) || !*name || strlen(name) > 32 ||
		    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
			    strlen(name))
			return fail(err, "invalid_argument",
				    "\"name\" must be 1 to 32 of A-Z a-z 0-9 . _ - (as Name= in a file)");
		other = iface_config_find_peer(iface->cfg, name);
		if (other && !crypto_memeq(other->public_key, pc->public_key, KEY_LEN))
			return fail(err, "exists", "%s already has a peer named \"%s\"", iface->name,
				    name);
		free(pc->name);
		pc->name = strdup(name);
		if (!pc->name)
			return fail(err, "failed", "out of memory");
	}
	if ((v = json_object_get(args, "allowed_ips"))) {
		struct ip_prefix *list;
		size_t i, n;
		json_t *item;

		if (!json_is_array(v))
			return fail(err, "invalid_argument", "\"allowed_ips\" must be a list");
		n = json_array_size(v);
		list = calloc(n ? n : 1, sizeof(*list));
		if (!list)
			return fail(err, "failed", "out of memory");
		json_array_foreach (v, i, item) {
			const char *why = NULL;
			bool host_bits;

			if (!json_is_string(item) ||
			    prefix_parse(json_string_value(item), &list[i], &host_bits, &why) != 0) {
				free(list);
				return fail(err, "invalid_argument", "allowed IP \"%s\": %s",
					    json_is_string(item) ? json_string_value(item) : "?",
					    why ? why : "expected an address/prefix");
			}
			prefix_mask(&list[i]);
		}
		free(pc->allowed_ips);
		pc->allowed_ips = list;
		pc->n_allowed_ips = n;
	}
	if ((v = json_object_get(args, "endpoint"))) {
		char host[256];
		uint16_t port;
		const char *why = NULL;

		free(pc->endpoint_host);
		pc->endpoint_host = NULL;
		pc->endpoint_port = 0;
		if (json_is_string(v) && *json_string_value(v)) {
			if (endpoint_split(json_string_value(v), host, sizeof(host), &port, &why) != 0)
				return fail(err, "invalid_argument", "endpoint \"%s\": %s",
					    json_string_value(v), why ? why : "expected HOST:PORT");
			pc->endpoint_host = strdup(host);
			if (!pc->endpoint_host)
				return fail(err, "failed", "out of memory");
			pc->endpoint_port = port;
		} else if (!json_is_null(v) && !json_is_string(v)) {
			return fail(err, "invalid_argument", "\"endpoint\" must be HOST:PORT");
		}
	}
	if ((v = json_object_get(args, "persistent_keepalive"))) {
		json_int_t s = json_integer_value(v);

		if (!json_is_integer(v) || s < 0 || s > 65535)
			return fail(err, "invalid_argument",
				    "\"persistent_keepalive\" must be 0 to 65535 seconds");
		pc->persistent_keepalive_s = (uint16_t)s;
	}
	if ((v = json_object_get(args, "preshared_key"))) {
		const char *why = NULL;

		if (json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
			pc->has_preshared_key = false;
			crypto_wipe(pc->preshared_key, KEY_LEN);
		} else if (!json_is_string(v) ||
			   key_from_base64(pc->preshared_key, json_string_value(v), &why) != 0) {
			return fail(err, "invalid_argument", "preshared key %s",
				    why ? why : "must be a string");
		} else {
			pc->has_preshared_key = true;
		}
	}
	return 0;
}

/* Apply pc to the running interface and record it in iface->cfg. */
static int commit_peer(struct iface *iface, const struct peer_config *pc, struct cmd_error *err)
{
	int rc = iface_apply_peer(iface, pc, clock_now_s(), NULL);

	if (rc == -EINVAL)
		return fail(err, "invalid_argument", "that is %s's own public key", iface->name);
	if (rc != 0)
		return fail(err, "failed", "cannot apply the peer: %s", strerror(-rc));
	if (iface_config_put_peer(iface->cfg, pc) != 0)
		return fail(err, "failed", "out of memory");
	return 0;
}

/*
 * --save, before anything changes: with "save": true in args, prepare the
 * interface file's text for the peer of key becoming pc (NULL: removed), or
 * refuse. Without it s is left empty.
 */
static int save_prepare(struct iface *iface, json_t *args, const uint8_t key[static KEY_LEN],
			const struct peer_config *pc, struct config_save *s, struct cmd_error *err)
{
	const char *psk_file = NULL;
	char why[480];
	json_t *v;
	int want;

	memset(s, 0, sizeof(*s));
	if ((want = save_wanted(args, err)) <= 0)
		return want;
	v = json_object_get(args, "preshared_key_file");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return fail(err, "invalid_argument",
				    "\"preshared_key_file\" must be an absolute path");
		psk_file = json_string_value(v);
	}
	if (config_save_prepare(iface->cfg, key, pc, psk_file, s, why, sizeof(why)) != 0)
		return fail(err, "save_refused", "%s; nothing was changed", why);
	return 0;
}

int cmd_add_peer(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err)
{
	struct peer_config pc = {0};
	struct config_save save = {0};
	struct iface *iface;
	const char *key = NULL, *why = NULL;
	int rc = -1;

	iface = need_iface(env, args, err);
	if (!iface || need_string(args, "public_key", &key, err) != 0)
		return -1;
	if (key_from_base64(pc.public_key, key, &why) != 0)
		return fail(err, "invalid_argument", "public key %s", why);
	if (iface_config_find_peer_key(iface->cfg, pc.public_key))
		return fail(err, "exists", "%s already has this peer; use set-peer to change it",
			    iface->name);
	if (apply_peer_args(iface, args, &pc, err) == 0 &&
	    save_prepare(iface, args, pc.public_key, &pc, &save, err) == 0 &&
	    commit_peer(iface, &pc, err) == 0) {
		*result = json_pack("{s:s,s:s}", "interface", iface->name, "public_key", key);
		rc = save_commit(iface, &save, result, err);
	}
	config_save_clear(&save);
	peer_config_clear(&pc);
	return rc;
}

int cmd_set_peer(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err)
{
	const struct peer_config *cur;
	struct peer_config pc;
	struct config_save save = {0};
	struct iface *iface;
	char key[KEY_BASE64_LEN + 1];
	int rc = -1;

	iface = need_iface(env, args, err);
	if (!iface || !(cur = need_peer(iface, args, err)))
		return -1;
	if (peer_config_copy(&pc, cur) != 0)
		return fail(err, "failed", "out of memory");
	if (apply_peer_args(iface, args, &pc, err) == 0 &&
	    save_prepare(iface, args, pc.public_key, &pc, &save, err) == 0 &&
	    commit_peer(iface, &pc, err) == 0) {
		key_to_base64(key, pc.public_key);
		*result = json_pack("{s:s,s:s}", "interface", iface->name, "public_key", key);
		rc = save_commit(iface, &save, result, err);
	}
	config_save_clear(&save);
	peer_config_clear(&pc);
	return rc;
}

int cmd_remove_peer(const struct control_env *env, json_t *args, json_t **result,
		    struct cmd_error *err)
{
	const struct peer_config *cur;
	struct config_save save;
	struct iface *iface;
	uint8_t pub[KEY_LEN];
	char key[KEY_BASE64_LEN + 1];
	int rc;

	iface = need_iface(env, args, err);
	if (!iface || !(cur = need_peer(iface, args, err)))
		return -1;
	memcpy(pub, cur->public_key, KEY_LEN);
	if (save_prepare(iface, args, pub, NULL, &save, err) != 0)
		return -1;
	(void)iface_remove_peer(iface, pub);
	(void)iface_config_drop_peer(iface->cfg, pub);
	key_to_base64(key, pub);
	*result = json_pack("{s:s,s:s}", "interface", iface->name, "public_key", key);
	rc = save_commit(iface, &save, result, err);
	config_save_clear(&save);
	return rc;
}
