"""Wall time of RedundancyManager.decide_modes on one million videos.

The simulator re-decides every video's mode at each popularity check, so the
batch call has to be cheap at catalog scale. This times it at ingest (plain
rule), at a later check (hysteresis against current modes) and with a few
hundred manual overrides, and prints the best and median of several runs.

    .venv/bin/python benchmarks/decide_modes.py [--videos 1000000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from vstack_sim.system.manager import RedundancyManager


def _time(func, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    ids = np.arange(args.videos, dtype=np.int64)
    # Heavy-tailed counts, so that a few percent of videos sit above the threshold.
    counts = np.floor(rng.pareto(1.2, size=args.videos) * 150).astype(np.int64)
    plain = RedundancyManager(popularity_threshold=1000)
    hyst = RedundancyManager(popularity_threshold=1000, hysteresis=0.2)
    with_overrides = RedundancyManager(popularity_threshold=1000, hysteresis=0.2)
    for vid in rng.choice(ids, size=500, replace=False):
        with_overrides.set_manual_override(int(vid), "replication" if vid % 2 else "erasure_coding")

    ingest = plain.decide_modes(ids, counts)
    later = counts + rng.poisson(20, size=args.videos)
    print(f"decide_modes on {args.videos:,} videos ({np.mean(ingest == 0):.1%} replicated at ingest), "
          f"best / median of {args.repeats}:")
    cases = [
        ("ingest, plain rule", lambda: plain.decide_modes(ids, counts)),
        ("check, hysteresis 0.2", lambda: hyst.decide_modes(ids, later, ingest)),
        ("check, hysteresis + 500 overrides", lambda: with_overrides.decide_modes(ids, later, ingest)),
    ]
    for name, func in cases:
        best, median = _time(func, args.repeats)
        print(f"  {name:<36} {best * 1e3:8.2f} ms  {median * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
