#!/usr/bin/env python3
"""Handoff-to-agent-notification latency (scripts/bench-agents.sh, BENCHMARKS.md "Live agents").

For each of HANDOFFS conversations: POST the customer message that asks for a person, and time
until the `conversation/offered` event for that conversation arrives on an agent's
GET /api/v1/agent/events stream. Meanwhile LOAD_CONNS background customers post ordinary
questions in a loop; their round trips are the same-session baseline.

Standard library only: HTTP/1.1 keep-alive for requests (the server answers with
Content-Length), HTTP/1.0 for the event streams (no chunk framing).

usage: agents_handoff.py PORT AGENTS_JSON   (AGENTS_JSON: [{"email", "password"}, ...])
"""

import asyncio
import json
import os
import statistics
import sys
import time

HANDOFFS = int(os.environ.get("HANDOFFS", "1000"))
HANDOFF_CONC = int(os.environ.get("HANDOFF_CONC", "8"))
LOAD_CONNS = int(os.environ.get("LOAD_CONNS", "16"))
ASK = "I want to talk to a human"
QUESTION = "how can I track my order?"


class Conn:
    def __init__(self, port):
        self.port = port
        self.r = self.w = None

    async def open(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)

    async def req(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        h = {"Host": "127.0.0.1", "Content-Length": str(len(data))}
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        head = "%s %s HTTP/1.1\r\n%s\r\n\r\n" % (method, path, "\r\n".join("%s: %s" % kv for kv in h.items()))
        self.w.write(head.encode() + data)
        await self.w.drain()
        status = int((await self.r.readline()).split()[1])
        hdrs = {}
        while True:
            line = (await self.r.readline()).decode().strip()
            if not line:
                break
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        raw = await self.r.readexactly(n) if n else b""
        return status, hdrs, json.loads(raw) if raw else None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


async def login(port, email, password):
    c = Conn(port)
    await c.open()
    st, h, b = await c.req("POST", "/api/v1/auth/login", {"email": email, "password": password})
    assert st == 200, (st, b)
    cookie = h["set-cookie"].split(";")[0]
    return c, {"Cookie": cookie, "X-CSRF-Token": b["csrf_token"]}


async def stream(port, headers, seen, ready):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    head = "GET /api/v1/agent/events HTTP/1.0\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n" % headers["Cookie"]
    w.write(head.encode())
    await w.drain()
    ready.set_result(True) if not ready.done() else None
    event = None
    while True:
        line = await r.readline()
        if not line:
            return
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "conversation/offered":
            conv = json.loads(line[6:]).get("conversation")
            fut = seen.get(conv)
            if fut and not fut.done():
                fut.set_result(time.perf_counter())
        elif line == "":
            event = None


async def new_conv(c):
    st, _, b = await c.req("POST", "/api/v1/conversations", {"locale": "en"})
    assert st == 201, (st, b)
    return b


async def load_worker(port, stop, rtts):
    c = Conn(port)
    await c.open()
    conv = await new_conv(c)
    auth = {"Authorization": "Bearer " + conv["token"]}
    i = 0
    while not stop.is_set():
        t = time.perf_counter()
        st, _, b = await c.req("POST", "/api/v1/conversations/%s/messages" % conv["id"],
                               {"text": QUESTION, "client_id": "q%d" % i}, auth)
        if st == 200:
            rtts.append(time.perf_counter() - t)
        i += 1
        if i % 20 == 0:  # stay under the per-visitor rate limit's burst with a fresh one
            conv = await new_conv(c)
            auth = {"Authorization": "Bearer " + conv["token"]}


async def handoff_worker(port, queue, seen, lat, post_rtt):
    c = Conn(port)
    await c.open()
    while True:
        try:
            queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        conv = await new_conv(c)
        fut = asyncio.get_running_loop().create_future()
        seen[conv["id"]] = fut
        t = time.perf_counter()
        st, _, b = await c.req("POST", "/api/v1/conversations/%s/messages" % conv["id"],
                               {"text": ASK, "client_id": "ask"}, {"Authorization": "Bearer " + conv["token"]})
        post_rtt.append(time.perf_counter() - t)
        assert st == 200 and b["status"] == "queued", (st, b)
        got = await asyncio.wait_for(fut, 10)
        lat.append(got - t)


async def main():
    port = int(sys.argv[1])
    agents = json.loads(sys.argv[2])
    seen, lat, post_rtt, rtts = {}, [], [], []
    streams = []
    for a in agents:
        c, h = await login(port, a["email"], a["password"])
        st, _, b = await c.req("PUT", "/api/v1/agent/me/status", {"status": "online"}, h)
        assert st == 200, (st, b)
        ready = asyncio.get_running_loop().create_future()
        streams.append(asyncio.create_task(stream(port, h, seen, ready)))
        await ready
    await asyncio.sleep(0.3)
    stop = asyncio.Event()
    loaders = [asyncio.create_task(load_worker(port, stop, rtts)) for _ in range(LOAD_CONNS)]
    await asyncio.sleep(1.0)
    rtts.clear()
    q = asyncio.Queue()
    for i in range(HANDOFFS):
        q.put_nowait(i)
    t0 = time.perf_counter()
    await asyncio.gather(*[handoff_worker(port, q, seen, lat, post_rtt) for _ in range(HANDOFF_CONC)])
    wall = time.perf_counter() - t0
    stop.set()
    await asyncio.gather(*loaders, return_exceptions=True)
    for s in streams:
        s.cancel()
    ms = lambda x: round(x * 1000, 2)  # noqa: E731
    out = {
        "handoffs": len(lat), "handoff_concurrency": HANDOFF_CONC, "load_connections": LOAD_CONNS,
        "wall_s": round(wall, 2),
        "handoff_to_offer_ms": {"p50": ms(pct(lat, 50)), "p99": ms(pct(lat, 99)), "max": ms(max(lat)),
                                "mean": ms(statistics.mean(lat))},
        "handoff_post_rtt_ms": {"p50": ms(pct(post_rtt, 50)), "p99": ms(pct(post_rtt, 99))},
        "baseline_message_rtt_ms": {"n": len(rtts), "p50": ms(pct(rtts, 50)), "p99": ms(pct(rtts, 99))},
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
