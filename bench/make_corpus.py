#!/usr/bin/env python3
"""Builds the benchmark corpus from the BANKING77 training texts.

Writes, under OUT (default bench/corpus/):
  kb/en/<slug>.md   1,000 English articles (Markdown + YAML front matter,
                    the format of kb/demo/README.md), ~13 per intent,
                    allotted in proportion to each intent's size.
  questions.txt     held-out training utterances, one a line, none of which
                    is used as an article title or example (>= 1,000).
  manifest.json     counts and the source, for the benchmark report.

The dataset is read in place and never copied. Deterministic: fixed seed,
sorted inputs.

usage: bench/make_corpus.py [--train PATH] [--out DIR] [--articles N] [--seed S]
"""
import argparse
import csv
import json
import os
import random
import re
import shutil
import sys

DEFAULT_TRAIN = "/work/shared/data/banking77/train.csv"
HERE = os.path.dirname(os.path.abspath(__file__))

# Share of each intent's utterances kept out of the KB for questions.txt.
HOLDOUT = 0.25
MIN_EXAMPLES, MAX_EXAMPLES = 5, 8

# One sentence naming the intent. Kept free of filler words shared by every
# article ("app", "account", "support"...): a word in all 1,000 summaries
# would make every question that uses it match the whole KB, which says
# more about the template than about the server.
SUMMARY_TEMPLATES = [
    "Here is what to do about {topic}, step by step.",
    "Everything about {topic}: how it works and how long it takes.",
    "The short answer on {topic}, with the usual timings and limits.",
    "What you should know about {topic} and what to check first.",
    "Our guide to {topic}, including the most common problems.",
]


def topic_of(intent):
    return intent.replace("_", " ").replace("?", "")


def category_of(intent):
    # The demo categories; the importer stores any text, this just keeps
    # the corpus close to the documented shape.
    if "refund" in intent or "reverted" in intent or "cancel" in intent:
        return "returns"
    if "delivery" in intent or "arrival" in intent or "arrive" in intent:
        return "shipping"
    if re.search(r"card|pay|transfer|top_up|cash|exchange|fee|charge|withdraw|rate|currenc", intent):
        return "payments"
    return "account"


def slugify(text, used):
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    base = "-".join(base.split("-")[:8]) or "article"
    slug, n = base, 2
    while slug in used:
        slug = f"{base}-{n}"
        n += 1
    used.add(slug)
    return slug


def yaml_str(s):
    # Double-quoted YAML scalar: escape backslash and quote; the texts are
    # single-line.
    s = " ".join(s.split())
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def allot(sizes, total):
    """Largest-remainder split of `total` articles over intents, >= 1 each."""
    n = sum(sizes.values())
    raw = {k: total * v / n for k, v in sizes.items()}
    out = {k: max(1, int(r)) for k, r in raw.items()}
    rest = total - sum(out.values())
    order = sorted(sizes, key=lambda k: (-(raw[k] - int(raw[k])), k))
    i = 0
    while rest > 0:
        out[order[i % len(order)]] += 1
        rest -= 1
        i += 1
    while rest < 0:  # only if many intents were bumped to 1
        k = max(out, key=lambda x: (out[x], x))
        out[k] -= 1
        rest += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=os.environ.get("BANKING77_TRAIN", DEFAULT_TRAIN))
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=77)
    args = ap.parse_args()

    by_intent = {}
    seen = set()
    with open(args.train, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = " ".join(row["text"].split())
            key = text.lower()
            if not text or key in seen:
                continue
            seen.add(key)
            by_intent.setdefault(row["category"], []).append(text)
    for v in by_intent.values():
        v.sort()

    rng = random.Random(args.seed)
    counts = allot({k: len(v) for k, v in by_intent.items()}, args.articles)

    kb_dir = os.path.join(args.out, "kb", "en")
    if os.path.isdir(os.path.join(args.out, "kb")):
        shutil.rmtree(os.path.join(args.out, "kb"))
    os.makedirs(kb_dir)

    used_slugs = set()
    questions = []
    n_articles = 0
    n_examples = 0
    for intent in sorted(by_intent):
        texts = by_intent[intent][:]
        rng.shuffle(texts)
        k = counts[intent]
        budget = len(texts) - max(1, int(round(len(texts) * HOLDOUT)))
        sizes = [1 + rng.randint(MIN_EXAMPLES, MAX_EXAMPLES) for _ in range(k)]
        # Shrink (down to title + MIN_EXAMPLES) until the hold-out is kept.
        i = 0
        while sum(sizes) > budget and any(s > 1 + MIN_EXAMPLES for s in sizes):
            if sizes[i % k] > 1 + MIN_EXAMPLES:
                sizes[i % k] -= 1
            i += 1
        if sum(sizes) > len(texts) - 1:
            sys.exit(f"intent {intent}: {len(texts)} texts are too few for {k} articles")
        pos = 0
        topic = topic_of(intent)
        for a in range(k):
            chunk = texts[pos:pos + sizes[a]]
            pos += sizes[a]
            title, examples = chunk[0], chunk[1:]
            # the knowledge base caps an example question at 300 bytes
            examples = [e for e in examples if len(e.encode("utf-8")) <= 300]
            slug = slugify(title, used_slugs)
            summary = SUMMARY_TEMPLATES[rng.randrange(len(SUMMARY_TEMPLATES))].format(topic=topic)
            lines = [
                "---",
                f"# generated by bench/make_corpus.py: BANKING77 intent {intent}, part {a + 1} of {k}",
                f"title: {yaml_str(title)}",
                f"slug: {slug}",
                "locale: en",
                f"category: {category_of(intent)}",
                f"tags: [{', '.join(intent.split('_'))}]",
                "status: published",
                f"summary: {yaml_str(summary)}",
                "examples:",
            ]
            lines += [f"  - {yaml_str(e)}" for e in examples]
            lines += [
                "---",
                f"# {title}",
                "",
                summary,
                "",
            ]
            with open(os.path.join(kb_dir, slug + ".md"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
            n_articles += 1
            n_examples += len(examples)
        questions += texts[pos:]

    questions.sort()
    rng.shuffle(questions)
    with open(os.path.join(args.out, "questions.txt"), "w", encoding="utf-8") as f:
        for q in questions:
            f.write(q + "\n")
    manifest = {
        "source": os.path.abspath(args.train),
        "seed": args.seed,
        "intents": len(by_intent),
        "articles": n_articles,
        "examples": n_examples,
        "questions": len(questions),
        "distinct_questions": len(set(q.lower() for q in questions)),
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    if n_articles != args.articles or manifest["distinct_questions"] < 1000:
        sys.exit(f"corpus check failed: {manifest}")
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
