#!/usr/bin/env bash
# Configures and builds into build/ (or $1), warnings as errors.
# Extra arguments are passed to cmake, e.g. -DSB_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DSB_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
