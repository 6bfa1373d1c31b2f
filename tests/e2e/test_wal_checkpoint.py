#!/usr/bin/env python3
"""The background checkpoints (core/store/store_checkpoint.c) move the WAL into the database file while
the server runs. They did nothing (found by bench/soak.sh: a 1 GB WAL beside the untouched
database after 30 minutes with kill -9), so a server that is never stopped cleanly grew its WAL
without bound and replayed all of it at every start."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class WalCheckpointTests(harness.SwitchboardTestCase):

    def test_messages_reach_the_database_file_while_running(self):
        with harness.Server() as s:
            path = os.path.join(s.data, "switchboard.db")
            before = os.path.getsize(path)
            conv = s.start_conversation("en")
            for i in range(100):
                s.send(conv, "how can I track my order? (%d)" % i, client_id="m%d" % i)
            # A condition, not a pause: the checkpoints run every 500 ms; 30 s is a deadline.
            deadline = time.monotonic() + 30
            while os.path.getsize(path) <= before and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertGreater(os.path.getsize(path), before,
                               "the database file is unchanged (%d bytes; WAL %d bytes): no checkpoint ran"
                               % (before, os.path.getsize(path + "-wal")))
            self.assertEqual(s.healthz()[0], 200)


if __name__ == "__main__":
    harness.main()
