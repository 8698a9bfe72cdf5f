"""Wall time of writing catalog.sqlite for the seed's catalog (target: at most 5 s).

The seed's catalog is 1,000 videos x 50 chunks, 5 % hot: 2,500 replicated chunks (7,500 replica rows)
and 47,500 coded chunks (237,500 fragment rows), about 245 k chunk_fragments rows plus 50 k chunks and
1 k video_stats rows. The run itself is a quiet one (no failures, views or checks: the end state is the
ingest layout), because this measures the writer, not the simulator.

    .venv/bin/python benchmarks/catalog.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from vstack_sim.model.simulation import simulate
from vstack_sim.results.catalog_db import write_catalog
from vstack_sim.scenario.schema import Config

SEED_QUIET = {"name": "seed-catalog", "run": {"duration": 60}, "failures": {"node_mttf": 0},
              "workload": {"view_rate": 0}, "migration": {"check_interval": 0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = simulate(Config.model_validate(SEED_QUIET))
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            path = Path(tmp) / f"catalog-{i}.sqlite"
            start = time.perf_counter()
            write_catalog(path, result.catalog, result.tables)
            times.append(time.perf_counter() - start)
        conn = sqlite3.connect(path)
        rows = conn.execute("SELECT COUNT(*) FROM chunk_fragments").fetchone()[0]
        chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        conn.close()
        size = path.stat().st_size
    print(f"catalog.sqlite of the seed: {rows:,} chunk_fragments rows, {chunks:,} chunks, {size / 2**20:.1f} MiB")
    print(f"write: best {min(times):.2f} s, median {statistics.median(times):.2f} s over {args.repeats} "
          f"(target <= 5 s) -> {'OK' if min(times) <= 5.0 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
