"""Speed and scale of the simulated cluster (failures and repairs, no viewers).

Targets (issue: the simulated cluster):
  * the seed's catalog (1,000 videos x 50 chunks of 2 MiB), 20 nodes, MTTF 30 d: simulate() <= 20 s;
  * 100,000 videos x 50 chunks (5 M chunks), 200 nodes, MTTF 60 d: simulate() <= 5 min, <= 4 GB peak RSS.
Both: 20 % of failures permanent, detection 15 min, 30 simulated days.

Targets (issue 20: repair dispatch that scales): each case runs twice in the same invocation, with
the default per-node repair caps and with none (``streams_per_node: 0``, ``source_streams_per_node:
0``); the capped run takes at most 1.3x the uncapped one, and the 5 M case at most 1.5 GB peak RSS.
The cost per repair (simulate() wall time / repairs, and the process's CPU time / repairs) is
printed for both.

    python benchmarks/cluster.py [--skip-large] [--capped-only | --uncapped-only] [--against DIR]

``--against DIR`` runs every case a second time with the package of another checkout (DIR holds its
``vstack_sim`` and ``benchmarks/_common.py``: a worktree of the commit before a change, ``git worktree add
/tmp/before COMMIT``), one case after the other, and prints the two side by side.
"""

from __future__ import annotations

import argparse
import os

from _common import measure_in_subprocess

QUIET = {"workload": {"view_rate": 0}, "migration": {"check_interval": 0}}
UNCAPPED = {"streams_per_node": 0, "source_streams_per_node": 0}
CAP_RATIO = 1.3


def case(videos: int, nodes: int, racks: int, mttf: str, caps: bool = True) -> dict:
    cfg = {"name": "bench-cluster", **QUIET, "run": {"duration": "30d", "seed": 1},
           "catalog": {"videos": videos, "chunks_per_video": 50},
           "cluster": {"nodes": nodes, "racks": racks},
           "failures": {"node_mttf": mttf, "permanent_fraction": 0.2, "detection_timeout": "15min"}}
    if not caps:
        cfg["repair"] = dict(UNCAPPED)
    return cfg


def report(label: str, m: dict, target_s: float, target_mb: float | None) -> bool:
    rate = m["repairs"] / m["wall_s"] if m["wall_s"] else 0.0
    us = 1e6 * m["wall_s"] / m["repairs"] if m["repairs"] else float("nan")
    ok = m["wall_s"] <= target_s and (target_mb is None or m["peak_rss_mb"] <= target_mb)
    cpu_us = 1e6 * m["cpu_s"] / m["repairs"] if m["repairs"] else float("nan")
    print(f"{label}: simulate() {m['wall_s']:.1f} s (target <= {target_s:.0f} s), process CPU {m['cpu_s']:.1f} s "
          f"({cpu_us:.1f} us/repair), peak RSS "
          f"{m['peak_rss_mb']:.0f} MB" + (f" (target <= {target_mb:.0f} MB)" if target_mb else "") +
          f", {m['chunks']:,} chunks, {m['node_failures']} declared + {m['transient_failures']} transient "
          f"failures, {m['repairs']:,} repairs ({rate:,.0f} repairs/s wall, {us:.1f} us/repair), "
          f"{m['chunks_lost']} lost; build {m['timings']['build_s']:.1f} s, run {m['timings']['run_s']:.1f} s, "
          f"collect {m['timings']['collect_s']:.1f} s -> {'MET' if ok else 'MISSED'}", flush=True)
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-large", action="store_true")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--capped-only", action="store_true", help="run each case with the caps only")
    only.add_argument("--uncapped-only", action="store_true", help="run each case without caps only")
    ap.add_argument("--against", metavar="DIR", help="also run each case with the vstack_sim package in DIR")
    args = ap.parse_args()
    if args.against and not os.path.isdir(os.path.join(args.against, "vstack_sim")):
        ap.error(f"--against: no vstack_sim package in {args.against}")
    sides = [("this checkout", None)] + ([(f"against {args.against}", args.against)] if args.against else [])
    cases = [("seed catalog, 20 nodes, MTTF 30d", (1000, 20, 4, "30d"), 20.0, None)]
    if not args.skip_large:
        cases.append(("5M chunks, 200 nodes, MTTF 60d", (100_000, 200, 10, "60d"), 300.0, 1536.0))
    for label, shape, target_s, target_mb in cases:
        for side, root in sides:
            runs = {}
            for caps in (True, False):
                if (caps and args.uncapped_only) or (not caps and args.capped_only):
                    continue
                m = measure_in_subprocess(case(*shape, caps=caps), root)
                report(f"[{side}] {label}, {'capped' if caps else 'uncapped'}", m, target_s, target_mb)
                runs[caps] = m
            if len(runs) == 2:
                ratio = runs[True]["wall_s"] / runs[False]["wall_s"]
                cpu = runs[True]["cpu_s"] / runs[False]["cpu_s"]
                print(f"[{side}] {label}: capped / uncapped = {ratio:.2f}x wall, {cpu:.2f}x CPU "
                      f"(target <= {CAP_RATIO}x) -> {'MET' if max(ratio, cpu) <= CAP_RATIO else 'MISSED'}",
                      flush=True)


if __name__ == "__main__":
    main()
