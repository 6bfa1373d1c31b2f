#!/usr/bin/env python3
"""Customer API rate limits: token buckets per conversation token (rate_visitor_per_s /
rate_visitor_burst) and per client IP (rate_ip_per_s / rate_ip_burst) on POST /api/v1/conversations
and POST .../messages. Over the limit: 429 rate_limited with an integer Retry-After >= 1, nothing
is stored, and after waiting Retry-After seconds requests pass again.

The other e2e files run with the limits lifted (harness.TEST_CONFIG_DEFAULTS); this file sets
small ones, and one class runs with the server's defaults (5/s, burst 30 per visitor; 50/s,
burst 500 per IP): 25 back-to-back messages from one visitor are inside the default burst and
must all pass."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_error, check_send_shape, retry_after  # noqa: E402

CONV = "/api/v1/conversations"


def error_code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None


PW = "correct horse battery"


class RateTestCase(harness.ServerTestCase):
    """What is stored is read through the agent API (a staff route), so checking the transcript
    does not itself draw from the customer buckets. A supervisor reads it: these conversations
    stay with the bot, and an agent sees only their teams' (docs/agents.md)."""
    server_users = [{"email": "agent@e2e.test", "password": PW, "roles": ["supervisor"]}]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = cls.server.login("agent@e2e.test", PW)

    def check_429(self, resp, what):
        st, h, b = resp
        check_error(self, resp, 429, what)
        self.assertEqual(error_code(b), "rate_limited", "%s: %r" % (what, b))
        ra = retry_after(h)
        self.assertIsNotNone(ra, "%s: 429 without an integer Retry-After (headers %r)" % (what, h))
        self.assertTrue(1 <= ra <= 60, "%s: Retry-After %r" % (what, h.get("retry-after")))
        return ra

    def create(self, headers=None):
        return self.server.request("POST", CONV, {"locale": "en"}, headers=headers)

    def inbound_client_ids(self, conv):
        path = "/api/v1/agent/conversations/%s" % conv["id"]
        st, _, b = self.agent.get(path)
        self.assertEqual(st, 200, "GET %s as an agent -> %s %r" % (path, st, b))
        return [m.get("client_id") for m in b["messages"] if m["direction"] == "in"]


class VisitorLimitTests(RateTestCase):
    server_config = {"rate_visitor_per_s": 1, "rate_visitor_burst": 3}

    def test_visitor_burst(self):
        s = self.server
        conv = s.start_conversation("en")
        t0 = time.monotonic()
        results = []
        for i in range(8):
            results.append(("m%d" % i, s.send(conv, "message number %d" % i, client_id="m%d" % i, expect=None)))
        elapsed = time.monotonic() - t0
        statuses = [(cid, r[0]) for cid, r in results]
        self.assertEqual([st for _, st in statuses[:3]], [200, 200, 200],
                         "the first rate_visitor_burst (3) messages must pass: %s" % statuses)
        limited = [(cid, r) for cid, r in results if r[0] == 429]
        passed = [cid for cid, r in results if r[0] == 200]
        # The bucket refills with time: 8 messages must meet a refusal only if they came faster
        # than 3 + 1/s allows (a busy machine may take longer, and then nothing is to be refused).
        if not limited and elapsed >= 8 - 3 - 1:
            self.skipTest("8 messages took %.2f s: the bucket refilled as fast, nothing to refuse" % elapsed)
        self.assertTrue(limited, "8 messages in %.2f s with burst 3, 1/s: none was refused: %s" % (elapsed, statuses))
        self.assertLessEqual(len(passed), 3 + int(elapsed * 1) + 1,
                             "more messages passed than the bucket allows in %.2f s: %s" % (elapsed, statuses))
        self.assertEqual(len(passed) + len(limited), 8, "only 200 or 429 expected: %s" % statuses)
        ra = None
        for cid, r in limited:
            ra = self.check_429(r, "POST messages %s over the visitor limit" % cid)
        # nothing of a refused message is stored
        self.assertEqual(self.inbound_client_ids(conv), passed, "stored customer messages vs the ones answered 200")
        # another visitor from the same IP has its own bucket
        other = s.start_conversation("en")
        check_send_shape(self, s.send(other, "hello, I am somebody else"))
        # after Retry-After the refused message goes through, once
        time.sleep(ra + 0.2)
        cid = limited[-1][0]
        body = s.send(conv, "message again", client_id=cid)
        check_send_shape(self, body)
        self.assertFalse(body["duplicate"], "a message refused with 429 was stored: %r" % body)
        self.assertEqual(self.inbound_client_ids(conv), passed + [cid])


