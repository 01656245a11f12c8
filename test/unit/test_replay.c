// SPDX-License-Identifier: MIT
/*
 * The replay window: a numbered table of (counter, accepted?) steps through
 * one window, in the manner of the driver's selftest/counter.c, then
 * long in-order runs and a randomized comparison with a naive set model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"
#include "support.h"

#define W    ((uint64_t)COUNTER_WINDOW_SIZE)
#define RING ((uint64_t)COUNTER_BITS_TOTAL)
#define R    ((uint64_t)REJECT_AFTER_MESSAGES)

struct step {
	uint64_t counter;
	bool accept;
};

/*
 * One window, fed in this order. "H" in the comments is the highest counter
 * accepted so far; a counter is inside the window when counter >= H - W.
 */
static const struct step steps[] = {
	/* in order, duplicates, out of order */
	{0, true}, /* 1: the first packet */
	{0, false}, /* 2: duplicate */
	{1, true}, /* 3 */
	{1, false}, /* 4 */
	{5, true}, /* 5: a gap */
	{3, true}, /* 6: late, inside the window */
	{4, true}, /* 7 */
	{3, false}, /* 8: late duplicate */
	{2, true}, /* 9 */
	{5, false}, /* 10 */
	/* crossing a bitmap word boundary (counter + 1 = 64) */
	{62, true}, /* 11 */
	{63, true}, /* 12: first bit of word 1 */
	{64, true}, /* 13 */
	{63, false}, /* 14 */
	{61, true}, /* 15: back in word 0 */
	{6, true}, /* 16 */
	/* the lower edge of the window, H = W + 10 */
	{W + 10, true}, /* 17: a jump of most of the window */
	{9, false}, /* 18: H - W - 1: just too old, never seen */
	{10, true}, /* 19: H - W: the oldest counter still inside */
	{10, false}, /* 20 */
	{11, true}, /* 21 */
	{62, false}, /* 22: seen before the jump, still remembered */
	{60, true}, /* 23: not seen, still inside */
	{7, false}, /* 24: too old */
	{W + 8, true}, /* 25: below H */
	{W + 10, false}, /* 26 */
	/* a jump by exactly the window: the old H lands on the lower edge */
	{2 * W + 10, true}, /* 27: H = 2W + 10 */
	{W + 10, false}, /* 28: the old H, seen, exactly H - W */
	{W + 9, false}, /* 29: H - W - 1, never seen */
	{W + 11, true}, /* 30: H - W + 1, never seen */
	{W + 11, false}, /* 31 */
	{2 * W + 9, true}, /* 32 */
	/* a jump by exactly the ring: every bit position is reused */
	{2 * W + 10 + RING, true}, /* 33: same bit as counter 27 */
	{W + 11 + RING, true}, /* 34: same bit as 30, which must be cleared */
	{W + 10 + RING, true}, /* 35: H - W, same bit as 28 */
	{W + 9 + RING, false}, /* 36: H - W - 1 */
	{2 * W + 9 + RING, true}, /* 37: same bit as 32 */
	{2 * W + 9 + RING, false}, /* 38 */
	{2 * W + 10, false}, /* 39: old H, far too old */
	/* a short jump within two words clears only what it slides over */
	{2 * W + 10 + RING + 70, true}, /* 40 */
	{2 * W + 10 + RING + 69, true}, /* 41: in a cleared word */
	{2 * W + 10 + RING + 1, true}, /* 42 */
	{2 * W + 10 + RING, false}, /* 43: seen before the jump */
	{W + 11 + RING, false}, /* 44: now below the lower edge */
	/* big jumps */
	{UINT64_C(1) << 40, true}, /* 45 */
	{(UINT64_C(1) << 40) - W, true}, /* 46: the lower edge */
	{(UINT64_C(1) << 40) - W - 1, false}, /* 47 */
	{2 * W + 10 + RING + 70, false}, /* 48: old H */
	{(UINT64_C(1) << 40) + 1, true}, /* 49 */
	{(UINT64_C(1) << 40) - W, false}, /* 50 */
	{(UINT64_C(1) << 40) - 48, true}, /* 51: the ring bit of step 48, cleared by the jump */
	/* REJECT_AFTER_MESSAGES: the last counters a key may ever accept */
	{R, false}, /* 52: never, not even as a new high */
	{R + 1, false}, /* 53 */
	{UINT64_MAX, false}, /* 54 */
	{R - 1, true}, /* 55: the last acceptable counter */
	{R - 1, false}, /* 56 */
	{R - 2, true}, /* 57 */
	{R, false}, /* 58 */
	{R - 1 - W, true}, /* 59: lower edge below the last counter */
	{R - 2 - W, false}, /* 60 */
	{R - 3, true}, /* 61 */
	{0, false}, /* 62 */
	{UINT64_MAX, false}, /* 63 */
};

