#!/usr/bin/env python3
"""A knowledge base of the issue's target size for the latency benchmark: 10,000 articles with
10 example questions each (100,000), in BANKING77's CSV format, from BANKING77's train.csv.

Each article is one of the 77 intents split into ~130 "products": its utterances with a product
word appended ("... for the Pinecone 4711 card") and one word dropped at random, so articles
are near-duplicates the way a large real knowledge base is (many similar products), and 1,000
test queries are drawn the same way. Accuracy on this set means little; it is for p50/p99 and
build time. Seeded, standard library only.

    python3 bench/make_scale.py --train ../shared/data/banking77/train.csv --out bench/scale
    build/switchboard kb eval banking77 bench/scale/train.csv bench/scale/test.csv
"""

import argparse
import csv
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--articles", type=int, default=10000)
    ap.add_argument("--examples", type=int, default=10)
    ap.add_argument("--queries", type=int, default=1000)
    a = ap.parse_args()
    rng = random.Random(77)
    by_intent = {}
    with open(a.train, newline="") as f:
        for row in csv.DictReader(f):
            by_intent.setdefault(row["category"], []).append(row["text"])
    intents = sorted(by_intent)

    def variant(text, product):
        words = text.split()
        if len(words) > 4:
            del words[rng.randrange(len(words))]
        return " ".join(words) + " for the Pinecone %d card" % product

    os.makedirs(a.out, exist_ok=True)
    labels = []
    with open(os.path.join(a.out, "train.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "category"])
        for i in range(a.articles):
            intent = intents[i % len(intents)]
            product = 1000 + i
            label = "%s_p%d" % (intent, product)
            labels.append((label, intent, product))
            for _ in range(a.examples):
                w.writerow([variant(rng.choice(by_intent[intent]), product), label])
    with open(os.path.join(a.out, "test.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "category"])
        for _ in range(a.queries):
            label, intent, product = rng.choice(labels)
            w.writerow([variant(rng.choice(by_intent[intent]), product), label])


if __name__ == "__main__":
    main()
