#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: source checks, the
# unit, plugin and end-to-end suites, then the same suites again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
#   SB_SKIP_SANITIZE=1 skips the sanitizer pass (local quick runs only).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test
scripts/checksrc.sh

echo "== build (warnings are errors)"
scripts/build.sh build -DSB_TESTS=ON
# The browser tests' npm packages, installed again only when the lock file changed.
lock_sum=$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)
if [ "$(cat tests/browser/node_modules/.lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
  echo "== npm ci (tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund && echo "$lock_sum" >node_modules/.lock-sha256)
fi
echo "== tests"
(cd build && ctest --output-on-failure -j2)

if [ "${SB_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== sanitizer build (ASan + UBSan)"
  scripts/build.sh build-asan -DSB_TESTS=ON -DSB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  echo "== tests under sanitizers"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j2)
fi
echo "== all tests passed"
