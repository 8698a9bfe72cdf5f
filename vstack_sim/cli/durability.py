"""``vstack-sim durability``: the analytic durability of one stripe and of a cluster of stripes, with no simulation.

It prints the Backblaze calculator's annual loss and nines, and the exact birth-death chain's MTTDL and
loss within a mission time (:mod:`vstack_sim.analysis.durability`). The drive's AFR is read as a rate,
failures per drive-year, so the chain's node MTTF is 365 d / AFR (exponential lifetimes: the same
reading as the calculator's p = 1 - exp(-AFR d / 365)); the rebuild window is the chain's MTTR.

:func:`add` registers the command.
"""

from __future__ import annotations

import argparse
import math
import re

from vstack_sim.cli.common import arg_type, non_negative_int, positive_int, print_json
from vstack_sim.scenario.units import parse_duration

DAY_S = 86400.0
MAX_SHARDS = 255
"""The package's codes are GF(2^8) codewords: at most 255 shards (as ``efficiency`` and the scenarios)."""

_PLAIN = re.compile(r"^\s*[-+0-9.eE]+\s*$")


def afr_value(text: str) -> float:
    """An annual failure rate: ``10%`` or the fraction ``0.1``; above 0, at most 100 %."""
    body = text.strip()
    percent = body.endswith("%")
    try:
        value = float(body.removesuffix("%")) / (100.0 if percent else 1.0)
    except ValueError:
        raise ValueError(f"must be a percentage such as 10% or a fraction such as 0.1, got {text}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a number above 0 %, got {text}")
    if value > 1:
        # a plain 10 is more likely a forgotten % than a drive that fails ten times a year
        raise ValueError(f"must be at most 100 % (a plain number is a fraction: 10% is 0.1), got {text}")
    return value


def days_value(text: str) -> float:
    """A duration with its unit (``1d``, ``12h``, ``1y``), in days, above 0."""
    if _PLAIN.match(text):
        # scenario files read a plain number as seconds; here "6.5" would too easily mean days
        raise ValueError(f"must have a unit, e.g. 1d, 12h or 1y, got {text}")
    seconds = parse_duration(text)
    if not seconds > 0:
        raise ValueError(f"must be above 0, got {text}")
    return seconds / DAY_S


afr = arg_type("afr", afr_value)
days = arg_type("duration", days_value)


def _nines(x: float | None) -> str:
    return "inf" if x is None else f"{x:.2f}"


def figures(args: argparse.Namespace) -> dict:
    """Every figure the command prints, as plain data (``--json``); nines are None where the probability
    underflows to 0."""
    from vstack_sim.analysis import durability as d

    k, m = args.data_shards, args.parity_shards
    n = k + m
    if n > MAX_SHARDS:
        raise ValueError(f"--parity-shards: --data-shards + --parity-shards must be at most {MAX_SHARDS} "
                         f"(GF(2^8) codewords), got {k} + {m}")
    lam, mu = args.afr / d.DAYS_PER_YEAR, 1.0 / args.rebuild     # per day
    annual = d.annual_loss_probability(k, m, args.afr, args.rebuild)
    mission = d.loss_probability(n, m, lam, mu, args.mission, args.repair)
    cluster_annual = d.cluster_loss_probability(annual, args.stripes)
    cluster_mission = d.cluster_loss_probability(mission, args.stripes)
    return {
        "data_shards": k, "parity_shards": m, "afr": args.afr, "rebuild_days": args.rebuild,
        "stripes": args.stripes, "mission_days": args.mission, "repair": args.repair,
        "node_mttf_days": 1.0 / lam, "mttr_days": 1.0 / mu,
        "backblaze": {"annual_loss": annual, "nines": d.finite_nines(annual),
                      "cluster_annual_loss": cluster_annual, "cluster_nines": d.finite_nines(cluster_annual)},
        "chain": {"mttdl_days": d.mttdl(n, m, lam, mu, args.repair), "mission_loss": mission,
                  "nines": d.finite_nines(mission), "cluster_mission_loss": cluster_mission,
                  "cluster_nines": d.finite_nines(cluster_mission)},
        "assumption": "shards fail independently, and so do stripes: N stripes lose data with 1 - (1 - P)^N",
    }


