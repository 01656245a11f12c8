// SPDX-License-Identifier: MIT
/*
 * The peer settings (peer_settings.h) in the control protocol: applying the
 * fields of an add-peer or set-peer request to a peer, and turning a tunctl
 * option's text into the field's value. A value is parsed by the setting's
 * own parser, so it is checked, and its errors and warnings are worded, as
 * in a file; only what is the protocol's own (a field of the wrong JSON
 * type, a Name taken) is said here.
 */
#include "peer_settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* A request's messages: the first error, every warning. */
struct json_sink {
	struct peer_setting_ctx ctx;
	struct peer_apply_result *r;
	bool failed;
};

static void collect(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *msg)
{
	struct json_sink *s = ctx->arg;

	if (sev == DIAG_WARNING) {
		if (!s->r->warnings)
			s->r->warnings = json_array();
		json_array_append_new(s->r->warnings, json_string(msg));
		return;
	}
	if (!s->failed)
		snprintf(s->r->message, sizeof(s->r->message), "%s", msg);
	s->failed = true;
}

static int refuse(struct peer_apply_result *r, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct peer_apply_result *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* After a parser failed: out of memory, or the value's own message. */
static int parse_failed(struct json_sink *sink)
{
	if (sink->ctx.oom)
		return refuse(sink->r, "failed", "out of memory");
	sink->r->code = "invalid_argument";
	return -1;
}

/* A list replaces pc's: every item parsed into a fresh peer, then moved over. */
static int apply_list(const struct peer_setting *s, json_t *v, struct peer_config *pc,
		      struct json_sink *sink)
{
	struct peer_config fresh = {0};
	json_t *item;
	size_t i;

	if (!json_is_array(v))
		return refuse(sink->r, "invalid_argument", "\"%s\" must be a list", s->json_key);
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item)) {
			peer_config_clear(&fresh);
			return refuse(sink->r, "invalid_argument",
				      "\"%s\" must be a list of strings", s->json_key);
		}
		if (s->parse_item(&fresh, json_string_value(item), &sink->ctx) != 0) {
			peer_config_clear(&fresh);
			return parse_failed(sink);
		}
	}
	/* Only AllowedIPs is a list the protocol carries. */
	free(pc->allowed_ips);
	pc->allowed_ips = fresh.allowed_ips;
	pc->n_allowed_ips = fresh.n_allowed_ips;
	return 0;
}

/* "" or null: the setting goes. */
static void remove_setting(const struct peer_setting *s, struct peer_config *pc)
{
	if (s->id == PEER_SETTING_ENDPOINT) {
		free(pc->endpoint_host);
		pc->endpoint_host = NULL;
		pc->endpoint_port = 0;
	} else {
		pc->has_preshared_key = false;
		crypto_wipe(pc->preshared_key, KEY_LEN);
	}
}

/* A Name is unique in its interface. */
static int name_free(const struct iface_config *cfg, const struct peer_config *pc, const char *name,
		     struct peer_apply_result *r)
{
	const struct peer_config *other = iface_config_find_peer(cfg, name);

	if (other && !crypto_memeq(other->public_key, pc->public_key, KEY_LEN))
		return refuse(r, "exists", "%s already has a peer named \"%s\"", cfg->name, name);
	return 0;
}

static int apply_one(const struct iface_config *cfg, const struct peer_setting *s, json_t *v,
		     struct peer_config *pc, struct json_sink *sink)
{
	char text[24];

	switch (s->json_type) {
	case PEER_JSON_LIST:
		return apply_list(s, v, pc, sink);
	case PEER_JSON_NUMBER:
		if (!json_is_integer(v))
			return refuse(sink->r, "invalid_argument",
				      "\"%s\" must be a number of seconds", s->json_key);
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
		return s->parse(pc, text, &sink->ctx) == 0 ? 0 : parse_failed(sink);
	case PEER_JSON_REMOVABLE:
		if (json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
			remove_setting(s, pc);
			return 0;
		}
		if (!json_is_string(v))
			return refuse(sink->r, "invalid_argument",
				      "\"%s\" must be a string or null", s->json_key);
		break;
	default:
		if (!json_is_string(v))
			return refuse(sink->r, "invalid_argument", "\"%s\" must be a string",
				      s->json_key);
		break;
	}
	if (s->parse(pc, json_string_value(v), &sink->ctx) != 0)
		return parse_failed(sink);
	if (s->id == PEER_SETTING_NAME)
		return name_free(cfg, pc, pc->name, sink->r);
	return 0;
}

int peer_settings_apply_json(const struct iface_config *cfg, json_t *args, struct peer_config *pc,
			     struct peer_apply_result *r)
{
	struct json_sink sink = {.ctx = {.report = collect}, .r = r};

	sink.ctx.arg = &sink;
	r->code = NULL;
	r->message[0] = '\0';
	r->warnings = NULL;
	for (size_t i = 0; i < peer_settings_count; i++) {
		const struct peer_setting *s = &peer_settings[i];
		json_t *v =
			s->json_type != PEER_JSON_NONE ? json_object_get(args, s->json_key) : NULL;

		if (!v)
			continue;
		sink.ctx.label = s->file_key;
		if (apply_one(cfg, s, v, pc, &sink) != 0)
			return -1;
	}
	return 0;
}

/* Split "a,b, c" at commas and blanks into a JSON list. */
static json_t *split_list(const char *s)
{
	json_t *list = json_array();
	char *copy = strdup(s), *save = NULL, *tok;

	if (!copy || !list) {
		free(copy);
		json_decref(list);
		return NULL;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
		json_array_append_new(list, json_string(tok));
	free(copy);
	return list;
}

/* The first error only: tunctl stops at it. */
static void first_error(struct peer_setting_ctx *ctx, enum diag_severity sev, const char *msg)
{
	char *buf = ctx->arg;

	if (sev == DIAG_ERROR && !buf[0])
		snprintf(buf, 512, "%s", msg);
}

json_t *peer_setting_option_json(const struct peer_setting *s, const char *text, char *msg,
				 size_t msg_len)
{
	char label[40], why[512] = "";
	struct peer_setting_ctx ctx = {.label = label, .report = first_error, .arg = why};
	struct peer_config pc = {0};
	json_t *v;

	msg[0] = '\0';
	if (s->json_type == PEER_JSON_LIST)
		return split_list(text);
	if (s->json_type != PEER_JSON_NUMBER)
		return json_string(text);
	/* A number is sent as one: parsed, and checked, here. */
	snprintf(label, sizeof(label), "--%s", s->tunctl_option);
	if (s->parse(&pc, text, &ctx) != 0) {
		snprintf(msg, msg_len, "%s", why[0] ? why : "out of memory");
		peer_config_clear(&pc);
		return NULL;
	}
	v = json_integer(pc.persistent_keepalive_s);
	peer_config_clear(&pc);
	return v;
}
