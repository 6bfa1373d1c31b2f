#!/usr/bin/env bash
# Answer-quality benchmark (see BENCHMARKS.md, "Answer quality").
#
#   scripts/bench-answers.sh
#
# Builds $BUILD (default build/), carves the dev splits into bench/splits/
# when they are missing or older than bench/make_splits.py (which reads
# $DATA, default ../shared/data), then runs `switchboard kb eval` on every
# dataset twice in the same run: --engine index (the answer engine) and
# --engine fts (plain SQLite FTS5 BM25, the baseline). The banking77 index
# run goes through /usr/bin/time -v for the cost of building its knowledge
# base. Prints a table and writes bench/out/answers-<time>/: one .txt per
# run (its report; the last line is its JSON), time-banking77.txt,
# summary.txt and summary.json.
#
# Knobs (environment): BUILD=build DATA=../shared/data THRESHOLD= (default:
# the server's) EXTRA= (more kb eval arguments, e.g. "--limit-per-intent 10")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
DATA=${DATA:-$ROOT/../shared/data}
SPLITS=$ROOT/bench/splits
BIN=$ROOT/$BUILD/switchboard
OUT=$ROOT/bench/out/answers-$(date -u +%Y%m%dT%H%M%SZ)

[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
[[ -d $DATA ]] || { echo "bench: $DATA: no datasets there (set DATA)" >&2; exit 1; }

scripts/build.sh "$BUILD" >/dev/null
if [[ ! -f $SPLITS/manifest.json || bench/make_splits.py -nt $SPLITS/manifest.json ]]; then
    python3 bench/make_splits.py --data "$DATA" --out "$SPLITS" >/dev/null
fi
mkdir -p "$OUT"

# name | kind | train | test | extra arguments
RUNS=(
    "banking77|banking77|$SPLITS/banking77/train.csv|$SPLITS/banking77/dev.csv|"
    "hwu64|hwu64|$SPLITS/hwu64/train.csv|$SPLITS/hwu64/dev.csv|"
    "clinc150|clinc150|$DATA/clinc150/data_full_train_val.json|$DATA/clinc150/data_full_train_val.json|"
    "aia-bde|aia-bde|$DATA/aia-bde/faqs.jsonl|$SPLITS/aia-bde/dev.tsv|--examples $SPLITS/aia-bde/examples.tsv"
    "ro-intents/s0|ro-intents|$SPLITS/ro-intents/scenario_0/train.json|$SPLITS/ro-intents/scenario_0/dev.json|"
    "ro-intents/s1|ro-intents|$SPLITS/ro-intents/scenario_1/train.json|$SPLITS/ro-intents/scenario_1/dev.json|"
)

failed=0
for run in "${RUNS[@]}"; do
    IFS='|' read -r name kind train test extra <<<"$run"
    for engine in index fts; do
        file=$OUT/${name//\//-}-$engine.txt
        # shellcheck disable=SC2206 # extra and EXTRA are word lists
        cmd=("$BIN" kb eval "$kind" "$train" "$test" --engine "$engine" $extra ${EXTRA:-}
             ${THRESHOLD:+--threshold "$THRESHOLD"})
        if [[ $name == banking77 && $engine == index ]]; then
            cmd=(/usr/bin/time -v -o "$OUT/time-banking77.txt" "${cmd[@]}")
        fi
        echo "$name $engine: ${cmd[*]}" >"$file.cmd"
        if ! "${cmd[@]}" >"$file" 2>"$file.err"; then
            echo "bench: $name $engine failed:" >&2
            cat "$file.err" >&2
            failed=1
        fi
    done
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- core kb include CMakeLists.txt 2>/dev/null || commit+="+dirty"
python3 - "$OUT" "$commit" <<'PY'
import glob, json, os, re, subprocess, sys

out, commit = sys.argv[1], sys.argv[2]
rows = []
for cmdfile in sorted(glob.glob(os.path.join(out, "*.txt.cmd"))):
    name, engine = open(cmdfile).read().split(":", 1)[0].rsplit(" ", 1)
    lines = open(cmdfile[:-4]).read().strip().splitlines()
    try:
        r = json.loads(lines[-1])
    except (IndexError, ValueError):
        r = {"kind": name, "engine": engine, "failed": True}
    r["name"] = name
    rows.append(r)
order = ["banking77", "hwu64", "clinc150", "aia-bde", "ro-intents/s0", "ro-intents/s1"]
rows.sort(key=lambda r: (order.index(r["name"]) if r["name"] in order else 99, r["engine"] != "index"))


def pct(v):
    return "-" if v is None else "%.1f%%" % (100 * v)


table = ["%-14s %-6s %7s %7s %9s %10s %8s %8s %6s" % (
    "kind", "engine", "top1", "top3", "in_scope", "oos_recall", "p50", "p99", "n")]
for r in rows:
    if r.get("failed"):
        table.append("%-14s %-6s FAILED" % (r["name"], r["engine"]))
        continue
    table.append("%-14s %-6s %7s %7s %9s %10s %6.3fms %6.3fms %6d" % (
        r["name"], r["engine"], pct(r["top1"]), pct(r["top3"]), pct(r["in_scope_accuracy"]),
        pct(r["oos_recall"]), r["p50_ms"], r["p99_ms"], r["n"]))

timing = {}
tfile = os.path.join(out, "time-banking77.txt")
if os.path.exists(tfile):
    t = open(tfile).read()
    for key, pat in (("wall", r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)"),
                     ("max_rss_kb", r"Maximum resident set size \(kbytes\): (\d+)"),
                     ("user_s", r"User time \(seconds\): (\S+)"),
                     ("system_s", r"System time \(seconds\): (\S+)")):
        m = re.search(pat, t)
        if m:
            timing[key] = m.group(1)
    b = next((r for r in rows if r["name"] == "banking77" and r["engine"] == "index"
              and not r.get("failed")), None)
    if b:
        timing.update(articles=b["articles"], examples=b["examples"], build_ms=b["build_ms"],
                      index_ms=b["index_ms"])
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True,
                     text=True).stdout.strip()
machine = "%s, %d vCPU" % (cpu or "unknown CPU", os.cpu_count() or 0)
text = "\n".join(["answers benchmark, commit %s, %s" % (commit, machine)] + table)
if timing:
    text += ("\nbanking77 KB build (index engine): %s articles, %s example questions saved in "
             "%.0f ms, index built in %.0f ms; whole kb eval run: %s wall, %s s user, max RSS %s KiB"
             % (timing.get("articles"), timing.get("examples"), timing.get("build_ms", 0),
                timing.get("index_ms", 0), timing.get("wall"), timing.get("user_s"),
                timing.get("max_rss_kb")))
print(text)
with open(os.path.join(out, "summary.txt"), "w") as f:
    f.write(text + "\n")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"commit": commit, "machine": machine, "runs": rows, "banking77_build": timing}, f,
              indent=2)
    f.write("\n")
PY
echo "bench: $OUT"
exit $failed
