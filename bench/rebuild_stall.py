#!/usr/bin/env python3
"""How long the server stalls when an edit makes it rebuild the search index.

Starts the server (SWITCHBOARD_BIN, default build/switchboard) on a generated knowledge base of
ARTICLES articles with 20 example questions each (the fixture of tests/e2e/test_kb_rebuild.py), then
RUNS times: an editor publishes an article, one customer asks a KB question 0.2 s later (the first
search after the change, which rebuilt the index in place before the build moved to a thread), and
another customer sends greetings back to back for 4 s. Prints, per run, the KB question's round
trip and the slowest greeting's, then the medians. Usage: bench/rebuild_stall.py [ARTICLES] [RUNS]
(IN_PLACE_MS=N sets kb_rebuild_in_place_ms; by default the server's default applies).
"""

import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import harness  # noqa: E402
from test_kb_rebuild import make_faq  # noqa: E402

PW = "correct horse battery"


def main():
    articles = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3

    def import_faq(server):
        path = os.path.join(server.data, "generated-faq.jsonl")
        make_faq(path, articles)
        rc, out, err = server.cli("kb", "import-faq", path, "--locale", "en", "--data", server.data)
        if rc != 0:
            raise SystemExit("kb import-faq: %s %s" % (out, err))

    # the server's own default, not the tests' (which keep rebuilds in place); IN_PLACE_MS=N sets it
    in_place = os.environ.get("IN_PLACE_MS")
    s = harness.Server(config={"kb_rebuild_in_place_ms": int(in_place) if in_place else None},
                       import_kb=False, before_start=import_faq,
                       users=[{"email": "ed@bench.test", "password": PW, "roles": ["editor"]}])
    s.start()
    try:
        ed = s.login("ed@bench.test", PW)
        t = time.monotonic()
        s.send(s.start_conversation("en"), "how do i change my order")
        print("binary %s, %d articles; first question (waits for the first build) %.0f ms"
              % (harness.BIN, articles, (time.monotonic() - t) * 1000))
        kb_ms, stall_ms = [], []
        for run in range(runs):
            st, _, b = ed.request("POST", "/api/v1/kb/articles", {
                "slug": "bench-%d" % run, "locale": "en", "title": "Bench article %d" % run,
                "summary": "s", "body": "b", "examples": ["bench question %d" % run],
                "status": "published"})
            assert st == 201, b
            greet = []
            stop = time.monotonic() + 4

            def greeter():
                conv = s.start_conversation("en")
                while time.monotonic() < stop:
                    t0 = time.monotonic()
                    s.send(conv, "hi")
                    greet.append((time.monotonic() - t0) * 1000)

            th = threading.Thread(target=greeter)
            th.start()
            time.sleep(0.2)
            conv = s.start_conversation("en")
            t0 = time.monotonic()
            s.send(conv, "how do i change my order")
            kb_ms.append((time.monotonic() - t0) * 1000)
            th.join()
            stall_ms.append(max(greet))
            print("run %d: KB question %.1f ms, slowest of %d greetings %.1f ms"
                  % (run + 1, kb_ms[-1], len(greet), stall_ms[-1]))
            time.sleep(max(1.0, kb_ms[-1] / 1000))  # let a background build finish
        print("median: KB question %.1f ms, slowest greeting %.1f ms"
              % (statistics.median(kb_ms), statistics.median(stall_ms)))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
