#!/usr/bin/env bash
# Install what is needed, build, and run the whole test suite with CTest.
#   sudo scripts/test.sh                              the normal build
#   sudo TUND_SANITIZE=address,undefined scripts/test.sh   under ASan + UBSan
# Extra arguments go to ctest (e.g. -L unit, -R e2e_basic, -LE slow).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TUND_SKIP_DEPS:-}" ]; then
	scripts/deps.sh
fi
dir=$(scripts/build.sh | tail -n 1)
cd "$dir"
filter=()
# The systemd label boots a container without a sanitizer runtime (its test
# skips a sanitizer build anyway): under sanitizers it is left out, unless
# you pass a -LE of your own (CTest 3.25 takes only one: -LE 'systemd|slow').
if [ -n "${TUND_SANITIZE:-}" ] && [[ " $* " != *" -LE "* && " $* " != *" --label-exclude "* ]]; then
	filter=(-LE systemd)
fi
ctest --output-on-failure --timeout 600 "${filter[@]}" "$@"