static void test_table(void **state)
{
	struct replay_counter r;
	size_t i;
	int failures = 0;

	(void)state;
	replay_init(&r);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		bool got = replay_check(&r, steps[i].counter);

		if (got != steps[i].accept) {
			print_error("step %zu: counter %llu: got %s, expected %s\n", i + 1,
				    (unsigned long long)steps[i].counter, got ? "accept" : "reject",
				    steps[i].accept ? "accept" : "reject");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* In order across the ring several times: every counter once, then all replays refused. */
static void test_in_order_wraps(void **state)
{
	struct replay_counter r;
	uint64_t c, last = 3 * RING + 17;

	(void)state;
	replay_init(&r);
	for (c = 0; c <= last; c++)
		assert_true(replay_check(&r, c));
	for (c = last - W; c <= last; c++)
		assert_false(replay_check(&r, c));
	assert_false(replay_check(&r, last - W - 1));
	assert_false(replay_check(&r, 0));
	assert_true(replay_check(&r, last + 1));
}

/* Descending inside one window: each is accepted once. */
static void test_reverse_inside_window(void **state)
{
	struct replay_counter r;
	uint64_t top = 5 * RING + 33, c;

	(void)state;
	replay_init(&r);
	assert_true(replay_check(&r, top));
	for (c = top - 1; c >= top - W; c--)
		assert_true(replay_check(&r, c));
	for (c = top; c >= top - W; c--)
		assert_false(replay_check(&r, c));
	assert_false(replay_check(&r, top - W - 1));
}

/*
 * Jumps of many lengths up to just over a ring, from a full window: after
 * the jump, exactly the counters inside the new window that were never seen
 * are accepted. Probes are chosen at the interesting places.
 */
static bool interesting_jump(uint64_t jump)
{
	return jump < 300 || jump % 37 == 0 || (jump + 70 > W && jump < W + 70) ||
	       (jump + 70 > RING && jump < RING + 70);
}

static void test_jump_lengths(void **state)
{
	uint64_t jump;

	(void)state;
	for (jump = 1; jump <= RING + 130; jump++) {
		struct replay_counter r;
		uint64_t base = 2 * RING + (jump * 7 % 64), top = base + jump, edge = top - W, c;
		uint64_t probes[] = {base - W, base, base + 1, top - 1, edge, edge - 1, edge + 1};
		uint64_t accepted[8];
		size_t i, j, n_accepted = 0;

		if (!interesting_jump(jump))
			continue;
		replay_init(&r);
		for (c = base - W; c <= base; c++)
			assert_true(replay_check(&r, c));
		assert_true(replay_check(&r, top));
		accepted[n_accepted++] = top;
		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			bool want =
				probes[i] >= edge && !(probes[i] >= base - W && probes[i] <= base);

			for (j = 0; j < n_accepted; j++)
				want = want && probes[i] != accepted[j];
			if (replay_check(&r, probes[i]) != want)
				fail_msg("jump %llu: probe %zu (top - %llu): expected %s",
					 (unsigned long long)jump, i,
					 (unsigned long long)(top - probes[i]),
					 want ? "accept" : "reject");
			if (want)
				accepted[n_accepted++] = probes[i];
		}
	}
}

/* ---- randomized comparison with a naive set ---- */

static uint64_t rng_state;

/* xorshift64* (support.h): reproducible from the seed in the failure message */
static uint64_t rng(void)
{
	return ts_rng(&rng_state);
}

#define SPAN	  (UINT64_C(1) << 22)
#define MAX_STEPS 300000

struct model {
	uint64_t base; /* counters are base + [0, SPAN) */
	bool has_seen;
	uint64_t highest;
	uint8_t *seen; /* indexed by counter - base */
};

enum verdict {
	ACCEPT,
	DUPLICATE,
	TOO_OLD,
	LIMIT,
	N_VERDICTS
};

static enum verdict model_check(struct model *m, uint64_t counter)
{
	if (counter >= R)
		return LIMIT;
	if (m->has_seen && counter + W < m->highest)
		return TOO_OLD;
	if (m->seen[counter - m->base])
		return DUPLICATE;
	m->seen[counter - m->base] = 1;
	if (!m->has_seen || counter > m->highest)
		m->highest = counter;
	m->has_seen = true;
	return ACCEPT;
}

/*
 * A random walk of counters around the top of the window, replays of
 * recent counters, forward jumps and probes at the lower edge; each step
 * is compared with the model. Returns how often each verdict occurred.
 */
static void run_differential(uint64_t seed, uint64_t base, uint64_t tally[N_VERDICTS])
{
	struct replay_counter r;
	struct model m = {.base = base};
	uint64_t top = 0, recent[64] = {0}, steps_done;

	m.seen = calloc(SPAN, 1);
	assert_non_null(m.seen);
	rng_state = seed;
	replay_init(&r);
	for (steps_done = 0; steps_done < MAX_STEPS; steps_done++) {
		uint64_t kind = rng() % 100, c;
		int64_t delta = 0;
		enum verdict want;
		bool got;

		if (kind < 40)
			delta = (int64_t)(rng() % 200) - 100; /* near the top */
		else if (kind < 65)
			delta = -(int64_t)(rng() % (W + 200)); /* anywhere around the window */
		else if (kind < 74)
			delta = (int64_t)(rng() % 300); /* short forward jumps */
		else if (kind < 75)
			delta = (int64_t)(rng() % (2 * RING)); /* long forward jumps */
		else if (kind < 85)
			delta = -(int64_t)(W - 2 + rng() % 5); /* at the lower edge */
		if (kind >= 85) {
			c = recent[rng() % 64]; /* a replay */
		} else {
			if ((int64_t)top + delta < 0)
				delta = -(int64_t)top;
			c = top + (uint64_t)delta;
		}
		if (c >= SPAN)
			break;
		recent[steps_done % 64] = c;
		want = model_check(&m, base + c);
		got = replay_check(&r, base + c);
		if ((want == ACCEPT) != got) {
			fail_msg("seed %llu step %llu: counter base+%llu: model says %s, replay %s",
				 (unsigned long long)seed, (unsigned long long)steps_done,
				 (unsigned long long)c, want == ACCEPT ? "accept" : "reject",
				 got ? "accepts" : "rejects");
		}
		tally[want]++;
		if (got && c > top)
			top = c;
	}
	free(m.seen);
}

static void test_differential_low(void **state)
{
	uint64_t tally[N_VERDICTS] = {0};

	(void)state;
	run_differential(1, 0, tally);
	run_differential(0x9e3779b97f4a7c15ULL, 0, tally);
	/* the walks must have produced every outcome often */
	assert_true(tally[ACCEPT] > 20000);
	assert_true(tally[DUPLICATE] > 3000);
	assert_true(tally[TOO_OLD] > 3000);
}

/* Walks that run into REJECT_AFTER_MESSAGES. */
static void test_differential_reject_boundary(void **state)
{
	uint64_t tally[N_VERDICTS] = {0};

	(void)state;
	run_differential(7, R - SPAN / 2, tally);
	run_differential(12345, R - SPAN + 100000, tally);
	assert_true(tally[ACCEPT] > 10000);
	assert_true(tally[DUPLICATE] > 1000);
	assert_true(tally[TOO_OLD] > 1000);
	assert_true(tally[LIMIT] > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_in_order_wraps),
		cmocka_unit_test(test_reverse_inside_window),
		cmocka_unit_test(test_jump_lengths),
		cmocka_unit_test(test_differential_low),
		cmocka_unit_test(test_differential_reject_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
