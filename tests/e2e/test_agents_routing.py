#!/usr/bin/env python3
"""Live agents, routing (docs/agents.md): capacity under a burst of hand-offs, skills, the
oldest first, offers that expire, accept/decline/claim, a silent bot, agent replies, transfer,
return to bot, resolve with a rating, reopening within the window and after, the agents' event
stream."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, advance, ask_human, ask_many, clock_server, events  # noqa: E402

A = "/api/v1/agent"


def cpath(conv, suffix=""):
    return "%s/conversations/%s%s" % (A, conv["id"], suffix)


def mine(agent):
    st, _, b = agent.get(A + "/conversations?mine=1")
    assert st == 200, (st, b)
    return b["conversations"]


class CapacityTests(harness.SwitchboardTestCase):
    """30 customers ask for a person at once; 3 agents of capacity 2."""

    @classmethod
    def setUpClass(cls):
        cls.server = clock_server([{"email": "a%d@example.com" % i, "capacity": 2} for i in range(3)])
        cls.server.start()
        cls.agents = [cls.server.login("a%d@example.com" % i, PASSWORD) for i in range(3)]

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_burst_never_exceeds_capacity(self):
        s = self.server
        convs = ask_many(s, 30)
        loads = [len(mine(a)) for a in self.agents]
        self.assertEqual(loads, [2, 2, 2], "every agent gets exactly its capacity")
        offered = {c["id"] for a in self.agents for c in mine(a)}
        self.assertEqual(len(offered), 6)
        # the oldest first: each offered one was among the first six queued ... by queue time
        st, _, q = self.agents[0].get(A + "/queue")
        self.assertEqual(st, 200, q)
        self.assertEqual(len(q["queue"]), 30)
        waiting = [c for c in q["queue"] if c["offered_to"] is None]
        self.assertEqual(len(waiting), 24)
        first_waiting = min(c["queued_at"] for c in waiting)
        for c in q["queue"]:
            if c["offered_to"] is not None:
                self.assertLessEqual(c["queued_at"], first_waiting)
        # accept one, decline one: the declined one goes to someone else or back to the queue,
        # and the decliner gets the next waiting one, never more than 2
        a0 = self.agents[0]
        mine0 = mine(a0)
        st, _, b = a0.request("POST", cpath(mine0[0], "/accept"))
        self.assertEqual(st, 200, b)
        self.assertEqual(b["status"], "assigned")
        st, _, b = a0.request("POST", cpath(mine0[1], "/decline"))
        self.assertEqual(st, 200, b)
        now0 = mine(a0)
        self.assertEqual(len(now0), 2)
        self.assertNotIn(mine0[1]["id"], [c["id"] for c in now0])
        # accepting someone else's offer: 409
        other = mine(self.agents[1])[0]
        st, _, b = a0.request("POST", cpath(other, "/accept"))
        self.assertEqual(st, 409, b)
        # a customer of an offered conversation hears nothing from the bot
        conv = next(c for c in convs if c["id"] == other["id"])
        body = s.send(conv, "hello? anyone?")
        self.assertEqual(body["replies"], [])
        self.assertEqual(body["status"], "queued")
        # capacity holds after all that
        for a in self.agents:
            self.assertLessEqual(len(mine(a)), 2)


class FlowTests(harness.SwitchboardTestCase):
    """One agent (capacity 1) in `default`, one pt-BR speaker in `brasil` (language required),
    a supervisor."""

    @classmethod
    def setUpClass(cls):
        cls.server = clock_server(
            [{"email": "ana@example.com", "capacity": 1},
             {"email": "bia@example.com", "capacity": 3, "teams": ["brasil"], "skills": ["lang:pt-BR"]},
             {"email": "caio@example.com", "capacity": 3, "teams": ["brasil"], "skills": []},
             {"email": "boss@example.com", "roles": ("admin",), "status": "offline"}],
            teams=[{"id": "brasil", "require_language": True}],
            rules=[(1, {"locale": "pt"}, "brasil", 0, [])],
            config={"offer_timeout_s": 30, "reopen_window_s": 3600})
        cls.server.start()
        cls.ana = cls.server.login("ana@example.com", PASSWORD)
        cls.bia = cls.server.login("bia@example.com", PASSWORD)
        cls.caio = cls.server.login("caio@example.com", PASSWORD)
        cls.boss = cls.server.login("boss@example.com", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def types(self, conv):
        return [e["event"] for e in events(self.server, conv)]

    def test_1_skills_language(self):
        s = self.server
        conv = ask_human(s, "pt-BR")
        got = [c["id"] for c in mine(self.bia)]
        self.assertIn(conv["id"], got, "the pt-BR conversation goes to the agent with lang:pt-BR")
        self.assertNotIn(conv["id"], [c["id"] for c in mine(self.caio)])
        st, _, b = self.bia.request("POST", cpath(conv, "/accept"))
        self.assertEqual(st, 200, b)
        st, _, b = self.bia.request("POST", cpath(conv, "/resolve"))
        self.assertEqual(st, 200, b)

    def test_2_full_round(self):
        s, ana = self.server, self.ana
        conv = ask_human(s)
        self.assertIn(conv["id"], [c["id"] for c in mine(ana)])
        # the customer's stream never shows the offer
        self.assertNotIn("conversation/offered", self.types(conv))
        self.assertIn("conversation/queued", self.types(conv))
        st, _, b = ana.request("POST", cpath(conv, "/accept"))
        self.assertEqual(st, 200, b)
        # the bot is silent while assigned
        body = s.send(conv, "how can I track my order?")
        self.assertEqual(body["replies"], [])
        self.assertEqual(body["status"], "assigned")
        # ... and the customer's message shows as delivered: it is in the agent's inbox
        delivered = [e["data"]["up_to"] for e in events(s, conv) if e["event"] == "message/delivered"]
        self.assertEqual(delivered[-1], body["message_id"])
        c = mine(ana)[0]
        self.assertEqual(c["unread"], 2, c)  # the ask for a person and the question
        # a reply reaches the customer, idempotent by client_id
        st, _, r1 = ana.request("POST", cpath(conv, "/messages"), {"text": "Hi, I'm Ana.", "client_id": "r1"})
        self.assertEqual(st, 200, r1)
        st, _, r2 = ana.request("POST", cpath(conv, "/messages"), {"text": "Hi, I'm Ana.", "client_id": "r1"})
        self.assertEqual(st, 200, r2)
        self.assertEqual(r1["message"]["id"], r2["message"]["id"])
        self.assertTrue(r2["duplicate"])
        tr = s.transcript(conv)
        self.assertEqual([m["text"] for m in tr["messages"] if m["author"] == "agent"], ["Hi, I'm Ana."])
        # the transcripts name the agent who wrote (a reload shows it without the events)
        self.assertEqual([m["agent"]["name"] for m in tr["messages"] if m["author"] == "agent"], ["ana"])
        st, _, d = ana.get(cpath(conv))
        self.assertEqual([m["agent"]["name"] for m in d["messages"] if m["author"] == "agent"], ["ana"])
        # bad input
        st, _, b = ana.request("POST", cpath(conv, "/messages"), {"text": 5, "client_id": "x"})
        self.assertEqual((st, b["error"]["code"]), (400, "invalid_field"))
        self.assertIn("text", b["error"]["message"])
        st, _, b = ana.request("POST", cpath(conv, "/messages"), {"text": "x", "client_id": "y", "canned_id": "a"})
        self.assertEqual(st, 400, b)
        self.assertIn("canned_id", b["error"]["message"])
        st, _, b = ana.request("POST", cpath(conv, "/messages"), {"text": "x", "client_id": "y", "attachments": [{}]})
        self.assertEqual(st, 400, b)
        st, _, b = ana.request("POST", cpath(conv, "/messages"), {"client_id": "y"})
        self.assertEqual(st, 400, b)
        # read marks: unread drops, the customer sees "read"
        last_in = max(m["id"] for m in tr["messages"] if m["direction"] == "in")
        st, _, b = ana.request("POST", cpath(conv, "/read"), {"up_to": last_in})
        self.assertEqual(st, 200, b)
        self.assertEqual(mine(ana)[0]["unread"], 0)
        self.assertIn("message/read", self.types(conv))
        # notes: internal, never on the customer's side
        st, _, b = ana.request("POST", cpath(conv, "/notes"), {"text": "VIP customer"})
        self.assertEqual(st, 200, b)
        self.assertNotIn("note/added", self.types(conv))
        self.assertNotIn("VIP customer", [m["text"] for m in s.transcript(conv)["messages"]])
        st, _, d = ana.get(cpath(conv))
        self.assertEqual(st, 200, d)
        self.assertEqual([n["text"] for n in d["notes"]], ["VIP customer"])
        self.assertEqual(d["status"], "assigned")
        self.assertIsInstance(d["bot"], list)  # the bot's turns (none: it handed off at once)
        # someone else cannot reply: an agent of another team does not even see it (404, not 403)
        st, _, b = self.caio.request("POST", cpath(conv, "/messages"), {"text": "x", "client_id": "c"})
        self.assertEqual(st, 404, b)
        # resolve: a rating is asked, given with the widget's payload, and does not reopen
        st, _, b = ana.request("POST", cpath(conv, "/resolve"))
        self.assertEqual(st, 200, b)
        qr = s.transcript(conv)["messages"][-1]["quick_replies"]
        self.assertEqual([q["payload"] for q in qr], ["/rate %d" % n for n in range(1, 6)])
        body = s.send(conv, "4", payload="/rate:4")
        self.assertEqual(body["status"], "resolved", body)
        st, _, d = ana.get(cpath(conv))
        self.assertEqual(d["csat"], 4)
        self.assertIn("csat", self.types(conv))
        # replying to a resolved conversation: 409
        st, _, b = ana.request("POST", cpath(conv, "/messages"), {"text": "x", "client_id": "late"})
        self.assertEqual(st, 409, b)
        # within the window the customer comes back to Ana (the last assignee)
        body = s.send(conv, "one more thing")
        self.assertEqual(body["status"], "queued", body)
        self.assertEqual(body["replies"], [])
        self.assertIn(conv["id"], [c["id"] for c in mine(ana)])
        self.assertIn("conversation/reopened", self.types(conv))
        st, _, b = ana.request("POST", cpath(conv, "/accept"))
        self.assertEqual(st, 200, b)
        st, _, b = ana.request("POST", cpath(conv, "/resolve"))
        self.assertEqual(st, 200, b)
        # after the window: the bot answers again
        advance(s, self.boss, 3601)
        body = s.send(conv, "how can I track my order?")
        self.assertEqual(body["status"], "bot", body)
        self.assertTrue(body["replies"])

    def test_3_offer_expires_and_moves_on(self):
        s, ana = self.server, self.ana
        # a second agent in default for this test
        st, _, b = self.boss.request("PUT", A + "/me/status", {"status": "online"})
        self.assertEqual(st, 200, b)
        try:
            boss_id = self.boss.user["id"]
            conv = ask_human(s)
            first = [a for a in (ana, self.boss) if conv["id"] in [c["id"] for c in mine(a)]]
            self.assertEqual(len(first), 1)
            advance(s, self.boss, 31)
            second = [a for a in (ana, self.boss) if conv["id"] in [c["id"] for c in mine(a)]]
            self.assertEqual(len(second), 1)
            self.assertIsNot(first[0], second[0], "after the timeout the other agent gets it")
            ev = [e for e in events(s, conv) if e["event"] == "conversation/queued"]
            self.assertEqual(ev[-1]["data"].get("reason"), "offer_expired")
            # accepting the expired offer: 409
            st, _, b = first[0].request("POST", cpath(conv, "/accept"))
            self.assertEqual(st, 409, b)
            st, _, b = second[0].request("POST", cpath(conv, "/accept"))
            self.assertEqual(st, 200, b)
            # transfer to the brasil team, then return to the bot
            st, _, b = second[0].request("POST", cpath(conv, "/transfer"), {"team": "brasil", "note": "pt"})
            self.assertEqual(st, 200, b)
            st, _, d = self.boss.get(cpath(conv))
            self.assertEqual((d["team"], d["status"]), ("brasil", "queued"))
            self.assertIn("conversation/transferred", self.types(conv))
            st, _, b = self.boss.request("POST", cpath(conv, "/return-to-bot"))
            self.assertEqual(st, 200, b)
            body = s.send(conv, "how can I track my order?")
            self.assertEqual(body["status"], "bot")
            self.assertTrue(body["replies"], "back with the bot, it answers")
            del boss_id
        finally:
            self.boss.request("PUT", A + "/me/status", {"status": "offline"})

    def test_4_agent_event_stream(self):
        s, ana = self.server, self.ana
        c = harness.SSEClient(s.port, 5.0)
        c.open(A + "/events", ana.headers(csrf=False))
        self.assertEqual(c.status, 200)
        try:
            t0 = time.monotonic()
            conv = ask_human(s)
            got = None
            while time.monotonic() - t0 < 5:
                ev = c.next_event(5)
                if ev and ev["event"] == "conversation/offered" and ev["data"]["conversation"] == conv["id"]:
                    got = ev
                    break
            self.assertIsNotNone(got, "the offer reaches the agent's stream")
            self.assertIsInstance(got["id"], int)
        finally:
            c.close()
        # resume after the offer: nothing of it again
        c = harness.SSEClient(s.port, 5.0)
        c.open(A + "/events", dict(ana.headers(csrf=False), **{"Last-Event-ID": str(got["id"])}))
        try:
            rest = c.drain(0.4)
            self.assertNotIn(got["id"], [e["id"] for e in rest])
        finally:
            c.close()
        # accepted: the customer's messages reach the agent's stream
        st, _, b = ana.request("POST", cpath(conv, "/accept"))
        self.assertEqual(st, 200, b)
        c = harness.SSEClient(s.port, 5.0)
        c.open(A + "/events", ana.headers(csrf=False))
        try:
            s.send(conv, "are you there?")
            t0, got = time.monotonic(), None
            while time.monotonic() - t0 < 5 and got is None:
                ev = c.next_event(5)
                if ev and ev["event"] == "message/inbound" and ev["data"]["conversation"] == conv["id"]:
                    got = ev
            self.assertIsNotNone(got, "a customer message of my conversation reaches my stream")
            self.assertEqual(got["data"]["message"]["text"], "are you there?")
        finally:
            c.close()
        st, _, b = ana.request("POST", cpath(conv, "/resolve"))
        self.assertEqual(st, 200, b)

    def test_5_claim(self):
        s = self.server
        conv = ask_human(s, "pt-BR")
        # caio has no lang:pt-BR; bia may already hold it as an offer: caio claims it
        st, _, b = self.caio.request("POST", cpath(conv, "/claim"))
        if st == 409:
            self.assertIn(conv["id"], [c["id"] for c in mine(self.bia)])
        else:
            self.assertEqual(st, 200, b)
            st, _, b = self.bia.request("POST", cpath(conv, "/claim"))
            self.assertEqual(st, 409, b)
            self.assertEqual(b["error"]["code"], "conflict")


if __name__ == "__main__":
    harness.main()
