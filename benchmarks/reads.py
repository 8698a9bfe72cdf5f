"""Speed of the read path and of whole runs with viewers.

Targets (issue: viewers, reads and migration):
  * read path, a mix with >= 40 % EC reads, failures off: >= 250,000 simulated chunk reads per
    wall-clock second of simulate() (stretch: 1 M);
  * the seed's catalog, 20 nodes, 30 days, failures as in the cluster benchmark, a view rate giving
    >= 5 M chunk reads: simulate() <= 60 s;
  * failures off, 10x the videos at the same view rate: at most 2x the time.

Issue 21: the read path stays within 1.3x of the reads per second of the commit before it (c630c5c),
with the cache off; the cost of the cache when on is printed beside it.

    python benchmarks/reads.py [--against DIR] [--cache SIZE] [--hedge AFTER] [--cpu-cores N] [--read-path-only]

``--against DIR`` runs the read-path case a second time with the package of another checkout (a worktree
of the commit before a change, ``git worktree add /tmp/before21 c630c5c``), one after the other, and prints
the ratio of reads per second. ``--cache SIZE`` runs the read-path case once more with ``cache.capacity``
SIZE (this checkout only), ``--hedge AFTER`` with ``reads.hedge_after`` AFTER, once under each
``reads.hedge_withdraw`` rule (the cost of hedging, and of the exact withdrawal's holds), ``--cpu-cores N``
with ``cluster.cpu_cores_per_node`` N (the cost of the CPU stage). ``--read-path-only`` skips the whole-run cases.
"""

from __future__ import annotations

import argparse
import os

from _common import measure_in_subprocess

FAILURES = {"node_mttf": "30d", "permanent_fraction": 0.2, "detection_timeout": "15min"}
OFF = {"node_mttf": 0}


def case(videos: int, failures: dict, view_rate: float, hot_fraction: float = 0.05, days: int = 30) -> dict:
    return {"name": "bench-reads", "run": {"duration": f"{days}d", "seed": 1},
            "catalog": {"videos": videos, "chunks_per_video": 50, "hot_fraction": hot_fraction},
            "cluster": {"nodes": 20, "racks": 4, "node_capacity": "40TB"},
            "failures": failures, "workload": {"view_rate": view_rate},
            "outputs": {"reads_table_sample": 100_000}}


SPEED_RATIO = 1.3


def read_path(label: str, cfg: dict, package_root: str | None = None) -> float:
    m = measure_in_subprocess(cfg, package_root)
    rate = m["reads"] / m["wall_s"]
    print(f"read path [{label}]: {m['reads']:,} chunk reads ({m['ec_read_share']:.0%} EC) in {m['wall_s']:.1f} s "
          f"(process CPU {m['cpu_s']:.1f} s) = {rate:,.0f} reads/s (target >= 250,000; stretch 1,000,000) -> "
          f"{'MET' if rate >= 250_000 else 'MISSED'}", flush=True)
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", metavar="DIR", help="also run the read-path case with the vstack_sim package in DIR")
    ap.add_argument("--cache", metavar="SIZE", help="also run the read-path case with cache.capacity SIZE")
    ap.add_argument("--hedge", metavar="AFTER", help="also run the read-path case with reads.hedge_after AFTER")
    ap.add_argument("--cpu-cores", type=int, metavar="N",
                    help="also run the read-path case with cluster.cpu_cores_per_node N")
    ap.add_argument("--read-path-only", action="store_true", help="skip the whole-run cases")
    args = ap.parse_args()
    if args.against and not os.path.isdir(os.path.join(args.against, "vstack_sim")):
        ap.error(f"--against: no vstack_sim package in {args.against}")
    # Zipf (alpha 1) puts most views on the few hot, replicated videos: with 1 % hot (10 videos)
    # they draw H(10)/H(1000) = 39 % of views, so about 60 % of reads are erasure-coded.
    path = case(1000, OFF, 0.5, hot_fraction=0.01, days=3)
    rate = read_path("this checkout", path)
    if args.against:
        before = read_path(f"against {args.against}", path, args.against)
        print(f"read path: this checkout / against = {rate / before:.2f}x reads/s (issue 21: at least "
              f"1/{SPEED_RATIO} = {1 / SPEED_RATIO:.2f}x) -> {'MET' if rate * SPEED_RATIO >= before else 'MISSED'}",
              flush=True)
    if args.cache:
        cached = read_path(f"cache {args.cache}", {**path, "cache": {"capacity": args.cache}})
        print(f"read path: cache on / off = {cached / rate:.2f}x reads/s", flush=True)
    if args.hedge:
        for rule in ("exact", "keep"):
            hedged = read_path(f"hedge after {args.hedge}, {rule}",
                               {**path, "reads": {"hedge_after": args.hedge, "hedge_withdraw": rule}})
            print(f"read path: hedged ({rule}) / not = {hedged / rate:.2f}x reads/s", flush=True)
    if args.cpu_cores:
        with_cpu = read_path(f"{args.cpu_cores} CPU cores", {**path, "cluster": {**path["cluster"],
                                                                               "cpu_cores_per_node": args.cpu_cores}})
        print(f"read path: CPU stage on / off = {with_cpu / rate:.2f}x reads/s", flush=True)
    if args.read_path_only:
        return
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
