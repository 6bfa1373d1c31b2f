#!/usr/bin/env python3
"""Security headers: X-Content-Type-Options: nosniff and a Referrer-Policy on every response
(JSON, HTML, text, errors, 404s, the event stream); on HTML pages a Content-Security-Policy with
frame-ancestors and no 'unsafe-inline' for scripts."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_error  # noqa: E402

PW = "correct horse battery"
REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin",
                     "origin", "origin-when-cross-origin", "no-referrer-when-downgrade"}


def csp_directives(value):
    """'default-src 'self'; script-src 'self'' -> {'default-src': ["'self'"], 'script-src': ["'self'"]}"""
    out = {}
    for part in (value or "").split(";"):
        words = part.split()
        if words:
            out.setdefault(words[0].lower(), words[1:])
    return out


class HeaderTests(harness.ServerTestCase):
    server_users = [{"email": "admin@e2e.test", "password": PW, "roles": ["admin"]},
                    {"email": "agent@e2e.test", "password": PW, "roles": ["agent"]}]

    def check_common(self, what, headers):
        self.assertEqual(headers.get("x-content-type-options", "").strip().lower(), "nosniff",
                         "%s: X-Content-Type-Options: %r" % (what, headers.get("x-content-type-options")))
        rp = headers.get("referrer-policy")
        self.assertIsNotNone(rp, "%s: no Referrer-Policy (headers %r)" % (what, headers))
        # several comma-separated values are allowed; the last one the browser knows wins
        values = [v.strip().lower() for v in rp.split(",") if v.strip()]
        self.assertTrue(values and all(v in REFERRER_POLICIES for v in values),
                        "%s: Referrer-Policy %r" % (what, rp))

    def check_html(self, what, headers):
        self.check_common(what, headers)
        self.assertIn("text/html", headers.get("content-type", ""), "%s is not HTML: %r" % (what, headers))
        csp = headers.get("content-security-policy")
        self.assertIsNotNone(csp, "%s: no Content-Security-Policy" % what)
        d = csp_directives(csp)
        self.assertIn("frame-ancestors", d, "%s: CSP without frame-ancestors: %r" % (what, csp))
        self.assertNotIn("*", d["frame-ancestors"], "%s: frame-ancestors allows everyone: %r" % (what, csp))
        script = d.get("script-src", d.get("default-src"))
        self.assertIsNotNone(script, "%s: CSP restricts no scripts (no script-src, no default-src): %r" % (what, csp))
        self.assertNotIn("'unsafe-inline'", [w.lower() for w in script], "%s: scripts allow 'unsafe-inline': %r" % (what, csp))
        self.assertNotIn("*", script, "%s: scripts from anywhere: %r" % (what, csp))

    def test_json_responses(self):
        s = self.server
        conv = s.start_conversation("en")
        admin = s.login("admin@e2e.test", PW)
        agent = s.login("agent@e2e.test", PW)
        cases = [
            ("GET /healthz", lambda: s.get("/healthz"), 200),
            ("POST conversations", lambda: s.request("POST", "/api/v1/conversations", {"locale": "en"}), 201),
            ("POST messages", lambda: s.request("POST", s.conv_path(conv, "/messages"), {"text": "hi"}, token=conv["token"]), 200),
            ("GET messages", lambda: s.request("GET", s.conv_path(conv, "/messages"), token=conv["token"]), 200),
            ("GET messages, no token", lambda: s.request("GET", s.conv_path(conv, "/messages")), 401),
            ("POST messages, bad JSON", lambda: s.request("POST", s.conv_path(conv, "/messages"), raw=b"{x", token=conv["token"]), 400),
            ("POST login ok", lambda: s.request("POST", "/api/v1/auth/login", {"email": "agent@e2e.test", "password": PW}), 200),
            ("POST login wrong", lambda: s.request("POST", "/api/v1/auth/login", {"email": "agent@e2e.test", "password": "nope nope"}), 401),
            ("GET me, anonymous", lambda: s.get("/api/v1/auth/me"), 401),
            ("GET me, cookie", lambda: agent.get("/api/v1/auth/me"), 200),
            ("GET admin users", lambda: admin.get("/api/v1/admin/users"), 200),
            ("GET admin users as agent", lambda: agent.get("/api/v1/admin/users"), 403),
            ("POST admin tokens, no CSRF", lambda: admin.request("POST", "/api/v1/admin/tokens", {"name": "x", "role": "agent"}, csrf=False), 403),
            ("GET unknown API path", lambda: s.get("/api/v1/nothing-here"), 404),
            ("GET unknown conversation", lambda: s.get("/api/v1/conversations/nope/messages", token=conv["token"]), None),
            ("DELETE conversations", lambda: s.request("DELETE", "/api/v1/conversations"), None),
        ]
        for what, call, want in cases:
            st, h, b = call()
            if want is not None:
                self.assertEqual(st, want, "%s -> %s %r" % (what, st, b))
            self.check_common("%s (%s)" % (what, st), h)

    def test_html_pages(self):
        s = self.server
        for path in ("/", "/help/en/track-order", "/help/pt-BR/track-order"):
            st, h, b = s.get(path)
            self.assertEqual(st, 200, "GET %s -> %s" % (path, st))
            self.check_html("GET %s" % path, h)

    def test_not_found(self):
        s = self.server
        for path in ("/nope", "/help/en/no-such-article", "/static/../../etc/passwd", "/api/v1"):
            st, h, b = s.get(path)
            self.assertTrue(400 <= st < 500, "GET %s -> %s" % (path, st))
            self.check_common("GET %s (%s)" % (path, st), h)
            if "text/html" in h.get("content-type", ""):
                self.check_html("GET %s (%s)" % (path, st), h)

    def test_other_responses(self):
        s = self.server
        st, h, b = s.get("/metrics")
        self.assertEqual(st, 200)
        self.check_common("GET /metrics", h)
        conv = s.start_conversation("en")
        c = s.sse(conv)
        try:
            self.assertEqual(c.status, 200, c.headers)
            self.check_common("GET events (stream)", c.headers)
        finally:
            c.close()
        c = s.sse(conv, token="wrong")
        try:
            self.check_common("GET events, wrong token (%s)" % c.status, c.headers)
        finally:
            c.close()


METRICS_TOKEN = "e2e-metrics-token-0123456789abcdef"


class HstsTests(harness.ServerTestCase):
    """Strict-Transport-Security goes out when the request came over HTTPS through a trusted
    proxy (trust_proxy, the peer in trusted_proxies, X-Forwarded-Proto: https), and only then:
    over plain HTTP it would pin a site that may not have TLS at all."""
    server_config = {"trust_proxy": 1}

    def test_hsts_over_https_from_a_trusted_proxy(self):
        s = self.server
        for path in ("/healthz", "/", "/nope"):
            st, h, b = s.get(path, headers={"X-Forwarded-Proto": "https"})
            sts = h.get("strict-transport-security", "")
            self.assertRegex(sts, r"^max-age=[1-9][0-9]*", "GET %s via HTTPS (%s): %r" % (path, st, h))
        # the nearest proxy's value counts, not what the client wrote to its left
        st, h, b = s.get("/healthz", headers={"X-Forwarded-Proto": "https, http"})
        self.assertNotIn("strict-transport-security", h, "last X-Forwarded-Proto is http")

    def test_no_hsts_over_http(self):
        s = self.server
        for headers in ({}, {"X-Forwarded-Proto": "http"}):
            st, h, b = s.get("/healthz", headers=headers)
            self.assertNotIn("strict-transport-security", h, "GET /healthz with %r: %r" % (headers, h))


class HstsUntrustedTests(harness.ServerTestCase):
    """The peer (127.0.0.1) is not a trusted proxy: its X-Forwarded-Proto is the client's word."""
    server_config = {"trust_proxy": 1, "trusted_proxies": "192.0.2.1"}

    def test_no_hsts_from_an_untrusted_peer(self):
        st, h, b = self.server.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        self.assertNotIn("strict-transport-security", h, h)


