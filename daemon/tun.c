// SPDX-License-Identifier: MIT
/* The TUN device: open by name with the offloads the kernel grants; read and write packets. */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Newer than Debian 12's headers (kernel 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

/*
 * Ask for the most the kernel gives: TCP and UDP segmentation, then TCP
 * only (kernels before 6.2 have no USO). TUN_F_CSUM is what all of them
 * build on.
 */
static void set_offloads(int fd, struct tun_features *feat)
{
	static const unsigned int tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETOFFLOAD, tso | TUN_F_USO4 | TUN_F_USO6) == 0) {
		feat->tso = feat->uso = true;
		return;
	}
	if (ioctl(fd, TUNSETOFFLOAD, tso) == 0)
		feat->tso = true;
}

static int set_iff(int fd, const char *name, short flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	return ioctl(fd, TUNSETIFF, &ifr) == 0 ? 0 : -errno;
}

int tun_open(const char *name, bool want_offloads, struct tun_features *feat)
{
	int fd, rc = -EINVAL;

	*feat = (struct tun_features){0};
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (want_offloads) {
		rc = set_iff(fd, name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
		feat->vnet_hdr = rc == 0;
	}
	/* A persistent device made without IFF_VNET_HDR refuses it: go plain. */
	if (rc != 0)
		rc = set_iff(fd, name, IFF_TUN | IFF_NO_PI);
	if (rc != 0) {
		/*
		 * EBUSY: another process holds a TUN device of that name;
		 * EINVAL: a device of that name exists and is not a TUN.
		 */
		close(fd);
		return rc;
	}
	if (feat->vnet_hdr)
		set_offloads(fd, feat);
	return fd;
}

ssize_t tun_read(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n;

	do {
		n = read(fd, buf, cap);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	return n;
}

int tun_write(int fd, const uint8_t *pkt, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, pkt, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}
