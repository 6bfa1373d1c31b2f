#!/usr/bin/env python3
"""The agents' event stream, GET /api/v1/agent/events (docs/agents.md): who sees what, live (the
events committed since the last flush, filtered in memory: core/agents/agent_feed.c) and on resume from
before what the feed holds (the filtered table query), with the same answer either way."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, ask_human, clock_server  # noqa: E402

A = "/api/v1/agent"


def open_stream(server, who, last_id=None):
    c = harness.SSEClient(server.port, 5.0)
    h = who.headers(csrf=False)
    if last_id is not None:
        h["Last-Event-ID"] = str(last_id)
    c.open(A + "/events", h)
    assert c.status == 200, c.status
    return c


def until(stream, pred, timeout=5.0):
    """Events up to and including the first one pred accepts; AssertionError if none comes."""
    got, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            ev = stream.next_event(max(0.01, end - time.monotonic()))
        except TimeoutError:
            break
        if ev is None:
            break
        got.append(ev)
        if pred(ev):
            return got
    raise AssertionError("no matching event; got %s" % [(e["id"], e["event"]) for e in got])


def keyed(evs):
    return [(e["id"], e["event"], e["data"]["conversation"]) for e in evs if e["id"] is not None]


class AgentStreamTests(harness.SwitchboardTestCase):
    """ana and bia in the default team, caio in brasil (pt customers), boss a supervisor."""

    @classmethod
    def setUpClass(cls):
        cls.server = clock_server(
            [{"email": "ana@example.com", "capacity": 1},
             {"email": "bia@example.com", "capacity": 1},
             {"email": "caio@example.com", "capacity": 50, "teams": ["brasil"]},
             {"email": "boss@example.com", "roles": ("admin",), "status": "offline"}],
            teams=[{"id": "brasil"}],
            rules=[(1, {"locale": "pt"}, "brasil", 0, [])],
            config={"offer_timeout_s": 600})
        cls.server.start()
        cls.ana = cls.server.login("ana@example.com", PASSWORD)
        cls.bia = cls.server.login("bia@example.com", PASSWORD)
        cls.caio = cls.server.login("caio@example.com", PASSWORD)
        cls.boss = cls.server.login("boss@example.com", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_visibility_live_and_on_resume_agree(self):
        s = self.server
        streams = {name: open_stream(s, getattr(self, name)) for name in ("ana", "bia", "caio", "boss")}
        try:
            # a pt customer goes to brasil, offered to caio; an en one to the default team
            pt = ask_human(s, "pt-BR")
            en = ask_human(s)
            live = {}
            for name, st in streams.items():
                live[name] = st.drain(0.5)
            offered = {name: {e["data"]["conversation"] for e in evs if e["event"] == "conversation/offered"}
                       for name, evs in live.items()}
            convs = {name: {e["data"]["conversation"] for e in evs} for name, evs in live.items()}
            self.assertIn(pt["id"], offered["caio"], "caio, in brasil, is offered the pt customer")
            self.assertNotIn(pt["id"], convs["ana"] | convs["bia"], "the default team sees nothing of brasil's")
            self.assertNotIn(en["id"], convs["caio"], "brasil sees nothing of the default team's")
            en_to = [n for n in ("ana", "bia") if en["id"] in offered[n]]
            self.assertEqual(len(en_to), 1, "exactly one agent is offered the en customer: %s" % offered)
            other = "bia" if en_to[0] == "ana" else "ana"
            self.assertNotIn(en["id"], offered[other], "an offer goes only to its agent")
            self.assertIn(en["id"], convs[other], "but the queued conversation of the team is seen")
            self.assertEqual(convs["boss"], {pt["id"], en["id"]}, "the supervisor sees everything")
            ids = [e["id"] for e in live["boss"] if e["id"] is not None]
            self.assertEqual(ids, sorted(set(ids)), "ids ascend, none repeated")
            # resuming from before both hand-offs gives each agent the same events: the feed
            # holds them now, so this is the in-memory path ...
            first = min(e["id"] for evs in live.values() for e in evs if e["id"] is not None) - 1
            for name in streams:
                st = open_stream(s, getattr(self, name), first)
                try:
                    again = st.drain(0.5)
                finally:
                    st.close()
                self.assertEqual(keyed(again), keyed(live[name]), name + ": resume = live")
        finally:
            for st in streams.values():
                st.close()

    def test_resume_from_before_the_feed_reads_the_table(self):
        s = self.server
        boss = open_stream(s, self.boss)
        try:
            conv = ask_human(s, "pt-BR")
            evs = until(boss, lambda e: e["event"] == "conversation/offered"
                        and e["data"]["conversation"] == conv["id"])
            mark = min(e["id"] for e in evs if e["id"] is not None) - 1
        finally:
            boss.close()
        # after a restart the feed starts at the newest event, so a resume from `mark` must
        # come from the table (sessions are stored, the consoles stay signed in)
        s.restart()
        caio = open_stream(s, self.caio, mark)
        try:
            got = caio.drain(0.5)
        finally:
            caio.close()
        mine = [e for e in got if e["data"]["conversation"] == conv["id"]]
        self.assertIn("conversation/offered", [e["event"] for e in mine], keyed(got))
        ids = [e["id"] for e in got if e["id"] is not None]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertTrue(all(i > mark for i in ids))
        # and an agent of another team gets none of it from the table either
        ana = open_stream(s, self.ana, mark)
        try:
            seen = {e["data"]["conversation"] for e in ana.drain(0.5)}
        finally:
            ana.close()
        self.assertNotIn(conv["id"], seen)

    def test_back_to_back_handoffs_all_reach_the_supervisor(self):
        """Several hand-offs back to back: every one's events reach the supervisor's stream."""
        s = self.server
        boss = open_stream(s, self.boss)
        try:
            convs = [ask_human(s, "pt-BR") for _ in range(4)]
            t0 = time.monotonic()
            want = {c["id"] for c in convs}
            seen = set()
            while want - seen and time.monotonic() - t0 < 5:
                ev = boss.next_event(5)
                if ev and ev["event"] == "conversation/queued":
                    seen.add(ev["data"]["conversation"])
            self.assertEqual(want - seen, set())
        finally:
            boss.close()


if __name__ == "__main__":
    harness.main()
