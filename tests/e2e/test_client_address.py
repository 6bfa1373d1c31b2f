#!/usr/bin/env python3
"""The client's address behind a proxy (issue 14, "Client address"). With trust_proxy on, only
what the trusted proxies appended to X-Forwarded-For counts: the client is the right-most entry
that is not one of trusted_proxies (default loopback), and only when the direct peer is itself a
trusted proxy. Regression: the left-most entry, which the client writes, was taken as its
address, so 25 failed logins with rotating forged addresses were never locked out and the audit
log recorded the forged addresses.

The tests talk from 127.0.0.1, a trusted proxy by default: each request plays a proxy that
appends the real client (198.51.100.x) after whatever the client sent."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HTTPStream, check_error  # noqa: E402

PW = "correct horse battery"
CONV = "/api/v1/conversations"


def error_code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None


def forged(i):
    """What an attacker writes into X-Forwarded-For: a different made-up address every time."""
    return "10.%d.%d.%d" % (i // 65536 % 256, i // 256 % 256, i % 256)


class AddressTestCase(harness.ServerTestCase):
    server_users = [{"email": "admin@e2e.test", "password": PW, "roles": ["admin"]}]

    def login_status(self, email, xff=None, headers=None):
        h = dict(headers or {})
        if xff is not None:
            h["X-Forwarded-For"] = xff
        st, hd, b = self.server.login(email, "wrong password here", headers=h, expect=None)
        check_error(self, (st, hd, b), (401, 429), "login %s via X-Forwarded-For %r" % (email, xff))
        return st

    def audit_ips(self, action="auth.login_failed"):
        admin = self.server.login("admin@e2e.test", PW)
        st, _, b = admin.get("/api/v1/admin/audit?limit=500")
        self.assertEqual(st, 200, b)
        return [e.get("ip") for e in b["entries"] if e.get("action") == action]


class ForgedForwardedForTests(AddressTestCase):
    server_config = {"trust_proxy": 1, "login_ip_max_failures": 5, "login_max_failures": 1000,
                     "login_lockout_s": 600, "rate_ip_per_s": 0.01, "rate_ip_burst": 3}

    def test_forged_leftmost_entries_are_locked_out(self):
        statuses = []
        for i in range(25):
            statuses.append(self.login_status("nobody%d@e2e.test" % i, xff="%s, 198.51.100.7" % forged(i)))
        self.assertEqual(statuses[:5], [401] * 5, statuses)
        self.assertEqual(statuses[5:], [429] * 20,
                         "25 failed logins from 198.51.100.7 behind forged left-most entries were not "
                         "locked out after login_ip_max_failures (5): %s" % statuses)
        # another client behind the same proxy has its own count
        self.assertEqual(self.login_status("nobody@e2e.test", xff="%s, 198.51.100.8" % forged(99)), 401)
        ips = self.audit_ips()
        self.assertTrue(ips, "no auth.login_failed in the audit log")
        self.assertEqual(ips.count("198.51.100.7"), 5, ips)
        self.assertIn("198.51.100.8", ips)
        self.assertEqual([ip for ip in ips if ip.startswith("10.")], [],
                         "the audit log must show the address the proxy saw, not the forged ones: %r" % ips)

    def test_forged_leftmost_entries_share_the_rate_limit(self):
        statuses = [self.server.request("POST", CONV, {"locale": "en"},
                                        headers={"X-Forwarded-For": "%s, 198.51.100.20" % forged(1000 + i)})[0]
                    for i in range(8)]
        self.assertEqual(statuses[:3], [201] * 3, statuses)
        self.assertIn(429, statuses, "rotating forged left-most entries escaped the per-IP rate limit "
                                     "(burst 3): %s" % statuses)

    def test_chain_of_trusted_proxies(self):
        # client -> edge proxy (appends 198.51.100.30) -> a second, trusted, proxy on 127.0.0.5
        self.login_status("chain@e2e.test", xff="6.6.6.6, 198.51.100.30, 127.0.0.5")
        # a proxy that adds its own header line (HAProxy) instead of extending the client's
        with HTTPStream(self.server.port) as c:
            body = b'{"email":"lines@e2e.test","password":"wrong password here"}'
            c.send(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"X-Forwarded-For: 6.6.6.7\r\nX-Forwarded-For: 198.51.100.31\r\n"
                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            st, h, b = c.response()
            check_error(self, (st, h, b), 401, "login with two X-Forwarded-For lines")
        ips = self.audit_ips()
        self.assertIn("198.51.100.30", ips)
        self.assertIn("198.51.100.31", ips)
        self.assertNotIn("6.6.6.6", ips)
        self.assertNotIn("6.6.6.7", ips)
        self.assertNotIn("127.0.0.5", ips)


class UntrustedPeerTests(AddressTestCase):
    """trust_proxy on, but the peer (127.0.0.1) is not one of trusted_proxies: X-Forwarded-For
    is the client's own writing and changes nothing."""
    server_config = {"trust_proxy": 1, "trusted_proxies": "192.0.2.1, 2001:db8::/32",
                     "login_ip_max_failures": 3, "login_max_failures": 1000, "login_lockout_s": 600}
    server_users = []

    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self):
        statuses = [self.login_status("who%d@e2e.test" % i, xff="198.51.100.%d" % i) for i in range(5)]
        self.assertEqual(statuses, [401, 401, 401, 429, 429],
                         "X-Forwarded-For from a peer outside trusted_proxies gave fresh addresses: %s" % statuses)


class BadTrustedProxiesTests(harness.SwitchboardTestCase):
    def test_bad_trusted_proxies_refused_at_start(self):
        for bad in ("not-an-address", "10.0.0.0/33", "::1/129", "10.0.0.1/x"):
            s = harness.Server(config={"trust_proxy": 1, "trusted_proxies": bad}, import_kb=False)
            try:
                with self.assertRaises(RuntimeError, msg="trusted_proxies %r was accepted" % bad) as cm:
                    s.start()
                self.assertIn("trusted_proxies", str(cm.exception))
            finally:
                s.cleanup()


if __name__ == "__main__":
    harness.main()
