"""The subcommands over many runs: ``sweep`` runs a grid of scenarios x replications and
``compare`` sets results or sweep folders side by side, with intervals and paired differences.

:func:`add` registers them, in the order of ``vstack-sim --help``.
"""

from __future__ import annotations

import argparse
import sys

from vstack_sim.cli.common import PROG, CLIError, arg_type, positive_int


def _constraint(text: str):
    from vstack_sim.experiments.constraints import parse_constraint

    return parse_constraint(text)


constraint = arg_type("constraint", _constraint)
REQUIRE_HELP = ("a constraint METRIC<=VALUE or METRIC>=VALUE on a summary column, e.g. "
                "'reads.latency_ms.all.p99<=60' (repeatable): name the cheapest option (mean cost.total_dollars) "
                "whose interval's worse end meets every one")

# -- sweep --------------------------------------------------------------------


def _cmd_sweep(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vstack_sim.experiments import constraints, executors, intervals
    from vstack_sim.experiments.comparison import Comparison
    from vstack_sim.experiments.sweep_files import load_sweep
    from vstack_sim.experiments.sweeps import check_limits, check_out, run_sweep
    from vstack_sim.results import folders, runner

    spec = load_sweep(args.sweep_file, args.sets, args.replications)
    check_limits(spec, allow_huge=args.allow_huge)  # every point, before any run or cluster starts
    note = (lambda line: None) if args.quiet else (lambda line: print(f"{PROG}: {line}", file=sys.stderr))
    out = Path(args.out) if args.out is not None else None
    if out is None:
        out = runner.DEFAULT_ROOT / spec.name
        if not args.resume and out.exists():
            wanted, out = out, folders.next_free(out)
            note(f"{wanted} exists; writing {out}")
    check_out(spec, out, args.resume)  # before a cluster is started for nothing
    with executors.open_executor(args.workers, args.scheduler, args.local_cluster) as (executor, where):
        done = run_sweep(spec, executor=executor, out=out, resume=args.resume, progress=False if args.quiet else None,
                         argv=args.argv, on_start=lambda line: note(f"sweep {spec.name}: {line} on {where}"),
                         allow_huge=args.allow_huge, require=args.require)
    groups = intervals.groups_of_sweep(done)
    if len(groups) <= 6:
        print(Comparison(groups).format())
    else:
        shown = ("storage_mean_savings_percent", "reads.latency_ms.all.p99", "durability.mttdl_s")
        for g in groups:
            cells = [f"{intervals.LABELS[m]} {intervals.format_interval(m, iv.as_dict())}"
                     for m in shown if (iv := g.interval(m)).n]
            print(f"{g.label}: " + "; ".join(cells))
    if args.require:
        print(constraints.answer(groups, args.require))
    print(f"results: {out} (report: {out / 'report.html'})")
    return 0


def _add_sweep(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a grid of scenarios x replications, with intervals, a report and resume",
        description="Run SWEEP_FILE (a base scenario, a grid or zip of keys, replications) and write "
                    "results/<name>/: runs/, runs.csv, points.csv and report.html.",
    )
    p.add_argument("sweep_file", metavar="SWEEP",
                   help="sweep YAML file, or a shipped sweep's name (policies, mttdl, ...: scenarios/sweeps/)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one key of the base scenario for every run, e.g. --set run.duration=6h "
                        "(repeatable; added to the sweep's set:)")
    p.add_argument("--replications", type=positive_int, default=None, metavar="N",
                   help="runs per point (replaces the sweep file's replications)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=None, metavar="N",
                       help="processes on this machine (default: the cores; 1 runs in-process)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run on a Dask cluster through its scheduler (needs the [dist] extra)")
    where.add_argument("--local-cluster", type=positive_int, default=None, metavar="N",
                       help="start a Dask LocalCluster of N workers on 127.0.0.1 for this sweep")
    p.add_argument("--out", default=None, metavar="DIR", help="sweep folder (default results/<name>[-<n>])")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out (or results/<name>): keep finished runs, run the rest")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    p.add_argument("--allow-huge", action="store_true",
                   help="run points beyond the up-front resource limits (see docs/limits.md)")
    p.add_argument("--require", action="append", default=[], type=constraint, metavar="CONSTRAINT",
                   help=REQUIRE_HELP + "; in the printed table and report.md/report.html")
    p.set_defaults(func=_cmd_sweep)


# -- compare ------------------------------------------------------------------


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vstack_sim.experiments.comparison import compare
    from vstack_sim.experiments.constraints import ConstraintError
    from vstack_sim.results import folders, runner

    try:
        comparison = compare(*args.result_dirs, require=args.require)
    except ConstraintError as exc:
        raise CLIError(f"--require {exc}") from None
    for line in comparison.warnings:   # runs that differ in more than what is compared
        print(f"{PROG}: warning: {line}", file=sys.stderr)
    out = args.out
    if out is None:
        out = folders.next_free(runner.DEFAULT_ROOT / "compare")
    elif Path(out).exists():
        raise CLIError(f"--out {out}: already exists")
    print(comparison.format())
    written = comparison.write(out)
    print(f"report: {written / 'report.html'}")
    return 0


def _add_compare(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="key numbers of results or sweep folders side by side, with intervals and paired differences",
        description="Compare run folders and sweep folders (one column per point): print a table and write "
                    "comparison.csv, differences.csv and report.html.",
    )
    p.add_argument("result_dirs", nargs="+", metavar="DIR", help="a results folder or a sweep folder")
    p.add_argument("--out", default=None, metavar="DIR", help="comparison folder (default results/compare[-<n>])")
    p.add_argument("--require", action="append", default=[], type=constraint, metavar="CONSTRAINT",
                   help=REQUIRE_HELP + "; in the printed table and report.html")
    p.set_defaults(func=_cmd_compare)


def add(subparsers) -> None:
    """Register sweep and compare, in that order."""
    _add_sweep(subparsers)
    _add_compare(subparsers)
