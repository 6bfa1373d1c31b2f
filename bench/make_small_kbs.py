#!/usr/bin/env python3
"""Small knowledge bases carved from CLINC150 for the in-scope check (kb/kb_search.c, in_scope;
bench/fit_oos_gate.py): SIZE intents picked by a seed, each with its first EXAMPLES training
utterances (shuffled by the seed), their `val` questions, and out-of-scope questions. Files go to
OUT (default bench/splits/clinc-small/, not in git: derived from the dataset).

    python3 bench/make_small_kbs.py --data ../shared/data

Writes fit-s11.json, fit-s12.json (out-of-scope = oos_train: for fitting) and dev-s1..3.json
(out-of-scope = oos_val: for scoring), plus fit-full.json (all 150 intents, oos_train). Each is in
the clinc150 format `switchboard kb eval clinc150 F F` reads (it scores val/oos_val)."""

import argparse
import json
import os
import random


def carve(d, seed, size, examples, oos):
    r = random.Random(seed)
    intents = sorted({i for _, i in d["train"]})
    keep = set(r.sample(intents, size))
    train = []
    for it in sorted(keep):
        xs = [x for x in d["train"] if x[1] == it]
        r.shuffle(xs)
        train += xs[:examples]
    return {"train": train, "val": [x for x in d["val"] if x[1] in keep], "oos_train": [], "oos_val": oos}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "splits", "clinc-small"))
    ap.add_argument("--size", type=int, default=15)
    ap.add_argument("--examples", type=int, default=10)
    a = ap.parse_args()
    with open(os.path.join(a.data, "clinc150", "data_full_train_val.json")) as f:
        d = json.load(f)
    os.makedirs(a.out, exist_ok=True)
    files = {"fit-full.json": dict(d, oos_val=d["oos_train"])}
    for seed in (11, 12):
        files["fit-s%d.json" % seed] = carve(d, seed, a.size, a.examples, d["oos_train"])
    for seed in (1, 2, 3):
        files["dev-s%d.json" % seed] = carve(d, seed, a.size, a.examples, d["oos_val"])
    for name, obj in files.items():
        with open(os.path.join(a.out, name), "w") as f:
            json.dump(obj, f)
    print(a.out, sorted(files))


if __name__ == "__main__":
    main()
