// SPDX-License-Identifier: MIT
/*
 * UDP sockets of an interface and the batch buffers of the data path. The
 * receive buffers are big enough for any datagram and for UDP_GRO's
 * super-packets; pages never written stay unbacked, so the resident cost is
 * what traffic actually touches. The send queue groups runs of equal-size
 * datagrams to one endpoint into UDP_SEGMENT sends, falling back to one
 * datagram per send where the kernel or route refuses it.
 */
#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Big socket buffers absorb bursts between two turns of the loop. */
#define SOCKET_BUFFER_BYTES (4 << 20)

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Segments are cache-line aligned in the arena, with the packet headroom and tailroom. */
#define SEG_ALIGN 64

int scratch_create(struct scratch **out)
{
	struct scratch *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->use_offloads = true;
	for (int i = 0; i < BATCH_SIZE; i++) {
		s->tun_bufs[i] = malloc(PKT_BUF_SIZE);
		s->in.bufs[i] = malloc(PKT_BUF_SIZE);
		if (!s->tun_bufs[i] || !s->in.bufs[i])
			goto fail;
	}
	/* Pages of these big buffers stay unbacked until traffic touches them. */
	s->segs.arena = aligned_alloc(SEG_ALIGN, SEG_ARENA_BYTES);
	s->gro.buf = malloc(OFFLOAD_VNET_HDR_LEN + PKT_MAX_PAYLOAD);
	if (!s->segs.arena || !s->gro.buf)
		goto fail;
	s->segs.cap = SEG_ARENA_BYTES;
	s->segs.headroom = PKT_HEADROOM;
	s->segs.tailroom = PKT_TAILROOM;
	s->segs.max = UDP_OUT_MAX;
	s->segs.pkt = s->seg_pkt;
	s->segs.len = s->seg_len;
	s->gro.cap = OFFLOAD_VNET_HDR_LEN + PKT_MAX_PAYLOAD;
	offload_gro_reset(&s->gro);
	*out = s;
	return 0;
fail:
	scratch_destroy(s);
	return -ENOMEM;
}

void scratch_destroy(struct scratch *s)
{
	if (!s)
		return;
	for (int i = 0; i < BATCH_SIZE; i++) {
		free(s->tun_bufs[i]);
		free(s->in.bufs[i]);
	}
	for (unsigned int i = 0; i < s->out.n; i++)
		free(s->out.owned[i]);
	free(s->segs.arena);
	free(s->gro.buf);
	free(s->rx);
	workers_destroy(s->workers);
	free(s);
}

static int family_slot(sa_family_t family)
{
	return family == AF_INET6 ? 1 : 0;
}

static void set_buffers(int fd)
{
	int v = SOCKET_BUFFER_BYTES;

	/* The FORCE variants pass rmem_max as root; fall back for the rest. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

/*
 * UDP_SEGMENT is a per-send cmsg; asking for the socket option's value only
 * tells whether this kernel has it. UDP_GRO must be switched on.
 */
static void set_offloads(struct udp *u, int f)
{
	int one = 1, v = 0;
	socklen_t len = sizeof(v);

	u->gso[f] = getsockopt(u->fd[f], IPPROTO_UDP, UDP_SEGMENT, &v, &len) == 0;
	u->gro[f] = setsockopt(u->fd[f], IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

static int open_one(int family, uint16_t port, uint32_t fwmark, int *fd_out, uint16_t *bound)
{
	union sockaddr_inet sa;
	socklen_t len;
	int fd, one = 1, rc;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) != 0)
			goto fail;
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons(port);
		len = sizeof(sa.in6);
	} else {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0)
			goto fail;
		sa.in.sin_family = AF_INET;
		sa.in.sin_port = htons(port);
		len = sizeof(sa.in);
	}
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) != 0)
		goto fail;
	set_buffers(fd);
	if (bind(fd, &sa.sa, len) != 0)
		goto fail;
	len = sizeof(sa);
	if (getsockname(fd, &sa.sa, &len) != 0)
		goto fail;
	*bound = ntohs(family == AF_INET6 ? sa.in6.sin6_port : sa.in.sin_port);
	*fd_out = fd;
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int udp_open(struct udp *u, uint16_t port, uint32_t fwmark, bool offloads)
{
	uint16_t bound = 0, bound6 = 0;
	int rc = -EADDRINUSE;

	u->fd[0] = u->fd[1] = -1;
	u->gso[0] = u->gso[1] = u->gro[0] = u->gro[1] = false;
	u->fwmark = fwmark;
	/* With a random port, the IPv6 bind may find the IPv4 one taken: retry. */
	for (int attempt = 0; attempt < (port ? 1 : 10); attempt++) {
		rc = open_one(AF_INET, port, fwmark, &u->fd[0], &bound);
		if (rc != 0)
			return rc;
		rc = open_one(AF_INET6, bound, fwmark, &u->fd[1], &bound6);
		if (rc == 0 || rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL) {
			if (rc != 0)
				log_warn("IPv6 unavailable (%s); listening on IPv4 only",
					 strerror(-rc));
			u->port = bound;
			for (int f = 0; f < 2 && offloads; f++)
				if (u->fd[f] >= 0)
					set_offloads(u, f);
			return 0;
		}
		close(u->fd[0]);
		u->fd[0] = -1;
		if (rc != -EADDRINUSE)
			break;
	}
	return rc;
}

