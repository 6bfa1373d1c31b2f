#!/usr/bin/env python3
"""Live agents, time (docs/agents.md): SLA warnings and breaches as events and metrics on the
test clock, a closed team's "back at" message and routing when it opens, a timer that fell due
while the server was down firing at start."""

import datetime
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, advance, ask_human, clock_server, events  # noqa: E402

A = "/api/v1/agent"


def metric(server, name, kind):
    st, _, text = server.request("GET", "/metrics")
    assert st == 200
    if isinstance(text, bytes):
        text = text.decode()
    m = re.search(r'^%s\{kind="%s"\} (\d+)$' % (name, kind), text, re.M)
    return int(m.group(1)) if m else None


def closed_hours():
    """Open one hour a day, starting two hours from now (UTC): closed now."""
    now = datetime.datetime.now(datetime.timezone.utc)
    h = (now.hour + 2) % 24
    end = "%02d:00" % (h + 1) if h < 23 else "23:59"
    span = [["%02d:00" % h, end]]
    return {d: span for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, now


class SlaTests(harness.SwitchboardTestCase):

    @classmethod
    def setUpClass(cls):
        hours, cls.started = closed_hours()
        cls.server = clock_server(
            [{"email": "night@example.com", "teams": ["night"], "capacity": 5},
             {"email": "boss@example.com", "roles": ("admin",), "status": "offline"}],
            teams=[{"id": "night", "hours": hours, "timezone": "UTC",
                    "outside_hours": {"en": "Urgent? Call 555-0100."}}],
            rules=[(1, {"locale": "ro"}, "night", 0, [])])
        cls.server.start()
        cls.boss = cls.server.login("boss@example.com", PASSWORD)
        cls.night = cls.server.login("night@example.com", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_1_warning_then_breach(self):
        s = self.server
        w0 = metric(s, "switchboard_sla_warnings_total", "first_response")
        b0 = metric(s, "switchboard_sla_breaches_total", "first_response")
        self.assertEqual((w0, b0), (0, 0))
        conv = ask_human(s)  # default team, nobody online: it waits
        self.assertNotIn("sla/warning", [e["event"] for e in events(s, conv)])
        advance(s, self.boss, 4 * 60 + 1)  # 80% of 5 minutes
        evs = [e for e in events(s, conv) if e["event"].startswith("sla/")]
        self.assertEqual([(e["event"], e["data"]["kind"]) for e in evs], [("sla/warning", "first_response")])
        self.assertEqual(metric(s, "switchboard_sla_warnings_total", "first_response"), 1)
        advance(s, self.boss, 60)
        evs = [e for e in events(s, conv) if e["event"].startswith("sla/")]
        self.assertEqual([e["event"] for e in evs], ["sla/warning", "sla/breached"])
        self.assertEqual(metric(s, "switchboard_sla_breaches_total", "first_response"), 1)
        # once each
        advance(s, self.boss, 60)
        self.assertEqual(metric(s, "switchboard_sla_breaches_total", "first_response"), 1)
        st, _, d = self.boss.get("%s/conversations/%s" % (A, conv["id"]))
        fr = [x for x in d["sla"] if x["kind"] == "first_response"][0]
        self.assertEqual(fr["state"], "breached")
        st, _, b = self.boss.request("POST", "%s/conversations/%s/return-to-bot" % (A, conv["id"]))
        self.assertEqual(st, 200, b)

    def test_2_closed_team_back_at_then_routed_at_opening(self):
        s = self.server
        conv = s.start_conversation("ro")
        body = s.send(conv, "vreau un operator uman")
        self.assertEqual(body["status"], "queued", body)
        texts = [m["text"] for m in s.transcript(conv)["messages"]]
        back = [t for t in texts if "revine" in t]
        self.assertEqual(len(back), 1, texts)
        self.assertIn("(UTC)", back[0])
        self.assertIn("Urgent? Call 555-0100.", back[0], "the team's outside-hours text (en fallback)")
        # the agent is online but the team is closed: no offer
        st, _, b = self.night.request("PUT", A + "/me/status", {"status": "online"})
        self.assertEqual(st, 200, b)
        st, _, q = self.night.get(A + "/queue")
        self.assertEqual([c["offered_to"] for c in q["queue"] if c["id"] == conv["id"]], [None])
        # a minute after the team opens, the conversation is offered. The
        # clock is set to that instant: advancing a fixed two hours from
        # whatever minute the class started at overshot the one-hour window
        # when the suite started late in an hour.
        opening = self.started.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=2)
        st, _, b = self.boss.request("POST", "/api/v1/test/clock",
                                     {"set_ms": int(opening.timestamp() * 1000) + 60000})
        self.assertEqual(st, 200, b)
        st, _, q = self.night.get(A + "/queue")
        mine = [c for c in q["queue"] if c["id"] == conv["id"]]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["offered_to"], self.night.user["id"])
        self.night.request("POST", "%s/conversations/%s/return-to-bot" % (A, conv["id"]))

    def test_3_timer_due_while_down_fires_at_start(self):
        s = self.server
        conv = ask_human(s)
        s.stop()
        db = sqlite3.connect(os.path.join(s.data, "switchboard.db"))
        db.execute("UPDATE conversations SET first_response_warn = 1, first_response_due = 2"
                   " WHERE public_id = ?", (conv["id"],))
        db.commit()
        db.close()
        s.start()
        type(self).boss = s.login("boss@example.com", PASSWORD)
        type(self).night = s.login("night@example.com", PASSWORD)
        evs = [e["event"] for e in events(s, conv) if e["event"].startswith("sla/")]
        self.assertEqual(evs, ["sla/warning", "sla/breached"])


class ClockGuardTests(harness.SwitchboardTestCase):

    def test_test_clock_needs_the_test_environment(self):
        s = harness.Server()
        s.extra_args = ["--test-clock"]
        with self.assertRaises(RuntimeError) as e:
            s.start(timeout=10)
        self.assertIn("SWITCHBOARD_TEST=1", str(e.exception))
        s.failed = False
        s.cleanup()

    def test_clock_route_absent_without_flag(self):
        with harness.Server(users=[{"email": "adm@example.com", "password": PASSWORD,
                                    "roles": ("admin",)}]) as s:
            adm = s.login("adm@example.com", PASSWORD)
            st, _, b = adm.request("POST", "/api/v1/test/clock", {"advance_s": 10})
            self.assertEqual(st, 404, b)


if __name__ == "__main__":
    harness.main()
