"""Rare-event durability: P(loss within a year) of one RS(3,2) stripe at field rates, through simulate().

Issue 26's speed target: node MTTF 50 years, MTTR 1 day, parallel repair, a 365-day mission; the exact value
is 1.793e-9 (the transient birth-death chain; computed here with scipy's expm when scipy is installed). The
estimate must reach a relative error (1.96 sd / (sqrt(N) mean)) of at most 10 % in at most 60 s. One
simulate() call carries every replication of the one-stripe model (run.replications; docs/model.md).

It runs importance sampling (balanced failure biasing) with ``--replications`` (default 10,000), the same
stripe with Weibull lifetimes of shape 1.12 under hazard scaling with ten times as many (its weights spread
more; no exact value: shown for its speed and error), and says how many plain replications the same error
would need. Wall and CPU times are printed; on a shared machine the CPU time is the steadier figure.

    .venv/bin/python benchmarks/durability.py [--replications 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config

DAY = 86400.0
YEAR = 365 * DAY
ISSUE_EXACT = 1.793e-9
TARGET_RELATIVE_ERROR = 0.10
TARGET_WALL_S = 60.0


def stripe(replications: int, seed: int, **failures) -> Config:
    return Config.model_validate({
        "name": "durability-bench",
        "run": {"seed": seed, "duration": YEAR, "replications": replications, "estimator": "importance"},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
        "cluster": {"nodes": 8, "racks": 1}, "redundancy": {"policy": "erasure_coding"},
        "migration": {"check_interval": 0}, "workload": {"view_rate": 0},
        "failures": {"node_mttf": 50 * YEAR, "permanent_fraction": 1.0, "detection_timeout": 0,
                     "replacement_delay": 0, **failures},
        "repair": {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": DAY}})


def exact() -> float:
    try:
        from scipy.linalg import expm
    except ImportError:
        return ISSUE_EXACT
    lam, mu = 1 / (50 * YEAR), 1 / DAY
    q = np.zeros((4, 4))
    for i in range(3):
        q[i, i + 1] = (5 - i) * lam
        q[i, i - 1] = i * mu if i else 0.0
        q[i, i] = -q[i].sum()
    return float(expm(q * YEAR)[0, 3])


def timed(config: Config) -> tuple[dict, float, float]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    summary = simulate(config).summary
    return summary, time.perf_counter() - t0, time.process_time() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    truth = exact()
    print(f"load average {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    print(f"exact P(loss in a year), RS(3,2), MTTF 50 y, MTTR 1 d: {truth:.4g}")
    ok = True
    for label, n, failures in (("exponential, balanced failure biasing", args.replications, {}),
                               ("Weibull 1.12, hazard scaling", 10 * args.replications,
                                {"ttf_distribution": "weibull", "weibull_shape": 1.12})):
        s, wall, cpu = timed(stripe(n, args.seed, **failures))
        est = s["loss_estimate"]
        lo, hi = est["interval_99"]
        print(f"{label}: {est['probability']:.4g}  99 % [{lo:.4g}, {hi:.4g}]  relative error "
              f"{100 * est['relative_error']:.1f} %  {n:,} replications  wall {wall:.2f} s  "
              f"cpu {cpu:.2f} s")
        if not failures:
            hit = lo <= truth <= hi
            met = est["relative_error"] <= TARGET_RELATIVE_ERROR and wall <= TARGET_WALL_S
            ok = hit and met
            print(f"  exact inside the 99 % interval: {hit}; target (relative error <= 10 % in <= 60 s): "
                  f"{'met' if met else 'NOT met'}")
    plain = (1.96 / TARGET_RELATIVE_ERROR) ** 2 * (1 - truth) / truth
    print(f"plain Monte Carlo would need about {plain:.2g} replications for 10 %")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