def _report(f: dict) -> str:
    k, m, stripes = f["data_shards"], f["parity_shards"], f"{f['stripes']:,} stripes"
    bb, ch = f["backblaze"], f["chain"]
    repair = "rate i mu with i shards failed" if f["repair"] == "parallel" else "one shard at a time, rate mu"
    width = max(len("one stripe"), len(stripes)) + 1
    return "\n".join([
        f"RS({k},{m}){f' ({k + m} replicas)' if k == 1 else ''}: {k + m} shards, data lost when more than {m} "
        "are lost at once",
        f"AFR {f['afr']:.4g} ({f['afr'] * 100:.4g} %), rebuild window {f['rebuild_days']:g} d",
        "",
        "Backblaze model (the Backblaze/erasure-coding-durability calculator): a shard fails within a window of",
        "d days with p = 1 - exp(-AFR d / 365); a stripe is lost when more than m shards fail in one window;",
        "a year is 365 / d windows.",
        f"  {'one stripe':<{width}} annual loss {bb['annual_loss']:.3e}   {_nines(bb['nines'])} nines",
        f"  {stripes:<{width}} annual loss {bb['cluster_annual_loss']:.3e}   {_nines(bb['cluster_nines'])} nines",
        "",
        f"Birth-death chain ({f['repair']} repair: {repair}), node MTTF = 365 d / AFR = {f['node_mttf_days']:,.6g} d,",
        f"MTTR = the rebuild window = {f['mttr_days']:g} d:",
        f"  MTTDL of one stripe: {ch['mttdl_days']:.4g} d ({ch['mttdl_days'] / 365.0:.4g} years)",
        f"  loss within {f['mission_days']:g} d:",
        f"  {'one stripe':<{width}} {ch['mission_loss']:.3e}   {_nines(ch['nines'])} nines",
        f"  {stripes:<{width}} {ch['cluster_mission_loss']:.3e}   {_nines(ch['cluster_nines'])} nines",
        "",
        "Assumed: shards fail independently, and so do stripes (N stripes: 1 - (1 - P)^N). Stripes that share",
        "nodes fail together, so a real cluster lies between the one-stripe and the N-stripe figures. To first",
        "order the chain gives m + 1 times the Backblaze figure with parallel repair, (m + 1)! with serial: the",
        "calculator counts failures within fixed windows, the chain gives each failure its own repair time.",
    ])


def _cmd_durability(args: argparse.Namespace) -> int:
    f = figures(args)
    if args.json:
        print_json(f)
    else:
        print(_report(f))
    return 0


def add(subparsers) -> None:
    """Register ``durability``."""
    p = subparsers.add_parser(
        "durability",
        help="analytic durability of RS(k, m) stripes: the Backblaze model and the exact birth-death chain",
        description="Annual loss probability and nines of one stripe and of N independent stripes (the "
                    "Backblaze calculator's model), and the exact birth-death chain's MTTDL and loss within a "
                    "mission time. 3 replicas are --data-shards 1 --parity-shards 2.",
    )
    p.add_argument("--data-shards", type=positive_int, default=3, metavar="K", help="data shards k (default 3)")
    p.add_argument("--parity-shards", type=non_negative_int, default=2, metavar="M",
                   help="parity shards m: the stripe survives m lost shards (default 2)")
    p.add_argument("--afr", type=afr, required=True, metavar="RATE",
                   help="annual failure rate of one shard's drive, e.g. 10%% or 0.1 (failures per drive-year)")
    p.add_argument("--rebuild", type=days, required=True, metavar="DURATION",
                   help="rebuild window: the time to replace a failed shard, e.g. 1d, 12h (the chain's MTTR)")
    p.add_argument("--stripes", type=positive_int, default=1_000_000, metavar="N",
                   help="stripes in the cluster, failing independently (default 1,000,000)")
    p.add_argument("--mission", type=days, default=365.0, metavar="DURATION",
                   help="mission time for the chain's loss probability, e.g. 1y (default), 10y, 30d")
    p.add_argument("--repair", choices=("parallel", "serial"), default="parallel",
                   help="the chain's repair: every failed shard at once (default), or one at a time")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=_cmd_durability)

