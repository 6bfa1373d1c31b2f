#!/usr/bin/env python3
"""Durability: a burst of messages from several threads, kill -9 in the middle; every message
acknowledged with 2xx before the kill is in the transcript after a restart."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_event_stream  # noqa: E402

THREADS = 4
PER_THREAD = 100
CONVS_PER_THREAD = 2
KILL_AFTER = 180  # acknowledged messages

TEXTS = ["how can I track my order?", "hi", "which payment methods do you accept?", "qwzx vbnm plok",
         "thanks", "I forgot my password", "zzkq wvbx prrt", "when will I get my refund?"]


class Kill9Tests(harness.SwitchboardTestCase):

    def test_acknowledged_messages_survive_kill9(self):
        with harness.Server() as s:
            convs = [[s.start_conversation(("en", "pt-BR", "ro")[(t + k) % 3]) for k in range(CONVS_PER_THREAD)]
                     for t in range(THREADS)]
            lock = threading.Lock()
            enough = threading.Event()
            acked = {}  # client_id -> (conv id, message_id, reply ids, text)
            failed = []  # (client_id, error) sent but not acknowledged
            bad = []  # non-2xx answers while the server was up

            def worker(t):
                for i in range(PER_THREAD):
                    conv = convs[t][i % CONVS_PER_THREAD]
                    cid = "k9-t%d-%03d" % (t, i)
                    text = TEXTS[(i // CONVS_PER_THREAD) % len(TEXTS)] + " #%d" % i
                    try:
                        st, _, body = s.send(conv, text, client_id=cid, expect=None)
                    except Exception as e:
                        with lock:
                            failed.append((cid, repr(e)))
                        continue
                    with lock:
                        if 200 <= st < 300:
                            acked[cid] = (conv["id"], body["message_id"], [r["id"] for r in body["replies"]], text)
                            if len(acked) >= KILL_AFTER:
                                enough.set()
                        else:
                            bad.append((cid, st, body))

            threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
            t0 = time.monotonic()
            for th in threads:
                th.start()
            enough.wait(30)
            rc = s.kill9()
            with lock:
                acked_at_kill = dict(acked)
            for th in threads:
                th.join(30)
            took = time.monotonic() - t0
            self.assertEqual(rc, -9)
            self.assertGreaterEqual(len(acked_at_kill), KILL_AFTER, "burst too slow: %d acked in %.1fs, bad=%r"
                                    % (len(acked_at_kill), took, bad[:3]))
            self.assertEqual(bad, [], "non-2xx answers during the burst")
            # anything acknowledged is durable, including acks that raced with the kill
            with lock:
                acked_all = dict(acked)
            sys.stderr.write("kill9: %d acknowledged (%d at kill), %d unacknowledged, %.1fs\n"
                             % (len(acked_all), len(acked_at_kill), len(failed), took))

            s.start()
            self.assertEqual(s.healthz()[0], 200)
            by_id = {c["id"]: c for row in convs for c in row}
            transcripts = {cid: s.transcript(c) for cid, c in by_id.items()}
            stored = {}
            for conv_id, tr in transcripts.items():
                for m in tr["messages"]:
                    if m["direction"] == "in":
                        self.assertNotIn(m["client_id"], stored, "client_id stored twice: %r" % m)
                        stored[m["client_id"]] = (conv_id, m)
            all_ids = {m["id"] for tr in transcripts.values() for m in tr["messages"]}
            missing = []
            for cid, (conv_id, mid, reply_ids, text) in sorted(acked_all.items()):
                got = stored.get(cid)
                if got is None:
                    missing.append(cid)
                    continue
                self.assertEqual(got[0], conv_id, cid)
                self.assertEqual((got[1]["id"], got[1]["text"]), (mid, text), cid)
                lost = [r for r in reply_ids if r not in all_ids]
                self.assertEqual(lost, [], "acknowledged replies of %s lost: %r" % (cid, lost))
            self.assertEqual(missing, [], "acknowledged messages lost by kill -9: %d of %d"
                             % (len(missing), len(acked_all)))

            # the stores are consistent: ids are not reused, events match the transcripts
            top = max(all_ids)
            conv = convs[0][0]
            after = s.send(conv, "hi again", client_id="after-restart")
            self.assertGreater(after["message_id"], top, "message id reused after kill -9")
            for c in (convs[0][0], convs[1][1]):
                events, tr = s.all_events(c)
                check_event_stream(self, events, tr)
                # posting the same client ids again after the crash is still deduplicated
                for cid, (conv_id, mid, reply_ids, text) in list(acked_all.items()):
                    if conv_id == c["id"]:
                        again = s.send(c, text, client_id=cid)
                        self.assertTrue(again["duplicate"], again)
                        self.assertEqual(again["message_id"], mid)
                        break


if __name__ == "__main__":
    harness.main()
