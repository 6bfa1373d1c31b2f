#!/usr/bin/env python3
"""`switchboard kb eval KIND TRAIN TEST`: the answer engine scored on a labelled dataset, on small
datasets of its own (tests/fixtures/eval/: 4 intents x 6 utterances per kind, out-of-scope
gibberish for clinc150), never on ../shared. Every kind ends its report with one JSON object holding
the scores; a test query worded like a training utterance is found first; gibberish counts toward
out-of-scope recall; example questions the article checks refuse are skipped and counted; broken
files exit 2 naming the file and the line; the throwaway data directory is gone afterwards."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FIX = os.path.join(harness.SRC, "tests", "fixtures", "eval")
KEYS = ("top1", "top3", "in_scope_accuracy", "oos_recall", "p50_ms", "p99_ms", "n")


def fx(name):
    return os.path.join(FIX, name)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class KbEvalTests(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="switchboard-evaltest-")
        # The tool's data directory goes under TMPDIR: here, so the test can see it is removed.
        self.tmpdir = os.path.join(self.tmp, "tmp")
        os.mkdir(self.tmpdir)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_eval(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        env["TMPDIR"] = self.tmpdir
        p = subprocess.run([harness.BIN, "kb", "eval", *args], capture_output=True, text=True,
                           timeout=60, env=env)
        return p.returncode, p.stdout, p.stderr

    def scores(self, *args):
        rc, out, err = self.run_eval(*args)
        self.assertEqual(rc, 0, "kb eval %s failed:\n%s%s" % (args, out, err))
        lines = out.strip().splitlines()
        self.assertGreater(len(lines), 1, "human-readable lines come before the JSON")
        result = json.loads(lines[-1])
        for key in KEYS:
            self.assertIn(key, result)
        for key in ("top1", "top3", "in_scope_accuracy"):
            self.assertTrue(0 <= result[key] <= 1, (key, result[key]))
        self.assertEqual(os.listdir(self.tmpdir), [], "the throwaway data directory is removed")
        return result, out

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def assert_fails(self, args, *needles):
        rc, out, err = self.run_eval(*args)
        self.assertEqual(rc, 2, "exit code for %s (stderr: %s)" % (args, err))
        for needle in needles:
            self.assertIn(needle, err)
        self.assertNotIn("Traceback", err)
        self.assertEqual(os.listdir(self.tmpdir), [])
        return err

    # ---- every kind ----

    def test_banking77_csv_reports_scores_and_finds_training_wording_first(self):
        r, out = self.scores("banking77", fx("banking77-train.csv"), fx("banking77-test.csv"))
        self.assertEqual((r["n"], r["n_oos"], r["articles"], r["examples"]), (8, 0, 4, 24))
        self.assertIsNone(r["oos_recall"], "no out-of-scope queries: null, not 0")
        self.assertEqual((r["kind"], r["engine"], r["locale"], r["threshold"]),
                         ("banking77", "index", "en", 0.5))
        self.assertIn("top-1", out)

    def test_query_worded_like_a_training_utterance_is_top1_with_both_engines(self):
        same = self.write("same.csv", "text,category\n" + "".join(
            line for line in read(fx("banking77-train.csv")).splitlines(True)[1:]))
        for engine in ("index", "fts"):
            r, _ = self.scores("banking77", fx("banking77-train.csv"), same, "--engine", engine)
            self.assertEqual(r["n"], 24)
            self.assertEqual(r["top1"], 1.0, engine)
            self.assertEqual(r["top3"], 1.0, engine)
        r, _ = self.scores("banking77", fx("banking77-train.csv"), same)
        self.assertEqual(r["in_scope_accuracy"], 1.0, "an exact example question is answered")

    def test_hwu64_csv(self):
        r, _ = self.scores("hwu64", fx("hwu64-train.csv"), fx("hwu64-test.csv"))
        self.assertEqual((r["n"], r["articles"], r["examples"]), (8, 4, 24))
        self.assertGreaterEqual(r["top1"], 0.5)

    def test_clinc150_scores_test_and_oos_test_and_gibberish_is_not_answered(self):
        data = fx("clinc150.json")
        for engine in ("index", "fts"):
            r, _ = self.scores("clinc150", data, data, "--engine", engine)
            self.assertEqual((r["n"], r["n_oos"], r["articles"], r["examples"]), (8, 3, 4, 24))
            self.assertEqual(r["oos_recall"], 1.0, engine)
            self.assertGreaterEqual(r["top1"], 0.5, engine)

    def test_clinc150_without_test_scores_val(self):
        data = fx("clinc150-val.json")
        r, _ = self.scores("clinc150", data, data)
        self.assertEqual((r["n"], r["n_oos"]), (4, 2))
        self.assertEqual(r["oos_recall"], 1.0)

    def test_threshold_decides_what_counts_as_answered(self):
        data = fx("clinc150.json")
        strict, _ = self.scores("clinc150", data, data, "--threshold", "1")
        default, _ = self.scores("clinc150", data, data)
        always, _ = self.scores("clinc150", data, data, "--threshold", "0")
        self.assertEqual((strict["threshold"], always["threshold"]), (1, 0))
        self.assertEqual(always["in_scope_accuracy"], always["top1"], "every first hit answers")
        self.assertLessEqual(strict["in_scope_accuracy"], default["in_scope_accuracy"])
        self.assertLessEqual(default["in_scope_accuracy"], always["in_scope_accuracy"])
        self.assertEqual(strict["oos_recall"], 1.0)
        self.assertEqual(always["oos_recall"], 1.0, "gibberish finds nothing at all")

    def test_aia_bde_faqs_with_examples_in_portuguese(self):
        faqs, queries, examples = fx("aia-faqs.jsonl"), fx("aia-queries.tsv"), fx("aia-examples.tsv")
        plain, _ = self.scores("aia-bde", faqs, queries)
        self.assertEqual((plain["n"], plain["articles"], plain["examples"]), (6, 4, 4))
        self.assertEqual(plain["locale"], "pt-PT")
        more, out = self.scores("aia-bde", faqs, queries, "--examples", examples)
        self.assertEqual(more["examples"], 8, "one question per FAQ + the four --examples rows")
        self.assertIn("1 --examples rows name no article", out)
        self.assertGreaterEqual(more["top1"], 0.5)

    def test_ro_intents_rasa_json(self):
        r, _ = self.scores("ro-intents", fx("ro-train.json"), fx("ro-test.json"))
        self.assertEqual((r["n"], r["articles"], r["examples"], r["locale"]), (8, 4, 24, "ro"))
        self.assertGreaterEqual(r["top1"], 0.5)

    # ---- options ----

    def test_limit_per_intent_keeps_the_first_utterances(self):
        r, _ = self.scores("banking77", fx("banking77-train.csv"), fx("banking77-test.csv"),
                           "--limit-per-intent", "2")
        self.assertEqual(r["examples"], 8)

    def test_misses_name_the_slugs_made_from_the_labels(self):
        wrong = self.write("wrong.csv", "text,category\nWhat exchange rate do you use?,card_arrival\n")
        rc, out, _ = self.run_eval("banking77", fx("banking77-train.csv"), wrong, "--misses")
        self.assertEqual(rc, 0)
        miss = [line for line in out.splitlines() if line.startswith("miss:")]
        self.assertEqual(len(miss), 1)
        self.assertIn("card-arrival", miss[0])
        self.assertIn("exchange-rate", miss[0])

    def test_oos_labels_in_csv_are_out_of_scope_and_make_no_article(self):
        train = self.write("t.csv", read(fx("banking77-train.csv")) + "tell me a joke,oos\n")
        test = self.write("q.csv", "text,category\nxqzv blorf wuggle,oos\nMy top up failed,top_up_failed\n")
        r, _ = self.scores("banking77", train, test)
        self.assertEqual((r["articles"], r["n"], r["n_oos"], r["oos_recall"]), (4, 1, 1, 1.0))

    def test_refused_example_questions_are_skipped_and_counted(self):
        train = self.write("t.csv", read(fx("banking77-train.csv")) +
                           "my <b>card</b> is late,card_arrival\n"
                           "I lost my card,lost_or_stolen_card\n" +
                           "%s,top_up_failed\n" % ("top up " * 60).strip())
        r, out = self.scores("banking77", train, fx("banking77-test.csv"))
        self.assertEqual(r["skipped"], 2, out)  # the tag and the repeated utterance
        self.assertEqual(r["cut"], 1, out)  # 419 bytes, cut to 300
        self.assertEqual(r["examples"], 25)
        self.assertIn("1 invalid, 1 repeated", out)

    def test_unknown_test_label_counts_as_a_miss(self):
        test = self.write("q.csv", "text,category\nMy top up failed,no_such_intent\n")
        r, out = self.scores("banking77", fx("banking77-train.csv"), test)
        self.assertEqual((r["n"], r["top1"]), (1, 0.0))
        self.assertIn("1 test queries name no article", out)

    # ---- broken input ----

    def test_usage_errors_exit_2(self):
        train, test = fx("banking77-train.csv"), fx("banking77-test.csv")
        self.assert_fails(("banking77", train), "KIND, TRAIN and TEST are required")
        self.assert_fails(("banking78", train, test), "unknown KIND 'banking78'")
        self.assert_fails(("banking77", train, test, "--engine", "bert"), "--engine must be")
        self.assert_fails(("banking77", train, test, "--threshold", "2"), "--threshold")
        self.assert_fails(("banking77", train, test, "--threshold", "0.5x"), "--threshold")
        self.assert_fails(("banking77", train, test, "--limit-per-intent", "0"), "--limit-per-intent")
        self.assert_fails(("banking77", train, test, "--bogus", "1"), "unknown option '--bogus'")
        self.assert_fails(("banking77", train, test, "--locale"), "--locale needs a value")
        self.assert_fails(("banking77", train, test, "--locale", "not a locale!"), "--locale")

    def test_help(self):
        p = subprocess.run([harness.BIN, "kb", "eval", "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("KIND TRAIN TEST", p.stdout)

    def test_missing_file_is_named(self):
        missing = os.path.join(self.tmp, "nope.csv")
        self.assert_fails(("banking77", missing, fx("banking77-test.csv")), missing)
        self.assert_fails(("banking77", fx("banking77-train.csv"), missing), missing)

    def test_broken_csv_names_the_file_and_line(self):
        test = fx("banking77-test.csv")
        cases = [
            ("text,category\nok,card_arrival\n\"not closed,card_arrival\n", ":3: CSV: a quoted field is not closed"),
            ("text,category\nok,card_arrival\nthree,fields,here\n", ":3: CSV: 3 fields where the header has 2"),
            ("text,label\nok,card_arrival\n", ":1: the header row needs the columns text and category"),
            ("text,category\nok,card_arrival\nno label,\n", ":3: category: is empty"),
            ("", ": is empty"),
            (b"text,category\nok,card_arrival\nbad \xff byte,card_arrival\n", ":3: is not valid UTF-8"),
            ("text,category\nx,oos\n", ": no training examples in scope"),
        ]
        for i, (data, needle) in enumerate(cases):
            path = self.write("broken%d.csv" % i, data)
            err = self.assert_fails(("banking77", path, test), path + needle)
            self.assertEqual(err.count("\n"), 1, "one clear line: %r" % err)
        hwu = self.write("hwu.csv", "text,category\nok,alarm_set\n")
        self.assert_fails(("hwu64", hwu, hwu), hwu + ":1: the header row needs the columns text and intent")
        empty_test = self.write("empty-test.csv", "text,category\n")
        self.assert_fails(("banking77", fx("banking77-train.csv"), empty_test), "no test queries")

    def test_broken_json_names_the_file_and_place(self):
        bad = self.write("bad.json", '{"train": [["a", "timer"],\n ["b" "timer"]]}')
        self.assert_fails(("clinc150", bad, bad), bad + ":2: JSON: ")
        pair = self.write("pair.json", '{"train": [["a", "timer"], ["b"]], "val": []}')
        self.assert_fails(("clinc150", pair, pair), pair + ": train[1]: must be a [text, label] pair")
        notrain = self.write("notrain.json", '{"val": []}')
        self.assert_fails(("clinc150", notrain, notrain), 'has no "train" list')
        notest = self.write("notest.json", '{"train": [["a", "timer"]]}')
        self.assert_fails(("clinc150", fx("clinc150.json"), notest), 'has no "test" or "val" list')
        array = self.write("array.json", "[1, 2]")
        self.assert_fails(("clinc150", array, array), "must be a JSON object")
        rasa = self.write("rasa.json", '{"rasa_nlu_data": {"common_examples": [{"text": "x"}]}}')
        self.assert_fails(("ro-intents", rasa, rasa), "common_examples[0]: needs text and intent")
        self.assert_fails(("ro-intents", fx("clinc150.json"), rasa), "no rasa_nlu_data.common_examples")

    def test_broken_faqs_and_queries_name_the_file_and_line(self):
        faqs, queries = fx("aia-faqs.jsonl"), fx("aia-queries.tsv")
        jl = self.write("faqs.jsonl", '{"id": 1, "question": "Q?", "answer": "A."}\n{"id": 2, "question": \n')
        self.assert_fails(("aia-bde", jl, queries), jl + ":2: JSON: ")
        dup = self.write("dup.jsonl", '{"id": 1, "question": "Q?", "answer": "A."}\n'
                                      '{"id": 1, "question": "R?", "answer": "B."}\n')
        self.assert_fails(("aia-bde", dup, queries), dup + ":2: id: 1 is given twice")
        noq = self.write("noq.jsonl", '{"id": 1, "answer": "A."}\n')
        self.assert_fails(("aia-bde", noq, queries), noq + ":1: question and answer: must be text")
        head = self.write("head.tsv", "id\tquery\n1\tx\n")
        self.assert_fails(("aia-bde", faqs, head), head + ":1: the header row needs the columns faq_id and query")
        cols = self.write("cols.tsv", "faq_id\ttype\tquery\n1\tVUC\n")
        self.assert_fails(("aia-bde", faqs, cols), cols + ":2: 2 tab-separated fields where the header has 3")
        self.assert_fails(("aia-bde", faqs, queries, "--examples", cols), cols + ":2:")

    def big(self, name, shift=0):
        """A training set large enough that a run takes a while: 60,000 rows, 300 intents."""
        rows = "".join("question number %d about topic %d,intent_%d\n" % (i, i % 300, (i + shift) % 300)
                       for i in range(60000))
        return self.write(name, "text,category\n" + rows)

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        env["TMPDIR"] = self.tmpdir
        return env

    def test_interrupted_run_removes_its_data_directory(self):
        train = self.big("big.csv")
        p = subprocess.Popen([harness.BIN, "kb", "eval", "banking77", train, train],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env())
        deadline = time.time() + 20
        while time.time() < deadline and not os.listdir(self.tmpdir) and p.poll() is None:
            time.sleep(0.01)
        if p.poll() is not None:
            self.skipTest("the run ended before it could be interrupted")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=20), 128 + signal.SIGTERM)
        self.assertEqual(os.listdir(self.tmpdir), [])


    def test_closed_pipe_removes_its_data_directory(self):
        # `kb eval ... --misses | head -1`: every query is a miss, far more output than a pipe holds.
        train, test = self.big("big.csv"), self.big("wrong.csv", shift=1)
        p = subprocess.Popen([harness.BIN, "kb", "eval", "banking77", train, test, "--misses"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env())
        self.assertTrue(p.stdout.readline())
        p.stdout.close()
        self.assertEqual(p.wait(timeout=60), 128 + signal.SIGPIPE)
        self.assertEqual(os.listdir(self.tmpdir), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
