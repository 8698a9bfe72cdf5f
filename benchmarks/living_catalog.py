"""Three months of a living catalog (issue 24's speed target): scenarios/living-catalog.yaml as shipped.

100 k uploads with f4-style aging, 60-day retention and random deletes, a threshold policy on one-day windowed
counts, node failures on. Target: at least 20 M chunk reads, in at most 3 minutes on this machine. Prints wall and
CPU time, peak memory, and what the run did (reads, uploads, conversions, repairs), with where the time went.

    python benchmarks/living_catalog.py [--set key=value ...] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time
from pathlib import Path

import vstack_sim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "living-catalog.yaml"
TARGET_S = 180.0
TARGET_READS = 20_000_000
TARGET_UPLOADS = 100_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--profile", action="store_true", help="print the 20 functions with the most time of their own")
    args = ap.parse_args()
    cfg = vstack_sim.load_scenario(SCENARIO, overrides=dict(s.split("=", 1) for s in args.set))
    prof = cProfile.Profile() if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    r = vstack_sim.simulate(cfg)
    if prof:
        prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = r.summary
    up, mig = s["uploads"], s["migrations"]
    reads = s["reads"]["count"]
    print(f"{cfg.name}: {cfg.run.duration / 86400:g} d simulated; wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print(f"  chunk reads {reads:,}; uploads {up['uploaded']:,} (refused {up['refused']:,}), "
          f"deleted {up['deleted']:,}; "
          f"conversions {mig['to_replication']:,} to replication, {mig['to_erasure_coding']:,} to EC; "
          f"repairs {s['recovery']['repairs']:,}")
    steady = s["conversions"]["replicated_fraction"]["steady_state"]
    print(f"  savings {s['storage_initial']['storage_savings_percent']} % at the start, "
          f"{s['storage']['storage_savings_percent']} % at the end; replicated share of stored bytes in steady state: "
          + (f"{100 * steady['mean']:.2f} % [{100 * steady['lo']:.2f}, {100 * steady['hi']:.2f}] from day "
             f"{steady['from_s'] / 86400:.1f}" if steady["reached"] else f"not reached ({steady['why']})"))
    cs = s["conversions"]
    io, bw = cs["io_share"], cs["bandwidth_share"]
    print(f"  conversion I/O: {100 * io['peak']:.2f} % / {100 * io['mean']:.2f} % of disk bytes (peak / mean),"
          f" {100 * bw['peak']:.4f} % / {100 * bw['mean']:.4f} % "
          "of disk bandwidth")
    print("  timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in r.timings.items()))
    scale_ok = reads >= TARGET_READS and up["uploaded"] >= 0.95 * TARGET_UPLOADS
    verdict = "MET" if wall <= TARGET_S and scale_ok else "MISSED"
    print(f"  target: >= {TARGET_READS:,} chunk reads and ~{TARGET_UPLOADS:,} uploads in <= {TARGET_S:.0f} s: "
          f"{verdict}")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
