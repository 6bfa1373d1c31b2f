"""Small asyncio HTTP/1.1 and Server-Sent Events client for the widget benchmarks.

Shared by bench/sse_idle.py and bench/sse_fanout.py. No third-party packages:
raw asyncio streams, HTTP/1.1 keep-alive, chunked decoding, SSE framing.
"""
import asyncio
import itertools
import json
import os
import statistics
import time

now_ns = time.perf_counter_ns


def load_conversations(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                rows.append((parts[0], parts[1]))
    return rows


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def summary_ms(values_ns):
    if not values_ns:
        return {"n": 0}
    ms = [x / 1e6 for x in values_ns]
    return {"n": len(ms), "p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99),
            "max": max(ms), "mean": statistics.fmean(ms)}


class SourceAddrs:
    """Round-robin over local source addresses (127.0.0.x) so that many
    connections do not exhaust one address's ephemeral ports."""

    def __init__(self, addrs):
        self.cycle = itertools.cycle(addrs or [None])

    def next(self):
        a = next(self.cycle)
        return (a, 0) if a else None


async def read_head(reader):
    """Reads a response head; returns (status, headers dict lower-cased)."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed before the status line")
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


async def read_body(reader, headers):
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return bytes(out)
            out += await reader.readexactly(size)
            await reader.readexactly(2)
    n = int(headers.get("content-length", "0"))
    return await reader.readexactly(n) if n else b""


class HttpConn:
    """One keep-alive HTTP/1.1 connection for plain requests."""

    def __init__(self, host, port, source=None):
        self.host, self.port, self.source = host, port, source
        self.reader = self.writer = None

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, local_addr=self.source)

    async def request(self, method, path, body=None, headers=None):
        """Returns (status, body bytes, t_written_ns, t_head_ns)."""
        if self.writer is None:
            await self.connect()
        data = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        for k, v in (headers or {}).items():
            head.append(f"{k}: {v}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        t_written = now_ns()
        status, rh = await read_head(self.reader)
        t_head = now_ns()
        payload = await read_body(self.reader, rh)
        if rh.get("connection", "").lower() == "close":
            self.close()
        return status, payload, t_written, t_head

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class SseStream:
    """One event stream of one conversation, read until cancelled.

    on_event(stream, t_recv_ns, event_type, data_str) is called for every
    event (not for keep-alives, which are only counted)."""

    def __init__(self, host, port, conv_id, token, source=None, on_event=None):
        self.host, self.port, self.conv_id, self.token = host, port, conv_id, token
        self.source = source
        self.on_event = on_event
        self.opened = asyncio.Event()   # 200 + headers read
        self.hello = asyncio.Event()    # first bytes of the body ("retry:")
        self.keepalives = 0
        self.events = 0
        self.bytes = 0
        self.error = None
        self.closed = False
        self.writer = None
        self.last_seq = 0

    async def run(self):
        try:
            reader, self.writer = await asyncio.open_connection(
                self.host, self.port, local_addr=self.source)
            self.writer.write((f"GET /api/v1/conversations/{self.conv_id}/events?token={self.token}"
                               f" HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                               "Accept: text/event-stream\r\n\r\n").encode())
            status, headers = await read_head(reader)
            if status != 200:
                body = await read_body(reader, headers)
                raise ConnectionError(f"HTTP {status}: {body[:200]!r}")
            self.opened.set()
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            buf = b""
            while True:
                if chunked:
                    line = await reader.readline()
                    if not line:
                        raise ConnectionError("stream closed")
                    size = int(line.split(b";")[0], 16)
                    if size == 0:
                        raise ConnectionError("stream ended")
                    chunk = await reader.readexactly(size + 2)
                    chunk = chunk[:-2]
                else:
                    chunk = await reader.read(65536)
                    if not chunk:
                        raise ConnectionError("stream closed")
                t = now_ns()
                self.bytes += len(chunk)
                self.hello.set()
                buf += chunk
                while True:
                    i = buf.find(b"\n\n")
                    if i < 0:
                        break
                    block, buf = buf[:i], buf[i + 2:]
                    self._block(t, block)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - recorded and reported
            self.error = repr(e)
            self.opened.set()
            self.hello.set()
        finally:
            self.closed = True
            if self.writer is not None:
                self.writer.close()

    def _block(self, t, block):
        etype = data = None
        for line in block.split(b"\n"):
            if line.startswith(b":"):
                self.keepalives += 1
            elif line.startswith(b"event: "):
                etype = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:].decode()
            elif line.startswith(b"id: "):
                self.last_seq = int(line[4:])
        if etype is not None:
            self.events += 1
            if self.on_event:
                self.on_event(self, t, etype, data)


def cpu_seconds():
    t = os.times()
    return t.user + t.system
