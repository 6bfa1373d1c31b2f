#!/usr/bin/env python3
"""A customer's event stream around the events only agents see (found by bench/soak.sh).

The store numbers a conversation's events 1..n without a hole; `conversation/offered` and
`note/added` are left out of the customer's stream, so it skips their ids (docs/api.md, "Follow
the events"). Pinned here: the stream is exactly the stored events minus those two types, live
and replayed, and a resume from just before a skipped id continues with the next visible one."""

import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, ask_human, clock_server  # noqa: E402

HIDDEN = ("conversation/offered", "note/added")
A = "/api/v1/agent/conversations/"


class CustomerStreamIdsTests(harness.SwitchboardTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = clock_server([{"email": "agent@example.com", "capacity": 2}])
        cls.server.start()
        cls.agent = cls.server.login("agent@example.com", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def stored(self, conv):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.server.data, "switchboard.db"), uri=True,
                             timeout=10)
        try:
            return db.execute("SELECT e.seq, e.type FROM events e JOIN conversations c ON c.id = e.conversation_id"
                              " WHERE c.public_id = ? ORDER BY e.seq", (conv["id"],)).fetchall()
        finally:
            db.close()

    def test_customer_stream_skips_only_the_agents_events(self):
        s = self.server
        conv = ask_human(s)  # offered to the only agent, who is online
        stream = s.sse(conv)
        self.assertEqual(stream.status, 200)
        for path, body in (("/accept", None), ("/notes", {"text": "internal: asked twice"}),
                           ("/messages", {"text": "Hello, I can help.", "client_id": "a-1"})):
            st, _, b = self.agent.request("POST", A + conv["id"] + path, body)
            self.assertIn(st, (200, 201), "POST %s -> %s %r" % (path, st, b))
        s.send(conv, "thanks", client_id="c-2")

        stored = self.stored(conv)
        self.assertEqual([seq for seq, _ in stored], list(range(1, len(stored) + 1)), "the store numbers without a hole")
        hidden = [seq for seq, typ in stored if typ in HIDDEN]
        self.assertEqual(sorted(typ for _, typ in stored if typ in HIDDEN), sorted(HIDDEN), stored)
        visible = [(seq, typ) for seq, typ in stored if typ not in HIDDEN]

        got = [(e["id"], e["event"]) for e in stream.read_events(len(visible), timeout=5)]
        stream.close()
        self.assertEqual(got, visible, "the live stream: every stored event but the agents' ones, in order")
        replay, _ = s.all_events(conv)
        self.assertEqual([(e["id"], e["event"]) for e in replay], visible, "a replay from the start serves the same")
        for seq in hidden:
            after, _ = s.all_events(conv, last_event_id=seq - 1)
            want = [v for v in visible if v[0] > seq]
            self.assertEqual([(e["id"], e["event"]) for e in after], want,
                             "resumed with Last-Event-ID %d, just before the agents-only event %d" % (seq - 1, seq))


if __name__ == "__main__":
    harness.main()
