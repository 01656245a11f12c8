// SPDX-License-Identifier: MIT
/*
 * The wg-quick steps around an interface, in wg-quick's order (PreUp, device,
 * peers, addresses, MTU and up, DNS, routes, PostUp; the reverse on the way
 * down), without running `ip`: netlink.c does the talking. Routes are kept in
 * step with the peers' allowed IPs when peers change at run time.
 */
#include "netconf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allowedips.h"
#include "iface_state.h"
#include "netlink.h"
#include "peer_state.h"
#include "route_set.h"

/* wg-quick's first policy table, used when no FwMark= is set. */
#define POLICY_TABLE_FIRST 51820
/* wg-quick subtracts this from the underlay MTU: IPv6 (40) + UDP (8) + WireGuard (32). */
#define MTU_OVERHEAD 80
/* A device without a file starts at the kernel driver's and wireguard-go's MTU: 1500 - 80. */
#define FILELESS_MTU 1420

struct netconf {
	struct route_set routes;  /* what we installed (not what already existed) */
	uint32_t policy_table;    /* table of default routes under Table=auto; 0 = none */
	bool has_rules[2];        /* [0] IPv4, [1] IPv6: the two policy rules are in */
	char *dns_iface;          /* the name given to resolvconf, or NULL */
};

/* ---- Hooks ---- */

static char *expand_percent_i(const char *cmd, const char *ifname)
{
	size_t n = 0, len = strlen(ifname);
	char *out, *o;

	for (const char *p = cmd; (p = strstr(p, "%i")); p += 2)
		n++;
	out = malloc(strlen(cmd) + n * len + 1);
	if (!out)
		return NULL;
	for (o = out; *cmd;) {
		if (cmd[0] == '%' && cmd[1] == 'i') {
			memcpy(o, ifname, len);
			o += len;
			cmd += 2;
		} else {
			*o++ = *cmd++;
		}
	}
	*o = '\0';
	return out;
}