void udp_close(struct udp *u)
{
	for (int f = 0; f < 2; f++) {
		if (u->fd[f] >= 0)
			close(u->fd[f]);
		u->fd[f] = -1;
	}
}

int udp_set_fwmark(struct udp *u, uint32_t fwmark)
{
	for (int f = 0; f < 2; f++)
		if (u->fd[f] >= 0 &&
		    setsockopt(u->fd[f], SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) != 0)
			return -errno;
	u->fwmark = fwmark;
	return 0;
}

/* Add a cmsg of len bytes at the end of mh's control buffer (sized UDP_CMSG_SPACE). */
static void *add_cmsg(struct msghdr *mh, int level, int type, size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)((char *)mh->msg_control + mh->msg_controllen);

	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	mh->msg_controllen += CMSG_SPACE(len);
	return CMSG_DATA(c);
}

/*
 * Fill msg's name and, when the endpoint has a sticky source, its pktinfo;
 * gso_size > 0 adds UDP_SEGMENT.
 */
static void fill_msghdr(struct msghdr *mh, union sockaddr_inet *addr, union udp_cmsg *cmsg,
			const struct endpoint *ep, uint16_t gso_size)
{
	*addr = ep->addr;
	mh->msg_name = addr;
	mh->msg_namelen = sockaddr_len(addr);
	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	mh->msg_flags = 0;
	if (!ep->has_src && !gso_size)
		return;
	memset(cmsg, 0, sizeof(*cmsg));
	mh->msg_control = cmsg->buf;
	if (ep->has_src && ep->addr.sa.sa_family == AF_INET) {
		struct in_pktinfo pi = {.ipi_spec_dst = ep->src4, .ipi_ifindex = 0};

		memcpy(add_cmsg(mh, IPPROTO_IP, IP_PKTINFO, sizeof(pi)), &pi, sizeof(pi));
	} else if (ep->has_src) {
		struct in6_pktinfo pi = {.ipi6_addr = ep->src6, .ipi6_ifindex = 0};

		/* A link-local source only makes sense on its own interface. */
		if (IN6_IS_ADDR_LINKLOCAL(&ep->src6))
			pi.ipi6_ifindex = (unsigned int)ep->src_ifindex;
		memcpy(add_cmsg(mh, IPPROTO_IPV6, IPV6_PKTINFO, sizeof(pi)), &pi, sizeof(pi));
	}
	if (gso_size)
		memcpy(add_cmsg(mh, IPPROTO_UDP, UDP_SEGMENT, sizeof(gso_size)), &gso_size,
		       sizeof(gso_size));
}

void udp_queue(struct udp *u, struct scratch *s, struct endpoint *ep, uint8_t *data, size_t len,
	       void *owned)
{
	struct udp_out *out = &s->out;
	unsigned int i;

	if (u->fd[family_slot(ep->addr.sa.sa_family)] < 0) {
		free(owned);
		return;
	}
	if (out->n == UDP_OUT_MAX)
		udp_flush(s);
	i = out->n++;
	out->iov[i].iov_base = data;
	out->iov[i].iov_len = len;
	out->u[i] = u;
	out->owner[i] = ep;
	out->ep[i] = *ep;
	out->owned[i] = owned;
}