class IpLimitTests(RateTestCase):
    server_config = {"rate_ip_per_s": 2, "rate_ip_burst": 5}

    def test_ip_burst(self):
        s = self.server
        t0 = time.monotonic()
        results = [self.create() for _ in range(10)]
        elapsed = time.monotonic() - t0
        statuses = [r[0] for r in results]
        self.assertEqual(statuses[:5], [201] * 5, "the first rate_ip_burst (5) conversations must start: %s" % statuses)
        if 429 not in statuses and elapsed >= (10 - 5 - 1) / 2:
            self.skipTest("10 conversations took %.2f s: the bucket refilled as fast, nothing to refuse" % elapsed)
        self.assertIn(429, statuses, "10 conversations in %.2f s with burst 5, 2/s: none was refused" % elapsed)
        self.assertLessEqual(statuses.count(201), 5 + int(elapsed * 2) + 1, statuses)
        for r in results:
            if r[0] != 201:
                ra = self.check_429(r, "POST %s over the IP limit" % CONV)
        # without trust_proxy, X-Forwarded-For is not a way out
        r = self.create(headers={"X-Forwarded-For": "203.0.113.9"})
        ra = self.check_429(r, "POST %s with a made-up X-Forwarded-For (trust_proxy 0)" % CONV)
        time.sleep(ra + 0.2)
        st, _, conv = self.create()
        self.assertEqual(st, 201, "POST %s after Retry-After -> %s %r" % (CONV, st, conv))
        # messages draw from the same per-IP bucket
        results = []
        t0 = time.monotonic()
        for i in range(6):
            results.append(("ip%d" % i, s.send(conv, "ip message %d" % i, client_id="ip%d" % i, expect=None)))
        elapsed = time.monotonic() - t0
        statuses = [(cid, r[0]) for cid, r in results]
        limited = [(cid, r) for cid, r in results if r[0] == 429]
        passed = [cid for cid, r in results if r[0] == 200]
        if not limited and elapsed >= (6 - 1 - 1) / 2:
            self.skipTest("6 messages took %.2f s: the bucket refilled as fast, nothing to refuse" % elapsed)
        self.assertTrue(limited, "6 quick messages right after the IP bucket was drained all passed: %s" % statuses)
        self.assertEqual(len(passed) + len(limited), 6, statuses)
        for cid, r in limited:
            ra = self.check_429(r, "POST messages %s over the IP limit" % cid)
        self.assertEqual(self.inbound_client_ids(conv), passed, "stored customer messages vs the ones answered 200")
        time.sleep(ra + 0.2)
        cid = limited[0][0]
        body = s.send(conv, "once more", client_id=cid)
        self.assertFalse(body["duplicate"], "a message refused with 429 was stored: %r" % body)


class TrustedProxyLimitTests(RateTestCase):
    server_config = {"rate_ip_per_s": 1, "rate_ip_burst": 2, "trust_proxy": 1}

    def test_forwarded_for_is_the_client(self):
        a = {"X-Forwarded-For": "203.0.113.1"}
        t0 = time.monotonic()
        statuses = [self.create(headers=a)[0] for _ in range(4)]
        elapsed = time.monotonic() - t0
        self.assertEqual(statuses[:2], [201, 201], statuses)
        if 429 not in statuses and elapsed >= 4 - 2 - 1:
            self.skipTest("4 conversations took %.2f s: the bucket refilled as fast, nothing to refuse" % elapsed)
        self.assertIn(429, statuses, "client 203.0.113.1 was not limited: %s" % statuses)
        st, _, b = self.create(headers={"X-Forwarded-For": "203.0.113.2"})
        self.assertEqual(st, 201, "another client behind the trusted proxy -> %s %r" % (st, b))


class DefaultLimitTests(RateTestCase):
    # None drops the harness's lifted limits: the server's defaults apply.
    server_config = {"rate_visitor_per_s": None, "rate_visitor_burst": None,
                     "rate_ip_per_s": None, "rate_ip_burst": None}

    def test_default_visitor_burst(self):
        """Defaults: 5/s, burst 30 per visitor. 25 quick messages from one visitor all pass."""
        s = self.server
        conv = s.start_conversation("en")
        for i in range(25):
            st, h, b = s.send(conv, "quick message %d" % i, client_id="q%d" % i, expect=None)
            self.assertEqual(st, 200, "message %d of 25 with the default limits -> %s %r" % (i + 1, st, b))
        self.assertEqual(len(self.inbound_client_ids(conv)), 25)


if __name__ == "__main__":
    harness.main()
