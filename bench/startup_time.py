#!/usr/bin/env python3
"""Measures Switchboard's start-up time: exec -> DATA/switchboard.port exists.

usage: bench/startup_time.py BINARY DATA PLUGINS [--runs N] [--cpu C] [--json OUT]

Each run removes a stale port file, starts `BINARY serve --port 0`, pinned to
CPU C (sched_setaffinity in the child before exec, so no extra taskset exec
is timed), polls for the port file every 100 us, then checks that /healthz
answers (time to first 200 is reported too), reads the server's own "ready
in X ms" log line, and stops it with SIGTERM. Prints the per-run times and
the median; --json writes them. For scale it also times `BINARY version`
(exec, dynamic linking, exit) through the same harness.
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time


def one_run(binary, data, plugins, cpu, log_path):
    port_file = os.path.join(data, "switchboard.port")
    if os.path.exists(port_file):
        os.unlink(port_file)

    def pin():
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    with open(log_path, "w") as log:
        t0 = time.monotonic_ns()
        proc = subprocess.Popen(
            [binary, "serve", "--port", "0", "--data", data, "--plugins", plugins],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=pin)
        deadline = t0 + 10 * 10**9
        while not os.path.exists(port_file):
            if proc.poll() is not None or time.monotonic_ns() > deadline:
                proc.kill()
                sys.exit(f"server did not start, see {log_path}")
            time.sleep(0.0001)
        t_port = time.monotonic_ns()
        with open(port_file) as f:
            port = int(f.read().strip())
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    break
            except OSError:
                pass
            if time.monotonic_ns() > deadline:
                proc.kill()
                sys.exit("healthz never answered")
            time.sleep(0.0001)
        t_health = time.monotonic_ns()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    ready = None
    with open(log_path) as f:
        m = re.search(r"ready in ([0-9.]+) ms", f.read())
        if m:
            ready = float(m.group(1))
    return {
        "port_file_ms": (t_port - t0) / 1e6,
        "first_healthz_ms": (t_health - t0) / 1e6,
        "server_reported_ready_ms": ready,
        "exit_code": proc.returncode,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("data")
    ap.add_argument("plugins")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    log_path = os.path.join(args.data, "startup-run.log")
    runs = [one_run(args.binary, args.data, args.plugins, args.cpu, log_path)
            for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs if r[k] is not None)
           for k in ("port_file_ms", "first_healthz_ms", "server_reported_ready_ms")}
    version = []
    for _ in range(max(args.runs, 5)):
        t0 = time.monotonic_ns()
        subprocess.run([args.binary, "version"], stdout=subprocess.DEVNULL, check=True,
                       preexec_fn=(lambda: os.sched_setaffinity(0, {args.cpu}))
                       if args.cpu is not None else None)
        version.append((time.monotonic_ns() - t0) / 1e6)
    med["version_cmd_ms"] = statistics.median(version)
    for i, r in enumerate(runs, 1):
        print(f"run {i}: port file {r['port_file_ms']:.2f} ms, first /healthz "
              f"{r['first_healthz_ms']:.2f} ms, server says ready in "
              f"{r['server_reported_ready_ms']} ms, exit {r['exit_code']}")
    print(f"median: port file {med['port_file_ms']:.2f} ms, first /healthz "
          f"{med['first_healthz_ms']:.2f} ms, server-reported {med['server_reported_ready_ms']:.2f} ms; "
          f"`version` (exec+link+exit, same harness) {med['version_cmd_ms']:.2f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "version_cmd_ms": version, "median": med}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
