#!/usr/bin/env python3
"""Idempotent posting: the same client_id is stored once and answered with the same replies."""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_event_stream, check_send_shape  # noqa: E402


def reply_key(body):
    return [(r["id"], r["text"], r["links"], r["quick_replies"]) for r in body["replies"]]


class IdempotencyTests(harness.ServerTestCase):

    def test_same_client_id_twice(self):
        s = self.server
        conv = s.start_conversation("en")
        first = s.send(conv, "how can I track my order?", client_id="cid-1")
        check_send_shape(self, first)
        self.assertFalse(first["duplicate"], first)
        self.assertTrue(first["replies"], first)
        tr1 = s.transcript(conv)
        events1, _ = s.all_events(conv)

        second = s.send(conv, "how can I track my order?", client_id="cid-1")
        check_send_shape(self, second)
        self.assertTrue(second["duplicate"], second)
        self.assertEqual(second["message_id"], first["message_id"])
        self.assertEqual(reply_key(second), reply_key(first))
        self.assertEqual(second["status"], first["status"])

        tr2 = s.transcript(conv)
        self.assertEqual(tr2["messages"], tr1["messages"], "a duplicate stored something new")
        self.assertEqual([m["client_id"] for m in tr2["messages"]].count("cid-1"), 1)
        events2, _ = s.all_events(conv)
        self.assertEqual(len(events2), len(events1), "a duplicate published new events")
        check_event_stream(self, events2, tr2)

    def test_duplicate_of_older_message(self):
        s = self.server
        conv = s.start_conversation("en")
        a = s.send(conv, "hi", client_id="a")
        b = s.send(conv, "which payment methods do you accept?", client_id="b")
        n = len(s.transcript(conv)["messages"])
        again = s.send(conv, "hi", client_id="a")
        self.assertTrue(again["duplicate"], again)
        self.assertEqual(again["message_id"], a["message_id"])
        self.assertEqual(reply_key(again), reply_key(a))
        self.assertNotEqual(a["message_id"], b["message_id"])
        self.assertEqual(len(s.transcript(conv)["messages"]), n)

    def test_same_client_id_different_text(self):
        # the client_id identifies the message: a retry is answered from the store even if its
        # text differs (e.g. the widget trimmed it differently the second time)
        s = self.server
        conv = s.start_conversation("en")
        a = s.send(conv, "I forgot my password", client_id="retry-x")
        b = s.send(conv, "something else entirely", client_id="retry-x")
        self.assertTrue(b["duplicate"], b)
        self.assertEqual(b["message_id"], a["message_id"])
        self.assertEqual(reply_key(b), reply_key(a))
        texts = [m["text"] for m in s.transcript(conv)["messages"] if m["direction"] == "in"]
        self.assertEqual(texts, ["I forgot my password"])

    def test_without_client_id_not_deduplicated(self):
        s = self.server
        conv = s.start_conversation("en")
        a = s.send(conv, "hi")
        b = s.send(conv, "hi")
        self.assertFalse(a["duplicate"])
        self.assertFalse(b["duplicate"])
        self.assertNotEqual(a["message_id"], b["message_id"])

    def test_duplicate_does_not_count_as_unanswerable(self):
        # the duplicate answer is what was answered then, not a new run of the bot
        s = self.server
        conv = s.start_conversation("en")
        # "???" has nothing to search for: the bot asks again, a first miss (gibberish would be
        # out of scope and hand off at once)
        first = s.send(conv, "???", client_id="g1")
        self.assertEqual(first["status"], "bot", first)
        dup = s.send(conv, "???", client_id="g1")
        self.assertTrue(dup["duplicate"], dup)
        self.assertEqual(reply_key(dup), reply_key(first))
        self.assertEqual(dup["status"], "bot", "a duplicate must not count as a second unanswerable message")
        self.assertEqual(s.transcript(conv)["status"], "bot")

    def test_concurrent_same_client_id(self):
        s = self.server
        conv = s.start_conversation("en")
        results = []
        errors = []
        barrier = threading.Barrier(6)

        def post():
            try:
                barrier.wait(5)
                results.append(s.send(conv, "what payment methods do you accept?", client_id="race"))
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=post) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 6)
        self.assertEqual(len({r["message_id"] for r in results}), 1, results)
        self.assertEqual(sum(1 for r in results if not r["duplicate"]), 1, "exactly one original: %r" % results)
        keys = [reply_key(r) for r in results]
        self.assertTrue(all(k == keys[0] for k in keys), results)
        tr = s.transcript(conv)
        self.assertEqual([m["client_id"] for m in tr["messages"]].count("race"), 1, tr)
        self.assertEqual(len(tr["messages"]), 1 + len(results[0]["replies"]), tr)

    def test_same_client_id_other_conversation_is_independent(self):
        s = self.server
        c1 = s.start_conversation("en")
        c2 = s.start_conversation("en")
        a = s.send(c1, "hi", client_id="shared-id")
        b = s.send(c2, "hi", client_id="shared-id")
        self.assertFalse(b["duplicate"], b)
        self.assertNotEqual(a["message_id"], b["message_id"])
        self.assertEqual(len(s.transcript(c2)["messages"]), 1 + len(b["replies"]))

    def test_zz_duplicate_after_restart(self):
        s = self.server
        conv = s.start_conversation("en")
        first = s.send(conv, "I forgot my password", client_id="persist-1")
        n = len(s.transcript(conv)["messages"])
        self.assertEqual(s.restart(), 0, "SIGTERM exit code")
        again = s.send(conv, "I forgot my password", client_id="persist-1")
        self.assertTrue(again["duplicate"], again)
        self.assertEqual(again["message_id"], first["message_id"])
        self.assertEqual(reply_key(again), reply_key(first))
        self.assertEqual(len(s.transcript(conv)["messages"]), n)


if __name__ == "__main__":
    harness.main()
