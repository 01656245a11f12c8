// SPDX-License-Identifier: MIT
/*
 * RedirectToLocalhost through nftables: one table per interface, owned by
 * tund's libnftables socket (flags owner), so the kernel deletes it when tund
 * dies, even by SIGKILL. The rules only DNAT; making the NATed packets
 * deliverable is routing's part, done here too:
 *   IPv4: 127.0.0.1 from another device is a martian unless the device has
 *         route_localnet; with it, the device would also accept packets a
 *         peer addresses to 127.0.0.0/8 itself, so a raw-priority chain
 *         drops those before NAT runs (only our DNAT may lead there).
 *   IPv6: there is no route_localnet. The kernel drops packets that arrive
 *         with ::1 in them (RFC 4291) before the hooks, and after DNAT the
 *         input route lookup for ::1 must match the arrival device (the
 *         loopback address is looked up strictly), which only lo has. A
 *         local route for ::1 through the interface gives the lookup that.
 * Replies are un-NATed by conntrack in both families.
 */
#include "nat.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "changes.h"
#include "config.h"
#include "iface.h"
#include "log.h"
#include "netlink.h"

/* Owned by its iface (iface->nat). */
struct nat {
	struct iface *iface; /* borrowed: the owner */
	struct nft_ctx *nft; /* NULL until first needed; its socket owns the table */
	char table[NAT_TABLE_NAME_LEN];
	struct redirect_ports *ports; /* in force, merged (redirect_ports_normalize) */
	size_t n_ports;
	bool has_table;
	bool has_localnet; /* we set route_localnet */
	bool has_lo6_route; /* the ::1 route is in: IPv6 is redirected */
};

void nat_table_name(char buf[static NAT_TABLE_NAME_LEN], const char *ifname)
{
	static const char plain[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t len = strnlen(ifname, IFNAMSIZ - 1), off;

	if (strspn(ifname, plain) == len) {
		snprintf(buf, NAT_TABLE_NAME_LEN, "tund-%.*s", (int)len, ifname);
		return;
	}
	/* "tund_" never starts a plain name's table: the two cannot collide. */
	off = (size_t)snprintf(buf, NAT_TABLE_NAME_LEN, "tund_");
	for (size_t i = 0; i < len; i++)
		off += (size_t)snprintf(buf + off, NAT_TABLE_NAME_LEN - off, "%02x",
					(unsigned char)ifname[i]);
}

/* ---- libnftables ---- */

static bool is_netfilter_socket(int fd)
{
	int domain = 0, protocol = 0;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
		return false;
	len = sizeof(protocol);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0)
		return false;
	return domain == AF_NETLINK && protocol == NETLINK_NETFILTER;
}

/*
 * libnftables ends the process when it cannot open its netlink socket (as
 * under a full descriptor table), so open one first and fail politely. Its
 * socket then takes the lowest free descriptor, which is the probe's, and
 * lacks close-on-exec: a hook's background child would keep the table's
 * owner alive after tund. Mark it.
 */
static int nft_open(struct nat *nat)
{
	int probe = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	int flags;

	if (probe < 0)
		return -errno;
	close(probe);
	nat->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nat->nft)
		return -ENOMEM;
	if (nft_ctx_buffer_output(nat->nft) != 0 || nft_ctx_buffer_error(nat->nft) != 0) {
		nft_ctx_free(nat->nft);
		nat->nft = NULL;
		return -ENOMEM;
	}
	flags = fcntl(probe, F_GETFD);
	if (flags >= 0 && is_netfilter_socket(probe))
		(void)fcntl(probe, F_SETFD, flags | FD_CLOEXEC);
	else
		log_debug("%s: nftables socket not found; it stays open in hooks",
			  nat->iface->name);
	return 0;
}

/* Log each line of nft's error text. */
static void log_nft_error(const struct nat *nat, const char *what)
{
	const char *text = nft_ctx_get_error_buffer(nat->nft);
	const char *line = text, *nl;

	log_error("%s: cannot %s nftables table %s", nat->iface->name, what, nat->table);
	while (line && *line) {
		nl = strchr(line, '\n');
		log_error("%s: nft: %.*s", nat->iface->name,
			  nl ? (int)(nl - line) : (int)strlen(line), line);
		line = nl ? nl + 1 : NULL;
	}
}

/* Run cmds in one transaction. 0, or -EIO after logging nft's reason. */
static int nft_run(struct nat *nat, const char *cmds, const char *what)
{
	int rc = nft_run_cmd_from_buffer(nat->nft, cmds);

	/* Reading a buffer empties it for the next run. */
	(void)nft_ctx_get_output_buffer(nat->nft);
	if (rc != 0) {
		log_nft_error(nat, what);
		return -EIO;
	}
	(void)nft_ctx_get_error_buffer(nat->nft);
	return 0;
}

/* ---- The ruleset ---- */

