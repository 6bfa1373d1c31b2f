#!/usr/bin/env python3
"""Server-Sent Events: replay, live delivery, resume with Last-Event-ID across a restart, and
SIGTERM with a subscriber connected."""

import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_event_stream  # noqa: E402


def messages_only(events):
    """The message events; receipts (message/delivered, message/read) interleave with them."""
    return [e for e in events if e["event"] in ("message/inbound", "message/outbound")]


def summary(events):
    return [(e["id"], e["event"], (e["data"].get("message") or {}).get("id")) for e in events]


class SSETests(harness.ServerTestCase):

    def setUp(self):
        super().setUp()
        if not self.server.alive():  # a previous test stopped it
            self.server.start()

    def open_stream(self, conv, **kw):
        c = self.server.sse(conv, **kw)
        self.addCleanup(c.close)
        self.assertEqual(c.status, 200, "GET %s -> %s" % (c.path, c.status))
        self.assertIn("text/event-stream", c.headers.get("content-type", ""), c.headers)
        return c

    def read_all(self, c, conv, last=0):
        tr = self.server.transcript(conv)
        need = max(0, 1 + len(tr["messages"]) - last)
        events = c.read_events(need, timeout=5) if need else []
        return events + c.drain(0.3), tr

    def test_resume_after_restart(self):
        s = self.server
        conv = s.start_conversation("en")
        s.send(conv, "hi", client_id="m1")
        s.send(conv, "how can I track my order?", client_id="m2")

        c1 = self.open_stream(conv)
        before, tr1 = self.read_all(c1, conv)
        check_event_stream(self, before, tr1)
        last = before[-1]["id"]
        self.assertEqual(c1.last_id, str(last))

        t0 = time.monotonic()
        self.assertEqual(s.restart(), 0, "exit code on SIGTERM with an SSE client connected")
        self.assertTrue(c1.wait_closed(3), "the old stream was not closed by the shutdown")
        self.assertEqual(c1.after_events, [], "events after the last one before shutdown?")
        self.assertLess(time.monotonic() - t0, 15)

        a = s.send(conv, "which payment methods do you accept?", client_id="m3")
        b = s.send(conv, "I forgot my password", client_id="m4")
        tr2 = s.transcript(conv)
        new_msgs = tr2["messages"][len(tr1["messages"]):]
        self.assertEqual([m["id"] for m in new_msgs][:1], [a["message_id"]])
        self.assertEqual(len(new_msgs), 2 + len(a["replies"]) + len(b["replies"]))

        # resume with the Last-Event-ID header: exactly the missing events
        c2 = self.open_stream(conv, last_event_id=last)
        resumed = c2.read_events(len(new_msgs), timeout=5) + c2.drain(0.4)
        msgs = messages_only(resumed)
        self.assertEqual(len(msgs), len(new_msgs), "resumed: %s" % summary(resumed))
        # besides the messages: the bot's delivery receipt of each customer message
        self.assertEqual([(e["event"], e["data"]["up_to"]) for e in resumed if e not in msgs],
                         [("message/delivered", a["message_id"]), ("message/delivered", b["message_id"])])
        check_event_stream(self, resumed, first_seq=last + 1)
        self.assertEqual([e["data"]["message"]["id"] for e in msgs], [m["id"] for m in new_msgs])
        self.assertEqual(resumed[0]["data"]["message"]["client_id"], "m3")
        self.assertEqual(resumed[0]["data"]["message"]["text"], "which payment methods do you accept?")

        # the same through ?last_event_id= and ?token=
        c3 = self.open_stream(conv, last_event_id=last, auth="query", lei="query")
        via_query = c3.read_events(len(resumed), timeout=5) + c3.drain(0.3)
        self.assertEqual(summary(via_query), summary(resumed))

        # a full replay is the old events followed by the new ones, unchanged
        c4 = self.open_stream(conv)
        full = c4.read_events(len(before) + len(resumed), timeout=5) + c4.drain(0.3)
        check_event_stream(self, full, tr2)
        self.assertEqual([e["data"] for e in full[:len(before)]], [e["data"] for e in before],
                         "stored events changed across the restart")
        self.assertEqual(summary(full[len(before):]), summary(resumed))

        # caught up: nothing more, but the stream stays open for live events
        c5 = self.open_stream(conv, last_event_id=full[-1]["id"])
        self.assertEqual(c5.drain(0.4), [])
        s.send(conv, "thanks", client_id="m5")
        live = c5.read_events(1, timeout=5)
        self.assertEqual(live[0]["id"], full[-1]["id"] + 1, summary(live))
        self.assertEqual(live[0]["event"], "message/inbound")
        self.assertEqual(live[0]["data"]["message"]["client_id"], "m5")

    def test_live_events(self):
        s = self.server
        conv = s.start_conversation("en")
        s.send(conv, "hi")
        c = self.open_stream(conv)
        other = self.open_stream(conv)
        seen, _ = self.read_all(c, conv)
        seen_other, _ = self.read_all(other, conv)
        self.assertEqual(summary(seen), summary(seen_other))
        result = {}

        def post_later():
            time.sleep(0.3)
            try:
                result["body"] = s.send(conv, "how can I track my order?", client_id="live-1")
            except Exception as e:  # reported below
                result["error"] = repr(e)

        t = threading.Thread(target=post_later)
        t.start()
        t0 = time.monotonic()
        first = c.read_events(1, timeout=5)  # blocks until the post arrives
        t.join(10)
        self.assertNotIn("error", result)
        body = result["body"]
        self.assertLess(time.monotonic() - t0, 5)
        rest = c.read_events(len(body["replies"]), timeout=5) + c.drain(0.3)
        live = first + rest
        check_event_stream(self, seen + live, s.transcript(conv))
        self.assertEqual(live[0]["event"], "message/inbound")
        self.assertEqual(live[0]["data"]["message"]["id"], body["message_id"])
        self.assertEqual(live[0]["data"]["message"]["text"], "how can I track my order?")
        replies = messages_only(live[1:])
        self.assertEqual([e["data"]["message"]["id"] for e in replies], [r["id"] for r in body["replies"]])
        self.assertEqual([e["data"]["message"]["text"] for e in replies], [r["text"] for r in body["replies"]])
        self.assertEqual(live[-1]["event"], "message/delivered", summary(live))
        self.assertEqual(live[-1]["data"]["up_to"], body["message_id"])
        # the second subscriber got the same
        live_other = other.read_events(len(live), timeout=5) + other.drain(0.2)
        self.assertEqual(summary(live_other), summary(live))

    def test_many_subscribers(self):
        s = self.server
        conv = s.start_conversation("en")
        streams = [self.open_stream(conv, auth="query" if i % 2 else "header") for i in range(30)]
        for c in streams:
            self.assertEqual([e["event"] for e in c.read_events(1, timeout=5)], ["conversation/started"])
        body = s.send(conv, "I forgot my password")
        n = 1 + len(body["replies"])
        for i, c in enumerate(streams):
            got = c.read_events(n, timeout=5)
            self.assertEqual([e["id"] for e in got], list(range(2, 2 + n)), "subscriber %d" % i)
            self.assertEqual(got[0]["data"]["message"]["id"], body["message_id"])

    def test_handoff_event_live(self):
        s = self.server
        conv = s.start_conversation("ro")
        c = self.open_stream(conv)
        seen, _ = self.read_all(c, conv)
        self.assertEqual([e["event"] for e in seen], ["conversation/started"])
        body = s.send(conv, "vreau un operator uman")
        self.assertEqual(body["status"], "queued", body)
        live = c.read_events(1 + len(body["replies"]) + 1, timeout=5) + c.drain(0.3)
        check_event_stream(self, seen + live, s.transcript(conv))
        self.assertEqual([e["event"] for e in live].count("conversation/handoff"), 1, summary(live))

    def test_sigterm_with_subscriber_exits_0_within_5s(self):
        s = self.server
        conv = s.start_conversation("en")
        s.send(conv, "hi")
        c = self.open_stream(conv)
        self.read_all(c, conv)
        c2 = self.open_stream(conv, auth="query")
        self.read_all(c2, conv)
        t0 = time.monotonic()
        rc = s.stop(timeout=5)
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, "exit code on SIGTERM with SSE clients connected")
        self.assertLess(took, 5)
        self.assertTrue(c.wait_closed(1), "SSE stream still open after the server exited")
        self.assertTrue(c2.wait_closed(1), "SSE stream still open after the server exited")
        s.start()
        events, tr = s.all_events(conv)
        check_event_stream(self, events, tr)

    def test_aborted_uploads_do_not_delay_sigterm(self):
        # Clients that send headers and part of a body, then close the connection, are gone:
        # SIGTERM must not wait for them.
        s = self.server
        conv = s.start_conversation("en")
        head = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
                b"Content-Length: 1000\r\n\r\n" % (s.conv_path(conv, "/messages").encode(), conv["token"].encode()))
        for _ in range(10):
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            sock.sendall(head + b'{"text":"hi"}')
            sock.close()
        time.sleep(0.3)
        self.assertEqual(s.healthz()[0], 200)
        t0 = time.monotonic()
        try:
            rc = s.stop(timeout=5)
        except AssertionError:
            rc = "no exit within 5 s"
        took = time.monotonic() - t0
        s.start()
        self.assertEqual(rc, 0, "SIGTERM after 10 aborted uploads: exit %r after %.1fs" % (rc, took))
        self.assertEqual(s.transcript(conv)["messages"], [])

    def test_sigterm_finishes_in_flight_request(self):
        # A request whose headers arrived before SIGTERM is in flight: it is answered normally
        # (and stored), then the server exits 0.
        s = self.server
        conv = s.start_conversation("en")
        body = json.dumps({"text": "how can I track my order?", "client_id": "in-flight-1"}).encode()
        c = harness.HTTPStream(s.port, timeout=5)
        self.addCleanup(c.close)
        c.send(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
               b"Content-Length: %d\r\n\r\n" % (s.conv_path(conv, "/messages").encode(), conv["token"].encode(),
                                                 len(body)) + body[:10])
        time.sleep(0.2)
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        self.assertTrue(s.alive(), "the server exited with a request in flight")
        c.send(body[10:])
        try:
            st, _, answer = c.response(timeout=5)
        finally:
            rc = s.stop(timeout=5)
            s.start()
        s.statuses.append(("POST", "in-flight", st))
        self.assertEqual(st, 200, "in-flight request during shutdown answered %s %r" % (st, answer))
        self.assertEqual(rc, 0)
        stored = [m["client_id"] for m in s.transcript(conv)["messages"] if m["direction"] == "in"]
        self.assertEqual(stored, ["in-flight-1"])


if __name__ == "__main__":
    harness.main()
