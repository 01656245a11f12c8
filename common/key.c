// SPDX-License-Identifier: MIT
/* Keys as text, byte-for-byte as `wg genkey` and `wg pubkey` print them. */
#include "key.h"

#include <errno.h>
#include <string.h>

#include "crypto.h"

void key_to_base64(char out[static KEY_BASE64_LEN + 1], const uint8_t key[static KEY_LEN])
{
	crypto_base64_encode(out, key, KEY_LEN);
	out[KEY_BASE64_LEN] = '\0';
}

int key_from_base64(uint8_t key[static KEY_LEN], const char *s, const char **why)
{
	uint8_t tmp[KEY_LEN + 1];
	size_t len = strlen(s);
	int n;

	if (len != KEY_BASE64_LEN || s[KEY_BASE64_LEN - 1] != '=') {
		if (why)
			*why = "must be 44 characters of base64 ending in '='";
		return -EINVAL;
	}
	/*
	 * 32 bytes leave the last of the 43 characters with two unused low
	 * bits; only the canonical encoding (those bits zero) is accepted, so
	 * a key has exactly one spelling.
	 */
	if (!strchr("AEIMQUYcgkosw048", s[KEY_BASE64_LEN - 2])) {
		if (why)
			*why = "is not a canonical base64 key";
		return -EINVAL;
	}
	n = crypto_base64_decode(tmp, sizeof(tmp), s, len);
	if (n != KEY_LEN) {
		crypto_wipe(tmp, sizeof(tmp));
		if (why)
			*why = "is not valid base64";
		return -EINVAL;
	}
	memcpy(key, tmp, KEY_LEN);
	crypto_wipe(tmp, sizeof(tmp));
	return 0;
}

bool key_is_zero(const uint8_t key[static KEY_LEN])
{
	static const uint8_t zero[KEY_LEN];

	return crypto_memeq(key, zero, KEY_LEN);
}
