"""Speed of a production-scale rebuild, and the interference it causes (issue: production scale).

Target: scenarios/rebuild-interference.yaml (40 single-HDD nodes of 16 TB at 70 % fill, one permanent
node failure rebuilt for about 4.2 h of simulated time) runs in at most 2 minutes. It also prints what
the scenario shows: the rebuild's duration against the arithmetic at the top of the file, and read p99
during the rebuild over p99 before it, with the block-bootstrap 95 % interval over 1-minute windows.

    python benchmarks/rebuild.py [--set key=value ...]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import vstack_sim
from vstack_sim.analysis.interference import p99_ratio

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "rebuild-interference.yaml"
TARGET_S = 120.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    cfg = vstack_sim.load_scenario(SCENARIO, overrides=dict(s.split("=", 1) for s in args.set))
    t0, c0 = time.perf_counter(), time.process_time()
    r = vstack_sim.simulate(cfg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = r.summary
    fill = s["storage_initial"]["total_physical_bytes"] / (cfg.cluster.nodes * cfg.cluster.node_capacity)
    rep = r.repairs
    start, end = float(rep["start_s"].min()), float(rep["end_s"].max())
    fail_at = float(r.failures["time_s"].min())
    out = p99_ratio(r.reads, (0.0, fail_at), (start, end))
    print(f"{cfg.name}: simulate() {wall:.1f} s (target <= {TARGET_S:.0f} s) -> "
          f"{'MET' if wall <= TARGET_S else 'MISSED'} ({cpu:.1f} s CPU); build {r.timings['build_s']:.1f} s, "
          f"run {r.timings['run_s']:.1f} s, collect {r.timings['collect_s']:.1f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"  {cfg.cluster.nodes} nodes x {cfg.cluster.node_capacity / 1e12:.0f} TB at {100 * fill:.1f} % fill, "
          f"{s['run']['chunks']:,} chunks (chunk_weight {s['run']['chunk_weight']}); "
          f"{s['reads']['count']:,} reads; {s['recovery']['repair_bytes_written'] / 1e12:.2f} TB rebuilt "
          f"from {start / 3600:.2f} h to {end / 3600:.2f} h ({(end - start) / 3600:.2f} h, "
          f"{s['recovery']['repair_bytes_written'] / (end - start) / 1e6:.0f} MB/s)")
    print(f"  read p99 before {out['before_ms']:.1f} ms, during the rebuild {out['during_ms']:.1f} ms: "
          f"ratio {out['ratio']:.2f}, 95 % block-bootstrap interval [{out['low']:.2f}, {out['high']:.2f}] over "
          f"{out['before_windows']} + {out['during_windows']} windows of {out['window_s']:.0f} s")


if __name__ == "__main__":
    main()
