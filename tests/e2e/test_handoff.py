#!/usr/bin/env python3
"""Handoff to a human: the intent in every locale, the silent bot afterwards, the handoff event."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_event_stream, check_send_shape  # noqa: E402

ASK_HUMAN = (
    ("en", "I want to talk to a human"),
    ("pt-BR", "falar com um atendente"),
    ("ro", "vreau un operator uman"),
)


class HandoffTests(harness.ServerTestCase):

    def handoff(self, locale, text):
        s = self.server
        conv = s.start_conversation(locale)
        s.send(conv, "hi" if locale == "en" else "olá" if locale == "pt-BR" else "bună ziua")
        body = s.send(conv, text, client_id="ask-human")
        check_send_shape(self, body)
        self.assertEqual(body["status"], "queued", "%s %r: %r" % (locale, text, body))
        self.assertTrue(body["replies"], "%s %r: the customer must be told a person takes over" % (locale, text))
        return conv, body

    def test_talk_to_human_each_locale(self):
        s = self.server
        for locale, text in ASK_HUMAN:
            with self.subTest(locale=locale):
                conv, _ = self.handoff(locale, text)
                tr = s.transcript(conv)
                self.assertEqual(tr["status"], "queued", tr)

    def test_bot_silent_after_handoff(self):
        s = self.server
        conv, _ = self.handoff("en", ASK_HUMAN[0][1])
        before = len(s.transcript(conv)["messages"])
        later = ["hello? is anyone there?", "how can I track my order?", "hi", "I want to talk to a human"]
        for i, text in enumerate(later):
            body = s.send(conv, text, client_id="later-%d" % i)
            check_send_shape(self, body)
            self.assertEqual(body["replies"], [], "bot must be silent after handoff: %r -> %r" % (text, body))
            self.assertEqual(body["status"], "queued", body)
        tr = s.transcript(conv)
        self.assertEqual(tr["status"], "queued")
        msgs = tr["messages"]
        self.assertEqual(len(msgs), before + len(later), msgs)
        tail = msgs[before:]
        self.assertEqual([(m["direction"], m["author"], m["text"], m["client_id"]) for m in tail],
                         [("in", "customer", t, "later-%d" % i) for i, t in enumerate(later)])

    def test_handoff_event(self):
        s = self.server
        conv, body = self.handoff("pt-BR", ASK_HUMAN[1][1])
        s.send(conv, "alguém aí?")
        events, tr = s.all_events(conv)
        check_event_stream(self, events, tr)
        types = [e["event"] for e in events]
        self.assertEqual(types.count("conversation/handoff"), 1, types)
        h = types.index("conversation/handoff")
        # the handoff comes after the customer's request
        ask = next(i for i, e in enumerate(events) if e["event"] == "message/inbound"
                   and e["data"]["message"]["id"] == body["message_id"])
        self.assertGreater(h, ask, types)
        # after the handoff no bot message is sent for the later customer message: it is only
        # stored and marked delivered (it is in the team's queue)
        last = events[-2]
        self.assertEqual(last["event"], "message/inbound", types)
        self.assertEqual(last["data"]["message"]["text"], "alguém aí?")
        self.assertEqual((events[-1]["event"], events[-1]["data"]["up_to"]),
                         ("message/delivered", last["data"]["message"]["id"]), types)

    def test_human_quick_reply(self):
        s = self.server
        conv = s.start_conversation("en")
        a = s.send(conv, "how can I track my order?")
        q = next((q for r in a["replies"] for q in r["quick_replies"] if q["payload"] == "/human"), None)
        self.assertIsNotNone(q, "answer offers no /human quick reply: %r" % a)
        body = s.send(conv, q["title"], payload="/human")
        self.assertEqual(body["status"], "queued", body)
        self.assertTrue(body["replies"], body)

    def test_handoff_survives_restart(self):
        s = self.server
        conv, _ = self.handoff("ro", ASK_HUMAN[2][1])
        rc = s.restart()
        self.assertEqual(rc, 0, "SIGTERM exit code")
        tr = s.transcript(conv)
        self.assertEqual(tr["status"], "queued", tr)
        body = s.send(conv, "mai este cineva acolo?")
        self.assertEqual(body["replies"], [], body)
        self.assertEqual(body["status"], "queued", body)


if __name__ == "__main__":
    harness.main()
