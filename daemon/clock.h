/* SPDX-License-Identifier: MIT */
/*
 * The protocol's clock. Key ages and timer deadlines are seconds of
 * CLOCK_BOOTTIME, read once at the top of each event callback and passed
 * down: it is monotonic (a wall-clock step must not expire or immortalise a
 * session) and, unlike CLOCK_MONOTONIC, counts time spent suspended, so a
 * laptop waking after an hour does not reuse hour-old keys.
 */
#ifndef TUND_CLOCK_H
#define TUND_CLOCK_H

#include <time.h>

static inline double clock_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
