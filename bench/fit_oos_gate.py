#!/usr/bin/env python3
"""Fits the answer engine's in-scope check (kb/kb_search.c, GATE_*): a logistic model of
P(the question is about this knowledge base) on the first hit's example-question vote v and its
coverage, class-balanced between in-scope questions and out-of-scope ones, then raises the bias by
SHIFT so that in-scope accuracy on the dev sets stays within about half a point. Prints the
constants and, for each scoring dump, in-scope accuracy and out-of-scope recall at 0.5 without and
with the check.

    python3 bench/make_small_kbs.py --data ../shared/data
    B=build/switchboard; S=bench/splits/clinc-small
    for f in fit-full fit-s11 fit-s12 dev-s1 dev-s2 dev-s3; do
        $B kb eval clinc150 $S/$f.json $S/$f.json --dump /tmp/$f.tsv; done
    $B kb eval banking77 bench/splits/banking77/train.csv bench/splits/banking77/dev.csv --dump /tmp/b77.tsv
    $B kb eval hwu64 bench/splits/hwu64/train.csv bench/splits/hwu64/dev.csv --dump /tmp/hwu.tsv
    python3 bench/fit_oos_gate.py --fit /tmp/fit-full.tsv /tmp/fit-s11.tsv /tmp/fit-s12.tsv /tmp/b77.tsv \\
        /tmp/hwu.tsv --score /tmp/dev-s1.tsv /tmp/dev-s2.tsv /tmp/dev-s3.tsv /tmp/b77.tsv /tmp/hwu.tsv

Dump columns (kb eval --dump): oos, right, the fused scores of the first and second hits, their
confidences, the first hit's example-question vote, its coverage and the in-scope factor its
confidence includes (divided out here, so dumps of the current engine refit it). Standard library
only."""

import argparse
import math


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            # the confidence before the check: the dump's is after it
            rows.append({"oos": int(c[0]), "right": int(c[1]), "conf": float(c[4]) / float(c[8]),
                         "v": float(c[6]), "cov": float(c[7])})
    return rows


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def features(r):
    return [r["v"], r["cov"], 1.0]


def fit(rows, iterations=3000, rate=2.0):
    pos = [r for r in rows if not r["oos"]]
    neg = [r for r in rows if r["oos"]]
    data = [(features(r), 1, 1.0) for r in pos] + [(features(r), 0, len(pos) / len(neg)) for r in neg]
    total = sum(wt for _, _, wt in data)
    w = [0.0, 0.0, 0.0]
    for _ in range(iterations):
        g = [0.0, 0.0, 0.0]
        for x, y, wt in data:
            p = sigmoid(sum(a * b for a, b in zip(w, x)))
            for i, xi in enumerate(x):
                g[i] += wt * (p - y) * xi
        w = [wi - rate * gi / total for wi, gi in zip(w, g)]
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit", nargs="+", required=True)
    ap.add_argument("--score", nargs="+", required=True)
    ap.add_argument("--shift", type=float, default=5.0)
    a = ap.parse_args()
    rows = [r for p in a.fit for r in load(p)]
    w = fit(rows)
    w[2] += a.shift
    print("GATE_NEIGHBOURS %.3f  GATE_COVERAGE %.3f  GATE_BIAS %.3f" % tuple(w))
    for p in a.score:
        rows = load(p)
        ins = [r for r in rows if not r["oos"]]
        oos = [r for r in rows if r["oos"]]
        gated = lambda r: r["conf"] * sigmoid(sum(x * y for x, y in zip(w, features(r))))  # noqa: E731
        line = "%-28s in-scope %.3f -> %.3f" % (p, sum(r["right"] and r["conf"] >= 0.5 for r in ins) / len(ins),
                                                 sum(r["right"] and gated(r) >= 0.5 for r in ins) / len(ins))
        if oos:
            line += "   oos recall %.2f -> %.2f" % (sum(r["conf"] < 0.5 for r in oos) / len(oos),
                                                     sum(gated(r) < 0.5 for r in oos) / len(oos))
        print(line)


if __name__ == "__main__":
    main()
