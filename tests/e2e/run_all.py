#!/usr/bin/env python3
"""Runs every tests/e2e/test_*.py as its own process; exit code 0 only if all pass.

    python3 tests/e2e/run_all.py            # all files, one after another
    python3 tests/e2e/run_all.py -j 3       # three files at a time
    python3 tests/e2e/run_all.py test_kill9.py test_answers.py
"""

import argparse
import glob
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def run(path):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return path, p.returncode, time.monotonic() - t0, p.stdout.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=1, help="files run in parallel")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = [os.path.join(HERE, f) if not os.path.isabs(f) else f for f in args.files] or \
        sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    t0 = time.monotonic()
    results = []
    with ThreadPoolExecutor(max(1, args.j)) as ex:
        for path, rc, took, out in ex.map(run, files):
            name = os.path.basename(path)
            print("=" * 70)
            print("%s: %s (%.1fs)" % (name, "ok" if rc == 0 else "FAILED, exit %d" % rc, took))
            print("=" * 70)
            print(out)
            sys.stdout.flush()
            results.append((name, rc, took))
    print("summary (%.1fs):" % (time.monotonic() - t0))
    for name, rc, took in results:
        print("  %-26s %s  %.1fs" % (name, "ok    " if rc == 0 else "FAILED", took))
    sys.exit(0 if all(rc == 0 for _, rc, _ in results) else 1)


if __name__ == "__main__":
    main()
