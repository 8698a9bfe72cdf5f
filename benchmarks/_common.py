"""Shared helpers for the benchmark scripts: run a config in a fresh process and measure it."""

from __future__ import annotations

import json
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


def measure_in_subprocess(config_dict: dict) -> dict:
    """Each case in its own interpreter, so peak RSS is that case's alone."""
    code = ("import json,sys; sys.path.insert(0, 'benchmarks'); from _common import measure; "
            "print(json.dumps(measure(json.loads(sys.stdin.read()))))")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(config_dict), capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
