// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the first line of a localhost tunnel's data connection
 * and the bytes after it, through the real code. Our control connection to
 * the server has been told that web and px (PROXY v2) are published and
 * secret refused; then a connection to our control port from the remote
 * that byte 0 picks (harness_remote: the server itself, the laptop, hosts
 * behind the hub, no peer's) carries the rest of the input: its "connect"
 * line names a service and the user's addresses for the PROXY header, and
 * what follows goes to the local service, which takes the connection and
 * drops it. Besides crashes, leaks and UB, each run checks that the
 * services were active and that the descriptor budget is given back.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expose.h"
#include "expose_harness.h"
#include "expose_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char answers[] =
	"{\"op\":\"expose\",\"name\":\"web\",\"ok\":true,\"listen\":\"*:8080\"}\n"
	"{\"op\":\"expose\",\"name\":\"px\",\"ok\":true,\"listen\":\"*:8081\"}\n"
	"{\"op\":\"expose\",\"name\":\"secret\",\"ok\":false,\"code\":\"not_allowed\",\"message\":\"no\"}\n";

static bool is_state(struct expose *ex, const char *name, const char *state)
{
	json_t *s = expose_service_json(ex, name);
	bool is = s && strcmp(json_string_value(json_object_get(s, "state")), state) == 0;

	json_decref(s);
	return is;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool is_ready;
	union sockaddr_inet server, remote, local;
	struct expose *ex;
	int link_ours, link_theirs, ours, theirs;

	if (!is_ready) {
		harness_init();
		is_ready = true;
	}
	if (size < 1 || size > 64 * 1024)
		return 0;
	ex = harness_expose();
	harness_pair(&link_ours, &link_theirs);
	server = harness_server();
	if (expose_client_adopt_link(ex, &server, link_theirs) != 0)
		abort();
	harness_feed(link_ours, answers, sizeof(answers) - 1, false);
	if (!is_state(ex, "web", "active") || !is_state(ex, "px", "active") ||
	    !is_state(ex, "secret", "refused"))
		abort(); /* else the target would test nothing past the first checks */
	harness_pair(&ours, &theirs);
	remote = harness_remote(data[0]);
	local = harness_local(&remote);
	expose_accepted(ex, theirs, &remote, &local);
	harness_feed(ours, data + 1, size - 1, true);
	close(ours);
	close(link_ours);
	harness_expose_free(ex);
	return 0;
}
