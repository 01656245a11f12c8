// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the metrics listener's request parser (daemon/metrics_http.c,
 * metrics_http_parse): whatever a client sends to --metrics-listen. The input
 * is the bytes of a head (at most METRICS_HTTP_MAX_HEAD, as the connection's
 * buffer holds); its first byte picks where it is cut in two, so that the
 * head arrives in two reads. Checked: the status is one of 0, 200, 400, 404,
 * 405, 431; the same whether the bytes came in one read or two (the parser
 * resumes where it stopped); 0 only while no blank line has come and the
 * limit is not reached; 200 only for a request line that begins "GET
 * /metrics" or "HEAD /metrics", and *get only for GET. The buffer is exactly
 * as long as the input, for ASan.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_metrics_http: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut, len, scanned = 0;
	bool get = false, get2 = false;
	char *buf;
	int whole, parts;

	if (size < 1)
		return 0;
	cut = data[0];
	data++;
	size--;
	len = size < METRICS_HTTP_MAX_HEAD ? size : METRICS_HTTP_MAX_HEAD;
	cut = cut < len ? cut : len;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, len);

	whole = metrics_http_parse(buf, len, &scanned, &get);
	check(scanned == len, "scanned is not the length");
	check(whole == 0 || whole == 200 || whole == 400 || whole == 404 || whole == 405 ||
		      whole == 431,
	      "a status outside the set");
	check(whole != 431 || len == METRICS_HTTP_MAX_HEAD, "431 below the limit");
	check(whole != 0 || (len < METRICS_HTTP_MAX_HEAD && !memmem(buf, len, "\n\n", 2) &&
			     !memmem(buf, len, "\n\r\n", 3)),
	      "0 with a blank line, or at the limit");
	if (whole == 200)
		check((len >= 13 && memcmp(buf, "GET /metrics", 12) == 0) ||
			      (len >= 14 && memcmp(buf, "HEAD /metrics", 13) == 0),
		      "200 for another request line");
	check(!get || (whole == 200 && memcmp(buf, "GET", 3) == 0), "get without a GET");

	/* The same bytes in two reads: the first may already end the head. */
	scanned = 0;
	parts = metrics_http_parse(buf, cut, &scanned, &get2);
	if (parts == 0)
		parts = metrics_http_parse(buf, len, &scanned, &get2);
	if (cut == len || parts == 0 || whole == 0 || whole == 431)
		check(parts == whole, "another status in two reads");
	else
		check(parts != 0, "the head ended in one read and not in two");
	if (parts == whole)
		check(get2 == get, "another method in two reads");
	free(buf);
	return 0;
}