/* "{ 8000, 8080-8090 }": the ports of protocol (there is at least one). */
static void write_set(FILE *f, const struct redirect_ports *p, size_t n, uint8_t protocol)
{
	const char *sep = "{ ";

	for (size_t i = 0; i < n; i++) {
		if (p[i].protocol != protocol)
			continue;
		fprintf(f, "%s%u", sep, p[i].first);
		if (p[i].last != p[i].first)
			fprintf(f, "-%u", p[i].last);
		sep = ", ";
	}
	fprintf(f, " }");
}

/* The DNAT rules of one protocol; IPv6 only where ::1 can be reached. */
static void write_dnat(FILE *f, const struct redirect_ports *p, size_t n, uint8_t protocol,
		       bool ipv6)
{
	const char *name = redirect_protocol_name(protocol);

	fprintf(f, "\t\tmeta nfproto ipv4 %s dport ", name);
	write_set(f, p, n, protocol);
	fprintf(f, " dnat ip to 127.0.0.1\n");
	if (!ipv6)
		return;
	fprintf(f, "\t\tmeta nfproto ipv6 %s dport ", name);
	write_set(f, p, n, protocol);
	fprintf(f, " dnat ip6 to ::1\n");
}

/*
 * The whole table, after commands that remove any table of that name in the
 * same transaction: "add" first, since deleting a missing table would fail
 * the batch (nft 1.0.6 has no "destroy"). Our own table is owned, and an
 * "add" that does not say so asks to drop the flag, which the kernel
 * refuses; a leftover of an older tund is not owned, and may not be given
 * the flag. So the first command depends on whose table is there.
 */
static char *ruleset(const struct nat *nat, const struct redirect_ports *p, size_t n)
{
	const char *t = nat->table, *dev = nat->iface->name;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bool has_tcp = false, has_udp = false;

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		has_tcp |= p[i].protocol == IPPROTO_TCP;
		has_udp |= p[i].protocol == IPPROTO_UDP;
	}
	fprintf(f, "add table inet %s%s\n", t, nat->has_table ? " { flags owner; }" : "");
	fprintf(f, "delete table inet %s\n", t);
	fprintf(f, "table inet %s {\n\tflags owner\n", t);
	fprintf(f,
		"\tchain loopback_guard {\n"
		"\t\ttype filter hook prerouting priority raw; policy accept;\n"
		"\t\tiifname \"%s\" ip saddr 127.0.0.0/8 drop\n"
		"\t\tiifname \"%s\" ip daddr 127.0.0.0/8 drop\n"
		"\t\tiifname \"%s\" ip6 saddr ::1 drop\n"
		"\t\tiifname \"%s\" ip6 daddr ::1 drop\n"
		"\t}\n",
		dev, dev, dev, dev);
	fprintf(f,
		"\tchain to_localhost {\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\tiifname != \"%s\" return\n"
		"\t\tfib daddr type != local return\n",
		dev);
	if (has_tcp)
		write_dnat(f, p, n, IPPROTO_TCP, nat->has_lo6_route);
	if (has_udp)
		write_dnat(f, p, n, IPPROTO_UDP, nat->has_lo6_route);
	fprintf(f, "\t}\n}\n");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- Routing ---- */

static const struct ip_prefix loopback6 = {
	.family = AF_INET6, .cidr = 128, .addr.ip6 = IN6ADDR_LOOPBACK_INIT};

/* route_localnet and the ::1 route, before the rules can send packets there. */
static int routing_up(struct nat *nat, bool *set_localnet, bool *set_lo6)
{
	struct iface *iface = nat->iface;
	int rc;

	*set_localnet = *set_lo6 = false;
	if (!nat->has_localnet) {
		rc = netlink_link_set_route_localnet(iface->nl, iface->ifindex, true);
		if (rc != 0) {
			log_error("%s: cannot set route_localnet: %s", iface->name, strerror(-rc));
			return rc;
		}
		nat->has_localnet = *set_localnet = true;
	}
	if (!nat->has_lo6_route) {
		rc = netlink_local_route_add(iface->nl, iface->ifindex, &loopback6);
		if (rc == 0 || rc == -EEXIST)
			nat->has_lo6_route = *set_lo6 = true;
		else
			log_warn("%s: IPv6 is not redirected: cannot add a local route for ::1: %s",
				 iface->name, strerror(-rc));
	}
	return 0;
}

static void routing_down(struct nat *nat, bool localnet, bool lo6)
{
	struct iface *iface = nat->iface;

	if (localnet && nat->has_localnet) {
		(void)netlink_link_set_route_localnet(iface->nl, iface->ifindex, false);
		nat->has_localnet = false;
	}
	if (lo6 && nat->has_lo6_route) {
		(void)netlink_local_route_del(iface->nl, iface->ifindex, &loopback6);
		nat->has_lo6_route = false;
	}
}

/* ---- Applying a list ---- */

