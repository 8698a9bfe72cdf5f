"""Conversions under a migration budget: EC read p99 just before and just after the check that starts them (issue 22).

The stress case: scenarios/hdd-loaded.yaml (10 nodes x 12 HDDs at about 0.7 disk utilisation) with
catalog.chunk_weight 50, windowed popularity over 10 minutes, threshold 100, popularity checks every 10 minutes, a
30-minute run. The first check that converts videos starts copying W = 50 chunks' worth per chunk onto the same
busy disks. The figure: erasure-coded read p99 over the 5 minutes before that check against the 5 minutes after,
and how long the conversions take, for each migration budget given (1 = no budget) and scheduler.

    python benchmarks/conversion_budget.py [--budgets 1,0.05] [--schedulers fifo] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import vstack_sim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "hdd-loaded.yaml"
STRESS = {"catalog.chunk_weight": 50, "migration.popularity_measure": "windowed", "migration.window": "10min",
          "migration.window_resolution": "1min", "redundancy.popularity_threshold": 100,
          "migration.check_interval": "10min", "run.duration": "30min"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budgets", default="1,0.05")
    ap.add_argument("--schedulers", default="fifo")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    extra = dict(s.split("=", 1) for s in args.set)
    for scheduler in args.schedulers.split(","):
        for budget in (float(b) for b in args.budgets.split(",")):
            cfg = vstack_sim.load_scenario(SCENARIO, overrides={
                **STRESS, "outputs.reads_table_sample": 0, "io.scheduler": scheduler, "migration.budget": budget,
                **extra})
            t0 = time.process_time()
            r = vstack_sim.simulate(cfg)
            cpu = time.process_time() - t0
            wave = r.summary["migrations"]["first_wave"]      # the summary's own account (docs/results.md)
            if wave is None:
                print(f"{scheduler}, budget {budget}: no conversion ({cpu:.0f} s CPU)")
                continue
            before = wave["ec_read_latency_before_ms"]["p99"]
            after = wave["ec_read_latency_after_ms"]["p99"]
            print(f"{scheduler}, migration.budget {budget}: first converting check at {wave['at_s'] / 60:.0f} min, "
                  f"{wave['videos']} videos before the next check; EC p99 {before:.1f} ms in the "
                  f"{wave['span_s'] / 60:.0f} min before, {after:.1f} ms after (x{after / before:.2f}); they finish "
                  f"{wave['finish_s'] / 60:.1f} min after the check ({wave['unfinished_at_end']} unfinished at the "
                  f"end); {cpu:.0f} s CPU", flush=True)

if __name__ == "__main__":
    main()