void udp_queue_unsealed(struct udp *u, struct scratch *s, struct endpoint *ep, uint8_t *data,
			size_t len, const struct crypt_task *task)
{
	struct udp_out *out = &s->out;

	if (u->fd[family_slot(ep->addr.sa.sa_family)] < 0)
		return;
	if (out->n == UDP_OUT_MAX)
		udp_flush(s);
	out->seal[out->n_seal] = *task;
	out->seal_at[out->n_seal++] = out->n;
	udp_queue(u, s, ep, data, len, NULL);
}

/* Seal what waits to be sealed; an entry that fails is taken out of the queue. */
static unsigned int seal_pending(struct scratch *s)
{
	struct udp_out *out = &s->out;
	unsigned int failed = 0, j = 0;

	if (!out->n_seal)
		return 0;
	workers_run(s->workers, out->seal, out->n_seal);
	for (unsigned int k = 0; k < out->n_seal; k++)
		if (!out->seal[k].ok) {
			out->iov[out->seal_at[k]].iov_len = 0;
			failed++;
		}
	out->n_seal = 0;
	if (!failed)
		return 0;
	for (unsigned int i = 0; i < out->n; i++) {
		if (!out->iov[i].iov_len) {
			free(out->owned[i]);
			continue;
		}
		out->iov[j] = out->iov[i];
		out->u[j] = out->u[i];
		out->owner[j] = out->owner[i];
		out->ep[j] = out->ep[i];
		out->owned[j++] = out->owned[i];
	}
	out->n = j;
	return failed;
}

void udp_endpoint_clear_src(struct endpoint *ep)
{
	ep->has_src = 0;
}

bool udp_endpoint_same_src(const struct endpoint *a, const struct endpoint *b)
{
	if (a->has_src != b->has_src)
		return false;
	if (!a->has_src)
		return true;
	return a->addr.sa.sa_family == AF_INET ? a->src4.s_addr == b->src4.s_addr
					       : memcmp(&a->src6, &b->src6, sizeof(a->src6)) == 0;
}

static bool same_route(const struct udp_out *out, unsigned int a, unsigned int b)
{
	const struct endpoint *x = &out->ep[a], *y = &out->ep[b];

	return out->u[a] == out->u[b] && out->owner[a] == out->owner[b] &&
	       sockaddr_equal(&x->addr, &y->addr) && udp_endpoint_same_src(x, y);
}

/*
 * How many entries from i on form one GSO send: same socket, peer and
 * endpoint, all the size of the first but the last (which may be shorter),
 * at most UDP_GSO_MAX_SEGS and 64 KiB.
 */
static unsigned int run_length(const struct udp_out *out, unsigned int i, bool gso)
{
	size_t seg = out->iov[i].iov_len, total = seg;
	unsigned int j = i + 1;

	if (!gso)
		return 1;
	while (j < out->n && j - i < UDP_GSO_MAX_SEGS && same_route(out, i, j) &&
	       out->iov[j].iov_len <= seg && total + out->iov[j].iov_len <= 65000) {
		total += out->iov[j].iov_len;
		if (out->iov[j++].iov_len < seg)
			break;
	}
	return j - i;
}

/* Build messages for entries [from, n): one per run. Returns the number of messages. */
static unsigned int build_messages(struct udp_out *out, unsigned int from, bool allow_gso)
{
	unsigned int k = 0;

	for (unsigned int i = from; i < out->n;) {
		int f = family_slot(out->ep[i].addr.sa.sa_family);
		unsigned int len = run_length(out, i, allow_gso && out->u[i]->gso[f]);
		struct msghdr *mh = &out->msgs[k].msg_hdr;

		mh->msg_iov = &out->iov[i];
		mh->msg_iovlen = len;
		fill_msghdr(mh, &out->addr[k], &out->cmsg[k], &out->ep[i],
			    len > 1 ? (uint16_t)out->iov[i].iov_len : 0);
		out->first[k++] = i;
		i += len;
	}
	return k;
}