static void remove_all(struct nat *nat)
{
	char cmd[64 + NAT_TABLE_NAME_LEN];

	if (nat->has_table) {
		snprintf(cmd, sizeof(cmd), "delete table inet %s\n", nat->table);
		(void)nft_run(nat, cmd, "delete");
		nat->has_table = false;
	}
	routing_down(nat, true, true);
	free(nat->ports);
	nat->ports = NULL;
	nat->n_ports = 0;
}

/* A merged copy of cfg's list into *out (NULL for none). 0 or -ENOMEM. */
static int wanted(const struct iface_config *cfg, struct redirect_ports **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!cfg->n_redirects)
		return 0;
	*out = malloc(cfg->n_redirects * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, cfg->redirects, cfg->n_redirects * sizeof(**out));
	*n = redirect_ports_normalize(*out, cfg->n_redirects);
	return 0;
}

/* Install p (n > 0, merged; taken on success) in place of what is in force. */
static int install(struct nat *nat, struct redirect_ports *p, size_t n)
{
	bool set_localnet, set_lo6;
	char *cmds;
	int rc;

	if (!nat->nft && (rc = nft_open(nat)) != 0) {
		log_error("%s: cannot open nftables: %s", nat->iface->name, strerror(-rc));
		return rc;
	}
	rc = routing_up(nat, &set_localnet, &set_lo6);
	if (rc != 0)
		return rc;
	cmds = ruleset(nat, p, n);
	if (!cmds) {
		rc = -ENOMEM;
		goto undo;
	}
	rc = nft_run(nat, cmds, nat->has_table ? "replace" : "create");
	free(cmds);
	if (rc != 0)
		goto undo;
	nat->has_table = true;
	free(nat->ports);
	nat->ports = p;
	nat->n_ports = n;
	return 0;
undo:
	/* The transaction failed whole: the old rules (if any) are in force; so is their routing.
	 */
	routing_down(nat, set_localnet, set_lo6);
	return rc;
}

static void describe(const struct nat *nat, char *buf, size_t len)
{
	char ports[512];

	redirect_ports_format(ports, sizeof(ports), nat->ports, nat->n_ports);
	snprintf(buf, len, "%s: RedirectToLocalhost %s to 127.0.0.1%s (table inet %s)",
		 nat->iface->name, ports, nat->has_lo6_route ? " and ::1" : " only", nat->table);
}

int nat_create(struct iface *iface, struct nat **out)
{
	struct redirect_ports *p;
	struct nat *nat;
	char msg[768];
	size_t n;
	int rc;

	*out = NULL;
	nat = calloc(1, sizeof(*nat));
	if (!nat)
		return -ENOMEM;
	nat->iface = iface;
	nat_table_name(nat->table, iface->name);
	rc = wanted(iface->cfg, &p, &n);
	if (rc == 0 && n) {
		rc = install(nat, p, n);
		if (rc != 0)
			free(p);
	}
	if (rc != 0) {
		nat_destroy(nat);
		return rc;
	}
	if (nat->n_ports) {
		describe(nat, msg, sizeof(msg));
		log_info("%s", msg);
	}
	*out = nat;
	return 0;
}

int nat_update(struct nat *nat, const struct iface_config *cfg, json_t *changes)
{
	struct redirect_ports *p;
	char msg[768];
	size_t n;
	int rc;

	if (!nat)
		return 0;
	rc = wanted(cfg, &p, &n);
	if (rc != 0)
		return rc;
	if (redirect_ports_same(p, n, nat->ports, nat->n_ports)) {
		free(p);
		return 0;
	}
	if (n == 0) {
		remove_all(nat);
		note_change(changes, false, "%s: RedirectToLocalhost removed (table inet %s)",
			    nat->iface->name, nat->table);
		return 0;
	}
	rc = install(nat, p, n);
	if (rc != 0) {
		free(p);
		return rc;
	}
	describe(nat, msg, sizeof(msg));
	note_change(changes, false, "%s", msg);
	return 0;
}

void nat_destroy(struct nat *nat)
{
	if (!nat)
		return;
	remove_all(nat);
	/* Closing the socket drops an owned table anyway, should the delete have failed. */
	if (nat->nft)
		nft_ctx_free(nat->nft);
	free(nat);
}

void nat_show(const struct nat *nat, json_t *obj)
{
	json_t *arr = json_array();

	for (size_t i = 0; nat && i < nat->n_ports; i++)
		json_array_append_new(arr, json_pack("{s:s,s:i,s:i}", "protocol",
						     redirect_protocol_name(nat->ports[i].protocol),
						     "first_port", (int)nat->ports[i].first,
						     "last_port", (int)nat->ports[i].last));
	json_object_set_new(obj, "redirect_to_localhost", arr);
	json_object_set_new(obj, "redirect_ipv6",
			    json_boolean(nat && nat->n_ports && nat->has_lo6_route));
}
