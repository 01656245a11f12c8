// SPDX-License-Identifier: MIT
/*
 * The metrics text (metrics.c) of a real interface built as start-up builds
 * it (config load, iface_new(); no device): the exporter's per-peer lines
 * byte for byte (labels, their order, comma-separated allowed IPs,
 * friendly_name only with a Name=), label values escaped (a name with a
 * quote, a backslash and a line feed, which Name= never allows but the
 * text must survive), every family's HELP and TYPE once and its samples
 * together, the same text whatever the piece size, a peer removed between
 * pieces, and one interface's scrape. The e2e test (test/e2e/metrics.sh)
 * checks the text over HTTP and the control socket with real traffic.
 */
#include "control_cmd.h" /* before cmocka.h, which defines fail() */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "daemon.h"
#include "iface.h"
#include "key.h"
#include "metrics.h"
#include "noise.h"
#include "peer.h"
#include "udp.h"

#define KEY_A "kYGOZ8X68Igs3zZgvoldJXmhxsnOUqi69DVf8oDq534="
#define KEY_B "tXWqmUBabK2ZRbpjwaXpkC95srTtSsPjOJke3PUnlFo="
#define KEY_C "2S7mA0vEMethCNQrJpJKE81/JmhgtB+tHHLYQhgM6kk="

static const char conf_text[] = "[Interface]\n"
				"PrivateKey = yFEry3LHQ7TuzuA77jHfWbNDaSDlVv6NGrjnAZJucH8=\n"
				"[Peer]\n"
				"Name = alpha\n"
				"PublicKey = " KEY_A "\n"
				"AllowedIPs = 10.66.0.1/32, fd00:66::1/128\n"
				"[Peer]\n"
				"PublicKey = " KEY_B "\n"
				"AllowedIPs = 10.66.0.2/32\n"
				"[Peer]\n"
				"Name = gamma\n"
				"PublicKey = " KEY_C "\n";

struct bench {
	struct daemon d;
	struct scratch *scratch;
	struct iface *iface;
};

static int setup(void **state)
{
	static struct bench b;
	struct diag_list diags = {0};
	struct iface_config *cfg;

	memset(&b, 0, sizeof(b));
	b.d.loop = ev_default_loop(0);
	list_init(&b.d.ifaces);
	assert_int_equal(scratch_create(&b.scratch), 0);
	b.d.scratch = b.scratch;
	assert_int_equal(config_load_string("/nonexistent/tm0.conf", conf_text, strlen(conf_text),
					    &cfg, &diags),
			 0);
	diag_list_clear(&diags);
	assert_int_equal(iface_new(b.d.loop, b.scratch, NULL, &b.d.next_peer_id, cfg, &b.iface), 0);
	list_add_tail(&b.iface->node, &b.d.ifaces);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;

	list_del(&b->iface->node);
	iface_destroy(b->iface);
	scratch_destroy(b->scratch);
	return 0;
}

/* The whole scrape, made in pieces of chunk bytes; NUL-terminated, to free. */
static char *scrape(struct bench *b, const char *only, size_t chunk,
		    struct peer *remove_after_first)
{
	struct metrics_scrape s;
	struct textbuf piece = {0}, all = {0};
	int rc, n = 0;

