// SPDX-License-Identifier: MIT
/*
 * The UAPI text protocol (common/uapi.c): a table of requests with the
 * status and errno wireguard-go gives each (unknown keys, bad hex, bad
 * numbers, a line without '='); a set staged whole, every key; requests fed
 * a byte at a time and two in one buffer; the limits (a line, a request);
 * and the get reply's lines in wireguard-go's order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uapi.h"
#include "wipebuf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define K1 "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define K2 "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"

struct req_case {
	const char *in;
	enum uapi_status status;
	int error;
};

static const struct req_case reqs[] = {
	/* 0 */ {"get=1\n\n", UAPI_GET, 0},
	/* 1 */ {"get=1\nx\n", UAPI_FAILED, -EINVAL},
	/* 2 */ {"set=1\n\n", UAPI_SET, 0},
	/* 3 */ {"get=2\n\n", UAPI_CLOSE, 0},
	/* 4 */ {"\n", UAPI_CLOSE, 0},
	/* 5 */ {"set=1\nlisten_port=51820\n\n", UAPI_SET, 0},
	/* 6 */ {"set=1\nlisten_port=65536\n\n", UAPI_FAILED, -EINVAL},
	/* 7 */ {"set=1\nlisten_port=-1\n\n", UAPI_FAILED, -EINVAL},
	/* 8 */ {"set=1\nlisten_port=\n\n", UAPI_FAILED, -EINVAL},
	/* 9 */ {"set=1\nfwmark=4294967295\n\n", UAPI_SET, 0},
	/* 10 */ {"set=1\nfwmark=4294967296\n\n", UAPI_FAILED, -EINVAL},
	/* 11 */ {"set=1\nfwmark=0x10\n\n", UAPI_FAILED, -EINVAL},
	/* 12 */ {"set=1\nprivate_key=" K1 "\n\n", UAPI_SET, 0},
	/* 13 */ {"set=1\nprivate_key=" K1 "0\n\n", UAPI_FAILED, -EINVAL},
	/* 14 */
	{"set=1\nprivate_key=zz4b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n\n",
	 UAPI_FAILED, -EINVAL},
	/* 15 */ {"set=1\nreplace_peers=false\n\n", UAPI_FAILED, -EINVAL},
	/* 16 */ {"set=1\nbogus=1\n\n", UAPI_FAILED, -EINVAL},
	/* 17 */ {"set=1\nno equals sign\n\n", UAPI_FAILED, -EPROTO},
	/* 18 */ {"set=1\nallowed_ip=10.0.0.0/8\n\n", UAPI_FAILED, -EINVAL},
	/* 19 */ {"set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.0/8\n\n", UAPI_SET, 0},
	/* 20 */ {"set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1\n\n", UAPI_FAILED, -EINVAL},
	/* 21 */ {"set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.0/33\n\n", UAPI_FAILED, -EINVAL},
	/* 22 */ {"set=1\npublic_key=" K1 "\nallowed_ip=-fd00::/64\n\n", UAPI_SET, 0},
	/* 23 */ {"set=1\npublic_key=" K1 "\nendpoint=192.0.2.1:51820\n\n", UAPI_SET, 0},
	/* 24 */ {"set=1\npublic_key=" K1 "\nendpoint=[2001:db8::1]:1\n\n", UAPI_SET, 0},
	/* 25 */ {"set=1\npublic_key=" K1 "\nendpoint=example.com:1\n\n", UAPI_FAILED, -EINVAL},
	/* 26 */ {"set=1\npublic_key=" K1 "\nendpoint=192.0.2.1\n\n", UAPI_FAILED, -EINVAL},
	/* 27 */ {"set=1\npublic_key=" K1 "\nprotocol_version=2\n\n", UAPI_FAILED, -EINVAL},
	/* 28 */ {"set=1\npublic_key=" K1 "\nlisten_port=1\n\n", UAPI_FAILED, -EINVAL},
	/* 29 */ {"set=1\npublic_key=" K1 "\nremove=yes\n\n", UAPI_FAILED, -EINVAL},
	/* 30 */
	{"set=1\npublic_key=" K1 "\npersistent_keepalive_interval=65536\n\n", UAPI_FAILED, -EINVAL},
	/* 31 */ {"set=1\npublic_key=abc\n\n", UAPI_FAILED, -EINVAL},
	/* 32 */ {"set=1\npublic_key=" K1 "\nunknown=1\n\n", UAPI_FAILED, -EINVAL},
	/* 33 */ {"set=1\nlisten_port=1\n", UAPI_NEED_MORE, 0}, /* truncated */
	/* 34 */
	{"set=1\npublic_key=" K1 "\nallowed_ip=::/0\nallowed_ip=0.0.0.0/0\n\n", UAPI_SET, 0},
	/* 35 */ {"set=1\n=\n\n", UAPI_FAILED, -EINVAL},
};

