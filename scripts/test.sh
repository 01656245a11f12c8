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
ctest --output-on-failure --timeout 600 "$@"
