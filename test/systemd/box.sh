# shellcheck shell=bash
# A real systemd to test tund's units against: a Debian root made once with
# debootstrap and kept in a cache, booted with systemd-nspawn as a container
# of its own (its own network namespace with only lo, a fresh tmpfs overlay
# over the cached root each time, so nothing a run does survives it).
# Source test/lib/netns.sh first (log, fail, skip, run, at_exit, E2E_TMP).
#
#   box_root          make or reuse the cached root        -> BOX_ROOT
#   box_boot ARGS...  boot it (extra systemd-nspawn ARGS)  -> BOX_LEADER
#   bx CMD...         run CMD inside (echoed); bxq quietly
#   box_down          power off and remove what box_boot made (at_exit does it)
#
# Settings (environment):
#   TUND_TEST_CACHE   where roots are kept (default /var/cache/tund-test)
#   TUND_TEST_SUITE   Debian suite of the root (default bookworm)
#   TUND_TEST_MIRROR  Debian mirror (default: the one apt uses here)
#
# The host's PID 1 need not be systemd: without machined there is no
# machinectl or systemd-run -M, so the container runs with --register=no
# --keep-unit in cgroups this file makes, and commands go in with nsenter.

BOX_CACHE=${TUND_TEST_CACHE:-/var/cache/tund-test}
BOX_SUITE=${TUND_TEST_SUITE:-bookworm}
BOX_NAME="tundsd$$"
BOX_ROOT=""
BOX_NSPAWN_PID=""
BOX_LEADER=""
BOX_CGROUPS=()
BOX_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

box_now() { date +%s.%N; }
box_since() { awk -v a="$1" -v b="$(box_now)" 'BEGIN { printf "%.1f", b - a }'; }

