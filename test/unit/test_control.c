// SPDX-License-Identifier: MIT
/*
 * Preshared keys sent over the control socket are not left behind: after
 * add-peer and set-peer with a preshared key, no block of memory the daemon
 * frees (or reallocates) holds the key, as base64 text or as bytes: not the
 * client's request buffer, not jansson's copies, not the peers array of the
 * interface's configuration. A real control server on a socket in a
 * temporary directory, a real interface object (iface_new: no device), and
 * free/realloc wrapped (-Wl,--wrap) to look into each block as it goes.
 */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "control.h"
#include "crypto.h"
#include "daemon.h"
#include "iface.h"
#include "key.h"
#include "log.h"
#include "noise.h"
#include "peer.h"
#include "service.h"
#include "support.h"
#include "udp.h"

/* The secrets to look for: base64 text and bytes of each preshared key. */
enum {
	PSK_FILE,
	PSK_ADD,
	PSK_SET,
	N_PSK
};
static uint8_t psk[N_PSK][KEY_LEN];
static char psk_b64[N_PSK][KEY_BASE64_LEN + 1];
static bool watching;
static unsigned int found; /* blocks freed with a secret in them */

void __real_free(void *p);
void *__real_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

static void look_into(const void *p)
{
	size_t n;

	if (!watching || !p)
		return;
	n = malloc_usable_size((void *)p);
	for (int i = 0; i < N_PSK; i++)
		if (memmem(p, n, psk[i], KEY_LEN) || memmem(p, n, psk_b64[i], KEY_BASE64_LEN))
			found++;
}

void __wrap_free(void *p)
{
	look_into(p);
	__real_free(p);
}

/* realloc frees the old block as it is when it moves it: a secret there stays behind. */
void *__wrap_realloc(void *p, size_t n)
{
	look_into(p);
	return __real_realloc(p, n);
}

struct bench {
	char dir[TS_DIR_LEN], path[TS_DIR_LEN + 16];
	struct daemon d;
	struct service svc;
	struct control *ctl;
	struct scratch *scratch;
	char x_b64[KEY_BASE64_LEN + 1], y_b64[KEY_BASE64_LEN + 1];
	int fd;
};

/*
 * X (with a preshared key) and 15 more peers: the peers array grows while
 * the file loads and again when add-peer makes a 17th, each time with X's
 * key in the array it leaves.
 */
static struct iface_config *make_config(struct bench *b)
{
	char me[KEY_BASE64_LEN + 1], me_pub[KEY_BASE64_LEN + 1], other[KEY_BASE64_LEN + 1];
	char text[4096];
	struct diag_list diags = {0};
	struct iface_config *cfg = NULL;
	int len;

	ts_keypair_b64(me, me_pub);
	len = snprintf(text, sizeof(text),
		       "[Interface]\nPrivateKey = %s\n"
		       "[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.0.0.2/32\n",
		       me, b->x_b64, psk_b64[PSK_FILE]);
	for (int i = 0; i < 15; i++) {
		ts_keypair_b64(NULL, other);
		len += snprintf(text + len, sizeof(text) - (size_t)len,
				"[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.1.%d/32\n", other, i);
	}
	assert_true((size_t)len < sizeof(text));
	/* Loading a file with a preshared key leaves none behind either. */
	watching = true;
	assert_int_equal(config_load_string("ct0.conf", text, (size_t)len, &cfg, &diags), 0);
	watching = false;
	assert_int_equal(cfg->n_peers, 16);
	diag_list_clear(&diags);
	crypto_wipe(text, sizeof(text));
	return cfg;
}