class MetricsLoopbackTests(harness.ServerTestCase):
    """Default metrics_access (auto) without a token: loopback clients only. Behind a proxy on
    this machine, the client is the forwarded address, so the world does not become local."""
    server_config = {"trust_proxy": 1}

    def test_metrics_loopback_only(self):
        s = self.server
        st, h, b = s.get("/metrics")
        self.assertEqual(st, 200, b)
        self.assertIn("switchboard_http_requests_total", b)
        resp = s.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        check_error(self, resp, 403, "GET /metrics from 203.0.113.5 through a proxy on loopback")
        resp = s.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5", "Authorization": "Bearer " + METRICS_TOKEN})
        check_error(self, resp, 403, "a token means nothing when none is configured")


class MetricsTokenTests(harness.ServerTestCase):
    """metrics_token set: GET /metrics wants it as a Bearer token, from everyone, loopback too;
    the token never appears in the log."""
    server_config = {"metrics_token": METRICS_TOKEN}

    def test_metrics_needs_the_token(self):
        s = self.server
        for what, headers in (("no token", {}), ("wrong token", {"Authorization": "Bearer " + METRICS_TOKEN[:-1] + "x"}),
                              ("a prefix", {"Authorization": "Bearer " + METRICS_TOKEN[:8]}),
                              ("not Bearer", {"Authorization": "Basic " + METRICS_TOKEN})):
            check_error(self, s.get("/metrics", headers=headers), 401, "GET /metrics, %s" % what)
        st, h, b = s.get("/metrics", headers={"Authorization": "Bearer " + METRICS_TOKEN})
        self.assertEqual(st, 200, b)
        self.assertIn("switchboard_http_requests_total", b)
        self.assertNotIn(METRICS_TOKEN[:12], s.log_text(limit=10 ** 7), "the metrics token is in the server log")

    def test_short_token_refused_at_start(self):
        bad = harness.Server(config={"metrics_token": "short"}, import_kb=False)
        try:
            with self.assertRaises(RuntimeError) as cm:
                bad.start()
            self.assertIn("metrics_token", str(cm.exception))
        finally:
            bad.cleanup()

if __name__ == "__main__":
    harness.main()
