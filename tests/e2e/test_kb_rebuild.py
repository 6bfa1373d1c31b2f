#!/usr/bin/env python3
"""Rebuilding the search index off the event loop. With `kb_rebuild_in_place_ms` at 50, a knowledge
base whose index takes longer to build (100 generated articles with 20 example questions each: about
half a second here) is built on a thread when the server starts, and a question that comes before
it is done is answered from full-text search after waiting 50 ms; after an editor publishes an
article, the bot keeps answering from the previous index at once (the new article is not among the
answers yet) instead of rebuilding inside the customer's request, and answers with the new article
once the background build is in. An import by the CLI into the running server's database is
built at once, without a question. A server stopped while a build runs waits for it and exits 0."""

import json
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PW = "correct horse battery"
ARTICLES = 100
# Builds quicker than this stay in the question (1000 by default); the fixture must be slower.
IN_PLACE_MS = 50
REBUILT = re.compile(r"kb: search index rebuilt in the background in (\d+) ms")


def make_faq(path, n_articles, n_examples=20, seed=7):
    """Article i has three made-up words of its own; its example questions mix two of them with
    common words and two words of no article."""
    rnd = random.Random(seed)
    syl = ["ba", "ko", "ri", "mu", "te", "sa", "lo", "vi", "ne", "du", "fa", "zo", "pe", "gi", "ha"]
    words = sorted({"".join(rnd.choice(syl) for _ in range(4)) for _ in range(6000)})
    rnd.shuffle(words)
    shared = ["how", "do", "i", "my", "the", "account", "order", "card", "can", "why", "is", "not",
              "working", "change"]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n_articles):
            own = words[3 * i:3 * i + 3]
            examples = []
            for _ in range(n_examples):
                ws = rnd.sample(shared, 4) + rnd.sample(own, 2) + rnd.sample(words[3 * n_articles:], 2)
                rnd.shuffle(ws)
                examples.append(" ".join(ws))
            f.write(json.dumps({"question": "how do I %s the %s %s" % tuple(own), "slug": "art-%d" % i,
                                "answer": "Answer %d: %s." % (i, " ".join(own)),
                                "examples": examples}) + "\n")


def import_faq(server):
    path = os.path.join(server.data, "generated-faq.jsonl")
    make_faq(path, ARTICLES)
    rc, out, err = server.cli("kb", "import-faq", path, "--locale", "en", "--data", server.data)
    if rc != 0:
        raise RuntimeError("kb import-faq exited %s: %s %s" % (rc, out, err))


class BackgroundRebuildTests(harness.SwitchboardTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(config={"kb_rebuild_in_place_ms": IN_PLACE_MS},
                                    import_kb=False, before_start=import_faq,
                                    users=[{"email": "editor@e2e.test", "password": PW,
                                            "roles": ["editor"]}])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        if cls.server.alive():
            cls.server.close()

    def rebuilds(self):
        """The build times of the background rebuilds so far, from the log (each is logged when
        the loop takes its index)."""
        return [int(ms) for ms in REBUILT.findall(self.server.log_text(limit=1 << 22))]

    def slugs(self, text):
        conv = self.server.start_conversation("en")
        body = self.server.send(conv, text)
        return [l["url"].rsplit("/", 1)[-1] for r in body["replies"] for l in r.get("links", [])]

    def publish(self, slug, words):
        ed = self.server.login("editor@e2e.test", PW)
        st, _, b = ed.request("POST", "/api/v1/kb/articles", {
            "slug": slug, "locale": "en", "title": "Do you sell %s?" % words,
            "summary": "Yes: %s come in two sizes." % words, "body": "All about %s." % words,
            "examples": [words, "do you have %s" % words], "status": "published"})
        self.assertEqual(st, 201, b)

    def wait_first_build(self):
        deadline = time.monotonic() + 120
        while not self.rebuilds():
            self.assertLess(time.monotonic(), deadline, "the start-up build never came in")
            self.slugs("how do i change my order")  # a search takes a finished build in
            time.sleep(0.1)

    def test_a_question_during_the_start_up_build_gets_a_full_text_answer(self):
        # The build the server started with takes about ten times the 50 ms a search may wait
        # for it; this question comes right after start-up.
        conv = self.server.start_conversation("en")
        body = self.server.send(conv, "how do i change my order")
        self.assertTrue(body["replies"], body)
        self.assertEqual(self.rebuilds(), [], "the build was in before the first question")
        self.assertIn("answering from full-text search", self.server.log_text(limit=1 << 22))
        self.wait_first_build()

    def test_edit_is_answered_after_a_build_that_did_not_stall_the_bot(self):
        with open(os.path.join(self.server.data, "generated-faq.jsonl"), encoding="utf-8") as f:
            art = json.loads(f.readlines()[17])
        self.wait_first_build()
        self.assertIn("art-17", self.slugs(art["question"]))
        first = self.rebuilds()
        self.assertEqual(len(first), 1, "the start-up build was not on the thread")
        self.assertGreaterEqual(first[0], IN_PLACE_MS, "the generated knowledge base builds too fast to test this")

        self.publish("zebra-cushions", "zebra cushions")
        # Rebuilding in the request would find the new article here. The build on the thread
        # takes about as long as the first one, so these are answered before it is in.
        self.assertNotIn("zebra-cushions", self.slugs("do you sell zebra cushions"))
        self.assertIn("art-17", self.slugs(art["question"]), "the old index must keep answering")
        deadline = time.monotonic() + 120
        while "zebra-cushions" not in self.slugs("do you sell zebra cushions"):
            self.assertLess(time.monotonic(), deadline, "the new article never reached the bot")
            time.sleep(0.2)
        self.assertEqual(len(self.rebuilds()), 2, self.server.log_text())
        self.assertIn("art-17", self.slugs(art["question"]))

    def test_zy_an_import_by_the_cli_is_built_without_waiting_for_a_question(self):
        self.wait_first_build()
        before = len(self.rebuilds())
        path = os.path.join(self.server.data, "walrus.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps({"question": "Do you sell walrus lamps?", "slug": "walrus-lamps",
                                "answer": "Yes: walrus lamps come in two sizes.",
                                "examples": ["walrus lamps", "do you have walrus lamps"]}) + "\n")
        rc, out, err = self.server.cli("kb", "import-faq", path, "--locale", "en",
                                       "--data", self.server.data)
        self.assertEqual(rc, 0, out + err)
        # No question is asked: the server's own tick sees the import and builds it.
        deadline = time.monotonic() + 120
        while len(self.rebuilds()) == before:
            self.assertLess(time.monotonic(), deadline, "the import was not built without a question")
            time.sleep(0.2)
        self.assertIn("walrus-lamps", self.slugs("do you sell walrus lamps"))

    def test_zz_stop_during_a_build_exits_cleanly(self):
        s = self.server
        self.wait_first_build()
        self.publish("quokka-mugs", "quokka mugs")
        self.slugs("quokka mugs")  # starts the rebuild
        self.assertEqual(s.stop(), 0, s.log_text())
        log = s.log_text(limit=1 << 22)
        signal_at = log.rindex("send signal")
        self.assertTrue(REBUILT.search(log, signal_at),
                        "the stop was meant to come during the build, and to wait for it:\n" + log[-3000:])


if __name__ == "__main__":
    harness.main()
