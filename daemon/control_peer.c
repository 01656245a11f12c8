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
#include "peer_settings.h"

/*
 * Apply the optional peer fields of args onto pc (peer_settings_apply_json():
 * name, allowed_ips, endpoint, persistent_keepalive, preshared_key; "" or
 * null removes the last three), with the file's checks. *warnings gets the
 * messages of values taken with a change (host bits masked), or NULL.
 */
static int apply_peer_args(struct iface *iface, json_t *args, struct peer_config *pc,
			   json_t **warnings, struct cmd_error *err)
{
	struct peer_apply_result r;

	*warnings = NULL;
	if (peer_settings_apply_json(iface->cfg, args, pc, &r) != 0) {
		json_decref(r.warnings);
		return fail(err, r.code, "%s", r.message);
	}
	*warnings = r.warnings;
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

/*
 * What add-peer and set-peer share once pc is the peer as it stands: the
 * request's fields onto it, the save prepared, the change made, the reply
 * (key is the peer's public key as the reply names it), the save written.
 */
static int change_peer(struct iface *iface, json_t *args, struct peer_config *pc, const char *key,
		       json_t **result, struct cmd_error *err)
{
	struct config_save save = {0};
	json_t *warnings = NULL;
	int rc = -1;

	if (apply_peer_args(iface, args, pc, &warnings, err) == 0 &&
	    save_prepare(iface, args, pc->public_key, pc, &save, err) == 0 &&
	    commit_peer(iface, pc, err) == 0) {
		*result = json_pack("{s:s,s:s,s:O*}", "interface", iface->name, "public_key", key,
				    "warnings", warnings);
		rc = save_commit(iface, &save, result, err);
	}
	json_decref(warnings);
	config_save_clear(&save);
	return rc;
}

int cmd_add_peer(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err)
{
	struct peer_config pc = {0};
	struct iface *iface;
	const char *key = NULL, *why = NULL;
	int rc;

	iface = need_iface(env, args, err);
	if (!iface || need_string(args, "public_key", &key, err) != 0)
		return -1;
	if (key_from_base64(pc.public_key, key, &why) != 0)
		return fail(err, "invalid_argument", "public key %s", why);
	if (iface_config_find_peer_key(iface->cfg, pc.public_key))
		return fail(err, "exists", "%s already has this peer; use set-peer to change it",
			    iface->name);
	rc = change_peer(iface, args, &pc, key, result, err);
	peer_config_clear(&pc);
	return rc;
}

int cmd_set_peer(const struct control_env *env, json_t *args, json_t **result,
		 struct cmd_error *err)
{
	const struct peer_config *cur;
	struct peer_config pc;
	struct iface *iface;
	char key[KEY_BASE64_LEN + 1];
	int rc;

	iface = need_iface(env, args, err);
	if (!iface || !(cur = need_peer(iface, args, err)))
		return -1;
	if (peer_config_copy(&pc, cur) != 0)
		return fail(err, "failed", "out of memory");
	key_to_base64(key, pc.public_key);
	rc = change_peer(iface, args, &pc, key, result, err);
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

/* ---- add-peers: many peers in one request, all or nothing ---- */

/* What one applied element of a batch was before, to undo it. */
struct batch_undo {
	uint8_t key[KEY_LEN];
	bool existed; /* updated: old holds what it was; else added */
	struct peer_config old;
};

/* Put back what the first n elements of a batch changed, last first. */
static void batch_undo(struct iface *iface, struct batch_undo *u, size_t n)
{
	while (n--) {
		if (u[n].existed) {
			(void)iface_apply_peer(iface, &u[n].old, clock_now_s(), NULL);
			(void)iface_config_put_peer(iface->cfg, &u[n].old);
		} else {
			(void)iface_remove_peer(iface, u[n].key);
			(void)iface_config_drop_peer(iface->cfg, u[n].key);
		}
	}
}

/*
 * One element of the batch (index i, for messages): a new peer is made from
 * its fields, an existing one updated like set-peer; applied and recorded.
 * *u gets what undoes it. Warnings go to warnings as "peers[i]: ...".
 */
static int batch_one(struct iface *iface, json_t *elem, size_t i, struct batch_undo *u,
		     json_t *warnings, struct cmd_error *err)
{
	const struct peer_config *cur;
	struct peer_config pc = {0};
	const char *key, *why = NULL;
	json_t *w = NULL, *m;
	size_t j;
	int rc = -1;

	if (!json_is_object(elem))
		return fail(err, "invalid_argument", "peers[%zu]: not an object", i);
	key = arg_string(elem, "public_key");
	if (!key)
		return fail(err, "invalid_argument", "peers[%zu]: \"public_key\" is required", i);
	if (key_from_base64(u->key, key, &why) != 0)
		return fail(err, "invalid_argument", "peers[%zu]: public key %s", i, why);
	if (json_object_get(elem, "save"))
		return fail(err, "invalid_argument", "peers[%zu]: add-peers does not save", i);
	cur = iface_config_find_peer_key(iface->cfg, u->key);
	u->existed = cur != NULL;
	if (cur && (peer_config_copy(&pc, cur) != 0 || peer_config_copy(&u->old, cur) != 0)) {
		peer_config_clear(&pc);
		return fail(err, "failed", "out of memory");
	}
	memcpy(pc.public_key, u->key, KEY_LEN);
	if (apply_peer_args(iface, elem, &pc, &w, err) == 0 && commit_peer(iface, &pc, err) == 0)
		rc = 0;
	if (rc != 0) {
		char msg[sizeof(err->message)];
		int n = snprintf(msg, sizeof(msg), "peers[%zu] (%.44s): ", i, key);

		memcpy(msg + n, err->message, sizeof(msg) - (size_t)n - 1);
		msg[sizeof(msg) - 1] = '\0';
		memcpy(err->message, msg, sizeof(msg));
		peer_config_clear(&u->old);
	}
	json_array_foreach(w, j, m) json_array_append_new(
		warnings, json_sprintf("peers[%zu]: %s", i, json_string_value(m)));
	json_decref(w);
	peer_config_clear(&pc);
	return rc;
}

int cmd_add_peers(const struct control_env *env, json_t *args, json_t **result,
		  struct cmd_error *err)
{
	json_t *peers = json_object_get(args, "peers"), *warnings;
	size_t n = json_array_size(peers), done = 0, added = 0;
	struct batch_undo *undo;
	struct iface *iface;
	int rc = 0;

	iface = need_iface(env, args, err);
	if (!iface)
		return -1;
	if (!json_is_array(peers))
		return fail(err, "invalid_argument", "\"peers\" must be an array of peer objects");
	if (json_object_get(args, "save"))
		return fail(err, "invalid_argument",
			    "add-peers does not save; nothing was changed");
	undo = calloc(n ? n : 1, sizeof(*undo));
	warnings = json_array();
	if (!undo || !warnings) {
		free(undo);
		json_decref(warnings);
		return fail(err, "failed", "out of memory");
	}
	/* The routes follow once for the whole request, not once per peer. */
	iface_sync_defer(iface, true);
	for (; done < n; done++) {
		json_t *elem = json_array_get(peers, done);

		/* A key twice in one request: refused, as two [Peer]s of a file with one key. */
		for (size_t k = 0; k < done && rc == 0; k++) {
			const char *a = arg_string(elem, "public_key");
			const char *b = arg_string(json_array_get(peers, k), "public_key");

			if (a && b && strcmp(a, b) == 0)
				rc = fail(err, "invalid_argument",
					  "peers[%zu] (%s): the same public key as peers[%zu]",
					  done, a, k);
		}
		if (rc != 0 || (rc = batch_one(iface, elem, done, &undo[done], warnings, err)) != 0)
			break;
		added += !undo[done].existed;
	}
	if (rc != 0) {
		size_t len = strlen(err->message);

		batch_undo(iface, undo, done);
		iface_sync_defer(iface, false);
		snprintf(err->message + len, sizeof(err->message) - len, "; nothing was changed");
	} else {
		iface_sync_defer(iface, false);
		log_info("%s: add-peers: %zu added, %zu updated", iface->name, added, n - added);
		*result = json_pack("{s:s,s:I,s:I,s:o}", "interface", iface->name, "added",
				    (json_int_t)added, "updated", (json_int_t)(n - added),
				    "warnings", warnings);
		warnings = NULL;
	}
	for (size_t k = 0; k < done; k++)
		peer_config_clear(&undo[k].old);
	free(undo);
	json_decref(warnings);
	return rc;
}
