"""The ``vstack-sim`` command: a thin front over the functions notebooks use.

This module builds the parser and maps errors to exit codes. The subcommands
live in one module per group, each registering its commands with an
``add(subparsers)`` function that sets ``func=`` to the function that runs
each one: :mod:`vstack_sim.cli.runs` (run, validate, report, scenario),
:mod:`vstack_sim.cli.experiments` (sweep, compare), :mod:`vstack_sim.cli.service`
(catalog, serve), :mod:`vstack_sim.cli.system` (demo, recommend, efficiency,
bench), :mod:`vstack_sim.cli.durability` (durability) and
:mod:`vstack_sim.cli.validation` (check-model); what they share is in
:mod:`vstack_sim.cli.common`. Adding a command means adding it to a
group's ``add``, or one line in :func:`build_parser` for a new group.

Errors follow one contract: a bad argument or value exits with code 2 and
prints exactly one line, ``vstack-sim: error: ...``, to stderr, with no usage
dump and no traceback. A ``ValueError`` from the library counts as a bad
value, since the library validates everything it is given.

Imports at module level stay light (argparse, json): the heavy parts of the
package are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Sequence

from vstack_sim import __version__
from vstack_sim.cli import durability, experiments, runs, service, system, validation
from vstack_sim.cli.common import PROG, CLIError, Parser, print_error


def _no_command(parser: argparse.ArgumentParser):
    def run(args: argparse.Namespace) -> int:
        parser.print_help()   # a bare `vstack-sim` asks what there is
        return 0

    return run


def build_parser() -> argparse.ArgumentParser:
    """The ``vstack-sim`` parser with every registered subcommand."""
    parser = Parser(
        prog=PROG,
        description="Simulate a distributed video store with popularity-driven adaptive redundancy.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    # The order of --help: what a newcomer does first comes first.
    runs.add(subparsers)  # run, validate, report, scenario
    experiments.add(subparsers)  # sweep, compare
    service.add(subparsers)  # catalog, serve
    system.add(subparsers)  # demo, recommend, efficiency, bench
    durability.add(subparsers)  # durability
    validation.add(subparsers)  # check-model
    parser.set_defaults(func=_no_command(parser))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``vstack-sim`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in a run's manifest
    try:
        code = int(args.func(args) or 0)
        if sys.stdout is not None:  # None when started with standard output closed (>&-)
            sys.stdout.flush()  # inside the try: a closed pipe shows up here
        return code
    except BrokenPipeError:
        # `vstack-sim run ... | head`: the reader has gone, and everything was written before printing.
        _silence_stdout()
        return 0
    except (ValueError, CLIError) as exc:
        print_error(str(exc))
        return 2
    except RecursionError:
        print_error("input nested too deeply")
        return 2
    except MemoryError:
        print_error("out of memory (see docs/limits.md for the up-front limits and --allow-huge)")
        return 1
    except OSError as exc:
        print_error(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
        return 1 if exc.errno in (errno.ENOSPC, errno.EDQUOT) else 2
    except KeyboardInterrupt as exc:
        print_error("interrupted")
        signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        return 128 + int(signum)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    if sys.stdout is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
