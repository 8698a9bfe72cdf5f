"""The up-front memory estimate against the measured peak RSS of the same run.

``vstack_sim.scenario.limits.estimate`` must be true to within 30 % where it matters: for large catalogs
with failures, whose repairs table grows with the chunks (issue 19: 50 M chunks, 200 nodes, node MTTF
60 d, 30 days were estimated at 5.9 GiB and grew to 15-17 GiB). Each case runs ``simulate()`` in a fresh
process (``_common.measure_in_subprocess``, peak RSS from ``resource.getrusage``) and compares.

Target: |estimate / measured - 1| <= 30 % at both sizes.

    python benchmarks/limits_memory.py [--sizes 0.5,2] [--no-failures]

``--sizes`` gives the catalog sizes in millions of chunks (50 chunks a video); ``--no-failures`` adds the
same sizes without failures (the per-chunk cost alone).
"""

from __future__ import annotations

import argparse

from _common import measure_in_subprocess

from vstack_sim.scenario.limits import estimate
from vstack_sim.scenario.schema import Config

MIB = 2**20


def case(million_chunks: float, failures: bool = True) -> dict:
    """The issue's shape (200 nodes in 10 racks, node MTTF 60 d, 30 days, no viewers) at a given size."""
    return {"name": "bench-limits-memory", "run": {"duration": "30d", "seed": 1},
            "workload": {"view_rate": 0}, "migration": {"check_interval": 0},
            "outputs": {"figures": False},  # simulate() draws none; the estimate adds matplotlib's share when on
            "catalog": {"videos": round(million_chunks * 1e6 / 50), "chunks_per_video": 50},
            "cluster": {"nodes": 200, "racks": 10},
            "failures": {"node_mttf": "60d" if failures else 0, "permanent_fraction": 0.2,
                         "detection_timeout": "15min"}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="0.5,2", help="millions of chunks, comma-separated (default 0.5,2)")
    ap.add_argument("--no-failures", action="store_true", help="also run each size without failures")
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    cases = [(size, True) for size in sizes] + ([(size, False) for size in sizes] if args.no_failures else [])
    worst = 0.0
    for size, failures in cases:
        cfg = case(size, failures)
        est = estimate(Config.model_validate(cfg))
        m = measure_in_subprocess(cfg)
        measured = m["peak_rss_mb"] * MIB
        error = est.memory_bytes / measured - 1
        if failures:
            worst = max(worst, abs(error))
        parts = ", ".join(f"{k} {v / MIB:,.0f}" for k, v in est.memory_parts.items() if v >= MIB)
        label = f"{size:g} M chunks, {'with' if failures else 'no'} failures"
        print(f"{label}: estimate {est.memory_bytes / MIB:,.0f} MiB, "
              f"measured peak RSS {m['peak_rss_mb']:,.0f} MiB ({error:+.0%}); {m['repairs']:,} repairs, "
              f"{m['node_failures']} declared failures; simulate() {m['wall_s']:.0f} s; estimate parts (MiB): {parts}")
    print(f"worst error with failures: {worst:.0%} (target <= 30 %) -> {'MET' if worst <= 0.30 else 'MISSED'}")


if __name__ == "__main__":
    main()
