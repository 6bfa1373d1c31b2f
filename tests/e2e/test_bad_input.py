#!/usr/bin/env python3
"""Hostile and malformed input: every error is a JSON 4xx, nothing hangs, nothing answers 5xx,
and the server is still healthy afterwards."""

import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HTTPStream, check_error, check_send_shape  # noqa: E402

FTS_NASTY = [
    '" * NEAR( AND OR NOT col: ^ title:foo "unbalanced',
    '"', '*', '^', '(', ')', 'NEAR(', 'NEAR(a b, 1)', 'title:foo', 'col:', ':', '-', '+', "'",
    'AND', 'OR OR', 'NOT', 'NOT track', 'track AND', 'track OR', '"track" * ^order',
    '{title summary}: track', 'track*', '*order', '\\', '%', '%_%', "'; DROP TABLE messages; --",
    '") OR 1=1 --', 'MATCH', 'rank', 'bm25(kb_fts)', 'a' * 300,
]


class BadInputTests(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conv = cls.server.start_conversation("en")
        cls.other = cls.server.start_conversation("en")

    def msg_path(self, conv=None):
        return self.server.conv_path(conv or self.conv, "/messages")

    def post_msg(self, raw=None, body=None, conv=None, token=None):
        conv = conv or self.conv
        return self.server.request("POST", self.msg_path(conv), body=body, raw=raw,
                                   token=conv["token"] if token is None else token)

    # -- JSON shape errors
    def test_malformed_json(self):
        for raw in (b'{"text": ', b"{text: 'hi'}", b'{"text":"hi",}', b"", b"   ", b"nul",
                    b'{"text":"hi"} trailing', b'{"text":"hi"}{"text":"hi"}', b"\x00\x01\x02"):
            check_error(self, self.post_msg(raw=raw), 400, "POST messages raw=%r" % raw)
        for raw in (b"{locale", b'{"locale":"en"', b'{"locale": en}'):
            check_error(self, self.server.request("POST", "/api/v1/conversations", raw=raw), 400,
                        "POST conversations raw=%r" % raw)

    def test_body_not_object(self):
        for raw in (b"[]", b'"x"', b"123", b"null", b"true", b'["text"]'):
            check_error(self, self.post_msg(raw=raw), 400, "POST messages raw=%r" % raw)
            check_error(self, self.server.request("POST", "/api/v1/conversations", raw=raw), 400,
                        "POST conversations raw=%r" % raw)

    def test_wrong_types(self):
        cases = [
            {"text": None}, {"text": 123}, {"text": 1.5}, {"text": True}, {"text": ["hi"]},
            {"text": {"t": "hi"}}, {"text": "hi", "client_id": 5}, {"text": "hi", "client_id": ["a"]},
            {"text": "hi", "payload": 7}, {"text": "hi", "payload": {"p": 1}}, {}, {"client_id": "x"},
        ]
        for body in cases:
            check_error(self, self.post_msg(body=body), 400, "POST messages %r" % (body,))
        for body in ({"locale": 5}, {"locale": ["en"]}, {"locale": {"x": 1}}):
            check_error(self, self.server.request("POST", "/api/v1/conversations", body=body), 400,
                        "POST conversations %r" % (body,))

    def test_empty_text(self):
        check_error(self, self.post_msg(body={"text": ""}), 400, "empty text")

    def test_invalid_locale(self):
        for loc in ("english", "", "e", "en-", "-BR", "../../etc",
                    "en\nX-Injected: 1", "<script>", "ro;DROP"):
            check_error(self, self.server.request("POST", "/api/v1/conversations", body={"locale": loc}), 400,
                        "locale %r" % loc)

    def test_unsupported_but_well_formed_locale(self):
        # "de" looks like a locale but the demo KB has no German: never a 5xx
        st, _, conv = self.server.request("POST", "/api/v1/conversations", body={"locale": "de"})
        self.assertIn(st, (201, 400), conv)
        if st == 201:
            for text in ("hallo", "wo ist meine Bestellung?", "how can I track my order?"):
                body = self.server.send(conv, text)
                check_send_shape(self, body)

    def test_invalid_utf8(self):
        for raw in (b'{"text":"\xff\xfe abc"}', b'{"text":"\xc0\xaf"}', b'{"text":"\xed\xa0\x80"}',
                    b'{"text":"abc\xe2\x82"}', b'{"text":"\xf8\x88\x80\x80\x80"}',
                    b'{"text":"hi","client_id":"\xff"}'):
            check_error(self, self.post_msg(raw=raw), 400, "invalid UTF-8 %r" % raw)
        check_error(self, self.server.request("POST", "/api/v1/conversations", raw=b'{"locale":"\xffn"}'), 400,
                    "invalid UTF-8 locale")

    def test_odd_but_valid_json_strings(self):
        # not an error by the contract, but never a 5xx or a crash; if accepted, stored exactly
        conv = self.server.start_conversation("en")
        for text in ("\U0001F600 emoji ăâîșț ção", "line1\nline2\ttab", "nul\u0000inside", "\ud800 lone",
                     "\u00a0", "\u200b", " \t\n "):
            st, _, b = self.post_msg(raw=json.dumps({"text": text}).encode(), conv=conv)
            self.assertIn(st, (200, 400), "text %r -> %s %r" % (text, st, b))
            if st == 400:
                check_error(self, (st, {}, b), 400)
            elif "\ud800" not in text and text.strip():
                stored = [m["text"] for m in self.server.transcript(conv)["messages"] if m["direction"] == "in"]
                self.assertEqual(stored[-1], text, "text %r not stored exactly" % text)
        self.server.send(conv, "still fine?")

    # -- sizes
    def test_body_over_max_body_413(self):
        big = json.dumps({"text": "supercalifragilistic" * 5200}).encode()  # ~104 KB, one word
        self.assertGreater(len(big), 100 * 1024)
        st, h, b = self.server.raw_request(
            b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (self.msg_path().encode(), self.conv["token"].encode(),
                                                                  len(big)) + big, timeout=5)
        self.assertIsNotNone(st, "100 KB body: the server closed the connection without a 413 response")
        check_error(self, (st, h, b), 413, "100 KB body")
        # and through http.client as well
        try:
            check_error(self, self.post_msg(raw=big), 413, "100 KB body (http.client)")
        except (ConnectionError, OSError) as e:
            self.fail("100 KB body (http.client): connection error instead of 413: %r" % e)

    def test_chunked_body_over_max_body_413(self):
        big = json.dumps({"text": "word" * 30000}).encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 8192]), big[i:i + 8192]) for i in range(0, len(big), 8192))
        st, h, b = self.server.raw_request(
            b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % (self.msg_path().encode(), self.conv["token"].encode())
            + chunks + b"0\r\n\r\n", timeout=5)
        self.assertIsNotNone(st, "chunked 120 KB body: closed without a response")
        check_error(self, (st, h, b), 413, "chunked 120 KB body")

    def test_content_length_over_max_body_rejected_without_body(self):
        # Content-Length says 10 MB; only a few bytes follow. The answer must not wait for the body.
        with HTTPStream(self.server.port, timeout=5) as c:
            c.send(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
                   b"Content-Length: 10000000\r\n\r\n{\"text\":" % (self.msg_path().encode(), self.conv["token"].encode()))
            t0 = time.monotonic()
            try:
                st, h, b = c.response(timeout=5)
            except socket.timeout:
                self.fail("no answer within 5 s to a 10 MB Content-Length (expected 413 right away)")
            self.assertIsNotNone(st, "connection closed without a response")
            check_error(self, (st, h, b), 413, "Content-Length 10 MB")
            self.assertLess(time.monotonic() - t0, 5)

    def test_seven_kb_one_word(self):
        conv = self.server.start_conversation("en")
        body = self.server.send(conv, "x" * 7000)
        check_send_shape(self, body)
        self.assertTrue(body["replies"], body)
        conv = self.server.start_conversation("en")
        text = ("tracking " * 800)[:7100]
        body = self.server.send(conv, text)
        check_send_shape(self, body)
        self.assertTrue(body["replies"], body)
        tr = self.server.transcript(conv)
        self.assertEqual(tr["messages"][0]["text"], text)

    def test_text_over_max_text(self):
        conv = self.server.start_conversation("en")
        st, _, b = self.post_msg(body={"text": "y" * 9000}, conv=conv)
        self.assertIn(st, (200, 400, 413), b)
        if st != 200:
            check_error(self, (st, {}, b), (400, 413))

    # -- FTS5 / SQL syntax in text
    def test_fts_syntax_in_text(self):
        s = self.server
        for text in FTS_NASTY:
            conv = s.start_conversation("en")
            st, _, b = s.send(conv, text, expect=None)
            self.assertEqual(st, 200, "text %r -> %s %r" % (text, st, b))
            check_send_shape(self, b)
            # words that match no article are out of scope: a hand-off is a fine answer too
            self.assertIn(b["status"], ("bot", "queued"), "text %r: %r" % (text, b))
            self.assertTrue(b["replies"], "text %r: first message got no reply" % text)
            self.assertEqual(s.transcript(conv)["messages"][0]["text"], text)
        # a real question still finds its article afterwards
        conv = s.start_conversation("en")
        b = s.send(conv, "how can I track my order?")
        self.assertTrue(any(l["url"].endswith("/help/en/track-order") for r in b["replies"] for l in r["links"]), b)

    # -- auth and ids
    def test_missing_token_401(self):
        s = self.server
        for method, suffix in (("POST", "/messages"), ("GET", "/messages")):
            path = s.conv_path(self.conv, suffix)
            body = {"text": "hi"} if method == "POST" else None
            check_error(self, s.request(method, path, body=body), 401, "%s %s without token" % (method, path))
        c = s.sse(self.conv, token="")
        try:
            check_error(self, (c.status, c.headers, c.error_body()), 401, "events without token")
        finally:
            c.close()
        for auth in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token abc"):
            st, h, b = s.request("GET", s.conv_path(self.conv, "/messages"), headers={"Authorization": auth})
            check_error(self, (st, h, b), (401, 403), "Authorization: %r" % auth)

    def test_wrong_token_403(self):
        s = self.server
        a, b = s.start_conversation("en"), s.start_conversation("en")
        bad = ("x" if a["token"][:1] != "x" else "y") + a["token"][1:]
        for tok in (bad, b["token"], "nope", a["token"] + "a"):
            check_error(self, self.post_msg(body={"text": "hi"}, conv=a, token=tok), (403, 404),
                        "POST with token %r" % tok)
            check_error(self, s.request("GET", s.conv_path(a, "/messages"), token=tok), (403, 404),
                        "GET with token %r" % tok)
            for auth in ("header", "query"):
                c = s.sse(a, token=tok, auth=auth)
                try:
                    check_error(self, (c.status, c.headers, c.error_body()), (403, 404), "events token %r" % tok)
                finally:
                    c.close()
        # the rejected requests stored nothing in either conversation
        self.assertEqual(s.transcript(a)["messages"], [])
        self.assertEqual(s.transcript(b)["messages"], [])

    def test_unknown_conversation_404(self):
        s = self.server
        for cid in ("does-not-exist", "0", "99999999", "%00", "..", "a" * 300):
            conv = {"id": cid, "token": self.conv["token"]}
            check_error(self, s.request("POST", s.conv_path(conv, "/messages"), body={"text": "hi"},
                                        token=self.conv["token"]), (403, 404), "POST unknown conv %r" % cid[:20])
            check_error(self, s.request("GET", s.conv_path(conv, "/messages"), token=self.conv["token"]),
                        (403, 404), "GET unknown conv %r" % cid[:20])
        # a URL longer than the server accepts: 404 or 414, never a crash
        conv = {"id": "b" * 5000, "token": self.conv["token"]}
        check_error(self, s.request("GET", s.conv_path(conv, "/messages"), token=self.conv["token"]), (404, 414),
                    "GET conversation with a 5000-byte id")
        conv = {"id": "does-not-exist", "token": self.conv["token"]}
        check_error(self, s.request("GET", s.conv_path(conv, "/messages"), token="whatever"), 404,
                    "GET unknown conversation")
        c = s.sse(conv, token="whatever")
        try:
            check_error(self, (c.status, c.headers, c.error_body()), 404, "events of unknown conversation")
        finally:
            c.close()

    def test_bad_last_event_id(self):
        s = self.server
        for lei in ("abc", "-1", "1.5", "99999999999999999999999", " ", "1; DROP"):
            for how in ("header", "query"):
                c = s.sse(self.conv, last_event_id=lei, lei=how)
                try:
                    self.assertIsNotNone(c.status, "Last-Event-ID %r (%s): no answer" % (lei, how))
                    self.assertLess(c.status, 500, "Last-Event-ID %r (%s)" % (lei, how))
                    if c.status != 200:
                        check_error(self, (c.status, c.headers, c.error_body()), 400, "Last-Event-ID %r" % lei)
                finally:
                    c.close()

    def test_keep_alive_connection(self):
        # browsers reuse connections: several requests on one connection all get their answers
        s = self.server
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        try:
            conn.request("POST", "/api/v1/conversations", body=b'{"locale":"en"}',
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            conv = json.loads(r.read())
            self.assertEqual(r.status, 201)
            for text in ("hi", "how can I track my order?"):
                conn.request("POST", s.conv_path(conv, "/messages"), body=json.dumps({"text": text}).encode(),
                             headers={"Content-Type": "application/json", "Authorization": "Bearer " + conv["token"]})
                r = conn.getresponse()
                self.assertEqual(r.status, 200)
                check_send_shape(self, json.loads(r.read()))
            conn.request("POST", s.conv_path(conv, "/messages"), body=b"{bad json",
                         headers={"Content-Type": "application/json", "Authorization": "Bearer " + conv["token"]})
            r = conn.getresponse()
            self.assertEqual(r.status, 400)
            r.read()
            conn.request("GET", s.conv_path(conv, "/messages"), headers={"Authorization": "Bearer " + conv["token"]})
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(len(json.loads(r.read())["messages"]), 4)
        finally:
            conn.close()

    # -- routing
    def test_unknown_route_404(self):
        s = self.server
        for method, path in (("GET", "/nope"), ("GET", "/api/v1/nope"), ("POST", "/api/v2/conversations"),
                             ("GET", "/api/v1/conversations/"), ("GET", "/api/v1/conversations//messages"),
                             ("GET", s.conv_path(self.conv, "/nope")),
                             ("GET", s.conv_path(self.conv, "/messages/")),
                             ("POST", s.conv_path(self.conv, "/messages/1/2/3")),
                             ("GET", "/api/v1/conversations/" + self.conv["id"] + "/messages/extra/" + "z" * 200)):
            body = {} if method == "POST" else None
            check_error(self, s.request(method, path, body=body, token=self.conv["token"]), 404,
                        "%s %s" % (method, path[:80]))
        long_path = "/api/v1/conversations/" + self.conv["id"] + "/messages/extra/" + "z" * 3000
        check_error(self, s.request("GET", long_path, token=self.conv["token"]), (404, 414), "GET 3 KB path")

    def test_wrong_method_405(self):
        s = self.server
        for method, path in (("PUT", "/api/v1/conversations"), ("DELETE", "/api/v1/conversations"),
                             ("PUT", s.conv_path(self.conv, "/messages")),
                             ("PATCH", s.conv_path(self.conv, "/messages")),
                             ("POST", "/healthz"), ("DELETE", "/healthz"),
                             ("POST", s.conv_path(self.conv, "/events"))):
            check_error(self, s.request(method, path, body={}, token=self.conv["token"]), 405,
                        "%s %s" % (method, path))

    # -- protocol abuse
    def test_short_body_does_not_hang(self):
        s = self.server
        head = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n"
                b"Content-Length: 1000\r\n\r\n" % (self.msg_path().encode(), self.conv["token"].encode()))
        stalled = HTTPStream(s.port, timeout=5)
        try:
            stalled.send(head + b'{"text":"hi"}')
            # other clients are served while that request waits for its body
            t0 = time.monotonic()
            st, _, b = s.healthz()
            self.assertEqual(st, 200)
            body = s.send(self.other, "hi while another request is stalled")
            self.assertTrue(body["replies"])
            self.assertLess(time.monotonic() - t0, 3, "server blocked by a request with a short body")
        finally:
            stalled.close()
        # a short body followed by end-of-stream gets an answer (or a close), promptly
        with HTTPStream(s.port, timeout=5) as c:
            c.send(head + b'{"text":"hi"}')
            time.sleep(0.1)  # see Server.raw_request
            c.shutdown_write()
            try:
                st, h, b = c.response(timeout=5)
            except socket.timeout:
                self.fail("no answer or close within 5 s after a short body and end of stream")
            if st is not None:
                check_error(self, (st, h, b), (400, 408, 413), "short body then EOF")

    def test_idle_connections_do_not_block(self):
        s = self.server
        idle = []
        try:
            for _ in range(24):
                c = HTTPStream(s.port, timeout=5)
                idle.append(c)
            for c in idle[:12]:
                c.send(b"GET /healthz HTTP/1.1\r\nHo")  # half a request line
            t0 = time.monotonic()
            st, _, _ = s.healthz()
            self.assertEqual(st, 200)
            self.assertLess(time.monotonic() - t0, 3, "server blocked by idle connections")
        finally:
            for c in idle:
                c.close()

    def test_header_abuse(self):
        s = self.server
        cases = [
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(500)) + b"\r\n",
            b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"10\r\n{\"locale\":\"en\"} \r\n0\r\n\r\n",
            b"GARBAGE\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS ClientHello
        ]
        for raw in cases:
            try:
                st, h, b = s.raw_request(raw, timeout=5, shutdown_write=True)
            except socket.timeout:
                self.fail("no answer or close within 5 s to %r" % raw[:60])
            if st is not None:
                self.assertTrue(200 <= st < 500, "%r -> %s %r" % (raw[:60], st, b))
        self.assertEqual(s.healthz()[0], 200)

    # -- HTTP framing and the request head (issue 14, "HTTP parsing")
    def read_to_close(self, c, what):
        """Reads what the server sends until it closes (it must, within 5 s)."""
        try:
            while not c.eof:
                c.fill(time.monotonic() + 5)
        except socket.timeout:
            self.fail("%s: the connection stayed open after a refused head" % what)
        return c.buf + c.body

    def test_two_content_lengths_400_and_close(self):
        """Regression: the first Content-Length won and the rest of the body was read as a second
        request (request smuggling behind a proxy that took the other one)."""
        body = b'{"locale":"en"}'
        smuggled = b"GET /api/v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        cases = [
            (b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(body), len(body) + len(smuggled)), "two values", True),
            (b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body), "with Transfer-Encoding", True),
            # a comma list never reaches our handler: libmicrohttpd 0.9.75 refuses it itself, in HTML
            (b"Content-Length: %d, %d\r\n" % (len(body), len(body) + len(smuggled)), "a list", False),
        ]
        for framing, what, ours in cases:
            with HTTPStream(self.server.port) as c:
                c.send(b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       + framing + b"\r\n" + body + smuggled)
                st, h, b = c.response(timeout=5)
                if ours:
                    check_error(self, (st, h, b), 400, "Content-Length %s" % what)
                else:
                    self.assertEqual(st, 400, "Content-Length %s -> %s %r" % (what, st, b))
                rest = self.read_to_close(c, what)
                for answer in (b" 201 ", b" 404 ", b"not_found"):
                    self.assertNotIn(answer, rest, "%s: the smuggled request was answered: %r" % (what, rest[:300]))

    def test_encoded_nul_in_path_400(self):
        """Regression: /static/help/help.css%00.png served the CSS (the path was cut at the NUL)."""
        st, h, b = self.server.get("/static/help/help.css")
        self.assertEqual(st, 200, "the stylesheet itself: %s" % st)
        for path in ("/static/help/help.css%00.png", "/healthz%00", "/api/v1/conversations/x%00y/messages",
                     "/static/help/help.css%0a.png"):
            check_error(self, self.server.get(path), 400, "GET %s" % path)

    def test_long_uri_and_big_head_answer_json(self):
        """414 and 431 came as libmicrohttpd's HTML; ours come first, as JSON."""
        cases = [
            (b"GET /healthz?q=" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "6 KB query"),
            (b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "3 KB path"),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 12000 + b"\r\n\r\n", 431, "12 KB header"),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n",
             431, "150 header lines"),
        ]
        for raw, want, what in cases:
            st, h, b = self.server.raw_request(raw, timeout=5, shutdown_write=True)
            check_error(self, (st, h, b), want, what)
            self.assertIn("application/json", h.get("content-type", ""), "%s: %r" % (what, h))

    # -- after everything (runs last: methods run in name order)
    def test_zz_still_healthy_no_5xx(self):
        s = self.server
        self.assertTrue(s.alive(), "server process died")
        st, _, b = s.healthz()
        self.assertEqual((st, b), (200, {"status": "ok"}))
        bad = [x for x in s.statuses if x[2] is not None and x[2] >= 500]
        self.assertEqual(bad, [], "5xx answers during the run")
        body = s.send(s.start_conversation("en"), "how can I track my order?")
        self.assertEqual(body["status"], "bot")


class ConfiguredLimitsTests(harness.ServerTestCase):
    server_config = {"max_body": 4096, "max_text": 200}

    def test_limits_from_config(self):
        s = self.server
        conv = s.start_conversation("en")
        body = s.send(conv, "t" * 190)
        check_send_shape(self, body)
        st, h, b = s.send(conv, "t" * 300, expect=None)
        check_error(self, (st, h, b), (400, 413), "text over max_text 200")
        st, h, b = s.send(conv, "t" * 5000, expect=None)
        check_error(self, (st, h, b), 413, "body over max_body 4096")
        self.assertEqual(len(s.transcript(conv)["messages"]), 1 + len(body["replies"]))


if __name__ == "__main__":
    harness.main()
