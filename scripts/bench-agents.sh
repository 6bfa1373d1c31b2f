#!/usr/bin/env bash
# Live agents: handoff-to-agent-notification latency (see BENCHMARKS.md, "Live agents").
#
#   scripts/bench-agents.sh
#
# Builds build-bench/ (scripts/build.sh, default build type), imports the demo knowledge base into a fresh
# data directory under bench/out/, creates AGENTS agents of capacity CAPACITY in the default
# team, starts the server pinned to SERVER_CPU and runs bench/agents_handoff.py pinned to
# CLIENT_CPU: HANDOFFS customers (HANDOFF_CONC at a time) ask for a person while LOAD_CONNS
# customers post questions in a loop; it reports p50/p99 from the POST that hands off to the
# `conversation/offered` event on an agent's GET /api/v1/agent/events stream, and the
# background customers' message round trip as the same-session baseline.
#
# Knobs (environment): HANDOFFS=1000 HANDOFF_CONC=8 LOAD_CONNS=16 AGENTS=25 CAPACITY=50
# SERVER_CPU=0 CLIENT_CPU=1 BUILD=build-bench
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
AGENTS=${AGENTS:-25}
CAPACITY=${CAPACITY:-50}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BUILD=${BUILD:-build-bench}
export HANDOFFS=${HANDOFFS:-1000} HANDOFF_CONC=${HANDOFF_CONC:-8} LOAD_CONNS=${LOAD_CONNS:-16}

scripts/build.sh "$BUILD" >/dev/null  # the default build type, as bench-messages.sh
BIN=$ROOT/$BUILD/switchboard
OUT=$ROOT/bench/out/agents-$(date -u +%Y%m%dT%H%M%SZ)
DATA=$OUT/data
mkdir -p "$DATA"
env -u SWITCHBOARD_DATA "$BIN" kb import "$ROOT/kb/demo" --data "$DATA" >"$OUT/import.log" 2>&1
agents="["
for i in $(seq 1 "$AGENTS"); do
  email="agent$i@bench.example"
  echo "bench-password-$i" | "$BIN" user add --data "$DATA" --email "$email" --role agent \
    --name "Agent $i" >/dev/null
  "$BIN" agent set "$email" --team default --capacity "$CAPACITY" --data "$DATA" >/dev/null
  agents+="{\"email\":\"$email\",\"password\":\"bench-password-$i\"},"
done
agents="${agents%,}]"
cat >"$OUT/config.json" <<JSON
{"rate_ip_per_s": 1000000000, "rate_ip_burst": 1000000000, "offer_timeout_s": 86400,
 "kdf_log2_n": 10}
JSON
taskset -c "$SERVER_CPU" "$BIN" serve --port 0 --data "$DATA" --plugins plugins --web web \
  --config "$OUT/config.json" >"$OUT/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$DATA/switchboard.port" ] && break; sleep 0.1; done
port=$(cat "$DATA/switchboard.port")
echo "== $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg), cpu pressure: $(head -1 /proc/pressure/cpu)" \
  | tee "$OUT/summary.txt"
# CPU seconds (utime + stime) of the server, to tell a busy server from a busy client.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat"; }
cpu0=$(server_cpu)
/usr/bin/time -f "client CPU s: %U user + %S sys, wall %e s" -o "$OUT/client-time.txt" \
  taskset -c "$CLIENT_CPU" python3 bench/agents_handoff.py "$port" "$agents" | tee -a "$OUT/summary.txt"
echo "server CPU s during the run: $(awk -v a="$(server_cpu)" -v b="$cpu0" 'BEGIN{printf "%.2f", a - b}')" | tee -a "$OUT/summary.txt"
tee -a "$OUT/summary.txt" <"$OUT/client-time.txt"
kill $pid
wait $pid 2>/dev/null || true
trap - EXIT
echo "results in $OUT"
