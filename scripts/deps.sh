#!/usr/bin/env bash
# Install the Debian 12 packages tund needs to build, run and test.
# Usage: scripts/deps.sh            (as root; idempotent)
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config clang
	libev-dev libssl-dev libsystemd-dev libmnl-dev libjansson-dev
	libnftables-dev libcmocka-dev
	# run
	iproute2 nftables
	# tests: namespaces, traffic, interop, systemd container
	python3 socat curl iperf3 procps psmisc kmod iputils-ping
	wireguard-tools wireguard-go
	# docs: man page checks
	groff-base man-db mandoc
	systemd-container debootstrap
)

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/deps.sh: run as root (it installs packages with apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
