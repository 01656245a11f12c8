// SPDX-License-Identifier: MIT
/*
 * UDP sockets of an interface and the batch buffers of the data path. The
 * receive buffers are big enough for any datagram (and, later, for GRO
 * super-packets); pages never written stay unbacked, so the resident cost is
 * what traffic actually touches.
 */
#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"

/* Big socket buffers absorb bursts between two turns of the loop. */
#define SOCKET_BUFFER_BYTES (4 << 20)

int scratch_create(struct scratch **out)
{
	struct scratch *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < BATCH_SIZE; i++) {
		s->tun_bufs[i] = malloc(PKT_BUF_SIZE);
		s->in.bufs[i] = malloc(PKT_BUF_SIZE);
		if (!s->tun_bufs[i] || !s->in.bufs[i]) {
			scratch_destroy(s);
			return -ENOMEM;
		}
	}
	*out = s;
	return 0;
}

void scratch_destroy(struct scratch *s)
{
	if (!s)
		return;
	for (int i = 0; i < BATCH_SIZE; i++) {
		free(s->tun_bufs[i]);
		free(s->in.bufs[i]);
	}
	for (int f = 0; f < 2; f++)
		for (unsigned int i = 0; i < s->out[f].n; i++)
			free(s->out[f].owned[i]);
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

int udp_open(struct udp *u, uint16_t port, uint32_t fwmark)
{
	uint16_t bound = 0, bound6 = 0;
	int rc = -EADDRINUSE;

	u->fd[0] = u->fd[1] = -1;
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

/* Fill msg's name and, when the endpoint has a sticky source, its pktinfo. */
static void fill_msghdr(struct msghdr *mh, union sockaddr_inet *addr, union udp_cmsg *cmsg,
			const struct endpoint *ep)
{
	struct cmsghdr *c;

	*addr = ep->addr;
	mh->msg_name = addr;
	mh->msg_namelen = sockaddr_len(addr);
	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	mh->msg_flags = 0;
	if (!ep->has_src)
		return;
	memset(cmsg, 0, sizeof(*cmsg));
	mh->msg_control = cmsg->buf;
	c = (struct cmsghdr *)cmsg->buf;
	if (ep->addr.sa.sa_family == AF_INET) {
		struct in_pktinfo pi = {.ipi_spec_dst = ep->src4, .ipi_ifindex = 0};

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = {.ipi6_addr = ep->src6, .ipi6_ifindex = 0};

		/* A link-local source only makes sense on its own interface. */
		if (IN6_IS_ADDR_LINKLOCAL(&ep->src6))
			pi.ipi6_ifindex = (unsigned int)ep->src_ifindex;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

void udp_queue(struct udp *u, struct scratch *s, struct peer *peer, const struct endpoint *ep,
	       uint8_t *data, size_t len, void *owned)
{
	int f = family_slot(ep->addr.sa.sa_family);
	struct udp_out *out = &s->out[f];
	unsigned int i;

	if (u->fd[f] < 0) {
		free(owned);
		return;
	}
	if (out->n == BATCH_SIZE)
		udp_flush(u, s);
	i = out->n++;
	out->iov[i].iov_base = data;
	out->iov[i].iov_len = len;
	memset(&out->msgs[i], 0, sizeof(out->msgs[i]));
	out->msgs[i].msg_hdr.msg_iov = &out->iov[i];
	out->msgs[i].msg_hdr.msg_iovlen = 1;
	fill_msghdr(&out->msgs[i].msg_hdr, &out->addr[i], &out->cmsg[i], ep);
	out->peer[i] = peer;
	out->owned[i] = owned;
}

static unsigned int flush_one(int fd, struct udp_out *out)
{
	unsigned int sent = 0, refused = 0;

	while (sent < out->n) {
		int r = sendmmsg(fd, &out->msgs[sent], out->n - sent, 0);

		if (r > 0) {
			sent += (unsigned int)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/*
		 * The datagram at `sent` was refused. A sticky source address
		 * that is gone (the host roamed) gives EINVAL or EADDRNOTAVAIL:
		 * forget it so the next send lets the kernel choose. Either way
		 * this one is dropped, as a full queue on a real link would.
		 */
		if (out->msgs[sent].msg_hdr.msg_controllen && out->peer[sent])
			peer_clear_endpoint_src(out->peer[sent]);
		refused++;
		sent++;
	}
	for (unsigned int i = 0; i < out->n; i++) {
		free(out->owned[i]);
		out->owned[i] = NULL;
	}
	out->n = 0;
	return refused;
}

unsigned int udp_flush(struct udp *u, struct scratch *s)
{
	unsigned int refused = 0;

	for (int f = 0; f < 2; f++)
		if (s->out[f].n)
			refused += flush_one(u->fd[f], &s->out[f]);
	return refused;
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
	fill_msghdr(&mh, &addr, &cmsg, ep);
	if (sendmsg(u->fd[f], &mh, 0) >= 0)
		return 0;
	if (ep->has_src) {
		/* A stale source address (see flush_one): retry without it. */
		ep->has_src = 0;
		fill_msghdr(&mh, &addr, &cmsg, ep);
		if (sendmsg(u->fd[f], &mh, 0) >= 0)
			return 0;
	}
	return -errno;
}

static void read_pktinfo(struct msghdr *mh, struct endpoint *ep)
{
	ep->has_src = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
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
		read_pktinfo(&in->msgs[i].msg_hdr, &from[i]);
	}
	return n;
}
