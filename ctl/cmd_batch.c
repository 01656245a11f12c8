// SPDX-License-Identifier: MIT
/*
 * tunctl add-peer IFACE --from FILE: the [Peer] sections of FILE (or stdin),
 * read by the interface files' own loader, sent to tund as add-peers
 * requests of at most BATCH_MAX_PEERS peers that each fit the control
 * socket's request limit. Each request is all or nothing
 * (docs/control-protocol.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control_proto.h"
#include "crypto.h"
#include "jsonmem.h"
#include "key.h"
#include "peer_settings.h"
#include "tunctl.h"

#define BATCH_MAX_PEERS 1000
/* Room left in a request line for the envelope around the peers. */
#define BATCH_MAX_BYTES (CONTROL_MAX_REQUEST - 1024)

/* One peer of the list as add-peer's fields; NULL with msg set when it cannot be sent. */
static json_t *peer_fields(const struct peer_config *pc, char *msg, size_t msg_len)
{
	char b64[KEY_BASE64_LEN + 1];
	json_t *o = json_object();

	if (!o)
		return NULL;
	key_to_base64(b64, pc->public_key);
	json_object_set_new(o, "public_key", json_string(b64));
	if (pc->has_preshared_key) {
		key_to_base64(b64, pc->preshared_key);
		json_object_set_new(o, "preshared_key", json_string(b64));
		crypto_wipe(b64, sizeof(b64));
	}
	for (size_t i = 0; i < peer_settings_count; i++) {
		const struct peer_setting *s = &peer_settings[i];
		char *text;
		json_t *v;

		if (s->id == PEER_SETTING_PUBLIC_KEY || s->id == PEER_SETTING_PRESHARED_KEY ||
		    s->id == PEER_SETTING_PRESHARED_KEY_FILE || !s->is_set(pc))
			continue;
		if (s->json_type == PEER_JSON_NONE || !s->format) {
			snprintf(msg, msg_len, "line %u: %s cannot be set with add-peer", pc->line,
				 s->file_key);
			json_decref(o);
			return NULL;
		}
		text = s->format(pc);
		v = text ? peer_setting_option_json(s, text, msg, msg_len) : NULL;
		free(text);
		if (!v) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, s->json_key, v);
	}
	return o;
}

/* The list's text: FILE, or stdin for "-". */
static int read_list(const char *path, char **text, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc;

	if (fd < 0)
		return -errno;
	rc = config_read_fd(fd, text, len);
	if (fd != 0)
		close(fd);
	return rc;
}

/* Send peers[first, end) of cfg in one add-peers request; adds to the counts. */
static int send_batch(struct tunctl *t, const char *cmd, const char *iface, json_t *chunk,
		      json_int_t *added, json_int_t *updated)
{
	json_t *args = json_pack("{s:s,s:O}", "interface", iface, "peers", chunk), *result, *w;
	size_t i;
	int rc;

	if (!args)
		return TUNCTL_EXIT_FAILURE;
	rc = tunctl_call(t, "add-peers", args, &result);
	if (rc != TUNCTL_EXIT_OK)
		return rc;
	*added += json_integer_value(json_object_get(result, "added"));
	*updated += json_integer_value(json_object_get(result, "updated"));
	json_array_foreach(json_object_get(result, "warnings"), i, w)
		fprintf(stderr, "tunctl: %s: warning: %s\n", cmd, json_string_value(w));
	json_decref(result);
	return TUNCTL_EXIT_OK;
}

int tunctl_add_peers_from(struct tunctl *t, const char *cmd, const char *iface, const char *path)
{
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	struct diag_list diags = {0};
	struct iface_config *cfg = NULL;
	json_int_t added = 0, updated = 0;
	size_t len = 0, bytes = 0, first = 0;
	json_t *chunk = NULL;
	char *text = NULL, msg[512];
	int rc;

	if (crypto_init() != 0) { /* the loader hashes the text; main() did not fetch */
		fprintf(stderr, "tunctl: cannot initialise OpenSSL\n");
		return TUNCTL_EXIT_FAILURE;
	}
	rc = read_list(path, &text, &len);
	if (rc != 0) {
		fprintf(stderr, "tunctl: %s: cannot read %s: %s\n", cmd, name, strerror(-rc));
		return TUNCTL_EXIT_FAILURE;
	}
	rc = config_load_peers_string(strcmp(path, "-") == 0 ? "./<stdin>" : path, text, len, &cfg,
				      &diags);
	crypto_wipe(text, len);
	free(text);
	diag_print(&diags, stderr);
	diag_list_clear(&diags);
	if (rc != 0) {
		fprintf(stderr, "tunctl: %s: %s: nothing was sent\n", cmd, name);
		return TUNCTL_EXIT_FAILURE;
	}
	rc = TUNCTL_EXIT_OK;
	for (size_t i = 0; i <= cfg->n_peers && rc == TUNCTL_EXIT_OK; i++) {
		json_t *o = NULL;
		size_t n = 0;
		char *s;

		if (i < cfg->n_peers) {
			o = peer_fields(&cfg->peers[i], msg, sizeof(msg));
			s = o ? json_dumps(o, JSON_COMPACT) : NULL;
			if (!s) {
				fprintf(stderr, "tunctl: %s: %s: %s\n", cmd, name,
					o ? "out of memory" : msg);
				json_decref(o);
				rc = TUNCTL_EXIT_FAILURE;
				break;
			}
			n = strlen(s) + 1;
			jsonmem_free(s);
		}
		/* The chunk so far goes when this peer would not fit, and at the end. */
		if (chunk && (!o || bytes + n > BATCH_MAX_BYTES ||
			      json_array_size(chunk) == BATCH_MAX_PEERS)) {
			rc = send_batch(t, cmd, iface, chunk, &added, &updated);
			if (rc != TUNCTL_EXIT_OK && first)
				fprintf(stderr,
					"tunctl: %s: %s: the %zu peers before line %u were applied and stay\n",
					cmd, name, first, cfg->peers[first].line);
			json_decref(chunk);
			chunk = NULL;
			first = i;
			bytes = 0;
		}
		if (o && rc == TUNCTL_EXIT_OK) {
			if (!chunk)
				chunk = json_array();
			json_array_append(chunk, o);
			bytes += n;
		}
		json_decref(o);
	}
	json_decref(chunk);
	iface_config_free(cfg);
	if (rc != TUNCTL_EXIT_OK)
		return rc;
	if (t->json)
		return output_json(json_pack("{s:s,s:I,s:I}", "interface", iface, "added", added,
					     "updated", updated));
	printf("%lld peer%s added, %lld updated\n", (long long)added, added == 1 ? "" : "s",
	       (long long)updated);
	return fflush(stdout) == 0 ? TUNCTL_EXIT_OK : TUNCTL_EXIT_FAILURE;
}
