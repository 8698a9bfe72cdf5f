"""Rare-event durability through the full world (``run.replication_model: world``): how fast, how exact.

Three measurements, each printing the estimate, its 99 % interval, its relative error (1.96 sd / (sqrt(N) mean)),
the weights' mean (1 in expectation) and the wall and CPU time:

1. **The exact chain.** Issue 26's stripe (RS(3,2), node MTTF 3,650 d, Exp(1 d) repairs in parallel, a year) as a
   full world of 8 nodes, under hazard scaling with failure bias 0.7, over ``--seeds`` seeds of
   ``--replications`` worlds each, against the exact transient probability 2.239e-7.
2. **I/O-timed repair against plain Monte Carlo.** Four 64 MiB chunks in RS(3,2) on 8 nodes, a 1-hour detection,
   repairs timed by the disks under a 5 kB/s repair cap (about 75 minutes a rebuild) and restarted when a source
   or the target fails, node MTTF 40 d, 60 days: plain Monte Carlo with ``--plain`` worlds and hazard scaling
   (the default bias) with ``--replications`` worlds; the two must agree within their combined 99 % band.
3. **The same world at a rarer rate** (node MTTF 400 d), hazard scaling only, with how many plain worlds the
   same relative error would need.

    .venv/bin/python benchmarks/world_durability.py [--replications 3000] [--plain 4000] [--seeds 3]
"""

from __future__ import annotations

import argparse
import math
import os
import time

from vstack_sim.analysis.durability import loss_probability
from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config

DAY = 86400.0


def stripe_world(replications: int, seed: int) -> Config:
    return Config.model_validate({
        "name": "stripe-world",
        "run": {"seed": seed, "duration": 365 * DAY, "replications": replications, "replication_model": "world",
                "estimator": "importance", "failure_bias": 0.7},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
        "cluster": {"nodes": 8, "racks": 1}, "redundancy": {"policy": "erasure_coding"},
        "migration": {"check_interval": 0}, "workload": {"view_rate": 0},
        "failures": {"node_mttf": 3650 * DAY, "permanent_fraction": 1.0, "detection_timeout": 0,
                     "replacement_delay": 0},
        "repair": {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": DAY}})


def io_world(replications: int, estimator: str, node_mttf_days: float, seed: int) -> Config:
    return Config.model_validate({
        "name": "io-world",
        "run": {"seed": seed, "duration": 60 * DAY, "replications": replications, "replication_model": "world",
                "estimator": estimator, "stop_at_first_loss": True},
        "catalog": {"videos": 1, "chunks_per_video": 4, "chunk_size": "64MiB", "hot_fraction": 0.0},
        "cluster": {"nodes": 8, "racks": 1, "node_capacity": "4TB"}, "redundancy": {"policy": "erasure_coding"},
        "migration": {"check_interval": 0}, "workload": {"view_rate": 0},
        "failures": {"node_mttf": node_mttf_days * DAY, "permanent_fraction": 1.0, "detection_timeout": "1h",
                     "replacement_delay": "1h"},
        "repair": {"time_model": "io", "bandwidth": "5KB/s"}})


def timed(cfg: Config) -> tuple[dict, float, float]:
    wall, cpu = time.perf_counter(), os.times()
    est = simulate(cfg).summary["loss_estimate"]
    after = os.times()
    return est, time.perf_counter() - wall, (after.user - cpu.user) + (after.system - cpu.system)


def show(label: str, est: dict, wall: float, cpu: float) -> None:
    lo, hi = est["interval_99"]
    rel = "n/a" if est["relative_error"] is None else f"{100 * est['relative_error']:.0f} %"
    weights = f", mean weight {est['mean_weight']:.3f} ({'ok' if est['weights_ok'] else 'HEAVY TAILS'})" \
        if label.startswith("importance") else ""
    print(f"  {label:<28} {est['probability']:.4g} [{lo:.3g}, {hi:.3g}], rel. error {rel}, "
          f"{est['losses_observed']} losses{weights}; {wall:.1f} s wall, {cpu:.1f} s CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replications", type=int, default=3000)
    ap.add_argument("--plain", type=int, default=4000)
    ap.add_argument("--seeds", type=int, default=3)
    a = ap.parse_args()

    exact = loss_probability(5, 2, 1 / (3650 * DAY), 1 / DAY, 365 * DAY)
    print(f"1. issue 26 stripe as a world, exact {exact:.4g}:")
    inside = 0
    for seed in range(a.seeds):
        est, wall, cpu = timed(stripe_world(a.replications, seed))
        show(f"importance, seed {seed}", est, wall, cpu)
        inside += est["interval_99"][0] <= exact <= est["interval_99"][1]
    print(f"  exact value inside the 99 % interval: {inside} of {a.seeds}")

    print("2. I/O-timed repair with restarts, node MTTF 40 d, 60 days:")
    plain, wall, cpu = timed(io_world(a.plain, "plain", 40, 1))
    show("plain", plain, wall, cpu)
    weighted, wall, cpu = timed(io_world(a.replications, "importance", 40, 2))
    show("importance", weighted, wall, cpu)
    band = 2.576 * math.hypot(plain["std_error"], weighted["std_error"])
    gap = abs(plain["probability"] - weighted["probability"])
    print(f"  |difference| {gap:.3g} against the combined 99 % band {band:.3g}: "
          f"{'agree' if gap < band else 'DISAGREE'}")

    print("3. the same world at node MTTF 400 d:")
    rare, wall, cpu = timed(io_world(a.replications, "importance", 400, 3))
    show("importance", rare, wall, cpu)
    p, rel = rare["probability"], rare["relative_error"]
    if p > 0 and rel:
        plain_needed = (1.96 / rel) ** 2 * (1 - p) / p
        print(f"  plain Monte Carlo would need about {plain_needed:,.0f} worlds for the same relative error")


if __name__ == "__main__":
    main()
