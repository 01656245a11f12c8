/* SPDX-License-Identifier: MIT */
/*
 * Growing a text buffer that may hold keys: the new block takes the text,
 * the old one is wiped before it is freed, so no copy of a key is left
 * behind in freed memory. Shared by uapi.c's reply buffer and
 * config_edit.c's output text.
 */
#ifndef TUND_WIPEBUF_H
#define TUND_WIPEBUF_H

#include <stddef.h>

/*
 * Make room for need bytes in *data (*cap bytes, of which the first len
 * hold the text): when need > *cap, a new block of *cap bytes (initial
 * when *cap is 0) doubled until it holds need; the text is copied, the old
 * block wiped (all *cap bytes) and freed. Returns 0, or -ENOMEM with the
 * buffer as it was.
 */
int wipebuf_reserve(char **data, size_t *cap, size_t len, size_t need, size_t initial);

#endif
