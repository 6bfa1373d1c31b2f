#!/usr/bin/env python3
"""Resolving with the article that solved it (docs/agents.md): POST .../resolve {"article_id"}
stores an agent signal for the answer engine (kb_feedback source 'agent', in the helpfulness
report) and the customer's questions become suggested example questions; bad input changes
nothing."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, clock_server  # noqa: E402

A = "/api/v1/agent"


class ResolveArticleTests(harness.SwitchboardTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = clock_server([{"email": "ana@example.com", "roles": ("agent", "editor"), "capacity": 10}],
                                  config={"auto_accept": 1})
        cls.server.start()
        cls.ana = cls.server.login("ana@example.com", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def article(self, slug):
        st, _, b = self.ana.get("/api/v1/kb/articles?locale=en&q=" + slug)
        self.assertEqual(st, 200, b)
        return next(a for a in b["articles"] if a["slug"] == slug)

    def conversation(self, question):
        s = self.server
        conv = s.start_conversation("en")
        s.send(conv, question, client_id="q")
        body = s.send(conv, "I want to talk to a human", client_id="ask")
        self.assertEqual(body["status"], "assigned", "the customer's answer tells the new status")
        st, _, d = self.ana.get("%s/conversations/%s" % (A, conv["id"]))
        self.assertEqual(d["status"], "assigned", d)  # auto_accept: straight to ana
        return conv

    def resolve(self, conv, body, raw=None):
        return self.ana.request("POST", "%s/conversations/%s/resolve" % (A, conv["id"]), body, raw=raw)

    def test_bad_input_is_refused_and_nothing_changes(self):
        conv = self.conversation("my parcel never came and the shop is silent")
        for body, code in (({"article_id": "7"}, 400), ({"article_id": -1}, 400), ({"article_id": 1.5}, 400),
                           ({"article_id": 999999}, 422)):
            st, _, b = self.resolve(conv, body)
            self.assertEqual(st, code, (body, b))
            self.assertIn("article_id", b["error"]["message"])
        st, _, b = self.resolve(conv, None, raw=b"[1]")
        self.assertEqual(st, 400, b)
        st, _, d = self.ana.get("%s/conversations/%s" % (A, conv["id"]))
        self.assertEqual(d["status"], "assigned", "still open after every refusal")

    def test_article_signal_and_suggestion(self):
        track = self.article("track-order")
        question = "my parcel from the spring sale is nowhere to be seen"
        conv = self.conversation(question)
        st, _, b = self.resolve(conv, {"article_id": track["id"]})
        self.assertEqual(st, 200, b)
        self.assertEqual(b["status"], "resolved")
        evs, _ = self.server.all_events(conv)
        resolved = [e for e in evs if e["event"] == "conversation/resolved"]
        self.assertEqual(resolved[-1]["data"].get("article_id"), track["id"])
        st, _, h = self.ana.get("/api/v1/kb/helpfulness?locale=en")
        self.assertEqual(st, 200, h)
        row = next(x for x in h["articles"] if x["id"] == track["id"])
        self.assertEqual(row["agent_resolved"], 1)
        st, _, sg = self.ana.get("/api/v1/kb/articles/%d/suggestions" % track["id"])
        self.assertEqual(st, 200, sg)
        got = [x for x in sg["suggestions"] if x["question"] == question]
        self.assertEqual(len(got), 1, sg)
        self.assertEqual(got[0]["resolved"], 1)

    def test_empty_body_resolves_without_an_article(self):
        conv = self.conversation("the zipper on my jacket broke")
        st, _, b = self.resolve(conv, None)
        self.assertEqual(st, 200, b)
        evs, _ = self.server.all_events(conv)
        self.assertNotIn("article_id", [e for e in evs if e["event"] == "conversation/resolved"][-1]["data"])


if __name__ == "__main__":
    harness.main()
