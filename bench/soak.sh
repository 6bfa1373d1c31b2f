#!/usr/bin/env bash
# Soak: DURATION seconds of mixed load (customers, agents, an editor) against the real server
# with kill -9 every KILL_EVERY seconds, then an invariant check: no acknowledged message lost,
# none duplicated, every event stream gap-free after resume (bench/soak.py says exactly what
# is checked). Not part of CI. Exits 1 on any violation. See BENCHMARKS.md, "Soak".
#
#   bench/soak.sh                         # 30 minutes, kill -9 every 5 minutes
#   DURATION=180 KILL_EVERY=60 bench/soak.sh
#
# Knobs (environment): DURATION=1800 KILL_EVERY=300 CUSTOMERS=20 AGENTS=3 EDITORS=1 SEED=1
# BUILD=build (the tree scripts/build.sh builds) OUT=bench/out/soak-<time> (the data directory
# and the server's log stay there).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
OUT=${OUT:-$ROOT/bench/out/soak-$(date -u +%Y%m%dT%H%M%SZ)}

scripts/build.sh "$BUILD" >/dev/null
mkdir -p "$OUT"
exec python3 -u "$ROOT/bench/soak.py" --bin "$ROOT/$BUILD/switchboard" --src "$ROOT" --data "$OUT/data" \
  --duration "${DURATION:-1800}" --kill-every "${KILL_EVERY:-300}" --customers "${CUSTOMERS:-20}" \
  --agents "${AGENTS:-3}" --editors "${EDITORS:-1}" --seed "${SEED:-1}"
