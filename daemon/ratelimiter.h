/* SPDX-License-Identifier: MIT */
/*
 * The handshake flood guard (the driver's ratelimiter.c idea): a token
 * bucket per source, an IPv4 address or an IPv6 /64, in a bounded table
 * with a random hash key. Asked before the expensive handshake work.
 */
#ifndef TUND_RATELIMITER_H
#define TUND_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

/* Sustained handshake packets per second per source, and the burst above it. */
#define RATELIMITER_PACKETS_PER_SECOND 20
#define RATELIMITER_PACKETS_BURSTABLE  5
/* Sources tracked at once; further sources are refused until entries expire. */
#define RATELIMITER_MAX_ENTRIES 8192
/* An entry idle for longer than this is forgotten (its bucket is full by then). */
#define RATELIMITER_IDLE_TIMEOUT_S 1

struct ratelimiter;

/* Returns 0, -ENOMEM, or -EIO when no random hash key could be had. */
int ratelimiter_create(struct ratelimiter **out);
/* NULL is a no-op. */
void ratelimiter_destroy(struct ratelimiter *rl);

/*
 * True when a packet from src may be processed now; takes one token.
 * now_s is the caller's clock (ev_now()) in seconds. Refuses sources of
 * another family, and new sources while the table is full. Expired entries
 * are collected here at most once per RATELIMITER_IDLE_TIMEOUT_S.
 */
bool ratelimiter_allow(struct ratelimiter *rl, const union sockaddr_inet *src, double now_s);
/* Forget every entry idle for more than RATELIMITER_IDLE_TIMEOUT_S; O(table). */
void ratelimiter_gc(struct ratelimiter *rl, double now_s);
/* Sources tracked now. */
size_t ratelimiter_count(const struct ratelimiter *rl);

#endif