static void test_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(reqs); i++) {
		struct uapi_parser p;
		size_t len = strlen(reqs[i].in), used;

		uapi_parser_init(&p);
		used = uapi_parser_feed(&p, reqs[i].in, len);
		if (p.status != reqs[i].status || p.error != reqs[i].error)
			fail_msg("case %zu: status %d error %d, want %d %d", i, p.status, p.error,
				 reqs[i].status, reqs[i].error);
		if (p.status == UAPI_GET || p.status == UAPI_SET || p.status == UAPI_NEED_MORE)
			assert_int_equal(used, len);
		uapi_parser_free(&p);
	}
}

static const char full_set[] = "set=1\n"
			       "private_key=" K1 "\n"
			       "listen_port=51820\n"
			       "fwmark=7\n"
			       "replace_peers=true\n"
			       "public_key=" K2 "\n"
			       "preshared_key=" K1 "\n"
			       "endpoint=[2001:db8::2]:51821\n"
			       "persistent_keepalive_interval=25\n"
			       "replace_allowed_ips=true\n"
			       "allowed_ip=10.0.0.1/24\n"
			       "allowed_ip=-10.1.0.0/16\n"
			       "protocol_version=1\n"
			       "public_key=" K1 "\n"
			       "update_only=true\n"
			       "remove=true\n"
			       "\n";

static void check_full_set(const struct uapi_set *s)
{
	const struct uapi_peer *p;

	assert_true(s->has_private_key);
	assert_int_equal(s->private_key[0], 0xe8);
	assert_true(s->has_listen_port);
	assert_int_equal(s->listen_port, 51820);
	assert_true(s->has_fwmark);
	assert_int_equal(s->fwmark, 7);
	assert_true(s->replace_peers);
	assert_int_equal(s->n_peers, 2);
	p = &s->peers[0];
	assert_int_equal(p->public_key[0], 0x58);
	assert_true(p->has_preshared_key);
	assert_true(p->has_endpoint);
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET6);
	assert_true(p->has_keepalive);
	assert_int_equal(p->keepalive_s, 25);
	assert_int_equal(p->n_aips, 3);
	assert_int_equal(p->aips[0].kind, UAPI_AIP_CLEAR);
	assert_int_equal(p->aips[1].kind, UAPI_AIP_ADD);
	assert_int_equal(p->aips[1].prefix.cidr, 24);
	assert_int_equal(p->aips[1].prefix.addr.bytes[3], 0); /* masked */
	assert_int_equal(p->aips[2].kind, UAPI_AIP_REMOVE);
	assert_false(p->remove);
	p = &s->peers[1];
	assert_true(p->update_only);
	assert_true(p->remove);
}

static void test_full_set(void **state)
{
	struct uapi_parser p;

	(void)state;
	uapi_parser_init(&p);
	assert_int_equal(uapi_parser_feed(&p, full_set, strlen(full_set)), strlen(full_set));
	assert_int_equal(p.status, UAPI_SET);
	check_full_set(&p.set);
	uapi_parser_free(&p);

	/* A byte at a time: the same. */
	uapi_parser_init(&p);
	for (size_t i = 0; i < strlen(full_set); i++) {
		assert_int_equal(p.status, UAPI_NEED_MORE);
		assert_int_equal(uapi_parser_feed(&p, full_set + i, 1), 1);
	}
	assert_int_equal(p.status, UAPI_SET);
	check_full_set(&p.set);
	uapi_parser_free(&p);
}

static void test_two_requests(void **state)
{
	const char in[] = "get=1\n\nset=1\nlisten_port=2\n\nget=1\n\n";
	struct uapi_parser p;
	size_t off = 0;

	(void)state;
	uapi_parser_init(&p);
	off += uapi_parser_feed(&p, in + off, strlen(in) - off);
	assert_int_equal(p.status, UAPI_GET);
	assert_int_equal(off, 7);
	uapi_parser_reset(&p);
	off += uapi_parser_feed(&p, in + off, strlen(in) - off);
	assert_int_equal(p.status, UAPI_SET);
	assert_int_equal(p.set.listen_port, 2);
	uapi_parser_reset(&p);
	off += uapi_parser_feed(&p, in + off, strlen(in) - off);
	assert_int_equal(p.status, UAPI_GET);
	assert_int_equal(off, strlen(in));
	uapi_parser_free(&p);
}

