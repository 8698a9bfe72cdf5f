"""Wall time of loading a catalog.source videos file of one million rows (vectorised pandas parse + checks).

Writes a made-up file (string ids, Pareto views, byte lengths) in a temporary folder, then times
``load_videos_csv`` on it (cold: the cache is cleared before each run).

    .venv/bin/python benchmarks/catalog_source.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vstack_sim.scenario import catalog_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    n = args.rows
    df = pd.DataFrame({"video_id": [f"vid-{i:08x}" for i in range(n)],
                       "views": np.floor(40 * rng.pareto(1.1, n)).astype(np.int64),
                       "bytes": rng.lognormal(np.log(60 * 2**20), 0.9, n).astype(np.int64) + 1})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "videos.csv"
        df.to_csv(path, index=False)
        size = path.stat().st_size
        times = []
        for _ in range(args.repeats):
            catalog_source._load.cache_clear()
            start = time.perf_counter()
            src = catalog_source.load_videos_csv(path)
            times.append(time.perf_counter() - start)
    print(f"{n:,} rows ({size / 2**20:.0f} MiB), {int(src.chunk_counts(2 * 2**20).sum()):,} chunks of 2 MiB")
    print(f"load_videos_csv: best {min(times):.2f} s, median {statistics.median(times):.2f} s over {args.repeats}")


if __name__ == "__main__":
    main()
