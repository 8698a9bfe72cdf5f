"""Sweep speed: an 8-run sweep of ~10 s runs, serial against the process pool and a Dask LocalCluster.

Targets (issue 13): on 2 cores the process pool is at least 1.7x faster than serial, and a LocalCluster
of 2 workers is within 15 % of the process pool. Each executor writes its own sweep folder under a
temporary directory; the runs.csv files must be byte-identical. Run it on a quiet machine:

    python benchmarks/sweep.py [--workers 2] [--duration 6d]

The figures include each executor's start-up (process spawning, the cluster's scheduler and workers).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from vstack_sim.experiments import executors
from vstack_sim.experiments.sweep_files import make_sweep
from vstack_sim.experiments.sweeps import run_sweep
from vstack_sim.scenario.schema import Config


def base(duration: str) -> Config:
    """The seed's catalog on the default cluster with failures; a run's wall time grows with its duration."""
    return Config.model_validate({
        "name": "bench-sweep",
        "run": {"duration": duration, "seed": 13},
        "workload": {"view_rate": "0.05/s"},
        "outputs": {"figures": False, "reads_table_sample": 20_000},
    })


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (pool and cluster workers end first)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(spec, out: Path, **where) -> tuple[float, float, bytes]:
    """Wall seconds, CPU seconds (ours and our workers') and the runs.csv bytes of one sweep."""
    t0, c0 = time.perf_counter(), _cpu()
    with executors.open_executor(**where) as (executor, _):
        done = run_sweep(spec, executor=executor, out=out, progress=False)
    return time.perf_counter() - t0, _cpu() - c0, (done.path / "runs.csv").read_bytes()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", default="6d", help="simulated time per run (default 6d)")
    args = ap.parse_args()
    spec = make_sweep(base(args.duration), grid={"redundancy.policy": ["adaptive", "erasure_coding"]},
                      replications=4, name="bench-sweep")
    print(f"{spec.n_points() * spec.replications} runs of {args.duration} simulated; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # The serial sweep runs in this process, so its CPU time over its wall time is the share of a core
        # it got: well below 100 % means other processes held the cores and every ratio below is contaminated.
        # (Pool workers are the forkserver's children, not ours, so their CPU time cannot be read here.)
        serial, serial_cpu, csv = timed(spec, tmp / "serial", workers=1)
        print(f"serial                      {serial:7.1f} s  ({serial / 8:.1f} s per run; it got "
              f"{100 * serial_cpu / serial:.0f} % of a core)")
        pool, _, csv_pool = timed(spec, tmp / "pool", workers=args.workers)
        print(f"process pool, {args.workers} workers      {pool:7.1f} s  speed-up {serial / pool:.2f}x "
              "(target >= 1.7x)")
        dask, _, csv_dask = timed(spec, tmp / "dask", local_cluster=args.workers)
        print(f"LocalCluster, {args.workers} workers      {dask:7.1f} s  {100 * (dask / pool - 1):+.1f} % "
              "against the pool (target within 15 %)")
        print("runs.csv identical:", csv == csv_pool == csv_dask)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
