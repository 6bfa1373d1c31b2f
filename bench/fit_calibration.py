#!/usr/bin/env python3
"""Fits the answer engine's confidence calibration (kb/kb_search.c, CAL_*) from `kb eval --dump`
files: a logistic model of P(the first hit is the right article) on the fused score s of the
first hit and its margin m over the second (features s, m, sqrt(m)). Out-of-scope questions count
as wrong answers. Prints the weights, the expected calibration error over ten bins, and in-scope
accuracy / out-of-scope recall at 0.5 per file.

    build/switchboard kb eval banking77 TRAIN DEV --dump /tmp/b77.tsv   (the same for others)
    python3 bench/fit_calibration.py /tmp/b77.tsv /tmp/hwu.tsv /tmp/clinc.tsv

Dump columns: oos, right, the fused scores of the first and second hits (what the model reads),
then their confidences. Standard library only."""

import math
import sys


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            oos, right, c1, c2 = line.split("\t")[:4]
            rows.append((int(oos), int(right), float(c1), float(c2)))
    return rows


def features(c1, c2):
    m = max(c1 - c2, 0.0)
    return [c1, m, math.sqrt(m), 1.0]


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def fit(xs, ys, iterations=6000, rate=1.0):
    w = [0.0] * len(xs[0])
    for _ in range(iterations):
        g = [0.0] * len(w)
        for x, y in zip(xs, ys):
            p = sigmoid(sum(a * b for a, b in zip(w, x)))
            for i, xi in enumerate(x):
                g[i] += (p - y) * xi
        w = [wi - rate * gi / len(xs) for wi, gi in zip(w, g)]
    return w


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sets = {path: load(path) for path in sys.argv[1:]}
    xs, ys = [], []
    for rows in sets.values():
        for oos, right, c1, c2 in rows:
            xs.append(features(c1, c2))
            ys.append(1 if right and not oos else 0)
    w = fit(xs, ys)
    print("CAL_SCORE %.3f  CAL_MARGIN %.3f  CAL_SQRT_MARGIN %.3f  CAL_BIAS %.3f" % tuple(w))
    ps = [sigmoid(sum(a * b for a, b in zip(w, x))) for x in xs]
    ece = 0.0
    for b in range(10):
        idx = [i for i, p in enumerate(ps) if b / 10 <= p < (b + 1) / 10 or (b == 9 and p >= 1)]
        if idx:
            mean_p = sum(ps[i] for i in idx) / len(idx)
            acc = sum(ys[i] for i in idx) / len(idx)
            ece += len(idx) / len(ps) * abs(mean_p - acc)
    print("questions %d  expected calibration error %.3f" % (len(ps), ece))
    for path, rows in sets.items():
        n = sum(1 for r in rows if not r[0])
        n_oos = len(rows) - n
        answered_right = declined = 0
        for oos, right, c1, c2 in rows:
            p = sigmoid(sum(a * b for a, b in zip(w, features(c1, c2))))
            if oos:
                declined += p < 0.5
            else:
                answered_right += p >= 0.5 and right
        print("%s: in-scope accuracy %.3f  out-of-scope recall %s" % (
            path, answered_right / n if n else 0, "%.2f" % (declined / n_oos) if n_oos else "-"))


if __name__ == "__main__":
    main()
