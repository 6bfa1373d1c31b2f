#!/usr/bin/env python3
"""Reads the raw outputs of scripts/bench-messages.sh in OUT and writes
OUT/summary.json and OUT/summary.txt (also printed).

usage: bench/summarize.py OUT
"""
import json
import os
import platform
import re
import statistics
import sys


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def kv(path):
    out = {}
    for line in read(path).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def to_ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[unit]


def parse_wrk(text):
    """The plain wrk report: req/s, latency percentiles (with --latency)."""
    res = {}
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    res["req_per_s"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m),", text)
    if m:
        res["requests"] = int(m.group(1))
        res["duration_s"] = to_ms(m.group(2), m.group(3)) / 1e3
    for p in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([0-9.]+)(us|ms|s|m)\s*$" % p, text, re.M)
        res[f"p{p}_ms"] = to_ms(m.group(1), m.group(2)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    res["non_2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    res["socket_errors"] = m.group(1).strip() if m else "none"
    m = re.search(r"BENCH_JSON (\{.*\})", text)
    if m:
        res["script"] = json.loads(m.group(1))
    return res


def kib(v):
    return int(v.split()[0]) if v else None


def main():
    out = sys.argv[1]
    cpu_model = ""
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    run = kv(os.path.join(out, "run.env"))
    imp = kv(os.path.join(out, "import.env"))
    rss = kv(os.path.join(out, "rss.env"))
    per = kv(os.path.join(out, "persistence.env"))
    startup = json.loads(read(os.path.join(out, "startup.json"), "{}") or "{}")
    health = parse_wrk(read(os.path.join(out, "wrk-healthz.txt")))
    msgs = parse_wrk(read(os.path.join(out, "wrk-messages.txt")))
    c1 = parse_wrk(read(os.path.join(out, "wrk-messages-c1.txt")))
    cpu = {n: kv(os.path.join(out, n + ".env")) for n in ("wrk-healthz", "wrk-messages", "wrk-messages-c1")}
    corpus = json.loads(read(os.path.join(out, "corpus-manifest.json"), "{}") or "{}")
    samples = [int(x) for x in read(os.path.join(out, "rss-samples.txt")).split() if x.isdigit()]

    s = msgs.get("script", {})
    dur = s.get("duration_s") or msgs.get("duration_s") or 1
    summary = {
        "machine": {
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model,
            "kernel": platform.release(),
            "date": run.get("date"),
            "server_cpu": run.get("server_cpu"),
            "client_cpu": run.get("client_cpu"),
        },
        "command": run.get("command"),
        "server_env": run.get("server_env"),
        "sources_sha256": run.get("sources_sha256"),
        "build_note": run.get("build_note"),
        "corpus": corpus,
        "conversations": int(run.get("conversations", 0)),
        "connections": int(run.get("connections", 0)),
        "healthz": {k: health.get(k) for k in ("req_per_s", "requests", "p50_ms", "p99_ms", "non_2xx_3xx", "socket_errors")},
        "messages": {
            "duration_s": dur,
            "responses": s.get("total"),
            "messages_per_s": (s.get("total") or 0) / dur,
            "ok_2xx": s.get("ok2xx"),
            "non_2xx": s.get("non2xx"),
            "status_429": s.get("st429"),
            "answered_by_bot": s.get("bot_answered"),
            "answered_per_s": (s.get("bot_answered") or 0) / dur,
            "answered_share": (s.get("bot_answered") or 0) / max(s.get("total") or 1, 1),
            "kb_answers": s.get("kb_answered"),
            "clarifying": s.get("clarified"),
            "handoff_notices": s.get("handoff_notice"),
            "silent": s.get("silent"),
            "duplicates": s.get("duplicates"),
            "p50_ms": s.get("p50_ms"),
            "p90_ms": s.get("p90_ms"),
            "p99_ms": s.get("p99_ms"),
            "max_ms": s.get("max_ms"),
            "socket_errors": msgs.get("socket_errors"),
        },
        "messages_c1": ({
            "messages_per_s": c1["script"]["total"] / c1["script"]["duration_s"],
            "p50_ms": c1["script"]["p50_ms"],
            "p99_ms": c1["script"]["p99_ms"],
        } if c1.get("script") else None),
        "startup_ms": startup.get("median", {}),
        "rss_kib": {
            "idle_after_start": kib(rss.get("idle_start_VmRSS")),
            "idle_before_load": kib(rss.get("idle_before_load_VmRSS")),
            "load_samples": len(samples),
            "load_median": int(statistics.median(samples)) if samples else None,
            "load_max": max(samples) if samples else None,
            "peak_VmHWM": kib(rss.get("after_VmHWM")),
            "after_VmRSS": kib(rss.get("after_VmRSS")),
        },
        "import": {
            "wall_ms": float(imp["wall_ms"]) if "wall_ms" in imp else None,
            "max_rss_kib": int(imp["max_rss_kib"]) if "max_rss_kib" in imp else None,
            "result": imp.get("result"),
        },
        "persistence": per,
        "cpu_seconds": cpu,
    }
    if health.get("req_per_s"):
        summary["ratio_messages_to_healthz"] = summary["messages"]["messages_per_s"] / health["req_per_s"]
    m = summary["messages"]
    summary["target"] = {
        "answered_per_s_ge_10000": m["answered_per_s"] >= 10000,
        "p99_le_10ms": (m["p99_ms"] or 1e9) <= 10,
        "persisted": per.get("result") == "PASS",
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    def f1(x, fmt="{:.1f}"):
        return "n/a" if x is None else fmt.format(x)

    r = summary["rss_kib"]
    st = summary["startup_ms"]
    lines = [
        "== Switchboard customer-message benchmark ==",
        f"machine: {summary['machine']['nproc']} CPUs, {cpu_model}, Linux {platform.release()}, {run.get('date')}",
        f"server on CPU {run.get('server_cpu')}, wrk on CPU {run.get('client_cpu')}; "
        f"{summary['connections']} connections, {summary['conversations']} conversations, "
        f"{corpus.get('articles')} articles, {corpus.get('distinct_questions')} distinct questions",
        f"healthz:   {f1(health.get('req_per_s'))} req/s, p50 {f1(health.get('p50_ms'), '{:.3f}')} ms, "
        f"p99 {f1(health.get('p99_ms'), '{:.3f}')} ms",
        f"messages:  {f1(m['messages_per_s'])} msg/s ({m['responses']} in {dur:.2f} s), "
        f"answered by bot {f1(m['answered_per_s'])}/s ({100 * m['answered_share']:.1f}%: "
        f"{m['kb_answers']} KB answers, {m['clarifying']} clarifying), "
        f"handoff notices {m['handoff_notices']}, silent {m['silent']}, non-2xx {m['non_2xx']} "
        f"(429: {m['status_429']})",
        f"           p50 {f1(m['p50_ms'], '{:.3f}')} ms, p90 {f1(m['p90_ms'], '{:.3f}')} ms, "
        f"p99 {f1(m['p99_ms'], '{:.3f}')} ms, max {f1(m['max_ms'], '{:.3f}')} ms",
        f"ratio messages/healthz: {f1(summary.get('ratio_messages_to_healthz'), '{:.4f}')}",
    ]
    if summary["messages_c1"]:
        c = summary["messages_c1"]
        lines.append(f"messages, 1 connection: {c['messages_per_s']:.1f} msg/s, p50 {c['p50_ms']:.3f} ms, "
                     f"p99 {c['p99_ms']:.3f} ms")
    lines += [
        f"startup (median of {len(startup.get('runs', []))}): exec->port file {f1(st.get('port_file_ms'), '{:.2f}')} ms, "
        f"first /healthz {f1(st.get('first_healthz_ms'), '{:.2f}')} ms, server-reported ready "
        f"{f1(st.get('server_reported_ready_ms'), '{:.2f}')} ms (`version`: {f1(st.get('version_cmd_ms'), '{:.2f}')} ms)",
        f"RSS: idle {r['idle_after_start']} KiB after start, {r['idle_before_load']} KiB before load; "
        f"under load median {r['load_median']} / max {r['load_max']} KiB ({r['load_samples']} samples); "
        f"peak VmHWM {r['peak_VmHWM']} KiB",
        f"kb import: {imp.get('result')} in {imp.get('wall_ms')} ms (max RSS {imp.get('max_rss_kib')} KiB)",
        f"persistence: {per.get('result')}: wrk 2xx {per.get('wrk_2xx')}, acked ids {per.get('acked_ids')}, "
        f"of which in DB {per.get('acked_in_db')}; inbound rows in DB {per.get('db_inbound')} "
        f"(+{per.get('db_minus_2xx')} in flight when wrk stopped); server killed with {per.get('stop_signal')}",
        f"target >= 10,000 answered/s: {'met' if summary['target']['answered_per_s_ge_10000'] else 'NOT met'}; "
        f"p99 <= 10 ms: {'met' if summary['target']['p99_le_10ms'] else 'NOT met'}",
    ]
    mc = cpu.get("wrk-messages") or {}
    if mc.get("server_cpu_s") and m["responses"]:
        # the figure that least depends on a shared machine's noise
        lines.append(f"server CPU per message: {1e6 * float(mc['server_cpu_s']) / m['responses']:.0f} us "
                     f"(target <= 100 us)")
    for n, c in cpu.items():
        if c:
            lines.append(f"CPU during {n}: server {c.get('server_cpu_s')} s, wrk {c.get('wrk_cpu_s')} s, "
                         f"other processes {c.get('other_cpu_s')} s over {c.get('wall_s')} s wall "
                         f"(load avg after: {c.get('loadavg_after')})")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
