/* SPDX-License-Identifier: MIT */
/*
 * What the C tests (unit and fuzz) share: a check() that aborts, the key
 * constants they load in files, fresh key pairs, temporary directories
 * (made and removed with all they hold), writing and reading files, text
 * expansion ("$D" in a table row becomes the directory), and an independent
 * Internet checksum to hold offload.c against. Failures of the system calls
 * here abort: a test that cannot set up must not pass. No cmocka here, so
 * fuzz targets link it too.
 */
#ifndef TUND_TEST_SUPPORT_H
#define TUND_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* cond must hold, or the test stops here with its file, line and text. */
#define check(cond)                                                 \
	do {                                                        \
		if (!(cond))                                        \
			ts_check_failed(__FILE__, __LINE__, #cond); \
	} while (0)
__attribute__((noreturn)) void ts_check_failed(const char *file, int line, const char *what);

/*
 * Keys made with wg genkey / wg pubkey / wg genpsk, for texts that must be
 * the same on every run (the fuzz corpora hold several of them too).
 * PUB_1 is the public key of PRIV_1; the other public keys belong to keys
 * no test holds.
 */
#define TS_PRIV_1 "6NYFH7Dha3QCw5oWpJY0VzQZzjTDv9TbiAMglle9j20="
#define TS_PUB_1  "OGD1XEDsmI0Z+U+5VBGDcOuLszIadHgDKSyaKUgjV3w="
#define TS_PRIV_2 "sFk9ugYczCqe1YfBy31jKieM7Dh05s4NVg90wcSK10M="
#define TS_PRIV_3 "IPIJZbGJcX7hXm23NaXQ+8MMldqOBNBFR6MnvvqNyVw="
#define TS_PUB_2  "jrO10eBFmwCS4TZ5beR54/Bq9pUivV9XTUIj/pRNDUk="
#define TS_PUB_3  "1vBLMk8RKQwLH3hjirGrLTbiJAbuWhuEffXNjfFqjyA="
#define TS_PUB_4  "5uzPZZ8JH8ObpdYvBL0PwUE0SuETVGmjDRaH67WMEEg="
#define TS_PUB_5  "L8mkDd0yhDBBYRywDVlXa14CPhhZPIXUkgHo/4kJHzk="
#define TS_PUB_6  "SCOlDkLNrP1TAMxglorAOq1raJH5Zcp6iT1zWP/CimM="
#define TS_PUB_7  "svcrhIn9OuTK1NsDc6GawgyYpC5TD8HQ7FoLhI1U9zE="
#define TS_PUB_8  "FXW2lhXlt1p9E/bWxogfXd3meyiQKexhdUat+p+d7UY=" /* in no file of a test */
#define TS_PSK_1  "cM92FutqNtTxsD2wLRjvx9DoU+yHIjArVQv/iDvWkRQ="
#define TS_PSK_2  "COZWwCoIGgx9OwSkIDjMuu4oGJ5L1t82lXzcSpmRPHg="

/* A fresh X25519 key pair; either output may be NULL. The base64 form: 45 bytes each. */
void ts_keypair(uint8_t priv[32], uint8_t pub[32]);
void ts_keypair_b64(char priv_b64[45], char pub_b64[45]);

#define TS_DIR_LEN 256
/* A new empty directory $TMPDIR/tund-test-TAG.XXXXXX (TMPDIR unset: /tmp), named in dir. */
void ts_tmpdir(char dir[TS_DIR_LEN], const char *tag);
/* Remove dir and everything below it. */
void ts_tmpdir_remove(const char *dir);

/* dir/name (name NULL: dir itself) made anew with exactly len bytes of data and mode. */
void ts_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode);
/* The same for a NUL-terminated text. */
void ts_write_text(const char *dir, const char *name, const char *text, mode_t mode);
/* The whole file at path, NUL-terminated (malloc'd); its length in *len unless NULL. */
char *ts_read_file(const char *path, size_t *len);

/* A malloc'd copy of s with every `from` replaced by `to` (to NULL: s unchanged). */
char *ts_expand(const char *s, const char *from, const char *to);

/*
 * xorshift64*: a reproducible stream of pseudo-random numbers from *state
 * (never 0), for randomized tests that print their seed when they fail.
 */
uint64_t ts_rng(uint64_t *state);

/*
 * The Internet checksum (RFC 1071) the slow way, one big-endian 16-bit word
 * at a time, folded: sum plus the len bytes at p. Independent of offload.c.
 */
uint32_t ts_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t ts_get16(const uint8_t *p);
void ts_put16(uint8_t *p, uint16_t v);
uint32_t ts_get32(const uint8_t *p);
void ts_put32(uint8_t *p, uint32_t v);

#endif
