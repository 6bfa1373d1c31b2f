#!/usr/bin/env python3
"""Event fan-out latency: POST a message -> its events on the conversation's stream.

usage: bench/sse_fanout.py URL CONVERSATIONS QUESTIONS [--streams 1000] [--rate 300]
           [--duration 30] [--warmup 3] [--post-conns 32] [--json OUT]

Opens one SSE stream per conversation (the first --streams lines of
CONVERSATIONS, "id token" per line), then posts messages at a steady rate
(open loop: message i is due at start + i/rate, whether or not earlier ones
were answered) over --post-conns keep-alive connections. Each message goes
to the next conversation in round-robin order that has no message in flight,
with the next line of QUESTIONS as its text and a unique client_id. With
--answerable FILE, QUESTIONS is first cut to those the bot answers straight
from the KB (each tried once on a fresh conversation, cached in FILE), so
no conversation is handed off to a person and falls silent mid-run.

For every message it records, from the moment the POST was written to the
socket:
  - post:     the POST's response head was read (the same-run baseline: the
              server answers only after the commit the events wait for);
  - inbound:  the message/inbound event carrying this client_id was read on
              the conversation's stream;
  - outbound: the first message/outbound event after it on that stream (the
              bot's reply; none when the conversation was handed off).
Messages sent during the first --warmup seconds are not counted. It also
reports send lag (how late the client wrote a POST after it was due: a
client that cannot keep up shows here) and the client's CPU use.
"""
import argparse
import asyncio
import json
import resource
import sys
import time
import urllib.parse

from sse_lib import (HttpConn, SourceAddrs, SseStream, cpu_seconds, load_conversations, now_ns,
                     pct, summary_ms)


def log(msg):
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} sse_fanout: {msg}", file=sys.stderr,
          flush=True)


class Msg:
    __slots__ = ("conv", "client_id", "text", "t_due", "t_sent", "t_post", "t_in", "t_out",
                 "status", "counted")

    def __init__(self, conv, client_id, text, t_due, counted):
        self.conv, self.client_id, self.text = conv, client_id, text
        self.t_due, self.counted = t_due, counted
        self.t_sent = self.t_post = self.t_in = self.t_out = None
        self.status = None


class Conv:
    __slots__ = ("cid", "token", "stream", "inflight")

    def __init__(self, cid, token):
        self.cid, self.token = cid, token
        self.stream = None
        self.inflight = None  # the Msg whose events are awaited


def is_kb_answer(body):
    """A direct KB answer: a reply with the "did this help?" buttons."""
    for r in body.get("replies", []):
        for q in r.get("quick_replies") or []:
            if q.get("payload") == "/helped":
                return True
    return False


async def answerable(host, port, questions, out_path, sources, conns=8):
    """The questions the bot answers straight from the KB, each tried once
    on a fresh conversation; cached in out_path. Only those are posted in
    the run, so no conversation is handed off (and falls silent) after a
    few misses, whatever the order of the questions."""
    try:
        with open(out_path) as f:
            cached = [q.rstrip("\n") for q in f if q.strip()]
        if cached:
            return cached
    except FileNotFoundError:
        pass
    keep = [None] * len(questions)
    it = iter(range(len(questions)))

    async def worker():
        c = HttpConn(host, port, sources.next())
        for i in it:
            status, body, _, _ = await c.request("POST", "/api/v1/conversations", {})
            doc = json.loads(body)
            status, body, _, _ = await c.request(
                "POST", f"/api/v1/conversations/{doc['id']}/messages", {"text": questions[i]},
                {"Authorization": f"Bearer {doc['token']}"})
            if status == 200 and is_kb_answer(json.loads(body)):
                keep[i] = questions[i]
        c.close()

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(conns)))
    kept = [q for q in keep if q]
    log(f"{len(kept)} of {len(questions)} questions get a direct KB answer "
        f"({time.monotonic() - t0:.1f} s)")
    with open(out_path, "w") as f:
        f.write("".join(q + "\n" for q in kept))
    return kept


