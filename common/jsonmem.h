/* SPDX-License-Identifier: MIT */
/*
 * jansson's memory, wiped when freed. Control requests carry preshared
 * keys, and jansson copies them (the parser's token buffer, the string
 * value, json_dumps' text) into memory it frees without clearing it.
 * tund's control server and tunctl install this before their first request.
 */
#ifndef TUND_JSONMEM_H
#define TUND_JSONMEM_H

/* Make jansson wipe every block it frees. Idempotent; process-wide. */
void jsonmem_init(void);
/* Wipe and free a block from json_dumps() or another jansson allocation. NULL is a no-op. */
void jsonmem_free(void *p);

#endif
