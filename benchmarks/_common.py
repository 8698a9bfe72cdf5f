"""Shared helpers for the benchmark scripts: run a config in a fresh process and measure it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config


def measure(config_dict: dict) -> dict:
    """Run one simulation here; wall time, peak RSS and key counts."""
    cfg = Config.model_validate(config_dict)
    t0 = time.perf_counter()
    r = simulate(cfg, allow_huge=True)  # the benchmarks run huge cases on purpose
    wall = time.perf_counter() - t0
    s = r.summary
    kinds = s["reads"]
    ec = r.reads["kind"].isin(["erasure_coding", "degraded"]).mean() if len(r.reads) else 0.0
    return {
        "wall_s": wall, "timings": r.timings,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "chunks": s["run"]["chunks"], "reads": kinds["count"], "ec_read_share": float(ec),
        "repairs": s["recovery"]["repairs"], "node_failures": s["recovery"]["node_failures"],
        "transient_failures": s["recovery"]["transient_failures"], "chunks_lost": s["durability"]["chunks_lost"],
        "migrations": s["migrations"]["to_replication"] + s["migrations"]["to_erasure_coding"],
    }


# The child measures with the checkout's own ``measure`` and adds the process's CPU time: on a shared machine
# the wall time of a run depends on the other load, its CPU time much less.
CODE = ("import json, resource, sys; sys.path.insert(0, {bench!r}); from _common import measure; "
        "m = measure(json.loads(sys.stdin.read())); r = resource.getrusage(resource.RUSAGE_SELF); "
        "m['cpu_s'] = r.ru_utime + r.ru_stime; print(json.dumps(m))")


def measure_in_subprocess(config_dict: dict, package_root: str | None = None) -> dict:
    """Each case in its own interpreter, so peak RSS is that case's alone; with ``package_root``, the
    ``vstack_sim`` found there, measured by that checkout's ``benchmarks/_common.py`` (its own layout)."""
    env = dict(os.environ)
    if package_root:
        env["PYTHONPATH"] = os.path.abspath(package_root) + os.pathsep + env.get("PYTHONPATH", "")
    bench = os.path.join(os.path.abspath(package_root), "benchmarks") if package_root else \
        os.path.dirname(os.path.abspath(__file__))
    # -P: ``python -c`` puts the working directory first on sys.path, which from a checkout's root would
    # import that checkout's package instead of PYTHONPATH's
    flags = ["-P"] if package_root else []
    out = subprocess.run([sys.executable, *flags, "-c", CODE.format(bench=bench)],
                         input=json.dumps(config_dict), capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])
