// SPDX-License-Identifier: MIT
/*
 * The replay window of one receiving keypair (WireGuard paper section 5.4.6,
 * RFC 6479): a ring of COUNTER_BITS_TOTAL bits in 64-bit words. Moving the
 * window forward only clears the words it slides over, so a jump costs at
 * most one pass over the ring and an in-order packet touches one word.
 */
#include "replay.h"

#include <string.h>

#define REPLAY_WORDS (COUNTER_BITS_TOTAL / REPLAY_WORD_BITS)

_Static_assert((REPLAY_WORDS & (REPLAY_WORDS - 1)) == 0, "ring size must be a power of two");
_Static_assert(
	COUNTER_WINDOW_SIZE <= COUNTER_BITS_TOTAL - REPLAY_WORD_BITS,
	"the window must leave one word of slack, or the oldest word is recycled while in use");

void replay_init(struct replay_counter *r)
{
	memset(r, 0, sizeof(*r));
}

bool replay_check(struct replay_counter *r, uint64_t counter)
{
	uint64_t next, word, top_word, n, i, bit;

	if (counter >= REJECT_AFTER_MESSAGES)
		return false;
	/*
	 * Work with counter + 1 so that the state "nothing seen yet" (0) sorts
	 * below every real counter; r->counter is one past the highest seen.
	 */
	next = counter + 1;
	if (next + COUNTER_WINDOW_SIZE < r->counter)
		return false; /* older than the window */

	word = next / REPLAY_WORD_BITS;
	if (next > r->counter) {
		/*
		 * Slide forward: clear the words between the old top and the new
		 * one. A jump of a whole ring or more clears every word once.
		 */
		top_word = r->counter / REPLAY_WORD_BITS;
		n = word - top_word;
		if (n > REPLAY_WORDS)
			n = REPLAY_WORDS;
		for (i = 1; i <= n; i++)
			r->backtrack[(top_word + i) & (REPLAY_WORDS - 1)] = 0;
		r->counter = next;
	}

	word &= REPLAY_WORDS - 1;
	bit = UINT64_C(1) << (next & (REPLAY_WORD_BITS - 1));
	if (r->backtrack[word] & bit)
		return false; /* seen before */
	r->backtrack[word] |= bit;
	return true;
}