static void test_limits(void **state)
{
	struct uapi_parser p;
	char *big = malloc(UAPI_MAX_LINE + 16);
	const char *line = "listen_port=1\n";
	size_t fed = 0;

	(void)state;
	/* A first line that is too long: not a request, closed. */
	memset(big, 'g', UAPI_MAX_LINE + 16);
	uapi_parser_init(&p);
	uapi_parser_feed(&p, big, UAPI_MAX_LINE + 16);
	assert_int_equal(p.status, UAPI_CLOSE);
	uapi_parser_free(&p);
	/* In a set: -EIO, as wireguard-go's scanner. */
	uapi_parser_init(&p);
	uapi_parser_feed(&p, "set=1\n", 6);
	uapi_parser_feed(&p, big, UAPI_MAX_LINE + 16);
	assert_int_equal(p.status, UAPI_FAILED);
	assert_int_equal(p.error, -EIO);
	uapi_parser_free(&p);
	/* Exactly the longest line is taken. */
	uapi_parser_init(&p);
	uapi_parser_feed(&p, "set=1\n", 6);
	memcpy(big, "fwmark=", 7);
	memset(big + 7, '0', UAPI_MAX_LINE - 7);
	big[UAPI_MAX_LINE] = '\n';
	assert_int_equal(uapi_parser_feed(&p, big, UAPI_MAX_LINE + 1), UAPI_MAX_LINE + 1);
	assert_int_equal(p.status, UAPI_NEED_MORE);
	uapi_parser_free(&p);
	/* A NUL byte. */
	uapi_parser_init(&p);
	uapi_parser_feed(&p, "set=1\nfw\0mark=1\n", 16);
	assert_int_equal(p.status, UAPI_FAILED);
	uapi_parser_free(&p);
	/* A request over the total limit fails with -EIO, and stops there. */
	uapi_parser_init(&p);
	uapi_parser_feed(&p, "set=1\n", 6);
	while (p.status == UAPI_NEED_MORE && fed <= UAPI_MAX_REQUEST)
		fed += uapi_parser_feed(&p, line, strlen(line));
	assert_int_equal(p.status, UAPI_FAILED);
	assert_int_equal(p.error, -EIO);
	assert_true(fed <= UAPI_MAX_REQUEST);
	uapi_parser_free(&p);
	free(big);
}

static void test_reply(void **state)
{
	uint8_t pub[KEY_LEN], priv[KEY_LEN];
	union sockaddr_inet ep;
	struct ip_prefix pfx;
	struct uapi_buf b = {0};
	struct uapi_peer_info info = {0};

	(void)state;
	assert_int_equal(uapi_key_from_hex(priv, K1), 0);
	assert_int_equal(uapi_key_from_hex(pub, K2), 0);
	assert_int_equal(sockaddr_parse_numeric("[2001:db8::2]:51821", &ep), 0);
	assert_int_equal(prefix_parse("10.0.0.0/24", &pfx, NULL, NULL), 0);
	uapi_put_interface(&b, priv, 51820, 0);
	info.public_key = pub;
	info.endpoint = &ep;
	info.last_handshake.tv_sec = 1700000000;
	info.last_handshake.tv_nsec = 5;
	info.tx_bytes = 10;
	info.rx_bytes = 20;
	info.keepalive_s = 25;
	uapi_put_peer(&b, &info);
	uapi_put_allowed_ip(&b, &pfx);
	uapi_put_errno(&b, 0);
	assert_false(b.oom);
	assert_string_equal(
		b.data,
		"private_key=" K1 "\n"
		"listen_port=51820\n"
		"public_key=" K2 "\n"
		"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
		"protocol_version=1\n"
		"endpoint=[2001:db8::2]:51821\n"
		"last_handshake_time_sec=1700000000\n"
		"last_handshake_time_nsec=5\n"
		"tx_bytes=10\n"
		"rx_bytes=20\n"
		"persistent_keepalive_interval=25\n"
		"allowed_ip=10.0.0.0/24\n"
		"errno=0\n\n");
	uapi_buf_free(&b);
	/* A buffer that grows across many appends stays whole. */
	for (int i = 0; i < 10000; i++)
		uapi_put_allowed_ip(&b, &pfx);
	assert_int_equal(b.len, 10000 * strlen("allowed_ip=10.0.0.0/24\n"));
	uapi_buf_free(&b);
}

/* wipebuf.c, the growth under uapi_buf and config_edit.c's output: sizes and the text kept. */
static void test_wipebuf(void **state)
{
	char *p = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(wipebuf_reserve(&p, &cap, 0, 10, 256), 0);
	assert_int_equal(cap, 256);
	memcpy(p, "key=secret", 10);
	/* Enough room: nothing moves. */
	before = p;
	assert_int_equal(wipebuf_reserve(&p, &cap, 10, 256, 256), 0);
	assert_ptr_equal(p, before);
	assert_int_equal(cap, 256);
	/* Doubled until it holds the need; the text comes along. */
	assert_int_equal(wipebuf_reserve(&p, &cap, 10, 1025, 256), 0);
	assert_int_equal(cap, 2048);
	assert_memory_equal(p, "key=secret", 10);
	assert_int_equal(wipebuf_reserve(&p, &cap, 10, SIZE_MAX, 256), -ENOMEM);
	assert_int_equal(cap, 2048);
	assert_memory_equal(p, "key=secret", 10);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),     cmocka_unit_test(test_full_set),
		cmocka_unit_test(test_two_requests), cmocka_unit_test(test_limits),
		cmocka_unit_test(test_reply),	     cmocka_unit_test(test_wipebuf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
