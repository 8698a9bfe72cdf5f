"""The subcommands of one simulation run: ``run`` writes a results folder, ``validate`` checks a
scenario as ``run`` would, ``report`` redraws a results folder and ``scenario`` documents the keys
and the shipped scenarios.

:func:`add` registers them, in the order of ``vstack-sim --help``.
"""

from __future__ import annotations

import argparse
import sys

from vstack_sim.cli.common import PROG, non_negative_int


def _add_scenario_options(p) -> None:
    """--set, --seed and --allow-huge, shared by run and validate."""
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one scenario key, e.g. --set run.duration=2d (repeatable; values are YAML scalars)")
    p.add_argument("--seed", type=non_negative_int, default=None, metavar="N",
                   help="the random seed (replaces run.seed)")
    p.add_argument("--allow-huge", action="store_true",
                   help="run setups beyond the up-front resource limits (see docs/limits.md)")


def _resolve_checked(args: argparse.Namespace, draw_catalog: bool = False):
    """The scenario with the up-front checks ``run`` makes before it allocates.

    ``run`` checks the config alone here; its world checks the catalog as drawn (capacity, payload budget)
    when it is built, once. ``validate`` builds no run, so with ``draw_catalog`` it asks the model for those
    same checks (:mod:`vstack_sim.model.preflight`) and refuses exactly what run refuses.
    """
    from vstack_sim.scenario import files, limits

    config = files.resolve(args.scenario, args.sets, args.seed)
    if draw_catalog:
        from vstack_sim.model import preflight

        preflight.check(config, allow_huge=args.allow_huge)
    else:
        limits.check(config, allow_huge=args.allow_huge)
    from vstack_sim.results.conclusion import late_events

    for event in late_events(config):   # never happens: say so before the run, as the report's caveats will
        print(f"{PROG}: warning: {event} is at or after run.duration "
              f"({config.run.duration:g} s), so it never happens", file=sys.stderr)
    return config


# -- run ----------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from vstack_sim.results import report, runner, store

    config = _resolve_checked(args)

    def note(line):
        print(f"{PROG}: {line}", file=sys.stderr)

    folder = runner.run_to_folder(config, out=args.out, force=args.force, quiet=args.quiet, argv=args.argv,
                                  echo=note, allow_huge=args.allow_huge)
    loaded = store.load_result(folder)
    print(report.format_summary(loaded.summary, title=f"{config.name}: random seed {config.run.seed}"))
    print(f"results: {folder}")
    return 0


def _add_run(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="simulate a scenario and write a results folder with tables, figures and a report",
        description="Simulate SCENARIO (a file or a shipped scenario's name; default: the shipped default "
                    "scenario) and write results/<name>/.",
    )
    p.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO",
                   help="scenario YAML file, or the name of a shipped scenario (see 'vstack-sim scenario --list')")
    p.add_argument("--out", default=None, metavar="DIR", help="results folder (default results/<name>[-<n>])")
    _add_scenario_options(p)
    p.add_argument("--force", action="store_true", help="replace an existing --out results folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)


# -- validate -----------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    from vstack_sim.scenario import files

    _resolve_checked(args, draw_catalog=True)  # what run refuses; the text below shows the values as written
    print(files.resolve_as_written(args.scenario, args.sets, args.seed), end="")
    return 0


def _add_validate(subparsers) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check a scenario file and print it resolved",
        description="Check SCENARIO (extends, --set and units applied) and print it with every default filled in.",
    )
    p.add_argument("scenario", metavar="SCENARIO",
                   help="scenario YAML file, or the name of a shipped scenario (see 'vstack-sim scenario --list')")
    _add_scenario_options(p)
    p.set_defaults(func=_cmd_validate)


# -- report -------------------------------------------------------------------


def _cmd_report(args: argparse.Namespace) -> int:
    from vstack_sim.results import report

    print(report.build_report(args.result_dir))
    return 0


def _add_report(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="redraw the figures and reports of a results folder from its tables",
        description="Rebuild figures/, report.md and report.html of RESULT_DIR without re-running.",
    )
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a folder written by 'vstack-sim run'")
    p.set_defaults(func=_cmd_report)


# -- scenario -----------------------------------------------------------------


def _cmd_scenario(args: argparse.Namespace) -> int:
    if args.schema:
        from vstack_sim.scenario.reference import schema_markdown

        print(schema_markdown(), end="")
    else:
        from vstack_sim.scenario import shipped

        print(shipped.format_shipped_table(shipped.shipped_table()))
    return 0


def _add_scenario(subparsers) -> None:
    p = subparsers.add_parser(
        "scenario",
        help="the reference of every scenario key, or the shipped scenarios",
        description="Print the reference of every scenario key (--schema) or list the shipped scenarios (--list).",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--schema", action="store_true", help="every key with its type, unit, default and meaning")
    what.add_argument("--list", action="store_true", help="the shipped scenarios: name, duration, description")
    p.set_defaults(func=_cmd_scenario)


def add(subparsers) -> None:
    """Register run, validate, report and scenario, in that order."""
    _add_run(subparsers)
    _add_validate(subparsers)
    _add_report(subparsers)
    _add_scenario(subparsers)
