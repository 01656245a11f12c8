// SPDX-License-Identifier: MIT
/*
 * show's peers are written as JSON text straight from the peer
 * (peer_json_write), not through jansson: the text must be byte for byte
 * what jansson's json_dumps(JSON_COMPACT) made of the same fields before
 * (docs/control-protocol.md), for peers with every field set and unset,
 * names that need escaping, IPv4 and IPv6, counters past 2^32.
 */
#include "control_cmd.h" /* before cmocka.h, which defines fail() */

#include <arpa/inet.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "config.h"
#include "key.h"
#include "peer.h"

/* The reference: a peer's object as jansson built it before peer_json_write. */
static char *jansson_peer(const struct peer *peer, const struct peer_config *pc)
{
	char key[KEY_BASE64_LEN + 1], ep[ADDR_STR_LEN], buf[INET6_ADDRSTRLEN + 8];
	json_t *ips = json_array(), *obj;
	char *text;

	key_to_base64(key, peer->public_key);
	for (size_t i = 0; pc && i < pc->n_allowed_ips; i++)
		json_array_append_new(ips, json_string(prefix_format(buf, sizeof(buf),
								     &pc->allowed_ips[i])));
	obj = json_pack("{s:s,s:s?,s:s?,s:o,s:I,s:I,s:I,s:i,s:b}", "public_key", key, "name",
			peer->name, "endpoint",
			peer->has_endpoint ? sockaddr_format(ep, sizeof(ep), &peer->endpoint.addr)
					   : NULL,
			"allowed_ips", ips, "latest_handshake",
			(json_int_t)peer->last_handshake_wall.tv_sec, "rx_bytes",
			(json_int_t)peer->rx_bytes, "tx_bytes", (json_int_t)peer->tx_bytes,
			"persistent_keepalive", (int)peer->persistent_keepalive_s, "preshared_key",
			peer->has_preshared_key);
	assert_non_null(obj);
	if (peer->dns.is_name) {
		char hostport[300];

		snprintf(hostport, sizeof(hostport), "%s:%u", peer->endpoint_host,
			 peer->endpoint_port);
		json_object_set_new(obj, "endpoint_name", json_string(hostport));
	}
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	assert_non_null(text);
	return text;
}

static void expect_same(const struct peer *peer, const struct peer_config *pc)
{
	struct textbuf b = {0};
	char *want = jansson_peer(peer, pc);

	peer_json_write(&b, peer, pc);
	assert_false(b.failed);
	textbuf_put(&b, "", 1);
	assert_string_equal(b.data, want);
	free(want);
	textbuf_free(&b);
}

static void set_v4(struct peer *peer, const char *ip, uint16_t port)
{
	peer->has_endpoint = true;
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	peer->endpoint.addr.in.sin_family = AF_INET;
	peer->endpoint.addr.in.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &peer->endpoint.addr.in.sin_addr), 1);
}

static void set_v6(struct peer *peer, const char *ip, uint16_t port, uint32_t scope)
{
	peer->has_endpoint = true;
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	peer->endpoint.addr.in6.sin6_family = AF_INET6;
	peer->endpoint.addr.in6.sin6_port = htons(port);
	peer->endpoint.addr.in6.sin6_scope_id = scope;
	assert_int_equal(inet_pton(AF_INET6, ip, &peer->endpoint.addr.in6.sin6_addr), 1);
}

static struct ip_prefix prefix(const char *text)
{
	struct ip_prefix p;

	assert_int_equal(prefix_parse(text, &p, NULL, NULL), 0);
	return p;
}