# The mirror apt uses here (deb822 or one-line sources), else Debian's CDN.
box_mirror() {
	local m
	if [ -n "${TUND_TEST_MIRROR:-}" ]; then
		echo "$TUND_TEST_MIRROR"
		return
	fi
	m=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		awk '$1 == "URIs:" || $1 == "deb" { print ($1 == "deb" && $2 ~ /^\[/) ? $3 : $2 }' |
		grep -v -- '-security' | grep -m1 -E '/debian/?$' || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# box_packages BINARY...: what the root needs: systemd, the tools the tests
# use, tund's libraries by name, and the package of every library the
# binaries link (ldd + dpkg -S), so that a new dependency is not missed.
box_packages() {
	local pkgs=(systemd systemd-sysv dbus iproute2 procps
		libev4 libssl3 libsystemd0 libmnl0 libjansson4 libnftables1 nftables
		# libnftables1's own libraries: named here so that a build that uses
		# nft (and so links them) and one that does not share one cached root.
		libnftnl11 libxtables12 libgmp10)
	local libs
	# Each library as linked and as resolved (dpkg knows one of the two
	# spellings under usrmerge); one dpkg -S for all, as it is slow.
	libs=$(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
	# shellcheck disable=SC2086
	{
		printf '%s\n' "${pkgs[@]}"
		{ dpkg -S $libs $(readlink -f $libs) 2>/dev/null || true; } | sed -n 's/^\([^:]*\):.*/\1/p'
	} | sort -u | paste -sd, -
}

# box_root BINARY...: BOX_ROOT is a root with box_packages BINARY..., built
# (under a lock, into a new directory that replaces the old one only when
# complete) when the cached one was made from another suite or package list.
box_root() {
	local pkgs want tmp t lockfd
	pkgs=$(box_packages "$@")
	want="$BOX_SUITE $pkgs"
	BOX_ROOT="$BOX_CACHE/$BOX_SUITE-root"
	mkdir -p "$BOX_CACHE/debs"
	exec {lockfd}>"$BOX_CACHE/.lock"
	flock -w 900 "$lockfd" || fail "$BOX_CACHE is locked by another run"
	if [ "$(cat "$BOX_ROOT/.tund-test-root" 2>/dev/null)" = "$want" ]; then
		log "root: $BOX_ROOT (cached)"
		flock -u "$lockfd"
		return 0
	fi
	tmp="$BOX_ROOT.new"
	rm -rf "$tmp"
	t=$(box_now)
	log "root: debootstrap $BOX_SUITE from $(box_mirror) into $tmp (log: $BOX_CACHE/debootstrap.log)"
	if ! debootstrap --variant=minbase --include="$pkgs" --cache-dir="$BOX_CACHE/debs" \
		"$BOX_SUITE" "$tmp" "$(box_mirror)" >"$BOX_CACHE/debootstrap.log" 2>&1; then
		tail -n 20 "$BOX_CACHE/debootstrap.log" >&2
		rm -rf "$tmp"
		flock -u "$lockfd"
		return 1
	fi
	# Nobody logs in on the (passive) console; the machine id stays the same.
	ln -sf /dev/null "$tmp/etc/systemd/system/console-getty.service"
	ln -sf /dev/null "$tmp/etc/systemd/system/getty@.service"
	systemd-machine-id-setup --root="$tmp" >/dev/null 2>&1 || true
	rm -rf "$tmp"/var/cache/apt/*.bin "$tmp"/var/lib/apt/lists/*_Packages
	echo "$want" >"$tmp/.tund-test-root"
	rm -rf "$BOX_ROOT"
	mv "$tmp" "$BOX_ROOT"
	log "root: built in $(box_since "$t") s, $(du -sh "$BOX_ROOT" | cut -f1)"
	flock -u "$lockfd"
}

# The cgroups nspawn runs in. With --keep-unit it puts the container's
# cgroups below its own; a host without systemd would otherwise have them at
# the top. On a hybrid host both the cgroup2 tree and systemd's v1 tree.
box_make_cgroups() {
	local h
	BOX_CGROUPS=()
	for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
		[ -e "$h/cgroup.procs" ] && BOX_CGROUPS+=("$h/tund-test-$$")
	done
	if [ ${#BOX_CGROUPS[@]} -eq 0 ] && [ -e /sys/fs/cgroup/cgroup.procs ]; then
		BOX_CGROUPS+=("/sys/fs/cgroup/tund-test-$$")
	fi
	for h in "${BOX_CGROUPS[@]}"; do
		mkdir -p "$h" || return 1
	done
}

# box_boot NSPAWN_ARGS...: boot BOX_ROOT and wait until systemd says
# running (or degraded, which is shown). Fails (returns 1) when it does not.
box_boot() {
	local t state i
	box_make_cgroups || return 1
	at_exit box_down
	# A pure cgroup2 tree inside even on a hybrid host, and bpf() allowed, so
	# that DevicePolicy=/DeviceAllow= are enforced as on a real host; and the
	# descriptor limits systemd has on a real host (services may raise their
	# soft limit up to 524288 with LimitNOFILE=), whatever the test runs with.
	local args=(-D "$BOX_ROOT" -M "$BOX_NAME" --boot --register=no --keep-unit
		--console=passive --volatile=overlay --private-network
		--system-call-filter=bpf --rlimit=RLIMIT_NOFILE=1024:524288 "$@")
	t=$(box_now)
	printf '+ systemd-nspawn %s\n' "${args[*]}" >&2
	BOX_CG="${BOX_CGROUPS[*]}" SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid bash -c \
		'for cg in $BOX_CG; do echo $$ >"$cg/cgroup.procs" || exit 1; done; exec "$@"' \
		box systemd-nspawn "${args[@]}" >"$E2E_TMP/console.log" 2>&1 </dev/null &
	BOX_NSPAWN_PID=$!
	# The container's PID 1 is nspawn's child.
	for ((i = 0; i < 300; i++)); do
		BOX_LEADER=$(ps -o pid= --ppid "$BOX_NSPAWN_PID" 2>/dev/null | tr -d ' ' | head -n 1)
		[ -n "$BOX_LEADER" ] && [ "$(cat "/proc/$BOX_LEADER/comm" 2>/dev/null)" = systemd ] && break
		BOX_LEADER=""
		kill -0 "$BOX_NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$BOX_LEADER" ]; then
		log "systemd-nspawn did not start systemd: $(tail -n 5 "$E2E_TMP/console.log")"
		return 1
	fi
	for ((i = 0; i < 600; i++)); do
		state=$(bxq systemctl is-system-running 2>/dev/null || true)
		case $state in running | degraded) break ;; esac
		kill -0 "$BOX_NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "boot: $state after $(box_since "$t") s (nspawn $BOX_NSPAWN_PID, PID 1 = $BOX_LEADER)"
	case $state in
	running) ;;
	degraded) bxq systemctl --failed --no-pager >&2 ;;
	*) return 1 ;;
	esac
}

# bx CMD...: CMD in all of the container's namespaces, with a clean
# environment (nothing of the host's or of CTest's leaks in).
bx() {
	printf '+ [box] %s\n' "$*" >&2
	bxq "$@"
}
bxq() {
	nsenter -t "$BOX_LEADER" -a env -i PATH="$BOX_PATH" LANG=C.UTF-8 SYSTEMD_PAGER= "$@"
}

# Power off (SIGTERM to nspawn asks the container's systemd for a clean
# shutdown), SIGKILL after 20 s; the overlay goes with nspawn's mount
# namespace. Then the cgroups, which are empty by then.
box_down() {
	local i cg
	if [ -n "$BOX_NSPAWN_PID" ] && kill -0 "$BOX_NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$BOX_NSPAWN_PID"
		for ((i = 0; i < 200; i++)); do
			kill -0 "$BOX_NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$BOX_NSPAWN_PID" 2>/dev/null
		wait "$BOX_NSPAWN_PID" 2>/dev/null
	fi
	# PID 1 dies with nspawn (its parent-death signal); if not, it is still
	# in our cgroup, which tells it from a process that reused the pid.
	if [ -n "$BOX_LEADER" ] && grep -q "/tund-test-$$" "/proc/$BOX_LEADER/cgroup" 2>/dev/null; then
		kill -KILL "$BOX_LEADER" 2>/dev/null
	fi
	for cg in "${BOX_CGROUPS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			[ -d "$cg" ] || break
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
			sleep 0.1
		done
	done
	# nspawn's directory for bind mounts into a running machine: it removes
	# it itself only where /run is a tmpfs.
	rm -rf "/run/systemd/nspawn/propagate/$BOX_NAME"
	BOX_NSPAWN_PID=""
}
