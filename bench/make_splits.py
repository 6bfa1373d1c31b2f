#!/usr/bin/env python3
"""Carves deterministic dev splits out of the public datasets for `switchboard kb eval`.

The held-out test splits are not in ../shared; these dev splits come out of the training parts, so
numbers on them are for development, not for comparison with published results. Writes, under OUT
(default bench/splits/, git-ignored: it is derived from datasets whose licences differ and one has
none):

  banking77/train.csv, dev.csv    text,category   90/10 per intent
  hwu64/train.csv, dev.csv        text,intent     90/10 per intent
  ro-intents/scenario_0/train.json, dev.json      Rasa NLU JSON, 80/20 per intent
  ro-intents/scenario_1/train.json, dev.json      (same)
  aia-bde/examples.tsv, dev.tsv   faq_id,type,query: queries_dev.tsv cut in two (rule below)
  manifest.json                   sources (sha256), seed, counts, the rules

clinc150 needs no split: data_full_train_val.json has its own train and val (+ oos_val), and
`kb eval` scores val when a file has no test, so TRAIN and TEST are both the original file.
faqs.jsonl (aia-bde) is used in place as TRAIN.

Per-intent splits: each intent's rows, in file order, are shuffled by a random.Random seeded with
"SEED:dataset:intent" (string seeds are stable across Python runs and machines); the first
round(n * share) rows, at least 1, go to dev. Output files keep the input's order.

AIA-BDE rule: queries_dev.tsv has per FAQ one VG1 and one VG2 row (the question machine-translated
pt->en->pt and pt->en->pt->en->pt: near-duplicates of each other) and zero or several VUC rows
(paraphrases by volunteers). Per FAQ, the VG1+VG2 pair is one unit and each VUC row is a unit, so a
pair never has one half as an example question and the other half scored. The units are shuffled
with Random("SEED:aia-bde:FAQ_ID"); floor(k/2) of the k units go to examples.tsv, one more when k
is odd and the same generator's next random() < 0.5; the rest go to dev.tsv. About half of the rows
become example questions and the scored rows mix both kinds of paraphrase.

Standard library only. usage: bench/make_splits.py [--data DIR] [--out DIR] [--seed N]
"""
import argparse
import csv
import hashlib
import json
import os
import random
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
DEFAULT_OUT = os.path.join(HERE, "splits")
SEED = 77


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def dev_indices(rows_by_label, share, seed, dataset):
    """The row indices that go to dev: round(n * share) per label (at least 1), seeded per label."""
    dev = set()
    for label, idx in rows_by_label.items():
        rng = random.Random("%d:%s:%s" % (seed, dataset, label))
        order = list(idx)
        rng.shuffle(order)
        k = max(1, int(round(len(order) * share)))
        dev.update(order[:k])
    return dev