/* Every field unset, then each set in turn, then all of them. */
static void test_fields(void **state)
{
	struct ip_prefix ips[] = {prefix("10.0.0.2/32"), prefix("192.168.0.0/16"),
				  prefix("fd00:13::2/128"), prefix("::/0")};
	struct peer_config pc = {.allowed_ips = ips, .n_allowed_ips = 0};
	struct peer *peer = calloc(1, sizeof(*peer));

	(void)state;
	assert_non_null(peer);
	for (int i = 0; i < KEY_LEN; i++)
		peer->public_key[i] = (uint8_t)(i * 37 + 1);
	expect_same(peer, NULL);
	expect_same(peer, &pc);
	for (size_t n = 1; n <= sizeof(ips) / sizeof(ips[0]); n++) {
		pc.n_allowed_ips = n;
		expect_same(peer, &pc);
	}

	peer->name = (char *)"hub-01.example";
	expect_same(peer, &pc);
	peer->name = NULL;
	set_v4(peer, "192.0.2.7", 51820);
	expect_same(peer, &pc);
	set_v6(peer, "2001:db8::1", 1, 0);
	expect_same(peer, &pc);
	set_v6(peer, "fe80::1", 65535, 3);
	expect_same(peer, &pc);
	peer->has_endpoint = false;
	peer->last_handshake_wall.tv_sec = 1764000000;
	expect_same(peer, &pc);
	peer->rx_bytes = 1;
	expect_same(peer, &pc);
	peer->tx_bytes = (1ULL << 40) + 12345;
	expect_same(peer, &pc);
	peer->rx_bytes = UINT64_MAX; /* past json_int_t: jansson's wrap, as before */
	expect_same(peer, &pc);
	peer->persistent_keepalive_s = 25;
	expect_same(peer, &pc);
	peer->persistent_keepalive_s = 65535;
	expect_same(peer, &pc);
	peer->has_preshared_key = true;
	expect_same(peer, &pc);

	peer->name = (char *)"p0";
	set_v4(peer, "198.51.100.200", 443);
	expect_same(peer, &pc);
	expect_same(peer, NULL);
	/* Endpoint = NAME:PORT: the name beside the address in use. */
	peer->endpoint_host = (char *)"hub.example.org";
	peer->endpoint_port = 51820;
	peer->dns.is_name = true;
	expect_same(peer, &pc);
	peer->has_endpoint = false;
	expect_same(peer, &pc);
	free(peer);
}

/* Names are limited today, but the writer escapes as jansson does. */
static void test_escapes(void **state)
{
	static const char *const names[] = {
		"a\"b", "back\\slash", "tab\there", "nl\n\r\b\f", "\x01\x1f\x7f", "slash/ok",
		"caf\xc3\xa9 \xe2\x82\xac", "", "\"", "\\",
	};
	struct peer *peer = calloc(1, sizeof(*peer));

	(void)state;
	assert_non_null(peer);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		peer->name = (char *)names[i];
		expect_same(peer, NULL);
	}
	free(peer);
}

/* A peer after another in one buffer; a buffer that grows past its first size. */
static void test_many(void **state)
{
	struct ip_prefix ip = prefix("10.1.2.3/32");
	struct peer_config pc = {.allowed_ips = &ip, .n_allowed_ips = 1};
	struct peer *peer = calloc(1, sizeof(*peer));
	struct textbuf b = {0};
	json_t *arr = json_array();
	char *want;

	(void)state;
	assert_non_null(peer);
	textbuf_put(&b, "[", 1);
	for (int i = 0; i < 200; i++) {
		char *one;

		peer->public_key[0] = (uint8_t)i;
		peer->rx_bytes = (uint64_t)i * 1000;
		if (i)
			textbuf_put(&b, ",", 1);
		peer_json_write(&b, peer, &pc);
		one = jansson_peer(peer, &pc);
		json_array_append_new(arr, json_loads(one, 0, NULL));
		free(one);
	}
	textbuf_put(&b, "]", 2); /* with the NUL */
	assert_false(b.failed);
	want = json_dumps(arr, JSON_COMPACT);
	assert_string_equal(b.data, want);
	free(want);
	json_decref(arr);
	textbuf_free(&b);
	free(peer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