static int setup(void **state)
{
	static struct bench b;
	struct control_options opts;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct iface *iface;
	char group[16];

	memset(&b, 0, sizeof(b));
	found = 0;
	for (int i = 0; i < N_PSK; i++) {
		assert_int_equal(crypto_random(psk[i], KEY_LEN), 0);
		key_to_base64(psk_b64[i], psk[i]);
	}
	ts_keypair_b64(NULL, b.x_b64);
	ts_keypair_b64(NULL, b.y_b64);
	ts_tmpdir(b.dir, "control");
	snprintf(b.path, sizeof(b.path), "%s/control.sock", b.dir);

	b.d.loop = ev_default_loop(0);
	list_init(&b.d.ifaces);
	assert_int_equal(scratch_create(&b.scratch), 0);
	b.d.scratch = b.scratch;
	assert_int_equal(
		iface_new(b.d.loop, b.scratch, NULL, &b.d.next_peer_id, make_config(&b), &iface),
		0);
	list_add_tail(&iface->node, &b.d.ifaces);
	service_init(&b.svc, b.d.loop);
	/* Our own group may change state: no root needed. */
	snprintf(group, sizeof(group), "%u", (unsigned int)getgid());
	opts = (struct control_options){.path = b.path, .group = group};
	assert_int_equal(control_create(b.d.loop, &b.d, &b.svc, &opts, &b.ctl), 0);

	assert_true(strlen(b.path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, b.path, strlen(b.path) + 1);
	b.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(b.fd >= 0);
	assert_int_equal(connect(b.fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;
	struct iface *iface, *tmp;

	if (b->fd >= 0)
		close(b->fd);
	control_destroy(b->ctl);
	list_for_each_safe(iface, tmp, &b->d.ifaces, node) {
		list_del(&iface->node);
		iface_destroy(iface);
	}
	scratch_destroy(b->scratch);
	ts_tmpdir_remove(b->dir);
	return 0;
}

/* Turn the loop until fd has a line to read, then read it; the reply as JSON. */
static json_t *roundtrip(struct bench *b, const char *request)
{
	char buf[65536];
	size_t len = 0;

	assert_int_equal(write(b->fd, request, strlen(request)), (ssize_t)strlen(request));
	for (int i = 0; i < 500 && !memchr(buf, '\n', len); i++) {
		struct pollfd p = {.fd = b->fd, .events = POLLIN};
		ssize_t n;

		ev_run(b->d.loop, EVRUN_NOWAIT);
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(b->fd, buf + len, sizeof(buf) - len - 1);
		assert_true(n > 0);
		len += (size_t)n;
	}
	assert_non_null(memchr(buf, '\n', len));
	buf[len] = '\0';
	return json_loads(buf, 0, NULL);
}

static void expect_ok(json_t *reply)
{
	assert_non_null(reply);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		char *text = json_dumps(reply, 0);

		fail_msg("reply: %s", text);
	}
	json_decref(reply);
}

static void test_preshared_keys_not_left_behind(void **state)
{
	struct bench *b = *state;
	char req[512];
	struct iface *iface = list_entry(b->d.ifaces.next, struct iface, node);
	uint8_t y[KEY_LEN];
	const char *why;
	struct peer *peer;

	watching = true;
	snprintf(req, sizeof(req),
		 "{\"command\":\"add-peer\",\"args\":{\"interface\":\"ct0\",\"public_key\":\"%s\","
		 "\"allowed_ips\":[\"10.0.0.3/32\"],\"preshared_key\":\"%s\"}}\n",
		 b->y_b64, psk_b64[PSK_ADD]);
	expect_ok(roundtrip(b, req));
	snprintf(req, sizeof(req),
		 "{\"command\":\"set-peer\",\"args\":{\"interface\":\"ct0\",\"peer\":\"%s\","
		 "\"preshared_key\":\"%s\"}}\n",
		 b->x_b64, psk_b64[PSK_SET]);
	expect_ok(roundtrip(b, req));
	crypto_wipe(req, sizeof(req));

	/* The keys are in force. */
	assert_int_equal(key_from_base64(y, b->y_b64, &why), 0);
	peer = iface_find_peer(iface, y);
	assert_non_null(peer);
	assert_true(peer->has_preshared_key);
	assert_memory_equal(peer->handshake.preshared_key, psk[PSK_ADD], KEY_LEN);

	/* The client goes; the daemon frees its buffers. */
	close(b->fd);
	b->fd = -1;
	for (int i = 0; i < 20; i++) {
		ev_run(b->d.loop, EVRUN_NOWAIT);
		usleep(2000);
	}
	assert_int_equal(found, 0);
	watching = false;
}

/* What jansson frees goes through the control server's allocator, which wipes it. */
static void test_jansson_wipes_what_it_frees(void **state)
{
	json_malloc_t m;
	json_free_t f;
	char *block;

	(void)state;
	json_get_alloc_funcs(&m, &f);
	block = m(KEY_BASE64_LEN + 1);
	assert_non_null(block);
	memcpy(block, psk_b64[PSK_ADD], KEY_BASE64_LEN + 1);
	watching = true;
	f(block);
	watching = false;
	assert_int_equal(found, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_preshared_keys_not_left_behind, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_jansson_wipes_what_it_frees, setup, teardown),
	};

	log_init(LOG_LEVEL_ERROR);
	if (crypto_init() != 0)
		return 1;
	noise_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
