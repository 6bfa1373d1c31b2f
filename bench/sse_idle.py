#!/usr/bin/env python3
"""Idle SSE connections held by one Switchboard server, and what they cost.

usage: bench/sse_idle.py URL CONVERSATIONS PID [--steps 1000,5000,10000]
           [--sources 127.0.0.2,127.0.0.3] [--settle 3] [--probes 10]
           [--healthz 200] [--keepalive-wait 0] [--json OUT]

CONVERSATIONS is a file of "id token" lines (bench/create_conversations.py).
PID is the server's process id: its VmRSS is read from /proc/PID/status.

Before any stream is opened (the same-run baseline) and again at every step
(streams opened so far = 1,000, 5,000, 10,000 by default) it records:
  - the server's VmRSS/RssAnon, settled (two equal reads 0.5 s apart, after
    --settle seconds) and the growth per open stream against the baseline;
  - GET /healthz latency: --healthz sequential requests on one keep-alive
    connection opened for the purpose (p50/p99/max);
  - event delivery: --probes messages posted to random open streams'
    conversations, one at a time; the time from writing the POST to reading
    the message/inbound event with that client_id on the stream.
Streams are opened --open-concurrency at a time; each sends an HTTP/1.1
GET .../events?token=... and reads its chunked body until the end: events
and ": keep-alive" comments are counted, a stream that ends or fails is an
error. With --keepalive-wait S it finally waits S seconds and checks that
every stream got a keep-alive during that time (set it above the server's
sse_keepalive_s), sampling GET /healthz every 10 ms meanwhile (from a
separate process, so the client's own reading does not delay it), so the
cost of a keep-alive round over every stream shows as /healthz latency. Exits non-zero if a stream failed, a probe event did not
arrive, or a stream missed its keep-alive.
"""
import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time
import urllib.parse

from sse_lib import (HttpConn, SourceAddrs, SseStream, cpu_seconds, load_conversations, now_ns,
                     status_kib, summary_ms)


def log(msg):
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} sse_idle: {msg}", file=sys.stderr, flush=True)


async def settled_rss(pid, settle):
    await asyncio.sleep(settle)
    prev = status_kib(pid, "VmRSS")
    for _ in range(20):
        await asyncio.sleep(0.5)
        cur = status_kib(pid, "VmRSS")
        if cur == prev:
            break
        prev = cur
    return {"VmRSS_kib": cur, "RssAnon_kib": status_kib(pid, "RssAnon"),
            "VmHWM_kib": status_kib(pid, "VmHWM")}


def proc_cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample_healthz(url, seconds, every=0.01):
    """GET /healthz every `every` s for `seconds` s on one keep-alive
    connection (blocking; run in its own process by healthz_sampler)."""
    import http.client
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    lat = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = now_ns()
        c.request("GET", "/healthz")
        c.getresponse().read()
        lat.append(now_ns() - t0)
        rest = every - (now_ns() - t0) / 1e9
        if rest > 0:
            time.sleep(rest)
    c.close()
    out = summary_ms(lat)
    out["over_50ms"] = sum(1 for x in lat if x > 50e6)
    # One probe at a time sends nothing while it waits, so a stall of T ms
    # counts once instead of T/10 times (coordinated omission); add the
    # probes that would have been sent meanwhile, as HdrHistogram does.
    step = int(every * 1e9)
    corrected = list(lat)
    for x in lat:
        k = x - step
        while k > step:
            corrected.append(k)
            k -= step
    cor = summary_ms(corrected)
    out["corrected_p99"] = cor["p99"]
    out["corrected_over_50ms_share"] = round(
        sum(1 for x in corrected if x > 50e6) / len(corrected), 4)
    return out


