// SPDX-License-Identifier: MIT
/* The shared helpers of the C tests: see support.h. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "key.h"

void ts_check_failed(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	abort();
}

void ts_keypair(uint8_t priv[32], uint8_t pub[32])
{
	uint8_t k[32], p[32];

	check(curve25519_generate_private(k) == 0);
	check(curve25519_public_from_private(p, k) == 0);
	if (priv)
		memcpy(priv, k, 32);
	if (pub)
		memcpy(pub, p, 32);
	crypto_wipe(k, sizeof(k));
}

void ts_keypair_b64(char priv_b64[45], char pub_b64[45])
{
	uint8_t k[32], p[32];

	ts_keypair(k, p);
	if (priv_b64)
		key_to_base64(priv_b64, k);
	if (pub_b64)
		key_to_base64(pub_b64, p);
	crypto_wipe(k, sizeof(k));
}

void ts_tmpdir(char dir[TS_DIR_LEN], const char *tag)
{
	const char *base = getenv("TMPDIR");
	int n = snprintf(dir, TS_DIR_LEN, "%s/tund-test-%s.XXXXXX", base && *base ? base : "/tmp",
			 tag);

	check(n > 0 && n < TS_DIR_LEN);
	check(mkdtemp(dir) != NULL);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

void ts_tmpdir_remove(const char *dir)
{
	check(nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

void ts_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[TS_DIR_LEN + 256];
	int fd;

	check(snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "", name ? name : "") <
	      (int)sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0);
	check(write(fd, data, len) == (ssize_t)len);
	check(fchmod(fd, mode) == 0); /* exact, whatever the umask */
	check(close(fd) == 0);
}

void ts_write_text(const char *dir, const char *name, const char *text, mode_t mode)
{
	ts_write_file(dir, name, text, strlen(text), mode);
}

char *ts_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	check(fd >= 0);
	check(fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size + 1);
	check(buf != NULL);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		check(n > 0);
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}

char *ts_expand(const char *s, const char *from, const char *to)
{
	size_t flen = strlen(from), tlen = to ? strlen(to) : 0, n = 0;
	char *out, *o;

	check(flen > 0);
	for (const char *p = s; to && (p = strstr(p, from)); p += flen)
		n++;
	out = malloc(strlen(s) + n * tlen + 1);
	check(out != NULL);
	for (o = out; *s;) {
		if (to && strncmp(s, from, flen) == 0) {
			o = stpcpy(o, to);
			s += flen;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

uint64_t ts_rng(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

uint32_t ts_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t ts_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void ts_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t ts_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ts_put32(uint8_t *p, uint32_t v)
{
	ts_put16(p, (uint16_t)(v >> 16));
	ts_put16(p + 2, (uint16_t)v);
}
