#!/usr/bin/env bash
# Instructions per customer message, counted by callgrind: unlike CPU time
# it does not move with the machine's other load, so a change worth 2% can
# be seen on a shared machine (see BENCHMARKS.md).
#
#   bench/instructions.sh [N]     (N messages, default 300)
#
# Uses build/switchboard and bench/corpus/ as scripts/bench-messages.sh
# leaves them. Imports the KB into a fresh directory under bench/out/,
# starts the server under valgrind --tool=callgrind with instrumentation
# off, creates N+50 conversations and posts 50 warm-up messages
# (bench/instructions_drive.py), then counts only while N messages are
# posted, one at a time, each to a conversation of its own. Prints the
# instructions per message of the whole process, of api_message_post
# (the request) and of sb_kb_search (the answer engine), and the request
# without the search. Threads count too (the WAL checkpointer; a kb
# rebuild that happens to run), which is why the request's own figure is
# the one to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
for tool in valgrind callgrind_control callgrind_annotate python3; do
    command -v "$tool" >/dev/null || { echo "instructions: $tool is required" >&2; exit 1; }
done
[[ -f bench/corpus/questions.txt ]] || { echo "instructions: run scripts/bench-messages.sh once first (bench/corpus)" >&2; exit 1; }
OUT=$PWD/bench/out/instructions-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT/data"
VP=
trap '[[ -n $VP ]] && kill "$VP" 2>/dev/null || true' EXIT
build/switchboard kb import bench/corpus/kb --data "$OUT/data" >"$OUT/import.log" 2>&1
echo '{"rate_ip_per_s": 1000000, "rate_ip_burst": 1000000,
 "rate_visitor_per_s": 1000000, "rate_visitor_burst": 1000000}' >"$OUT/config.json"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
    build/switchboard serve --port 0 --data "$OUT/data" --plugins plugins \
    --config "$OUT/config.json" >"$OUT/server.log" 2>&1 &
VP=$!
for _ in $(seq 1 6000); do
    [[ -f $OUT/data/switchboard.port ]] && break
    kill -0 "$VP" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
    sleep 0.05
done
python3 bench/instructions_drive.py "$(cat "$OUT/data/switchboard.port")" $((N + 50)) 50 "$N" \
    bench/corpus/questions.txt "$OUT/flag" &
DP=$!
until [[ -f $OUT/flag.ready ]]; do kill -0 "$DP" || exit 1; sleep 0.2; done
callgrind_control -i on "$VP" >/dev/null
touch "$OUT/flag.go"
until [[ -f $OUT/flag.done ]]; do kill -0 "$DP" || exit 1; sleep 0.2; done
callgrind_control -i off "$VP" >/dev/null
callgrind_control -d "$VP" >/dev/null
wait "$DP"
kill -TERM "$VP"
wait "$VP" || true
VP=
callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$OUT/callgrind.out.1" 2>/dev/null |
    sed -nE 's|^ *([0-9,]+) \( *[0-9.]+%\) +([^ ]+).*|\1 \2|p' | tr -d , >"$OUT/inclusive.txt"
awk -v n="$N" -v replies="$(cat "$OUT/flag.done")" '
    $2 == "PROGRAM" { all = $1 }
    $2 ~ /api_customer\.c:api_message_post$/ { post = $1 }
    $2 ~ /kb_search\.c:sb_kb_search$/ { search = $1 }
    END {
        printf "instructions per message (%d messages, replies %s):\n", n, replies
        printf "  process %d, request (api_message_post) %d, search (sb_kb_search) %d\n",
            all / n, post / n, search / n
        printf "  request without the search: %d\n", (post - search) / n
    }' "$OUT/inclusive.txt" | tee "$OUT/summary.txt"
echo "callgrind output: $OUT/callgrind.out.1"