async def healthz_sampler(url, seconds):
    """sample_healthz in a separate process, so that this process reading
    thousands of streams does not delay the probe's own reads."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--sample-healthz", url, str(seconds),
        stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return json.loads(out)


async def healthz(host, port, n):
    c = HttpConn(host, port)
    lat = []
    for _ in range(n):
        t0 = now_ns()
        status, _, _, _ = await c.request("GET", "/healthz")
        t1 = now_ns()
        if status != 200:
            raise RuntimeError(f"/healthz answered {status}")
        lat.append(t1 - t0)
    c.close()
    return summary_ms(lat)


class Prober:
    """Posts messages and waits for their message/inbound on the stream."""

    def __init__(self, host, port, run_id):
        self.host, self.port, self.run_id = host, port, run_id
        self.waiting = {}  # client_id -> future
        self.seq = 0

    def on_event(self, stream, t, etype, data):
        if etype != "message/inbound" or not self.waiting:
            return
        cid = json.loads(data).get("message", {}).get("client_id")
        fut = self.waiting.pop(cid, None)
        if fut and not fut.done():
            fut.set_result(t)

    async def probe(self, stream, timeout=5.0):
        self.seq += 1
        client_id = f"{self.run_id}-probe-{self.seq}"
        fut = asyncio.get_running_loop().create_future()
        self.waiting[client_id] = fut
        c = HttpConn(self.host, self.port)
        await c.connect()
        status, body, t_sent, t_head = await c.request(
            "POST", f"/api/v1/conversations/{stream.conv_id}/messages",
            {"text": "hello, is anyone there?", "client_id": client_id},
            {"Authorization": f"Bearer {stream.token}"})
        c.close()
        if status != 200:
            raise RuntimeError(f"POST message answered {status}: {body[:200]!r}")
        try:
            t_ev = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self.waiting.pop(client_id, None)
            return None, t_head - t_sent
        return t_ev - t_sent, t_head - t_sent


async def main_async(args):
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    convs = load_conversations(args.conversations)
    steps = [int(s) for s in args.steps.split(",")]
    if len(convs) < steps[-1]:
        sys.exit(f"sse_idle: {len(convs)} conversations for {steps[-1]} streams")
    sources = SourceAddrs([s for s in args.sources.split(",") if s])
    rnd = random.Random(args.seed)
    prober = Prober(host, port, args.run_id)
    streams, tasks = [], []
    result = {"steps": [], "sources": args.sources, "open_concurrency": args.open_concurrency,
              "client_nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}

    log("baseline: no streams")
    base = await settled_rss(args.pid, args.settle)
    base["healthz"] = await healthz(host, port, args.healthz)
    result["baseline"] = base
    log(f"baseline VmRSS {base['VmRSS_kib']} KiB, /healthz p50 {base['healthz']['p50']:.3f} ms")

    sem = asyncio.Semaphore(args.open_concurrency)

    async def open_one(i):
        cid, tok = convs[i]
        s = SseStream(host, port, cid, tok, sources.next(), prober.on_event)
        streams.append(s)
        async with sem:
            tasks.append(asyncio.create_task(s.run()))
            await s.hello.wait()

    for n in steps:
        t0 = time.monotonic()
        c0 = cpu_seconds()
        await asyncio.gather(*(open_one(i) for i in range(len(streams), n)))
        open_s = time.monotonic() - t0
        failed = [s for s in streams if s.error]
        log(f"{n} streams open in {open_s:.1f} s ({len(failed)} failed)")
        if failed:
            log(f"first failure: {failed[0].error}")
        rss = await settled_rss(args.pid, args.settle)
        hz = await healthz(host, port, args.healthz)
        probes, posts, lost = [], [], 0
        for _ in range(args.probes):
            s = rnd.choice([s for s in streams if not s.closed])
            ev, post = await prober.probe(s)
            posts.append(post)
            if ev is None:
                lost += 1
            else:
                probes.append(ev)
        step = {
            "streams": n,
            "open_now": sum(1 for s in streams if not s.closed),
            "failed": len(failed),
            "open_seconds": round(open_s, 2),
            "open_per_s": round((n - (steps[steps.index(n) - 1] if steps.index(n) else 0)) / open_s),
            "client_cpu_s_opening": round(cpu_seconds() - c0, 2),
            **rss,
            "rss_growth_kib": rss["VmRSS_kib"] - base["VmRSS_kib"],
            "rss_per_stream_kib": round((rss["VmRSS_kib"] - base["VmRSS_kib"]) / n, 2),
            "rss_anon_per_stream_kib": round((rss["RssAnon_kib"] - base["RssAnon_kib"]) / n, 2),
            "healthz": hz,
            "healthz_p50_ratio_to_baseline": round(hz["p50"] / base["healthz"]["p50"], 2),
            "event_probe": summary_ms(probes),
            "probe_post_answer": summary_ms(posts),
            "probes_lost": lost,
        }
        result["steps"].append(step)
        log(f"{n} streams: VmRSS {rss['VmRSS_kib']} KiB (+{step['rss_growth_kib']} KiB, "
            f"{step['rss_per_stream_kib']} KiB/stream), /healthz p50 {hz['p50']:.3f} ms "
            f"p99 {hz['p99']:.3f} ms, event p50 {step['event_probe'].get('p50', float('nan')):.2f} ms "
            f"max {step['event_probe'].get('max', float('nan')):.2f} ms, lost {lost}")

    ok = all(st["failed"] == 0 and st["probes_lost"] == 0 for st in result["steps"])
    if args.keepalive_wait > 0:
        before = [s.keepalives for s in streams]
        log(f"waiting {args.keepalive_wait} s for a keep-alive on every stream")
        t0 = time.monotonic()
        cpu0 = proc_cpu_s(args.pid)
        sampled = await healthz_sampler(args.url, args.keepalive_wait)
        server_cpu = proc_cpu_s(args.pid) - cpu0
        missed = sum(1 for s, b in zip(streams, before) if s.keepalives <= b)
        closed = sum(1 for s in streams if s.closed)
        rss = await settled_rss(args.pid, 0)
        hz = await healthz(host, port, args.healthz)
        result["keepalive_check"] = {"wait_s": args.keepalive_wait, "streams": len(streams),
                                     "missed_keepalive": missed, "closed": closed,
                                     "keepalives_total": sum(s.keepalives for s in streams),
                                     "elapsed_s": round(time.monotonic() - t0, 1),
                                     "server_cpu_s": round(server_cpu, 2),
                                     **rss, "healthz": hz, "healthz_every_10ms": sampled}
        log(f"keep-alive check: {missed} streams missed one, {closed} closed, "
            f"VmRSS {rss['VmRSS_kib']} KiB; /healthz every 10 ms meanwhile: p50 "
            f"{sampled['p50']:.2f} p99 {sampled['p99']:.2f} max {sampled['max']:.2f} ms")
        ok = ok and missed == 0 and closed == 0
    result["ok"] = ok
    errs = [s.error for s in streams if s.error]
    result["errors_sample"] = errs[:5]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--sample-healthz":
        print(json.dumps(sample_healthz(sys.argv[2], float(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("conversations")
    ap.add_argument("pid", type=int)
    ap.add_argument("--steps", default="1000,5000,10000")
    ap.add_argument("--sources", default="127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5")
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--probes", type=int, default=10)
    ap.add_argument("--healthz", type=int, default=200)
    ap.add_argument("--open-concurrency", type=int, default=256)
    ap.add_argument("--keepalive-wait", type=float, default=0)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--run-id", default=f"idle{int(time.time())}")
    ap.add_argument("--json")
    args = ap.parse_args()
    result = asyncio.run(main_async(args))
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