static int msg_fd(const struct udp_out *out, unsigned int k)
{
	unsigned int i = out->first[k];

	return out->u[i]->fd[family_slot(out->ep[i].addr.sa.sa_family)];
}

/*
 * The kernel refuses a sticky source address this host no longer has:
 * IPv4's route lookup with ENETUNREACH (older kernels: EINVAL),
 * IPv6's pktinfo check with EINVAL, a link-local one whose interface is
 * gone with ENODEV. Like WireGuard, the source is then forgotten and the
 * datagram sent again, the kernel choosing.
 */
static bool src_refused(const struct endpoint *ep, int err)
{
	return ep->has_src && (err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH ||
			       err == ENODEV);
}

/* A GSO send the route or kernel cannot take (EINVAL: a segment too big for it). */
static bool gso_refused(const struct msghdr *mh, int err)
{
	return mh->msg_iovlen > 1 && (err == EIO || err == EOPNOTSUPP || err == EINVAL);
}

static uint16_t msg_gso_size(const struct udp_out *out, unsigned int k)
{
	const struct msghdr *mh = &out->msgs[k].msg_hdr;

	return mh->msg_iovlen > 1 ? (uint16_t)mh->msg_iov[0].iov_len : 0;
}

/*
 * Entry i was refused for its source address: its peer's endpoint forgets
 * it (unless the peer has moved on to another source since), and so do the
 * entries queued after it for that endpoint with the same source, and the
 * messages [k, m) built from them.
 */
static void forget_src(struct udp_out *out, unsigned int i, unsigned int k, unsigned int m)
{
	struct endpoint *owner = out->owner[i], stale = out->ep[i];

	if (owner && sockaddr_equal(&owner->addr, &stale.addr) && udp_endpoint_same_src(owner, &stale))
		udp_endpoint_clear_src(owner);
	for (unsigned int j = i; j < out->n; j++)
		if (out->owner[j] == owner && (owner || j == i) &&
		    sockaddr_equal(&out->ep[j].addr, &stale.addr) &&
		    udp_endpoint_same_src(&out->ep[j], &stale))
			udp_endpoint_clear_src(&out->ep[j]);
	for (; k < m; k++) {
		unsigned int f = out->first[k];

		if (out->msgs[k].msg_hdr.msg_controllen && !out->ep[f].has_src)
			fill_msghdr(&out->msgs[k].msg_hdr, &out->addr[k], &out->cmsg[k], &out->ep[f],
				    msg_gso_size(out, k));
	}
}

/*
 * Send entry i alone (message k of m holds it), without GSO; a stale
 * source is forgotten and the send tried again. Returns 0 when it went as
 * queued, 1 when it went without its source, -errno when refused.
 */
static int send_one(struct udp_out *out, int fd, unsigned int i, unsigned int k, unsigned int m)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct msghdr mh = {.msg_iov = &out->iov[i], .msg_iovlen = 1};
		union sockaddr_inet addr;
		union udp_cmsg cmsg;

		fill_msghdr(&mh, &addr, &cmsg, &out->ep[i], 0);
		if (sendmsg(fd, &mh, 0) >= 0)
			return attempt;
		if (!src_refused(&out->ep[i], errno))
			break;
		forget_src(out, i, k, m);
	}
	return -errno;
}

/*
 * A GSO send refused: its datagrams one by one. GSO is turned off for the
 * socket only if the first then goes out as it was (a stale source, not
 * GSO, may have been the trouble). Returns the datagrams refused.
 */
static unsigned int resend_singly(struct udp_out *out, int fd, unsigned int k, unsigned int m,
				  int err)
{
	unsigned int first = out->first[k], count = (unsigned int)out->msgs[k].msg_hdr.msg_iovlen;
	int f = family_slot(out->ep[first].addr.sa.sa_family), r;
	unsigned int dropped = 0;
	struct udp *u = out->u[first];

	for (unsigned int j = 0; j < count; j++) {
		r = send_one(out, fd, first + j, k, m);
		if (r < 0)
			dropped++;
		if (j == 0 && r == 0 && u->gso[f]) {
			log_warn("UDP port %u: segmentation offload refused (%s); sending datagrams one by one",
				 u->port, strerror(err));
			u->gso[f] = false;
		}
	}
	return dropped;
}

