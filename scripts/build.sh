#!/usr/bin/env bash
# Configure and build tund in BUILD_DIR (default build/).
#   TUND_SANITIZE=address,undefined scripts/build.sh   sanitizer build (in build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
san=${TUND_SANITIZE:-}
dir=${BUILD_DIR:-build${san:+-asan}}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DTUND_SANITIZE="$san" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "$dir"