	metrics_scrape_init(&s, only);
	do {
		piece.len = 0;
		rc = metrics_scrape_next(&s, &b->d, &piece, chunk);
		assert_true(rc >= 0);
		assert_true(piece.len > 0 || rc == 0);
		textbuf_put(&all, piece.data, piece.len);
		/* a peer goes away mid-scrape, while the first per-peer family is under way */
		if (remove_after_first && s.in_iface) {
			uint8_t key[KEY_LEN];

			memcpy(key, remove_after_first->public_key, KEY_LEN);
			assert_int_equal(iface_remove_peer(b->iface, key), 0);
			remove_after_first = NULL;
		}
		assert_true(++n < 10000);
	} while (rc > 0);
	textbuf_put(&all, "", 1);
	assert_false(all.failed);
	textbuf_free(&piece);
	return all.data;
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void test_peer_lines(void **state)
{
	struct bench *b = *state;
	unsigned int handshakes = b->iface->load.count;
	char *text = scrape(b, NULL, 64 * 1024, NULL);

	/* the load meter is read, not fed: a scrape is no handshake message */
	assert_int_equal(b->iface->load.count, handshakes);
	assert_non_null(strstr(text, "tund_under_load{interface=\"tm0\"} 0\n"));
	assert_non_null(strstr(text,
			       "# HELP wireguard_sent_bytes_total Bytes sent to the peer\n"
			       "# TYPE wireguard_sent_bytes_total counter\n"
			       "wireguard_sent_bytes_total{interface=\"tm0\",public_key=\"" KEY_A
			       "\",allowed_ips=\"10.66.0.1/32,fd00:66::1/128\",friendly_name="
			       "\"alpha\"} 0\n"
			       "wireguard_sent_bytes_total{interface=\"tm0\",public_key=\"" KEY_B
			       "\",allowed_ips=\"10.66.0.2/32\"} 0\n"
			       "wireguard_sent_bytes_total{interface=\"tm0\",public_key=\"" KEY_C
			       "\",allowed_ips=\"\",friendly_name=\"gamma\"} 0\n"
			       "# HELP wireguard_received_bytes_total"));
	assert_non_null(strstr(text, "# TYPE wireguard_latest_handshake_seconds gauge\n"));
	assert_non_null(strstr(text, "tund_peers{interface=\"tm0\"} 3\n"));
	assert_non_null(strstr(
		text, "tund_dropped_packets_total{interface=\"tm0\",reason=\"replayed\"} 0\n"));
	assert_non_null(strstr(text, "tund_build_info{version=\"" TUND_VERSION "\"} 1\n"));
	/* three families, three peers each */
	assert_int_equal(count(text, "\nwireguard_"), 9);
	free(text);
}

/* Every family: HELP, then TYPE, once, and its samples right after, never elsewhere. */
static void test_families_grouped(void **state)
{
	struct bench *b = *state;
	char *text = scrape(b, NULL, 1, NULL), *line, *save, *copy;
	char family[128] = "", seen[64][128];
	size_t n_seen = 0;

	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", family), 1);
			for (size_t i = 0; i < n_seen; i++)
				assert_string_not_equal(seen[i], family);
			assert_true(n_seen < 64);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", family);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			assert_string_equal(name, family);
			if (strstr(line, " counter"))
				assert_non_null(strstr(name, "_total"));
			continue;
		}
		assert_int_equal(sscanf(line, "%127[^{ ]", name), 1);
		assert_string_equal(name, family);
	}
	assert_true(n_seen >= 15);
	free(copy);
	free(text);
}

/* The same text in pieces of 1 byte (a peer per piece) as in one. */
static void test_pieces(void **state)
{
	struct bench *b = *state;
	char *whole = scrape(b, NULL, 1 << 20, NULL), *small = scrape(b, NULL, 1, NULL);

	assert_string_equal(whole, small);
	free(whole);
	free(small);
}

static void test_escaping(void **state)
{
	struct bench *b = *state;
	struct peer *peer = list_entry(b->iface->peers.next, struct peer, node);
	char *text;

	free(peer->name);
	peer->name = strdup("a\"b\\c\nd");
	text = scrape(b, NULL, 64 * 1024, NULL);
	assert_int_equal(count(text, ",friendly_name=\"a\\\"b\\\\c\\nd\"} "), 3);
	free(text);
}

/* A peer removed between two pieces: the scrape goes on with the others. */
static void test_peer_removed(void **state)
{
	struct bench *b = *state;
	struct peer *last = list_entry(b->iface->peers.prev, struct peer, node);
	char *text = scrape(b, NULL, 1, last);

	assert_int_equal(count(text, "public_key=\"" KEY_A "\""), 3);
	assert_int_equal(count(text, "public_key=\"" KEY_C "\""), 0);
	free(text);
}

static void test_one_interface(void **state)
{
	struct bench *b = *state;
	char *text = scrape(b, "tm0", 1, NULL), *none = scrape(b, "tm9", 1, NULL);

	assert_int_equal(count(text, "\nwireguard_"), 9);
	assert_int_equal(count(none, "\nwireguard_"), 0);
	assert_int_equal(count(none, "interface="), 0);
	assert_non_null(strstr(none, "# TYPE wireguard_latest_handshake_seconds gauge\n"));
	free(text);
	free(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_peer_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_families_grouped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_interface, setup, teardown),
	};

	if (crypto_init() != 0)
		return 1;
	noise_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