async def main_async(args):
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    rows = load_conversations(args.conversations)[:args.streams]
    if len(rows) < args.streams:
        sys.exit(f"sse_fanout: {len(rows)} conversations for {args.streams} streams")
    with open(args.questions) as f:
        questions = [q.strip() for q in f if q.strip()]
    convs = [Conv(c, t) for c, t in rows]
    by_id = {c.cid: c for c in convs}
    sources = SourceAddrs([s for s in args.sources.split(",") if s])
    msgs = []

    def on_event(stream, t, etype, data):
        conv = by_id[stream.conv_id]
        m = conv.inflight
        if m is None:
            return
        if etype == "message/inbound":
            if json.loads(data).get("message", {}).get("client_id") == m.client_id:
                m.t_in = t
                if m.t_out == -1:  # the answer said no reply will come
                    conv.inflight = None
        elif etype == "message/outbound" and m.t_in is not None and m.t_out is None:
            m.t_out = t
            conv.inflight = None

    if args.answerable:
        questions = await answerable(host, port, questions, args.answerable, sources)

    # 1. Streams.
    t0 = time.monotonic()
    sem = asyncio.Semaphore(256)
    tasks = []

    async def open_one(conv):
        conv.stream = SseStream(host, port, conv.cid, conv.token, sources.next(), on_event)
        async with sem:
            tasks.append(asyncio.create_task(conv.stream.run()))
            await conv.stream.hello.wait()

    await asyncio.gather(*(open_one(c) for c in convs))
    bad = [c.stream.error for c in convs if c.stream.error]
    log(f"{len(convs)} streams open in {time.monotonic() - t0:.1f} s, {len(bad)} failed")
    if bad:
        sys.exit(f"sse_fanout: stream failed: {bad[0]}")
    await asyncio.sleep(1)

    # 2. Load: an open-loop schedule, served by --post-conns workers.
    queue = asyncio.Queue()
    total = int(args.rate * (args.warmup + args.duration))
    interval_ns = int(1e9 / args.rate)

    async def poster():
        c = HttpConn(host, port, sources.next())
        while True:
            m = await queue.get()
            if m is None:
                c.close()
                return
            try:
                status, body, t_sent, t_head = await c.request(
                    "POST", f"/api/v1/conversations/{m.conv.cid}/messages",
                    {"text": m.text, "client_id": m.client_id},
                    {"Authorization": f"Bearer {m.conv.token}"})
            except (OSError, asyncio.IncompleteReadError, ConnectionError) as e:
                m.status = repr(e)
                m.conv.inflight = None
                c.close()
                continue
            m.t_sent, m.t_post, m.status = t_sent, t_head, status
            if status != 200:
                m.conv.inflight = None
            elif json.loads(body).get("replies") == []:
                m.t_out = -1  # silent (queued): no outbound will come
                if m.conv.inflight is m and m.t_in is not None:
                    m.conv.inflight = None

    workers = [asyncio.create_task(poster()) for _ in range(args.post_conns)]
    rr = 0
    skipped_busy = 0
    cpu0 = cpu_seconds()
    start = now_ns() + 50_000_000
    warm_end = start + int(args.warmup * 1e9)
    log(f"posting {total} messages at {args.rate}/s ({args.warmup} s warm-up, "
        f"{args.duration} s measured)")
    for i in range(total):
        due = start + i * interval_ns
        delay = (due - now_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        # The next conversation with nothing in flight.
        for _ in range(len(convs)):
            conv = convs[rr % len(convs)]
            rr += 1
            if conv.inflight is None:
                break
            skipped_busy += 1
        else:
            continue
        m = Msg(conv, f"{args.run_id}-{i}", questions[i % len(questions)], due, due >= warm_end)
        msgs.append(m)
        conv.inflight = m
        queue.put_nowait(m)
    load_s = (now_ns() - start) / 1e9
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    # Stragglers: events for the last messages.
    deadline = time.monotonic() + args.grace
    while time.monotonic() < deadline and any(c.inflight for c in convs):
        await asyncio.sleep(0.05)
    cpu_used = cpu_seconds() - cpu0

    counted = [m for m in msgs if m.counted]
    ok = [m for m in counted if m.status == 200]
    post = [m.t_post - m.t_sent for m in ok]
    inbound = [m.t_in - m.t_sent for m in ok if m.t_in is not None]
    outbound = [m.t_out - m.t_sent for m in ok if m.t_out is not None and m.t_out > 0]
    lag = [m.t_sent - m.t_due for m in ok]
    # The event against the POST's own answer (both wait for the same commit);
    # negative when the event was read first.
    in_vs_post = [(m.t_in - m.t_post) / 1e6 for m in ok if m.t_in is not None]
    closed = sum(1 for c in convs if c.stream.closed)
    result = {
        "streams": len(convs), "rate": args.rate, "duration_s": args.duration,
        "warmup_s": args.warmup, "post_conns": args.post_conns,
        "messages_counted": len(counted), "messages_2xx": len(ok),
        "non_2xx": sum(1 for m in counted if m.status != 200),
        "achieved_rate": round(len(counted) / args.duration, 1),
        "inbound_missing": sum(1 for m in ok if m.t_in is None),
        "outbound_silent": sum(1 for m in ok if m.t_out == -1),
        "outbound_missing": sum(1 for m in ok if m.t_out is None),
        "skipped_busy_conversations": skipped_busy,
        "streams_closed": closed,
        "post_ms": summary_ms(post),
        "inbound_ms": summary_ms(inbound),
        "outbound_ms": summary_ms(outbound),
        "send_lag_ms": summary_ms(lag),
        "inbound_minus_post_ms": {"p50": pct(in_vs_post, 50), "p99": pct(in_vs_post, 99),
                                  "max": max(in_vs_post) if in_vs_post else None},
        "client_cpu_s": round(cpu_used, 2),
        "client_cpu_share": round(cpu_used / max(load_s, 1e-9), 3),
        "client_nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }
    if args.dump:
        with open(args.dump, "w") as f:
            f.write("due_ms,send_lag_ms,post_ms,inbound_ms,outbound_ms,counted\n")
            for m in msgs:
                if m.t_sent is None:
                    continue
                ms = lambda t: "" if t is None or t < 0 else f"{(t - m.t_sent) / 1e6:.3f}"
                f.write(f"{(m.t_due - start) / 1e6:.1f},{(m.t_sent - m.t_due) / 1e6:.3f},"
                        f"{ms(m.t_post)},{ms(m.t_in)},{ms(m.t_out)},{int(m.counted)}\n")
    result["ok"] = (result["non_2xx"] == 0 and result["inbound_missing"] == 0 and
                    result["outbound_missing"] == 0 and closed == 0)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    im, om, pm = result["inbound_ms"], result["outbound_ms"], result["post_ms"]
    log(f"rate {args.rate}/s: {len(ok)} msgs; POST p50/p99 {pm.get('p50', 0):.2f}/"
        f"{pm.get('p99', 0):.2f} ms; inbound p50/p95/p99/max {im.get('p50', 0):.2f}/"
        f"{im.get('p95', 0):.2f}/{im.get('p99', 0):.2f}/{im.get('max', 0):.2f} ms; outbound "
        f"p99 {om.get('p99', 0):.2f} ms; client CPU {result['client_cpu_share']:.0%}")
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("conversations")
    ap.add_argument("questions")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--grace", type=float, default=3)
    ap.add_argument("--post-conns", type=int, default=32)
    ap.add_argument("--sources", default="127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5")
    ap.add_argument("--run-id", default=f"fan{int(time.time())}")
    ap.add_argument("--answerable", metavar="FILE",
                    help="post only the questions answered straight from the KB, found by "
                         "trying each once on a fresh conversation (cached in FILE)")
    ap.add_argument("--dump", metavar="CSV", help="one line per message, times in ms")
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
