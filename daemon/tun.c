// SPDX-License-Identifier: MIT
/* The TUN device: open by name, read and write single packets. */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd, rc;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		/*
		 * EBUSY: another process holds a TUN device of that name;
		 * EINVAL: a device of that name exists and is not a TUN.
		 */
		rc = -errno;
		close(fd);
		return rc;
	}
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
