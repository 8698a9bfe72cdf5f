"""``vstack-sim check-model``: the model checked against published numbers and closed forms.

It runs the checks of :mod:`vstack_sim.validation` (``quick`` size by default, ``--full`` for more seeds and
replications) and prints a table: name, source, expected value, simulated value [interval], pass or FAIL.
Exit 0 when every check passes, 1 when any fails; a check the model cannot express is listed as not
checkable, with why, and does not fail. ``validate`` is another command: it checks scenarios.

:func:`add` registers the command.
"""

from __future__ import annotations

import argparse

from vstack_sim.cli.common import print_json


def _cmd_check_model(args: argparse.Namespace) -> int:
    from vstack_sim import validation

    size = "full" if args.full else "quick"
    chosen = validation.select(args.only, size)           # an unknown name: ValueError, one line, exit 2
    if not chosen:
        raise ValueError(f"--only: no check named {' '.join(args.only)} runs at the {size} size (try --full)")
    results = [validation.run_spec(spec, size) for spec in chosen]
    ok = validation.all_passed(results)
    if args.json:
        print_json({"size": size, "passed": ok, "checks": [r.as_dict() for r in results]})
    else:
        print(f"check-model ({size}): {len(results)} checks; --json for citations, parameters and rules")
        print(validation.table(results))
    return 0 if ok else 1


def add(subparsers) -> None:
    """Register ``check-model``."""
    p = subparsers.add_parser(
        "check-model",
        help="check the model against published numbers and closed forms (exit 1 if any check fails)",
        description="Run the model's checks: the exact MTTDL chains against simulated MTTDL, the Backblaze "
                    "calculator's rows, importance estimates against the exact transient chain, Xorbas's repair "
                    "traffic, M/D/1 and M/G/1, and the V-Stack design's storage arithmetic. Prints each check's "
                    "source, expected value, simulated value with its interval, and pass or FAIL.",
    )
    p.add_argument("--full", action="store_true",
                   help="the full size: more seeds and replications, and the loaded queues (minutes, not seconds)")
    p.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                   help="run only these checks: a check's name, or a group (mttdl, backblaze, importance, xorbas, "
                        "md1, mg1, storage)")
    p.add_argument("--json", action="store_true", help="print every check as JSON, with citation and rule")
    p.set_defaults(func=_cmd_check_model)
