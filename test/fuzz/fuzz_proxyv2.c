// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the PROXY v2 encoder (daemon/expose/proxyv2.c). Its inputs reach
 * it from a peer: the "remote" and "local" strings of a localhost tunnel's
 * connect line, parsed by sockaddr_parse_numeric() (expose_client.c). The
 * first byte picks how the input becomes the two addresses:
 *   bit 0 clear: the rest is "REMOTE\nLOCAL", parsed as expose_client.c does
 *     (either unparsable: both NULL, a LOCAL header);
 *   bit 0 set: the rest is raw bytes laid over the two socket addresses, any
 *     length (the rest zero), so any family, scope, padding; bits 1 and 2
 *     make src or dst NULL.
 * The header written is parsed back here, from proxy-protocol.txt section
 * 2.2 and not from the encoder, and must say exactly what went in: LOCAL
 * when an address is missing or of another family, else TCP4 when both are
 * IPv4 (or IPv4-mapped), TCP6 otherwise, with the addresses and ports. The
 * encoder writes nothing past the length it returns, nor past
 * PROXYV2_MAX_LEN (the buffer is exactly that long, for ASan).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "proxyv2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t v2_signature[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* What a header says. */
struct decoded {
	bool is_local;
	bool is_tcp4;
	uint8_t src[16], dst[16]; /* IPv6, IPv4 addresses mapped */
	uint16_t src_port, dst_port;
};

static void map4(uint8_t out[16], const uint8_t *v4)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

/* The receiver's side, by the specification. Aborts on a malformed header. */
static void decode(const uint8_t *h, size_t len, struct decoded *d)
{
	size_t body;

	memset(d, 0, sizeof(*d));
	if (len < 16 || memcmp(h, v2_signature, 12) != 0 || (h[12] & 0xf0) != 0x20)
		abort();
	body = (size_t)h[14] << 8 | h[15];
	if (len != 16 + body)
		abort(); /* the length field covers exactly what follows */
	if (h[12] == 0x20) { /* LOCAL: no addresses */
		if (h[13] != 0x00 || body != 0)
			abort();
		d->is_local = true;
		return;
	}
	if (h[12] != 0x21)
		abort();
	if (h[13] == 0x11 && body == 12) { /* TCP over IPv4 */
		d->is_tcp4 = true;
		map4(d->src, h + 16);
		map4(d->dst, h + 20);
		d->src_port = (uint16_t)(h[24] << 8 | h[25]);
		d->dst_port = (uint16_t)(h[26] << 8 | h[27]);
	} else if (h[13] == 0x21 && body == 36) { /* TCP over IPv6 */
		memcpy(d->src, h + 16, 16);
		memcpy(d->dst, h + 32, 16);
		d->src_port = (uint16_t)(h[48] << 8 | h[49]);
		d->dst_port = (uint16_t)(h[50] << 8 | h[51]);
	} else {
		abort();
	}
}

static bool usable(const union sockaddr_inet *sa)
{
	return sa && (sa->sa.sa_family == AF_INET || sa->sa.sa_family == AF_INET6);
}

/* sa's address as IPv6 (IPv4 mapped) and its port, host order. */
static uint16_t address_of(const union sockaddr_inet *sa, uint8_t out[16])
{
	if (sa->sa.sa_family == AF_INET) {
		map4(out, (const uint8_t *)&sa->in.sin_addr);
		return ntohs(sa->in.sin_port);
	}
	memcpy(out, &sa->in6.sin6_addr, 16);
	return ntohs(sa->in6.sin6_port);
}

static bool is_v4(const uint8_t a[16])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, prefix, 12) == 0;
}

/* Encode src and dst, parse the header back, and compare. */
static void check(const union sockaddr_inet *src, const union sockaddr_inet *dst)
{
	uint8_t *buf = malloc(PROXYV2_MAX_LEN), a[16], b[16];
	struct decoded d;
	size_t len;

	if (!buf)
		abort();
	memset(buf, 0xa5, PROXYV2_MAX_LEN);
	len = proxyv2_encode(buf, src, dst);
	if (len > PROXYV2_MAX_LEN)
		abort();
	for (size_t i = len; i < PROXYV2_MAX_LEN; i++)
		if (buf[i] != 0xa5)
			abort();
	decode(buf, len, &d);
	free(buf);
	if (d.is_local != (!usable(src) || !usable(dst)))
		abort();
	if (d.is_local)
		return;
	if (address_of(src, a) != d.src_port || address_of(dst, b) != d.dst_port ||
	    memcmp(a, d.src, 16) != 0 || memcmp(b, d.dst, 16) != 0 ||
	    d.is_tcp4 != (is_v4(a) && is_v4(b)))
		abort();
}

/* "REMOTE\nLOCAL" as expose_client.c gets them; each alone too. */
static void check_text(const char *text, size_t len)
{
	char *s = malloc(len + 1), *nl;
	union sockaddr_inet remote = {0}, local = {0};
	bool ok_r, ok_l;

	/* Not strndup(): gcc's ASan checks one byte past an unterminated source. */
	if (!s)
		abort();
	memcpy(s, text, len);
	s[len] = '\0';
	nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	ok_r = sockaddr_parse_numeric(s, &remote) == 0;
	ok_l = sockaddr_parse_numeric(nl ? nl + 1 : "", &local) == 0;
	check(ok_r && ok_l ? &remote : NULL, ok_r && ok_l ? &local : NULL);
	check(ok_r ? &remote : NULL, &local);
	if (ok_r) {
		/* What is formatted parses back to the same address. */
		char buf[ADDR_STR_LEN];
		union sockaddr_inet again;

		if (sockaddr_parse_numeric(sockaddr_format(buf, sizeof(buf), &remote), &again) !=
			    0 ||
		    !sockaddr_equal(&again, &remote))
			abort();
		check(&remote, &remote);
	}
	free(s);
}

/* Raw bytes over both addresses: whatever a bug elsewhere could hand over. */
static void check_raw(uint8_t mode, const uint8_t *data, size_t size)
{
	union sockaddr_inet src, dst;
	size_t n = size < sizeof(src) ? size : sizeof(src);

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	memcpy(&src, data, n);
	memcpy(&dst, data + n, size - n < sizeof(dst) ? size - n : sizeof(dst));
	check(mode & 2 ? NULL : &src, mode & 4 ? NULL : &dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	if (data[0] & 1)
		check_raw(data[0], data + 1, size - 1);
	else
		check_text((const char *)data + 1, size - 1);
	return 0;
}
