"""Throughput and latency of `vstack-sim serve` on loopback: 10,000 requests from 8 client threads.

Builds a small results folder (the seed's 1,000 videos, a short quiet run) in a temporary folder,
starts ``vstack-sim serve`` on a free loopback port, and sends a bounded number of requests with httpx,
one keep-alive client per thread: 80 % GET /redundancy/recommend, 10 % POST override, 5 % DELETE
override, 5 % GET /storage/overhead. Prints requests/s, p50 and p99 latency, and the error count
(must be 0). Only 127.0.0.1 is ever contacted.

    .venv/bin/python benchmarks/serve.py [--requests 10000] [--threads 8]
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from vstack_sim.results.store import run_to_folder
from vstack_sim.scenario.schema import Config

QUIET_SEED = {"name": "seed-serve", "run": {"duration": 60}, "failures": {"node_mttf": 0},
              "workload": {"view_rate": 0}, "migration": {"check_interval": 0}}


def start(folder: Path):
    # --quiet: the per-request log line is not part of what is measured (and nobody drains the pipe).
    proc = subprocess.Popen([sys.executable, "-m", "vstack_sim.cli.main", "serve", str(folder), "--port", "0",
                             "--quiet"],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    if " on http://" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line}")
    url = line.split(" on ", 1)[1].split()[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/openapi.json").status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = run_to_folder(Config.model_validate(QUIET_SEED), out=Path(tmp) / "run", quiet=True)
        proc, url = start(folder)
        per_thread = args.requests // args.threads
        latencies: list[list[float]] = [[] for _ in range(args.threads)]
        errors = [0] * args.threads

        def worker(n: int) -> None:
            rng = random.Random(n)
            own = [str(v) for v in range(n, 1000, args.threads)]
            with httpx.Client(base_url=url, timeout=10.0) as c:
                for _ in range(per_thread):
                    x = rng.random()
                    video = rng.choice(own)
                    t0 = time.perf_counter()
                    if x < 0.80:
                        r = c.get(f"/redundancy/recommend/{video}")
                    elif x < 0.90:
                        r = c.post(f"/redundancy/override/{video}",
                                   params={"mode": rng.choice(["replication", "erasure_coding"])})
                    elif x < 0.95:
                        r = c.delete(f"/redundancy/override/{video}")
                    else:
                        r = c.get("/storage/overhead")
                    latencies[n].append(time.perf_counter() - t0)
                    errors[n] += r.status_code != 200

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    lat = np.concatenate([np.asarray(x) for x in latencies]) * 1000
    total = len(lat)
    print(f"{total:,} requests from {args.threads} threads in {wall:.2f} s: {total / wall:,.0f} requests/s")
    print(f"latency p50 {np.percentile(lat, 50):.2f} ms, p99 {np.percentile(lat, 99):.2f} ms; "
          f"errors {sum(errors)}; server exit status {code}")


if __name__ == "__main__":
    main()
