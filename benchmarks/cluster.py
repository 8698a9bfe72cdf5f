"""Speed and scale of the simulated cluster (failures and repairs, no viewers).

Targets (issue: the simulated cluster):
  * the seed's catalog (1,000 videos x 50 chunks of 2 MiB), 20 nodes, MTTF 30 d: simulate() <= 20 s;
  * 100,000 videos x 50 chunks (5 M chunks), 200 nodes, MTTF 60 d: simulate() <= 5 min, <= 4 GB peak RSS.
Both: 20 % of failures permanent, detection 15 min, 30 simulated days.

    python benchmarks/cluster.py [--skip-large]
"""

from __future__ import annotations

import argparse

from _common import measure_in_subprocess

QUIET = {"workload": {"view_rate": 0}, "migration": {"check_interval": 0}}


def case(videos: int, nodes: int, racks: int, mttf: str) -> dict:
    return {"name": "bench-cluster", **QUIET, "run": {"duration": "30d", "seed": 1},
            "catalog": {"videos": videos, "chunks_per_video": 50},
            "cluster": {"nodes": nodes, "racks": racks},
            "failures": {"node_mttf": mttf, "permanent_fraction": 0.2, "detection_timeout": "15min"}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args()
    cases = [("seed catalog, 20 nodes, MTTF 30d", case(1000, 20, 4, "30d"), 20.0, None)]
    if not args.skip_large:
        cases.append(("5M chunks, 200 nodes, MTTF 60d", case(100_000, 200, 10, "60d"), 300.0, 4096.0))
    for label, cfg, target_s, target_mb in cases:
        m = measure_in_subprocess(cfg)
        rate = m["repairs"] / m["wall_s"] if m["wall_s"] else 0.0
        ok = m["wall_s"] <= target_s and (target_mb is None or m["peak_rss_mb"] <= target_mb)
        print(f"{label}: simulate() {m['wall_s']:.1f} s (target <= {target_s:.0f} s), peak RSS "
              f"{m['peak_rss_mb']:.0f} MB" + (f" (target <= {target_mb:.0f} MB)" if target_mb else "") +
              f", {m['chunks']:,} chunks, {m['node_failures']} declared + {m['transient_failures']} transient "
              f"failures, {m['repairs']:,} repairs ({rate:,.0f} repairs/s wall), {m['chunks_lost']} lost; "
              f"build {m['timings']['build_s']:.1f} s, run {m['timings']['run_s']:.1f} s, "
              f"collect {m['timings']['collect_s']:.1f} s -> {'MET' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
