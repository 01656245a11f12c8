/* SPDX-License-Identifier: MIT */
/*
 * The sliding replay window of transport data counters (WireGuard paper
 * section 5.4.6, RFC 6479's bitmap without a lock): a counter is accepted
 * once, out of order within COUNTER_WINDOW_SIZE of the highest seen, and
 * never at or beyond REJECT_AFTER_MESSAGES. Embedded in each keypair.
 */
#ifndef TUND_REPLAY_H
#define TUND_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

#define REPLAY_WORD_BITS 64

struct replay_counter {
	uint64_t counter; /* one past the highest counter accepted */
	uint64_t backtrack[COUNTER_BITS_TOTAL / REPLAY_WORD_BITS];
};

void replay_init(struct replay_counter *r);
/*
 * Check and record: true when counter has not been seen and is inside the
 * window (it is then marked seen), false for a duplicate, a counter too old
 * for the window, or one >= REJECT_AFTER_MESSAGES. Call only after the packet
 * has authenticated, or an attacker could advance the window.
 */
bool replay_check(struct replay_counter *r, uint64_t counter);

#endif