/* Send messages [0, m); returns the datagrams refused. */
static unsigned int send_messages(struct udp_out *out, unsigned int m)
{
	unsigned int k = 0, dropped = 0;

	while (k < m) {
		unsigned int end = k + 1;
		int fd = msg_fd(out, k), r, err;
		struct msghdr *mh;

		while (end < m && msg_fd(out, end) == fd)
			end++;
		r = sendmmsg(fd, &out->msgs[k], end - k, 0);
		if (r > 0) {
			k += (unsigned int)r;
			continue;
		}
		err = r < 0 ? errno : EIO;
		if (err == EINTR)
			continue;
		mh = &out->msgs[k].msg_hdr;
		if (gso_refused(mh, err)) {
			dropped += resend_singly(out, fd, k, m, err);
		} else if (src_refused(&out->ep[out->first[k]], err)) {
			/* Message k again, now without the source. */
			forget_src(out, out->first[k], k, m);
			continue;
		} else {
			dropped += (unsigned int)mh->msg_iovlen;
		}
		k++;
	}
	return dropped;
}

unsigned int udp_flush(struct scratch *s)
{
	struct udp_out *out = &s->out;
	unsigned int dropped;

	dropped = seal_pending(s);
	if (!out->n)
		return dropped;
	dropped += send_messages(out, build_messages(out, 0, true));
	for (unsigned int i = 0; i < out->n; i++) {
		free(out->owned[i]);
		out->owned[i] = NULL;
	}
	out->n = 0;
	return dropped;
}

int udp_send(struct udp *u, struct endpoint *ep, const void *data, size_t len)
{
	int f = family_slot(ep->addr.sa.sa_family);
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	union sockaddr_inet addr;
	union udp_cmsg cmsg;

	if (u->fd[f] < 0)
		return -EAFNOSUPPORT;
	fill_msghdr(&mh, &addr, &cmsg, ep, 0);
	if (sendmsg(u->fd[f], &mh, 0) >= 0)
		return 0;
	if (src_refused(ep, errno)) {
		/* A stale source address: retry without it. */
		udp_endpoint_clear_src(ep);
		fill_msghdr(&mh, &addr, &cmsg, ep, 0);
		if (sendmsg(u->fd[f], &mh, 0) >= 0)
			return 0;
	}
	return -errno;
}

/* The local address the datagram came to, and the UDP_GRO segment size (0: none). */
static unsigned int read_cmsgs(struct msghdr *mh, struct endpoint *ep)
{
	unsigned int gso = 0;

	ep->has_src = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			gso = v > 0 ? (unsigned int)v : 0;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ep->src4 = pi.ipi_addr;
			ep->src_ifindex = pi.ipi_ifindex;
			ep->has_src = 1;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ep->src6 = pi.ipi6_addr;
			ep->src_ifindex = (int)pi.ipi6_ifindex;
			ep->has_src = 1;
		}
	}
	return gso;
}

int udp_recv_batch(struct udp *u, int fam, struct scratch *s, struct endpoint *from)
{
	struct udp_in *in = &s->in;
	int n;

	for (int i = 0; i < BATCH_SIZE; i++) {
		struct msghdr *mh = &in->msgs[i].msg_hdr;

		in->iov[i].iov_base = in->bufs[i] + PKT_HEADROOM;
		in->iov[i].iov_len = PKT_MAX_PAYLOAD;
		mh->msg_name = &in->addr[i];
		mh->msg_namelen = sizeof(in->addr[i]);
		mh->msg_iov = &in->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = in->cmsg[i].buf;
		mh->msg_controllen = sizeof(in->cmsg[i].buf);
		mh->msg_flags = 0;
	}
	do {
		n = recvmmsg(u->fd[fam], in->msgs, BATCH_SIZE, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		memset(&from[i], 0, sizeof(from[i]));
		from[i].addr = in->addr[i];
		in->gso[i] = read_cmsgs(&in->msgs[i].msg_hdr, &from[i]);
	}
	return n;
}