/* Run argv with an optional stdin text; returns the exit status, or -errno. */
static int run_program(char *const argv[], const char *input)
{
	int in[2] = {-1, -1}, status;
	pid_t pid;
	sigset_t all;

	if (input && pipe2(in, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int rc = -errno;

		if (input) {
			close(in[0]);
			close(in[1]);
		}
		return rc;
	}
	if (pid == 0) {
		int fd = input ? in[0] : open("/dev/null", O_RDONLY);

		/* The event loop's signal setup must not leak into the hook. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (fd >= 0)
			dup2(fd, STDIN_FILENO);
		/* stdout goes where our log goes. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (input) {
		size_t len = strlen(input);

		close(in[0]);
		/* Small text into a fresh pipe: one write fits the pipe buffer. */
		if (write(in[1], input, len) != (ssize_t)len)
			log_warn("short write to %s", argv[0]);
		close(in[1]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int netconf_run_hooks(const char *ifname, const char *phase, char *const *cmds, size_t n)
{
	/* wg-quick runs hooks with bash; fall back to sh where bash is absent. */
	const char *shell = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";

	for (size_t i = 0; i < n; i++) {
		char *cmd = expand_percent_i(cmds[i], ifname);
		char *argv[] = {(char *)shell, (char *)"-c", cmd, NULL};
		int status;

		if (!cmd)
			return -ENOMEM;
		log_info("%s: %s: %s", ifname, phase, cmd);
		status = run_program(argv, NULL);
		free(cmd);
		if (status != 0) {
			log_error("%s: %s hook %zu failed (%s %d)", ifname, phase, i + 1,
				  status < 0 ? "error" : "exit status", status);
			return -ECHILD;
		}
	}
	return 0;
}

/* ---- MTU ---- */

/* wg-quick: the largest MTU towards any endpoint, else the default route's, else 1500; minus 80. */
static uint32_t auto_mtu(struct iface *iface)
{
	uint32_t mtu = 0, m;
	struct peer *peer;

	list_for_each(peer, &iface->peers, node) {
		if (peer->has_endpoint && netlink_route_mtu(iface->nl, &peer->endpoint.addr, &m) == 0 &&
		    m > mtu)
			mtu = m;
	}
	if (mtu == 0 && netlink_default_route_mtu(iface->nl, AF_INET, &m) == 0)
		mtu = m;
	if (mtu == 0)
		mtu = 1500;
	return mtu > MTU_OVERHEAD + 576 ? mtu - MTU_OVERHEAD : 576;
}

/* ---- DNS ---- */

/* The interface-name prefix resolvconf's interface-order gives tunnels, as wg-quick finds it. */
static void resolvconf_prefix(char *buf, size_t len)
{
	FILE *f = fopen("/etc/resolvconf/interface-order", "re");
	char line[128];

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");

		if (n > 0 && line[n] == '*' && (line[n + 1] == '\n' || line[n + 1] == '\0')) {
			snprintf(buf, len, "%.*s.", (int)n, line);
			break;
		}
	}
	fclose(f);
}

static void dns_up(struct iface *iface, struct netconf *nc)
{
	const struct iface_config *cfg = iface->cfg;
	char prefix[64], name[96];
	char text[4096];
	size_t off = 0;
	bool has_search = false;

	if (!cfg->n_dns)
		return;
	for (size_t i = 0; i < cfg->n_dns; i++) {
		struct ip_prefix p;

		if (prefix_parse(cfg->dns[i], &p, NULL, NULL) == 0)
			off += (size_t)snprintf(text + off, sizeof(text) - off, "nameserver %s\n",
						cfg->dns[i]);
		if (off >= sizeof(text))
			return;
	}
	for (size_t i = 0; i < cfg->n_dns; i++) {
		struct ip_prefix p;

		if (prefix_parse(cfg->dns[i], &p, NULL, NULL) == 0)
			continue;
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s %s",
					has_search ? "" : "search", cfg->dns[i]);
		has_search = true;
		if (off >= sizeof(text))
			return;
	}
	if (has_search && off + 2 < sizeof(text))
		off += (size_t)snprintf(text + off, sizeof(text) - off, "\n");

	resolvconf_prefix(prefix, sizeof(prefix));
	snprintf(name, sizeof(name), "%s%s", prefix, iface->name);
	{
		char *argv[] = {(char *)"resolvconf", (char *)"-a", name, (char *)"-m", (char *)"0",
				(char *)"-x", NULL};
		int status = run_program(argv, text);

		if (status == 127) {
			log_warn("%s: DNS= is set but resolvconf is not installed; DNS left unchanged",
				 iface->name);
			return;
		}
		if (status != 0) {
			log_warn("%s: resolvconf failed (status %d); DNS left unchanged", iface->name,
				 status);
			return;
		}
	}
	nc->dns_iface = strdup(name);
	log_info("%s: DNS set through resolvconf", iface->name);
}

static void dns_down(struct netconf *nc)
{
	char *argv[] = {(char *)"resolvconf", (char *)"-d", nc->dns_iface, (char *)"-f", NULL};

	if (!nc->dns_iface)
		return;
	(void)run_program(argv, NULL);
	free(nc->dns_iface);
	nc->dns_iface = NULL;
}

/* ---- Routes ---- */

static void policy_rules(struct netlink_rule rules[2], int family, uint32_t table)
{
	/* "not fwmark T table T" and "table main suppress_prefixlength 0", as wg-quick. */
	rules[0] = (struct netlink_rule){.family = family,
					 .table = table,
					 .has_fwmark = true,
					 .is_not_fwmark = true,
					 .fwmark = table,
					 .suppress_prefixlen = -1};
	rules[1] = (struct netlink_rule){
		.family = family, .table = RT_TABLE_MAIN, .suppress_prefixlen = 0};
}

static int choose_policy_table(struct iface *iface, struct netconf *nc)
{
	uint32_t table = iface->cfg->fwmark;
	bool has4, has6;
	int rc;

	if (nc->policy_table)
		return 0;
	if (!table) {
		for (table = POLICY_TABLE_FIRST;; table++) {
			if (netlink_table_has_routes(iface->nl, AF_INET, table, &has4) != 0 ||
			    netlink_table_has_routes(iface->nl, AF_INET6, table, &has6) != 0)
				return -EIO;
			if (!has4 && !has6)
				break;
		}
	}
	/* Our own packets carry the mark, so they skip the tunnel's table. */
	rc = udp_set_fwmark(&iface->udp, table);
	if (rc != 0)
		return rc;
	nc->policy_table = table;
	return 0;
}

static int ensure_policy_rules(struct iface *iface, struct netconf *nc, int family)
{
	struct netlink_rule rules[2];
	int slot = family == AF_INET6 ? 1 : 0;
	int rc;

	if (nc->has_rules[slot])
		return 0;
	policy_rules(rules, family, nc->policy_table);
	/*
	 * A daemon killed without cleanup leaves its rules behind, and the
	 * kernel's duplicate check does not catch rules added without a
	 * priority: remove copies first (bounded), then add both.
	 */
	for (int i = 0; i < 2; i++) {
		int stale = 0;

		while (stale < 16 && netlink_rule_del(iface->nl, &rules[i]) == 0)
			stale++;
		if (stale)
			log_info("%s: removed %d leftover policy routing rule%s", iface->name,
				 stale, stale == 1 ? "" : "s");
	}
	for (int i = 0; i < 2; i++) {
		rc = netlink_rule_add(iface->nl, &rules[i]);
		if (rc != 0 && rc != -EEXIST) {
			log_error("%s: cannot add policy routing rule: %s", iface->name,
				  strerror(-rc));
			return rc;
		}
	}
	nc->has_rules[slot] = true;
	if (family == AF_INET) {
		/* wg-quick: let the mark take part in reverse-path filtering. */
		int fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark", O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "1", 1) != 1)
			log_debug("%s: cannot set net.ipv4.conf.all.src_valid_mark", iface->name);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static void remove_policy_rules(struct iface *iface, struct netconf *nc, int family)
{
	struct netlink_rule rules[2];
	int slot = family == AF_INET6 ? 1 : 0;

	if (!nc->has_rules[slot])
		return;
	policy_rules(rules, family, nc->policy_table);
	for (int i = 0; i < 2; i++)
		(void)netlink_rule_del(iface->nl, &rules[i]);
	nc->has_rules[slot] = false;
}

static const struct ip_prefix default_route[2] = {{.family = AF_INET}, {.family = AF_INET6}};

/* Under Table=auto, wg-quick's rules go in for a family whose default route some peer owns. */
static bool wants_rules(struct iface *iface, int slot)
{
	return iface->cfg->table == TABLE_AUTO &&
	       allowedips_owner(iface->allowedips, &default_route[slot]) != NULL;
}

/* Before routes change: the rules of the families with a default route. */
static int add_rules(struct iface *iface, struct netconf *nc)
{
	for (int f = 0; f < 2; f++) {
		int rc;

		if (!wants_rules(iface, f))
			continue;
		rc = choose_policy_table(iface, nc);
		if (rc == 0)
			rc = ensure_policy_rules(iface, nc, f ? AF_INET6 : AF_INET);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* After routes changed: away with the rules of families without one. */
static void drop_rules(struct iface *iface, struct netconf *nc)
{
	for (int f = 0; f < 2; f++)
		if (!wants_rules(iface, f))
			remove_policy_rules(iface, nc, f ? AF_INET6 : AF_INET);
}

/*
 * Whether the route the kernel made for one of the interface's addresses
 * covers p, as wg-quick asks `ip route show dev IF match P` under
 * Table=auto: 10.0.0.1/8 covers every 10.x.y.z/32. An IPv4 /32 address
 * (or one in 0.0.0.0/8) gets no such route; an IPv6 one always does.
 */
static bool covered_by_address(const struct iface_config *cfg, const struct ip_prefix *p)
{
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		const struct ip_prefix *a = &cfg->addresses[i];

		if (a->family != p->family || a->cidr > p->cidr)
			continue;
		if (a->family == AF_INET && (a->cidr == 32 || a->addr.bytes[0] == 0))
			continue;
		if (prefix_contains(a, p->family, p->addr.bytes))
			return true;
	}
	return false;
}

/*
 * Make the route for prefix p what the table of allowed IPs asks now: one
 * while some peer owns exactly p (not one under Table=auto when an address
 * covers it), none otherwise. 0, or -errno when no policy table can be had.
 */
static int update_route(struct iface *iface, struct netconf *nc, const struct ip_prefix *p)
{
	const struct iface_config *cfg = iface->cfg;
	struct route r = {.prefix = *p};
	char buf[ADDR_STR_LEN];
	bool want;
	int rc;

	prefix_mask(&r.prefix);
	want = allowedips_owner(iface->allowedips, &r.prefix) != NULL;
	if (cfg->table == TABLE_ID) {
		r.table = cfg->table_id;
	} else if (r.prefix.cidr == 0) {
		if (want) {
			rc = choose_policy_table(iface, nc);
			if (rc != 0)
				return rc;
		}
		r.table = nc->policy_table;
	} else if (want && covered_by_address(cfg, &r.prefix)) {
		want = false;
	}
	if (want == route_set_has(&nc->routes, &r))
		return 0;
	if (!want) {
		(void)netlink_route_del(iface->nl, iface->ifindex, &r.prefix, r.table);
		route_set_remove(&nc->routes, &r);
		return 0;
	}
	/* Room first: a route we added but could not remember would outlive us. */
	rc = route_set_reserve(&nc->routes);
	if (rc == 0)
		rc = netlink_route_add(iface->nl, iface->ifindex, &r.prefix, r.table);
	if (rc == -EEXIST)
		return 0; /* e.g. the connected route of Address=; not ours to remove */
	if (rc != 0) {
		log_warn("%s: cannot add route %s: %s", iface->name,
			 prefix_format(buf, sizeof(buf), &r.prefix), strerror(-rc));
		return 0;
	}
	route_set_add(&nc->routes, &r);
	return 0;
}

int netconf_update_routes(struct iface *iface, const struct ip_prefix *prefixes, size_t n)
{
	struct netconf *nc = iface->netconf;
	int rc, ret;

	if (!nc || iface->cfg->table == TABLE_OFF || n == 0)
		return 0;
	ret = add_rules(iface, nc);
	for (size_t i = 0; i < n; i++) {
		rc = update_route(iface, nc, &prefixes[i]);
		ret = ret ? ret : rc;
	}
	drop_rules(iface, nc);
	return ret;
}

struct sync_walk {
	struct iface *iface;
	int rc;
};

static void sync_prefix(const struct ip_prefix *p, void *ctx)
{
	struct sync_walk *w = ctx;
	int rc = update_route(w->iface, w->iface->netconf, p);

	w->rc = w->rc ? w->rc : rc;
}

int netconf_sync_routes(struct iface *iface)
{
	struct netconf *nc = iface->netconf;
	struct sync_walk w = {.iface = iface};
	struct ip_prefix *installed;
	struct peer *peer;
	size_t n = 0;

	if (!nc || iface->cfg->table == TABLE_OFF)
		return 0;
	w.rc = add_rules(iface, nc);
	/* What we installed and no peer owns any more (a copy: update_route removes). */
	installed = malloc((nc->routes.n ? nc->routes.n : 1) * sizeof(*installed));
	for (size_t i = 0; installed && i < nc->routes.cap; i++)
		if (nc->routes.slots[i].prefix.family)
			installed[n++] = nc->routes.slots[i].prefix;
	for (size_t i = 0; i < n; i++)
		sync_prefix(&installed[i], &w);
	free(installed);
	list_for_each(peer, &iface->peers, node)
		allowedips_for_peer(iface->allowedips, peer, sync_prefix, &w);
	drop_rules(iface, nc);
	return w.rc;
}

/*
 * At start-up every peer is the file's: its prefixes are iface->cfg's, and
 * going through them is one step each (no walk of the table per peer).
 */
static int install_routes(struct iface *iface, struct netconf *nc)
{
	const struct iface_config *cfg = iface->cfg;
	int rc, ret;

	if (cfg->table == TABLE_OFF)
		return 0;
	ret = add_rules(iface, nc);
	if (ret != 0)
		return ret;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		for (size_t j = 0; j < cfg->peers[i].n_allowed_ips; j++) {
			rc = update_route(iface, nc, &cfg->peers[i].allowed_ips[j]);
			ret = ret ? ret : rc;
		}
	}
	drop_rules(iface, nc);
	return ret;
}

/* ---- Up and down ---- */

static int add_addresses(struct iface *iface)
{
	const struct iface_config *cfg = iface->cfg;

	for (size_t i = 0; i < cfg->n_addresses; i++) {
		char buf[ADDR_STR_LEN];
		int rc = netlink_addr_add(iface->nl, iface->ifindex, &cfg->addresses[i]);

		if (rc != 0 && rc != -EEXIST) {
			log_error("%s: cannot add address %s: %s", iface->name,
				  prefix_format(buf, sizeof(buf), &cfg->addresses[i]), strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int netconf_create(struct iface *iface, struct netconf **out)
{
	struct netconf *nc;
	int rc;

	*out = NULL;
	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	rc = add_addresses(iface);
	if (rc != 0)
		goto fail;
	/* No file: the link stays down at the MTU the kernel's driver gives; wg-quick sets both. */
	if (!iface->cfg->path)
		iface->mtu = FILELESS_MTU;
	else
		iface->mtu = iface->cfg->mtu ? iface->cfg->mtu : auto_mtu(iface);
	rc = netlink_link_set_mtu(iface->nl, iface->ifindex, iface->mtu);
	if (rc != 0) {
		log_error("%s: cannot set MTU %u: %s", iface->name, iface->mtu, strerror(-rc));
		goto fail;
	}
	rc = iface->cfg->path ? netlink_link_set_up(iface->nl, iface->ifindex, true) : 0;
	if (rc != 0) {
		log_error("%s: cannot set the link up: %s", iface->name, strerror(-rc));
		goto fail;
	}
	dns_up(iface, nc);
	*out = nc;
	iface->netconf = nc;
	rc = install_routes(iface, nc);
	if (rc != 0)
		log_error("%s: cannot set up routes: %s", iface->name, strerror(-rc));
	else if (iface->hooks)
		rc = iface->hooks->routes_up(iface); /* logs its own errors */
	if (rc != 0) {
		iface->netconf = NULL;
		*out = NULL;
		netconf_destroy(iface, nc);
		return rc;
	}
	return 0;
fail:
	netconf_destroy(iface, nc);
	return rc;
}

void netconf_destroy(struct iface *iface, struct netconf *nc)
{
	if (!nc)
		return;
	if (iface->hooks)
		iface->hooks->routes_down(iface);
	remove_policy_rules(iface, nc, AF_INET);
	remove_policy_rules(iface, nc, AF_INET6);
	/* Routes through the device vanish with it; those in other tables too. */
	for (size_t i = 0; i < nc->routes.cap; i++) {
		const struct route *r = &nc->routes.slots[i];

		if (r->prefix.family)
			(void)netlink_route_del(iface->nl, iface->ifindex, &r->prefix, r->table);
	}
	route_set_clear(&nc->routes);
	dns_down(nc);
	free(nc);
}