def group(labels):
    out = OrderedDict()
    for i, label in enumerate(labels):
        out.setdefault(label, []).append(i)
    return out


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def split_csv(src, out_dir, name, label_col, seed):
    with open(src, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    li = header.index(label_col)
    dev = dev_indices(group(r[li] for r in rows), 0.10, seed, name)
    os.makedirs(out_dir, exist_ok=True)
    write_csv(os.path.join(out_dir, "train.csv"), header, [r for i, r in enumerate(rows) if i not in dev])
    write_csv(os.path.join(out_dir, "dev.csv"), header, [r for i, r in enumerate(rows) if i in dev])
    return {"source": src, "sha256": sha256(src), "train": len(rows) - len(dev), "dev": len(dev),
            "labels": len(set(r[li] for r in rows)), "rule": "90/10 per intent"}


def split_rasa(src, out_dir, name, seed):
    with open(src, encoding="utf-8") as f:
        data = json.load(f)
    examples = data["rasa_nlu_data"]["common_examples"]
    dev = dev_indices(group(e["intent"] for e in examples), 0.20, seed, name)
    os.makedirs(out_dir, exist_ok=True)
    for part, keep in (("train", False), ("dev", True)):
        copy = dict(data)
        copy["rasa_nlu_data"] = dict(data["rasa_nlu_data"])
        copy["rasa_nlu_data"]["common_examples"] = [e for i, e in enumerate(examples)
                                                    if (i in dev) == keep]
        with open(os.path.join(out_dir, part + ".json"), "w", encoding="utf-8") as f:
            json.dump(copy, f, ensure_ascii=False)
    return {"source": src, "sha256": sha256(src), "train": len(examples) - len(dev), "dev": len(dev),
            "labels": len(set(e["intent"] for e in examples)), "rule": "80/20 per intent"}


def split_aia(src, out_dir, seed):
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header, rows = lines[0], [line for line in lines[1:] if line.strip()]
    fields = [r.split("\t") for r in rows]
    by_faq = OrderedDict()
    for i, (faq, kind, _query) in enumerate(fields):
        by_faq.setdefault(faq, []).append((kind, i))
    to_examples = set()
    for faq, items in by_faq.items():
        pair = [i for kind, i in items if kind in ("VG1", "VG2")]
        units = ([pair] if pair else []) + [[i] for kind, i in items if kind not in ("VG1", "VG2")]
        rng = random.Random("%d:aia-bde:%s" % (seed, faq))
        rng.shuffle(units)
        k = len(units) // 2
        if len(units) % 2 and rng.random() < 0.5:
            k += 1
        for unit in units[:k]:
            to_examples.update(unit)
    os.makedirs(out_dir, exist_ok=True)
    for part, keep in (("examples", True), ("dev", False)):
        with open(os.path.join(out_dir, part + ".tsv"), "w", encoding="utf-8") as f:
            f.write(header + "\n")
            for i, r in enumerate(rows):
                if (i in to_examples) == keep:
                    f.write(r + "\n")
    dev_kinds = {}
    for i, (faq, kind, _q) in enumerate(fields):
        if i not in to_examples:
            dev_kinds[kind] = dev_kinds.get(kind, 0) + 1
    return {"source": src, "sha256": sha256(src), "examples": len(to_examples),
            "dev": len(rows) - len(to_examples), "dev_by_type": dev_kinds, "faqs": len(by_faq),
            "rule": "per FAQ: units = the VG1+VG2 pair and each VUC row; half the units "
                    "(odd: a seeded coin) as examples, the rest scored"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="the datasets (default: ../shared/data)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="where the splits go (default: bench/splits)")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    d, out, seed = args.data, args.out, args.seed
    if not os.path.isdir(d):
        sys.exit("make_splits: %s: no datasets there (--data)" % d)
    manifest = {"seed": seed, "data": d, "splits": {}}
    s = manifest["splits"]
    s["banking77"] = split_csv(os.path.join(d, "banking77", "train.csv"),
                               os.path.join(out, "banking77"), "banking77", "category", seed)
    s["hwu64"] = split_csv(os.path.join(d, "hwu64", "fold1_train.csv"),
                           os.path.join(out, "hwu64"), "hwu64", "intent", seed)
    for sc in ("scenario_0", "scenario_1"):
        s["ro-intents/" + sc] = split_rasa(
            os.path.join(d, "ro-home-assistant", sc, "train.json"),
            os.path.join(out, "ro-intents", sc), "ro-intents/" + sc, seed)
    s["aia-bde"] = split_aia(os.path.join(d, "aia-bde", "queries_dev.tsv"),
                             os.path.join(out, "aia-bde"), seed)
    clinc = os.path.join(d, "clinc150", "data_full_train_val.json")
    s["clinc150"] = {"source": clinc, "sha256": sha256(clinc),
                     "rule": "no split: the file's own train, scored on val + oos_val"}
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for name, v in s.items():
        print("%-22s %s" % (name, ", ".join("%s %s" % (k, v[k]) for k in
                                             ("train", "examples", "dev", "labels") if k in v)
                            or v["rule"]))


if __name__ == "__main__":
    main()
