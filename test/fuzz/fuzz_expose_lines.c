// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the JSON lines of localhost tunnels (docs/localhost-
 * tunnels.md), in both roles, through the real code: the bytes arrive on a
 * connection and the daemon's loop reads them, line by line. Byte 0 picks
 * the role:
 *   bit 0 clear: a connection to our control port from the remote that
 *     bits 1-3 pick (harness_remote: the server, the laptop over IPv4 or
 *     IPv6, hosts behind the hub, no peer's): its first line makes a
 *     control session (we are the laptop's server: expose, unexpose, ping)
 *     or a data connection, or is refused, and the session handles the
 *     lines after it;
 *   bit 0 set: the server's lines on our control connection to it (we are
 *     its client: expose answers, closed, changed, pong).
 * Before the end of the input, users connect to every public port the
 * session opened (byte 0 bits 4-5: how many times each), so that the
 * limits, the per-source table and the connections to the client run too.
 * Besides crashes, leaks and UB, each run checks that the interface's
 * localhost tunnels give back every unit of the descriptor budget.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "expose_harness.h"
#include "expose_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool is_ready;
	union sockaddr_inet remote, local;
	struct expose *ex;
	int ours, theirs;

	if (!is_ready) {
		harness_init();
		is_ready = true;
	}
	if (size < 1 || size > 64 * 1024)
		return 0;
	ex = harness_expose();
	harness_pair(&ours, &theirs);
	if (data[0] & 1) {
		remote = harness_server();
		if (expose_client_adopt_link(ex, &remote, theirs) != 0)
			abort(); /* the services must have a link to the server */
	} else {
		remote = harness_remote(data[0] >> 1);
		local = harness_local(&remote);
		expose_accepted(ex, theirs, &remote, &local);
	}
	harness_feed(ours, data + 1, size - 1, false);
	harness_knock(ex, (data[0] >> 4) & 3);
	harness_feed(ours, NULL, 0, true);
	close(ours);
	harness_expose_free(ex);
	return 0;
}
