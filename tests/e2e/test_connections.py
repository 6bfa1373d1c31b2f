#!/usr/bin/env python3
"""Connections (issue 14, "One host can take every connection"). Regression: the connection
limit was the process's file limit, no address had a cap, and a trickle of header lines kept
resetting the 30 s idle timeout: ~20,000 idle connections from one host made /healthz
unreachable for everyone.

Now: each client address holds at most max_conns_per_ip connections (trusted proxies exempt), a
request head must be complete http_header_timeout_s after the connection could start it, however
slowly it trickles, and the connection limit keeps a reserve below the file limit so the server
can still open the files its answers need.

Several client addresses come from one machine: Linux answers every 127.x.y.z on loopback, so
a socket bound to 127.0.0.3 is a different client from 127.0.0.1."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HTTPStream  # noqa: E402

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def connect_from(port, source, timeout=5.0):
    return HTTPStream(port, timeout, source=source)


def answered(c, timeout=5.0):
    """Sends GET /healthz on c: its status, or None when the server closed the connection."""
    if not c.send(HEALTHZ):
        return None
    try:
        st, _, _ = c.response(timeout)
    except (socket.timeout, ConnectionResetError):
        return None
    return st


class PerAddressCapTests(harness.ServerTestCase):
    server_config = {"max_conns_per_ip": 8, "http_header_timeout_s": 60}

    def test_one_address_cannot_exceed_its_cap(self):
        port = self.server.port
        flood = [connect_from(port, "127.0.0.3") for _ in range(20)]
        try:
            statuses = [answered(c) for c in flood]
            self.assertEqual(statuses.count(200), 8,
                             "20 connections from 127.0.0.3 with max_conns_per_ip 8: %s" % statuses)
            self.assertEqual(statuses.count(None), 12, statuses)
            # everyone else still gets in
            with connect_from(port, "127.0.0.4") as other:
                self.assertEqual(answered(other), 200, "/healthz from another address while 127.0.0.3 is at its cap")
            self.assertEqual(self.server.healthz()[0], 200)
            # and 127.0.0.3 itself gets nothing more while its 8 are open
            with connect_from(port, "127.0.0.3") as more:
                self.assertIsNone(answered(more), "a ninth connection from 127.0.0.3 was served")
        finally:
            for c in flood:
                c.close()
        # once they are closed, the address may connect again (the server sees the closes soon)
        deadline = time.monotonic() + 10
        st = None
        while st != 200 and time.monotonic() < deadline:
            with connect_from(port, "127.0.0.3") as again:
                st = answered(again)
            if st != 200:
                time.sleep(0.1)
        self.assertEqual(st, 200, "127.0.0.3 stayed refused after closing its connections")


class HeaderDeadlineTests(harness.ServerTestCase):
    server_config = {"http_header_timeout_s": 2, "http_timeout_s": 30}

    def test_header_trickle_is_cut_at_the_deadline(self):
        s = self.server
        conv = s.start_conversation("en")
        stream = s.sse(conv)  # a long-lived answer: its head is done, no deadline applies
        try:
            self.assertEqual(stream.status, 200)
            c = HTTPStream(s.port, timeout=5)
            try:
                c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                t0 = time.monotonic()
                cut = False
                # one header line every 0.25 s for up to 12 s: each resets libmicrohttpd's timeout
                while time.monotonic() - t0 < 12 and not cut:
                    if not c.send(b"X-Trickle: %d\r\n" % int((time.monotonic() - t0) * 1000)):
                        cut = True
                        break
                    c.sock.settimeout(0.25)
                    try:
                        cut = c.sock.recv(4096) == b""
                    except socket.timeout:
                        pass
                    except ConnectionResetError:
                        cut = True
                if not cut:
                    c.send(b"\r\n")
                    st, _, _ = c.response(5)
                    self.fail("a head trickled for 12 s with http_header_timeout_s 2 was served (%s)" % st)
            finally:
                c.close()
            # the event stream opened before the trickle is still served
            s.send(conv, "still there?")
            events = stream.read_events(1, timeout=5)
            self.assertTrue(events, "the event stream was cut by the head deadline")
        finally:
            stream.close()
        self.assertEqual(s.healthz()[0], 200)


class TrustedProxyExemptTests(harness.ServerTestCase):
    """With trust_proxy, the trusted proxies (default: loopback) carry many clients: no
    per-address cap and no head deadline for them (the proxy enforces both for its clients)."""
    server_config = {"trust_proxy": 1, "max_conns_per_ip": 4, "http_header_timeout_s": 1}

    def test_trusted_proxy_has_no_cap_and_no_head_deadline(self):
        port = self.server.port
        conns = [connect_from(port, "127.0.0.3") for _ in range(12)]
        try:
            statuses = [answered(c) for c in conns]
            self.assertEqual(statuses, [200] * 12, "a trusted proxy was capped at 4: %s" % statuses)
        finally:
            for c in conns:
                c.close()
        with HTTPStream(port, timeout=5) as c:
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            t0 = time.monotonic()
            while time.monotonic() - t0 < 3:
                self.assertTrue(c.send(b"X-Slow: 1\r\n"), "a trusted proxy's slow head was cut")
                time.sleep(0.25)
            c.send(b"\r\n")
            st, _, _ = c.response(5)
            self.assertEqual(st, 200)


class FileLimitTests(harness.SwitchboardTestCase):
    """RLIMIT_NOFILE 200: the server keeps 64 descriptors back from connections, so a flood of
    connections still leaves it able to open the file a request asks for."""

    def test_connection_flood_leaves_descriptors_for_files(self):
        s = harness.Server(config={"max_conns_per_ip": 100000, "http_header_timeout_s": 120}, import_kb=False)
        s.nofile = 200
        flood = []
        with s:
            keep = HTTPStream(s.port, timeout=5)  # opened before the flood, kept alive
            try:
                self.assertEqual(answered(keep), 200)
                for i in range(260):
                    c = connect_from(s.port, "127.0.0.%d" % (10 + i % 200))
                    c.send(HEALTHZ)
                    flood.append(c)
                served = 0
                for c in flood:
                    try:
                        st, _, _ = c.response(5)
                    except (socket.timeout, ConnectionResetError):
                        st = None
                    if st != 200:
                        break
                    served += 1
                self.assertLess(served, 200 - 1, "%d flood connections served with a file limit of 200" % served)
                keep.send(b"GET /static/help/help.css HTTP/1.1\r\nHost: x\r\n\r\n")
                st, h, b = keep.response(10)
                self.assertEqual(st, 200, "GET a static file after a connection flood (%d served): %s %r"
                                 % (served, st, b if isinstance(b, dict) else str(b)[:200]))
            finally:
                keep.close()
                for c in flood:
                    c.close()
            deadline = time.monotonic() + 10
            st = None
            while st != 200 and time.monotonic() < deadline:
                try:
                    st = s.healthz()[0]
                except OSError:
                    time.sleep(0.2)
            self.assertEqual(st, 200, "the server did not take connections again after the flood")


if __name__ == "__main__":
    harness.main()
