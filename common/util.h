/* SPDX-License-Identifier: MIT */
/* Small macros both programs use. */
#ifndef TUND_UTIL_H
#define TUND_UTIL_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The struct that embeds member, from a pointer to the member (libev's composite watchers). */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
