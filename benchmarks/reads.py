"""Speed of the read path and of whole runs with viewers.

Targets (issue: viewers, reads and migration):
  * read path, a mix with >= 40 % EC reads, failures off: >= 250,000 simulated chunk reads per
    wall-clock second of simulate() (stretch: 1 M);
  * the seed's catalog, 20 nodes, 30 days, failures as in the cluster benchmark, a view rate giving
    >= 5 M chunk reads: simulate() <= 60 s;
  * failures off, 10x the videos at the same view rate: at most 2x the time.

    python benchmarks/reads.py
"""

from __future__ import annotations

from _common import measure_in_subprocess

FAILURES = {"node_mttf": "30d", "permanent_fraction": 0.2, "detection_timeout": "15min"}
OFF = {"node_mttf": 0}


def case(videos: int, failures: dict, view_rate: float, hot_fraction: float = 0.05, days: int = 30) -> dict:
    return {"name": "bench-reads", "run": {"duration": f"{days}d", "seed": 1},
            "catalog": {"videos": videos, "chunks_per_video": 50, "hot_fraction": hot_fraction},
            "cluster": {"nodes": 20, "racks": 4, "node_capacity": "40TB"},
            "failures": failures, "workload": {"view_rate": view_rate},
            "outputs": {"reads_table_sample": 100_000}}


def main() -> None:
    # Zipf (alpha 1) puts most views on the few hot, replicated videos: with 1 % hot (10 videos)
    # they draw H(10)/H(1000) = 39 % of views, so about 60 % of reads are erasure-coded.
    m = measure_in_subprocess(case(1000, OFF, 0.5, hot_fraction=0.01, days=3))
    rate = m["reads"] / m["wall_s"]
    print(f"read path: {m['reads']:,} chunk reads ({m['ec_read_share']:.0%} EC) in {m['wall_s']:.1f} s = "
          f"{rate:,.0f} reads/s (target >= 250,000; stretch 1,000,000) -> {'MET' if rate >= 250_000 else 'MISSED'}")
    seed = measure_in_subprocess(case(1000, FAILURES, 0.05))
    print(f"seed catalog with failures: {seed['reads']:,} chunk reads, {seed['repairs']:,} repairs, "
          f"{seed['migrations']} migrations in {seed['wall_s']:.1f} s (target <= 60 s, >= 5 M reads) -> "
          f"{'MET' if seed['wall_s'] <= 60 and seed['reads'] >= 5_000_000 else 'MISSED'}")
    small = measure_in_subprocess(case(1000, OFF, 0.05))
    big = measure_in_subprocess(case(10_000, OFF, 0.05))
    ratio = big["wall_s"] / small["wall_s"]
    print(f"failures off: 1,000 videos {small['wall_s']:.1f} s ({small['reads']:,} reads); 10,000 videos "
          f"{big['wall_s']:.1f} s ({big['reads']:,} reads): {ratio:.2f}x (target <= 2x) -> "
          f"{'MET' if ratio <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
