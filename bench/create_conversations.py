#!/usr/bin/env python3
"""Creates N web conversations on a running Switchboard and writes them out.

usage: bench/create_conversations.py URL N OUT [--threads T] [--locale L]

OUT gets one "id token" line per conversation, in creation order. Uses
keep-alive connections (http.client), T threads (default 4), each creating
its share; exits non-zero if any request does not answer 201.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse


def worker(host, port, count, locale, out, errors):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    body = json.dumps({"locale": locale})
    headers = {"Content-Type": "application/json"}
    for _ in range(count):
        try:
            conn.request("POST", "/api/v1/conversations", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            # One reconnect per failure; a dropped keep-alive is not fatal.
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            errors.append(repr(e))
            continue
        if resp.status != 201:
            errors.append(f"{resp.status} {data[:200]!r}")
            continue
        doc = json.loads(data)
        out.append((doc["id"], doc["token"]))
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--locale", default="en")
    args = ap.parse_args()

    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    shares = [args.n // args.threads + (1 if i < args.n % args.threads else 0)
              for i in range(args.threads)]
    results = [[] for _ in shares]
    errors = []
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(host, port, s, args.locale, results[i], errors))
               for i, s in enumerate(shares)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0

    rows = [r for part in results for r in part]
    with open(args.out, "w") as f:
        for cid, token in rows:
            f.write(f"{cid} {token}\n")
    print(f"created {len(rows)} conversations in {elapsed:.2f} s "
          f"({len(rows) / elapsed:.0f}/s), {len(errors)} errors", file=sys.stderr)
    if errors:
        print("first error: " + errors[0], file=sys.stderr)
    sys.exit(0 if len(rows) == args.n else 1)


if __name__ == "__main__":
    main()
