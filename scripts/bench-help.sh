#!/usr/bin/env bash
# Help-center and editor-API benchmark (see BENCHMARKS.md, "Help center").
#
#   scripts/bench-help.sh
#
# Builds build/, imports the demo knowledge base into a fresh data directory
# under bench/out/, starts the server pinned to one CPU and drives it with wrk
# pinned to the other: /healthz first (the same-run baseline), then the help
# center's home, an article page (Markdown rendered per request), a search
# page, and the editor's "try a question" (POST, signed in with an API
# token). Also times `kb import` of the demo folder and a re-import while the
# server runs, with /usr/bin/time -v.
#
# Knobs (environment): CONNS=32 DURATION=10s SERVER_CPU=0 CLIENT_CPU=1
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONNS=${CONNS:-32}
DURATION=${DURATION:-10s}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

for tool in wrk taskset /usr/bin/time curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required (apt-get install wrk)" >&2; exit 1; }
done

OUT=$ROOT/bench/out/help-$(date -u +%Y%m%dT%H%M%SZ)
DATA=$OUT/data
mkdir -p "$DATA"
BIN=$ROOT/build/switchboard
SPID=
cleanup() { [[ -n $SPID ]] && kill "$SPID" 2>/dev/null || true; }
trap cleanup EXIT

scripts/build.sh build >/dev/null
/usr/bin/time -v "$BIN" kb import kb/demo --data "$DATA" >"$OUT/import.txt" 2>"$OUT/import.time"
cat >"$OUT/config.json" <<CFG
{"rate_ip_per_s": 1000000000, "rate_ip_burst": 1000000000, "kdf_log2_n": 10}
CFG
taskset -c "$SERVER_CPU" "$BIN" serve --port 0 --data "$DATA" --plugins plugins --web web \
    --config "$OUT/config.json" >"$OUT/server.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do [[ -s $DATA/switchboard.port ]] && break; sleep 0.1; done
PORT=$(cat "$DATA/switchboard.port")
BASE=http://127.0.0.1:$PORT

# An editor API token for the "try a question" run.
ADMIN_PW=bench-admin-password
echo "$ADMIN_PW" | "$BIN" user add --data "$DATA" --email bench@example.invalid --name Bench \
    --role admin >/dev/null
COOKIES=$OUT/cookies.txt
CSRF=$(curl -s -c "$COOKIES" -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench@example.invalid\",\"password\":\"$ADMIN_PW\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
TOKEN=$(curl -s -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -X POST "$BASE/api/v1/admin/tokens" \
    -d '{"name":"bench","role":"editor"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

cat >"$OUT/try.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"text":"how do I reset my password","locale":"en"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

run() { # name path [script]
    local name=$1 path=$2 script=${3:-}
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" --latency \
        ${script:+-s "$script"} "$BASE$path" >"$OUT/$name.txt"
    printf '%-10s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$name" \
        "$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")" \
        "$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")" \
        "$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")" \
        "$(awk '/Non-2xx/ {print $NF}' "$OUT/$name.txt" | grep . || echo 0)"
}

{
    echo "conns=$CONNS duration=$DURATION server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU"
    run healthz /healthz
    run home /help/en
    run article /help/en/track-order
    run search "/help/en/search?q=where+is+my+parcel"
    run try /api/v1/kb/try "$OUT/try.lua"
    /usr/bin/time -v "$BIN" kb import kb/demo --data "$DATA" >"$OUT/reimport.txt" 2>"$OUT/reimport.time"
    echo "kb import (42 articles, fresh): $(awk -F': ' '/Elapsed/ {print $2}' "$OUT/import.time") wall," \
        "$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/import.time") KB max RSS"
    echo "kb re-import while serving:     $(awk -F': ' '/Elapsed/ {print $2}' "$OUT/reimport.time") wall;" \
        "$(cat "$OUT/reimport.txt")"
} | tee "$OUT/summary.txt"
ln -sfn "$OUT" "$ROOT/bench/out/help-latest"
