// SPDX-License-Identifier: MIT
/*
 * rtnetlink through libmnl: one socket, one request at a time, each answered
 * by an ack (or a dump) that is read to the end before the next request, so
 * replies can never be confused. The kernel's error code comes back as
 * -errno. Used at interface up/down and reload, never per packet.
 */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Big enough for a dump batch of a full routing table. */
#define NETLINK_BUFFER 32768

struct netlink {
	struct mnl_socket *sock;
	unsigned int portid;
	uint32_t seq;
	char buf[NETLINK_BUFFER];
};

int netlink_open(struct netlink **out)
{
	struct netlink *nl;
	int rc;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		if (nl->sock)
			mnl_socket_close(nl->sock);
		free(nl);
		return rc;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;
}

void netlink_close(struct netlink *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

static bool is_dump(const struct nlmsghdr *nlh)
{
	bool is_get = nlh->nlmsg_type == RTM_GETLINK || nlh->nlmsg_type == RTM_GETADDR ||
		      nlh->nlmsg_type == RTM_GETROUTE || nlh->nlmsg_type == RTM_GETRULE;

	return is_get && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
}

/* Send nlh and read replies until the ack or the end of the dump. */
static int talk(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = ++nl->seq;
	ssize_t n;
	int rc;

	nlh->nlmsg_seq = seq;
	/*
	 * A dump ends with NLMSG_DONE; everything else asks for an ack. The
	 * flag bits overlap (NLM_F_EXCL is NLM_F_MATCH), so only GET requests
	 * can be dumps.
	 */
	if (!is_dump(nlh))
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		rc = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (rc == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *start(struct netlink *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ---- Links ---- */

static struct ifinfomsg *link_msg(struct netlink *nl, uint16_t type, int ifindex,
				  struct nlmsghdr **nlh)
{
	struct ifinfomsg *ifi;

	*nlh = start(nl, type, 0);
	ifi = mnl_nlmsg_put_extra_header(*nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

int netlink_link_set_mtu(struct netlink *nl, int ifindex, uint32_t mtu)
{
	struct nlmsghdr *nlh;

	link_msg(nl, RTM_NEWLINK, ifindex, &nlh);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return talk(nl, nlh, NULL, NULL);
}

int netlink_link_set_up(struct netlink *nl, int ifindex, bool up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi = link_msg(nl, RTM_NEWLINK, ifindex, &nlh);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return talk(nl, nlh, NULL, NULL);
}

int netlink_link_set_route_localnet(struct netlink *nl, int ifindex, bool on)
{
	struct nlmsghdr *nlh;
	struct nlattr *spec, *inet, *conf;

	/* IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { ROUTE_LOCALNET: u32 } } } */
	link_msg(nl, RTM_NEWLINK, ifindex, &nlh);
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet = mnl_attr_nest_start(nlh, AF_INET);
	conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_ROUTE_LOCALNET, on ? 1 : 0);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, inet);
	mnl_attr_nest_end(nlh, spec);
	return talk(nl, nlh, NULL, NULL);
}

static int link_mtu_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		*(uint32_t *)data = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int link_mtu_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_mtu_attr, data);
	return MNL_CB_OK;
}

int netlink_link_get_mtu(struct netlink *nl, int ifindex, uint32_t *mtu)
{
	struct nlmsghdr *nlh;
	int rc;

	*mtu = 0;
	link_msg(nl, RTM_GETLINK, ifindex, &nlh);
	rc = talk(nl, nlh, link_mtu_cb, mtu);
	if (rc == 0 && *mtu == 0)
		rc = -ENODATA;
	return rc;
}

/* ---- Addresses ---- */

static int addr_change(struct netlink *nl, uint16_t type, uint16_t flags, int ifindex,
		       const struct ip_prefix *a)
{
	struct nlmsghdr *nlh = start(nl, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->cidr;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(a->family), &a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(a->family), &a->addr);
	return talk(nl, nlh, NULL, NULL);
}

int netlink_addr_add(struct netlink *nl, int ifindex, const struct ip_prefix *addr)
{
	return addr_change(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, addr);
}

int netlink_addr_del(struct netlink *nl, int ifindex, const struct ip_prefix *addr)
{
	return addr_change(nl, RTM_DELADDR, 0, ifindex, addr);
}

/* ---- Routes ---- */

static uint32_t table_or_main(uint32_t table)
{
	return table ? table : RT_TABLE_MAIN;
}

/* rtm_type is RTN_UNICAST, or RTN_LOCAL for a route that delivers to this host. */
static int route_change(struct netlink *nl, uint16_t type, uint16_t flags, int ifindex,
			const struct ip_prefix *dst, uint32_t table, uint8_t rtm_type)
{
	struct nlmsghdr *nlh = start(nl, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	bool is_add = type == RTM_NEWROUTE;

	table = table_or_main(table);
	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = dst->cidr;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_type = rtm_type;
	/* As `ip route add PREFIX dev IF`: boot protocol, link scope; delete matches any. */
	rtm->rtm_protocol = is_add ? RTPROT_BOOT : RTPROT_UNSPEC;
	rtm->rtm_scope = is_add ? (dst->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE)
				: RT_SCOPE_NOWHERE;
	if (is_add && rtm_type == RTN_LOCAL)
		rtm->rtm_scope = RT_SCOPE_HOST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (dst->cidr)
		mnl_attr_put(nlh, RTA_DST, addr_len(dst->family), &dst->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return talk(nl, nlh, NULL, NULL);
}

int netlink_route_add(struct netlink *nl, int ifindex, const struct ip_prefix *dst, uint32_t table)
{
	return route_change(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex, dst, table,
			    RTN_UNICAST);
}

int netlink_route_del(struct netlink *nl, int ifindex, const struct ip_prefix *dst, uint32_t table)
{
	return route_change(nl, RTM_DELROUTE, 0, ifindex, dst, table, RTN_UNICAST);
}

int netlink_local_route_add(struct netlink *nl, int ifindex, const struct ip_prefix *dst)
{
	return route_change(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex, dst,
			    RT_TABLE_LOCAL, RTN_LOCAL);
}

int netlink_local_route_del(struct netlink *nl, int ifindex, const struct ip_prefix *dst)
{
	return route_change(nl, RTM_DELROUTE, 0, ifindex, dst, RT_TABLE_LOCAL, RTN_LOCAL);
}

/* What a route message says, for the dump and get callbacks. */
struct route_info {
	uint32_t table;
	uint8_t dst_len;
	uint32_t oif;
	uint32_t mtu; /* RTAX_MTU metric, 0 when none */
	uint32_t priority;
};

static int metrics_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == RTAX_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		((struct route_info *)data)->mtu = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int route_attr(const struct nlattr *attr, void *data)
{
	struct route_info *ri = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			ri->table = mnl_attr_get_u32(attr);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			ri->oif = mnl_attr_get_u32(attr);
		break;
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			ri->priority = mnl_attr_get_u32(attr);
		break;
	case RTA_METRICS:
		mnl_attr_parse_nested(attr, metrics_attr, ri);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static void route_parse(const struct nlmsghdr *nlh, struct route_info *ri)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	memset(ri, 0, sizeof(*ri));
	ri->table = rtm->rtm_table;
	ri->dst_len = rtm->rtm_dst_len;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, ri);
}

struct table_query {
	uint32_t table;
	bool found;
};

static int table_has_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_query *q = data;
	struct route_info ri;

	route_parse(nlh, &ri);
	if (ri.table == q->table)
		q->found = true;
	return MNL_CB_OK;
}

static void route_dump_msg(struct netlink *nl, int family, struct nlmsghdr **nlh)
{
	struct rtmsg *rtm;

	*nlh = start(nl, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(*nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
}

int netlink_table_has_routes(struct netlink *nl, int family, uint32_t table, bool *has)
{
	struct table_query q = {.table = table};
	struct nlmsghdr *nlh;
	int rc;

	route_dump_msg(nl, family, &nlh);
	rc = talk(nl, nlh, table_has_cb, &q);
	*has = q.found;
	return rc;
}

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		route_parse(nlh, data);
	return MNL_CB_OK;
}

static int mtu_of(struct netlink *nl, const struct route_info *ri, uint32_t *mtu)
{
	if (ri->mtu) {
		*mtu = ri->mtu;
		return 0;
	}
	if (!ri->oif)
		return -ENETUNREACH;
	return netlink_link_get_mtu(nl, (int)ri->oif, mtu);
}

int netlink_route_mtu(struct netlink *nl, const union sockaddr_inet *dst, uint32_t *mtu)
{
	struct route_info ri = {0};
	struct nlmsghdr *nlh = start(nl, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int rc;

	rtm->rtm_family = (uint8_t)dst->sa.sa_family;
	if (dst->sa.sa_family == AF_INET) {
		rtm->rtm_dst_len = 32;
		mnl_attr_put(nlh, RTA_DST, 4, &dst->in.sin_addr);
	} else {
		rtm->rtm_dst_len = 128;
		mnl_attr_put(nlh, RTA_DST, 16, &dst->in6.sin6_addr);
	}
	rc = talk(nl, nlh, route_get_cb, &ri);
	if (rc != 0)
		return rc;
	return mtu_of(nl, &ri, mtu);
}

struct default_query {
	struct route_info best;
	bool found;
};

static int default_cb(const struct nlmsghdr *nlh, void *data)
{
	struct default_query *q = data;
	struct route_info ri;

	route_parse(nlh, &ri);
	if (ri.table != RT_TABLE_MAIN || ri.dst_len != 0 || !ri.oif)
		return MNL_CB_OK;
	/* The one `ip route show default` lists first: lowest metric. */
	if (!q->found || ri.priority < q->best.priority) {
		q->best = ri;
		q->found = true;
	}
	return MNL_CB_OK;
}

int netlink_default_route_mtu(struct netlink *nl, int family, uint32_t *mtu)
{
	struct default_query q = {0};
	struct nlmsghdr *nlh;
	int rc;

	route_dump_msg(nl, family, &nlh);
	rc = talk(nl, nlh, default_cb, &q);
	if (rc != 0)
		return rc;
	if (!q.found)
		return -ENETUNREACH;
	return mtu_of(nl, &q.best, mtu);
}

/* ---- Rules ---- */

static int rule_change(struct netlink *nl, uint16_t type, uint16_t flags,
		       const struct netlink_rule *r)
{
	struct nlmsghdr *nlh = start(nl, type, flags);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	uint32_t table = table_or_main(r->table);

	frh->family = (uint8_t)r->family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (r->is_not_fwmark)
		frh->flags |= FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	if (r->has_fwmark)
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
	if (r->suppress_prefixlen >= 0)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress_prefixlen);
	if (r->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	return talk(nl, nlh, NULL, NULL);
}

int netlink_rule_add(struct netlink *nl, const struct netlink_rule *rule)
{
	return rule_change(nl, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, rule);
}

int netlink_rule_del(struct netlink *nl, const struct netlink_rule *rule)
{
	return rule_change(nl, RTM_DELRULE, 0, rule);
}
