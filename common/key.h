/* SPDX-License-Identifier: MIT */
/*
 * WireGuard keys as text: 32 bytes as 44 characters of base64 ending in '=',
 * as `wg genkey` prints them. Strict parsing with a reason on failure.
 */
#ifndef TUND_KEY_H
#define TUND_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_LEN        32
#define KEY_BASE64_LEN 44 /* without the terminating NUL */

/* out gets 44 characters and a NUL. */
void key_to_base64(char out[static KEY_BASE64_LEN + 1], const uint8_t key[static KEY_LEN]);
/*
 * Parse exactly one key (no surrounding blanks). Returns 0, or -EINVAL with
 * *why (if not NULL) set to a static English reason such as
 * "must be 44 characters of base64".
 */
int key_from_base64(uint8_t key[static KEY_LEN], const char *s, const char **why);
/* True when every byte is zero (an unset key). Constant time. */
bool key_is_zero(const uint8_t key[static KEY_LEN]);

#endif
