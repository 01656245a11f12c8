// SPDX-License-Identifier: MIT
/* A text buffer that may hold keys, grown by copying and wiping; see wipebuf.h. */
#include "wipebuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int wipebuf_reserve(char **data, size_t *cap, size_t len, size_t need, size_t initial)
{
	size_t n = *cap ? *cap : initial;
	char *p;

	if (need <= *cap)
		return 0;
	if (!n)
		n = 1;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	if (*data) {
		memcpy(p, *data, len);
		crypto_wipe(*data, *cap);
		free(*data);
	}
	*data = p;
	*cap = n;
	return 0;
}
