// SPDX-License-Identifier: MIT
/*
 * Peer objects: creation from a [Peer] config (a numeric endpoint at once,
 * a name through resolve.c), in-place update that keeps the session,
 * destruction. The tables that find peers are iface.c's; what the data path
 * does to a peer is peer_state.c's.
 */
#include "peer.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "events.h"
#include "iface_state.h"
#include "peer_dns.h"
#include "timers.h"
#include "timers_expiry.h"
#include "udp.h"

/*
 * A numeric host:port, with no DNS: 0, -EAGAIN when host is a name, or
 * another -errno.
 */
static int numeric_endpoint(const char *host, uint16_t port, union sockaddr_inet *out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
				 .ai_protocol = IPPROTO_UDP,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portstr[8];
	int rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc == EAI_NONAME)
		return -EAGAIN;
	if (rc != 0)
		return -EINVAL;
	rc = -EINVAL;
	if ((res->ai_family == AF_INET && res->ai_addrlen == sizeof(struct sockaddr_in)) ||
	    (res->ai_family == AF_INET6 && res->ai_addrlen == sizeof(struct sockaddr_in6))) {
		memset(out, 0, sizeof(*out));
		memcpy(out, res->ai_addr, res->ai_addrlen);
		rc = 0;
	}
	freeaddrinfo(res);
	return rc;
}

static void use_configured_endpoint(struct peer *peer, const union sockaddr_inet *sa)
{
	struct endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr = *sa;
	peer_set_endpoint_from(peer, &ep);
}

/*
 * Take the endpoint host (owned; NULL: none) and port: a numeric one at
 * once, a name on the resolver's thread (the loop goes on; packets are
 * staged meanwhile), then again over time (peer_dns.c). Cannot fail: a
 * name that does not resolve waits for the peer to reach us.
 */
static void set_configured_endpoint(struct peer *peer, char *host, uint16_t port)
{
	union sockaddr_inet sa;
	int rc;

	peer_dns_stop(peer);
	free(peer->endpoint_host);
	peer->endpoint_host = host;
	peer->endpoint_port = port;
	if (!host)
		return;
	rc = numeric_endpoint(host, port, &sa);
	if (rc == 0)
		use_configured_endpoint(peer, &sa);
	else if (rc != -EAGAIN)
		/* Not fatal: the peer may still reach us and be learnt by roaming. */
		peer_log(LOG_LEVEL_WARN, peer,
			 "cannot resolve endpoint %s port %u; waiting for the peer to reach us",
			 host, port);
	else
		peer_dns_start(peer);
}

/* A copy of s in *out (NULL for NULL): 0 or -ENOMEM. */
static int dup_or_null(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int peer_create(struct iface *iface, const struct peer_config *pc, uint64_t id, struct peer **out)
{
	struct peer *peer;
	char *host = NULL;

	*out = NULL;
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return -ENOMEM;
	peer->iface = iface;
	peer->id = id;
	list_init(&peer->node);
	memcpy(peer->public_key, pc->public_key, NOISE_PUBLIC_KEY_LEN);
	if (dup_or_null(pc->name, &peer->name) != 0 || dup_or_null(pc->endpoint_host, &host) != 0) {
		free(peer->name);
		free(peer);
		return -ENOMEM;
	}
	peer->has_preshared_key = pc->has_preshared_key;
	noise_handshake_init(&peer->handshake, &iface->local, pc->public_key,
			     pc->has_preshared_key ? pc->preshared_key : NULL, peer);
	peer->keypairs.index = iface->index;
	cookie_init(&peer->cookie, pc->public_key);
	timers_init(peer);
	peer->persistent_keepalive_s = pc->persistent_keepalive_s;
	peer->last_sent_handshake_s = -1e9;
	set_configured_endpoint(peer, host, pc->endpoint_port);
	*out = peer;
	return 0;
}

int peer_update(struct peer *peer, const struct peer_config *pc, double now_s)
{
	bool name_changed = !same_string(peer->name, pc->name);
	/*
	 * Only a changed Endpoint= overrides the endpoint: an unchanged one
	 * must not undo what roaming learnt.
	 */
	bool endpoint_changed = !same_string(peer->endpoint_host, pc->endpoint_host) ||
				peer->endpoint_port != pc->endpoint_port;
	char *name = NULL, *host = NULL;

	/* Everything that can fail comes first: a failed update leaves the peer as it was. */
	if ((name_changed && dup_or_null(pc->name, &name) != 0) ||
	    (endpoint_changed && dup_or_null(pc->endpoint_host, &host) != 0)) {
		free(name);
		return -ENOMEM;
	}
	if (name_changed) {
		free(peer->name);
		peer->name = name;
	}
	if (peer->has_preshared_key != pc->has_preshared_key ||
	    (pc->has_preshared_key &&
	     !crypto_memeq(peer->handshake.preshared_key, pc->preshared_key, KEY_LEN))) {
		noise_handshake_set_psk(&peer->handshake,
					pc->has_preshared_key ? pc->preshared_key : NULL);
		peer->has_preshared_key = pc->has_preshared_key;
	}
	if (endpoint_changed)
		set_configured_endpoint(peer, host, pc->endpoint_port);
	if (peer->persistent_keepalive_s != pc->persistent_keepalive_s) {
		peer->persistent_keepalive_s = pc->persistent_keepalive_s;
		timers_persistent_keepalive_changed(peer, now_s);
	}
	return 0;
}

void peer_destroy(struct peer *peer)
{
	if (!peer)
		return;
	peer_dns_stop(peer);
	/* The send queue may hold this peer's datagrams: send them while it exists. */
	if (peer->iface && peer->iface->scratch)
		peer->iface->stats.tx_errors += udp_flush(peer->iface->scratch);
	timers_stop(peer);
	peer_purge_staged(peer);
	noise_keypairs_clear(&peer->keypairs);
	noise_handshake_destroy(&peer->handshake);
	free(peer->name);
	free(peer->endpoint_host);
	crypto_wipe(peer, sizeof(*peer));
	free(peer);
}

void peer_event_settings(const struct peer *peer, const char *event, const struct peer_config *pc)
{
	char buf[ADDR_STR_LEN];
	json_t *ips;

	if (!events_wanted())
		return;
	ips = json_array();
	for (size_t i = 0; ips && i < pc->n_allowed_ips; i++)
		json_array_append_new(ips,
				      json_string(prefix_format(buf, sizeof(buf), &pc->allowed_ips[i])));
	peer_event(peer, event,
		   json_pack("{s:s?,s:o*,s:i}", "endpoint",
			     peer->has_endpoint ? peer_endpoint_str(buf, sizeof(buf), peer) : NULL,
			     "allowed_ips", ips, "persistent_keepalive",
			     (int)peer->persistent_keepalive_s));
}
