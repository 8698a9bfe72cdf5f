"""The ``vstack-sim`` command: a thin front over the functions notebooks use.

Each subcommand is registered by its own ``_add_<name>(subparsers)``
function, which sets ``func=`` to the function that runs it; adding a
command means adding one such function and one line in :func:`build_parser`.

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
import json
import os
import signal
import sys
from typing import NoReturn, Sequence

from vstack_sim import __version__
from vstack_sim.scenario.units import parse_size

PROG = "vstack-sim"

class CLIError(Exception):
    """A bad command-line value; becomes the one-line exit-2 message."""


def _arg_type(name: str, convert):
    """An argparse ``type=`` whose message reads ``must be ..., got X`` (argparse adds the option)."""

    def parse(text: str):
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name
    return parse


def _int_at_least(minimum: int, what: str):
    def convert(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise ValueError(f"must be {what}, got {text}")
        return value

    return _arg_type(what, convert)


def _positive_size(text: str) -> int:
    size = parse_size(text)
    if size < 1:
        raise ValueError(f"must be at least 1 byte, got {text}")
    return size


_non_negative_int = _int_at_least(0, "a non-negative integer")
_positive_int = _int_at_least(1, "a positive integer")
_size = _arg_type("size", _positive_size)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        # argparse says "argument --views: ..."; the option name alone reads better.
        if message.startswith("argument "):
            message = message[len("argument "):]
        _print_error(message)
        raise SystemExit(2)


def _print_error(message: str) -> None:
    first_line = " ".join(str(message).split())
    print(f"{PROG}: error: {first_line}", file=sys.stderr)


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2))


# -- recommend --------------------------------------------------------------


def _cmd_recommend(args: argparse.Namespace) -> int:
    from vstack_sim.system.manager import RedundancyManager

    manager = RedundancyManager(popularity_threshold=args.threshold)
    _print_json(manager.recommend(args.video_id, args.views))
    return 0


def _add_recommend(subparsers) -> None:
    p = subparsers.add_parser(
        "recommend",
        help="the redundancy mode for one video (the V-Stack design's /redundancy/recommend JSON)",
        description="Print the recommended redundancy mode for a video with N views.",
    )
    p.add_argument("video_id", metavar="VIDEO_ID", help="video identifier, echoed in the output")
    p.add_argument("--views", type=_non_negative_int, required=True, metavar="N", help="the video's view count")
    p.add_argument(
        "--threshold",
        type=_non_negative_int,
        default=None,
        metavar="T",
        help="popularity threshold (default: $POPULARITY_THRESHOLD, or 1000)",
    )
    p.set_defaults(func=_cmd_recommend)


# -- efficiency -------------------------------------------------------------


_EFFICIENCY_FLAGS = {
    "erasure_data_shards": "--data-shards",
    "erasure_parity_shards": "--parity-shards",
    "replication_factor": "--replication-factor",
    "chunk_size": "--chunk-size",
}


def _cmd_efficiency(args: argparse.Namespace) -> int:
    from vstack_sim.system.manager import RedundancyManager

    try:
        manager = RedundancyManager(
            replication_factor=args.replication_factor,
            erasure_data_shards=args.data_shards,
            erasure_parity_shards=args.parity_shards,
            chunk_size=args.chunk_size,
        )
    except ValueError as exc:
        # The library names its parameters; the user typed flags.
        message = str(exc)
        for name, flag in _EFFICIENCY_FLAGS.items():
            message = message.replace(name, flag)
        raise CLIError(message) from None
    _print_json(manager.efficiency())
    return 0


def _add_efficiency(subparsers) -> None:
    p = subparsers.add_parser(
        "efficiency",
        help="storage cost of replication vs erasure coding (the V-Stack design's /redundancy/efficiency JSON)",
        description="Print overhead factors, savings and per-mode geometry for r replicas vs RS(k, m).",
    )
    p.add_argument("--data-shards", type=_positive_int, default=3, metavar="K", help="RS data shards k (default 3)")
    p.add_argument(
        "--parity-shards", type=_non_negative_int, default=2, metavar="M", help="RS parity shards m (default 2)"
    )
    p.add_argument(
        "--replication-factor", type=_positive_int, default=3, metavar="R", help="replicas per hot chunk (default 3)"
    )
    p.add_argument(
        "--chunk-size", type=_size, default=2 * 2**20, metavar="SIZE", help="chunk size, e.g. 2MiB (default)"
    )
    p.set_defaults(func=_cmd_efficiency)


# -- bench ------------------------------------------------------------------


def _cmd_bench_codec(args: argparse.Namespace) -> int:
    # Imported here: the benchmark pulls in the codec and its optional peers.
    from vstack_sim.system.codec import bench

    rows = bench.codec_benchmark(chunk_size=args.chunk_size, repeats=args.repeats, peers=args.peers)
    print(bench.format_codec_table(rows))
    missing = bench.missing_peers(rows)
    if missing:
        print(f"{PROG}: {' and '.join(missing)} not installed; for the comparison: pip install 'vstack-sim[bench]'",
              file=sys.stderr)
    return 0


def _add_bench(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure this machine (codec throughput)",
        description="Benchmarks of the real system on this machine.",
    )
    targets = p.add_subparsers(dest="target", metavar="TARGET", parser_class=_Parser)
    targets.required = True
    codec = targets.add_parser(
        "codec",
        help="encode/decode throughput of the RS codec, beside replication and peer libraries",
        description="Time the Reed-Solomon codec on one chunk size and print a table.",
    )
    codec.add_argument(
        "--chunk-size", type=_size, default=2 * 2**20, metavar="SIZE", help="bytes per chunk, e.g. 2MiB (default)"
    )
    codec.add_argument("--repeats", type=_positive_int, default=5, metavar="N", help="timed runs per case (default 5)")
    codec.add_argument(
        "--no-peers", dest="peers", action="store_false", help="skip the peer libraries (zfec, pyeclib)"
    )
    codec.set_defaults(func=_cmd_bench_codec)


# -- run, validate, report, scenario -----------------------------------------


def _add_scenario_options(p) -> None:
    """--set, --seed and --allow-huge, shared by run and validate."""
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one scenario key, e.g. --set run.duration=2d (repeatable; values are YAML scalars)")
    p.add_argument("--seed", type=_non_negative_int, default=None, metavar="N", help="the random seed (replaces run.seed)")
    p.add_argument("--allow-huge", action="store_true",
                   help="run setups beyond the up-front resource limits (see docs/limits.md)")


def _resolve_checked(args: argparse.Namespace):
    """The scenario with every check ``run`` makes before it allocates (``validate`` makes the same)."""
    from vstack_sim.scenario import limits, files

    config = files.resolve(args.scenario, args.sets, args.seed)
    limits.check(config, allow_huge=args.allow_huge)
    return config


def _cmd_run(args: argparse.Namespace) -> int:
    from vstack_sim.results import report, store, runner

    config = _resolve_checked(args)
    note = lambda line: print(f"{PROG}: {line}", file=sys.stderr)  # noqa: E731
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
        description="Simulate SCENARIO (a file or a shipped scenario's name; default: the embedded default "
                    "scenario) and write results/<name>/.",
    )
    p.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO",
                   help="scenario YAML file, or the name of a shipped scenario (see 'vstack-sim scenario --list')")
    p.add_argument("--out", default=None, metavar="DIR", help="results folder (default results/<name>[-<n>])")
    _add_scenario_options(p)
    p.add_argument("--force", action="store_true", help="replace an existing --out results folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)


def _cmd_validate(args: argparse.Namespace) -> int:
    from vstack_sim.scenario import files

    _resolve_checked(args)  # the checks run makes; the text below shows the values as the user wrote them
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


def _cmd_scenario(args: argparse.Namespace) -> int:
    from vstack_sim.scenario import files

    if args.schema:
        print(files.schema_markdown(), end="")
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


# -- sweep, compare ----------------------------------------------------------


def _cmd_sweep(args: argparse.Namespace) -> int:
    from vstack_sim.experiments import comparison as compare
    from vstack_sim.experiments import executors
    from vstack_sim.results import folders, runner
    from vstack_sim.experiments.sweeps import check_out, run_sweep
    from vstack_sim.experiments.sweep_spec import load_sweep

    from pathlib import Path

    spec = load_sweep(args.sweep_file)
    note = (lambda line: None) if args.quiet else (lambda line: print(f"{PROG}: {line}", file=sys.stderr))  # noqa: E731
    out = Path(args.out) if args.out is not None else None
    if out is None:
        out = runner.DEFAULT_ROOT / spec.name
        if not args.resume and out.exists():
            wanted, out = out, folders.next_free(out)
            note(f"{wanted} exists; writing {out}")
    check_out(spec, out, args.resume)  # before a cluster is started for nothing
    with executors.open_executor(args.workers, args.scheduler, args.local_cluster) as (executor, where):
        done = run_sweep(spec, executor=executor, out=out, resume=args.resume, progress=False if args.quiet else None,
                         argv=args.argv, on_start=lambda line: note(f"sweep {spec.name}: {line} on {where}"))
    groups = compare.groups_of_sweep(done)
    if len(groups) <= 6:
        print(compare.Comparison(groups).format())
    else:
        shown = ("storage_mean_savings_percent", "reads.latency_ms.all.p99", "durability.mttdl_s")
        for g in groups:
            cells = [f"{compare.LABELS[m]} {compare.format_interval(m, iv.as_dict())}"
                     for m in shown if (iv := g.interval(m)).n]
            print(f"{g.label}: " + "; ".join(cells))
    print(f"results: {out} (report: {out / 'report.html'})")
    return 0


def _add_sweep(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a grid of scenarios x replications, with intervals, a report and resume",
        description="Run SWEEP_FILE (a base scenario, a grid or zip of keys, replications) and write "
                    "results/<name>/: runs/, runs.csv, points.csv and report.html.",
    )
    p.add_argument("sweep_file", metavar="SWEEP_FILE", help="sweep YAML file (e.g. scenarios/sweeps/policies.yaml)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                       help="processes on this machine (default: the cores; 1 runs in-process)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run on a Dask cluster through its scheduler (needs the [dist] extra)")
    where.add_argument("--local-cluster", type=_positive_int, default=None, metavar="N",
                       help="start a Dask LocalCluster of N workers on 127.0.0.1 for this sweep")
    p.add_argument("--out", default=None, metavar="DIR", help="sweep folder (default results/<name>[-<n>])")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out (or results/<name>): keep finished runs, run the rest")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    p.set_defaults(func=_cmd_sweep)


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vstack_sim.results import folders, runner
    from vstack_sim.experiments.comparison import compare

    comparison = compare(*args.result_dirs)
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
    p.set_defaults(func=_cmd_compare)
# -- demo -------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    from vstack_sim.system import demos

    if args.target == "storage":
        print(demos.format_tables(demos.storage_savings(), demos.STORAGE_TITLES))
    else:
        tables = demos.codec_benchmark(chunk_size=args.chunk_size, repeats=args.repeats, peers=args.peers)
        print(demos.format_tables(tables, demos.CODEC_TITLES))
    return 0


def _add_demo(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the V-Stack design's two demos: storage savings and the codec benchmark",
        description="Print the tables of notebooks/02-seed-storage-savings.ipynb (storage) or "
                    "notebooks/03-codec-benchmark.ipynb (codec).",
    )
    targets = p.add_subparsers(dest="target", metavar="DEMO", parser_class=_Parser)
    targets.required = True
    storage = targets.add_parser(
        "storage", help="savings of the design's example, against the hot fraction, the code and a YouTube mix",
        description="Storage of the design's 1,000-video example and variations, from the real manager and ledger.")
    storage.set_defaults(func=_cmd_demo)
    codec = targets.add_parser(
        "codec", help="encode/decode throughput and decode time for every pair of lost fragments",
        description="Time the real codec (and zfec, pyeclib where installed) and decode every two-fragment loss.")
    codec.add_argument(
        "--chunk-size", type=_size, default=2 * 2**20, metavar="SIZE", help="bytes per chunk, e.g. 2MiB (default)"
    )
    codec.add_argument("--repeats", type=_positive_int, default=5, metavar="N", help="timed runs per case (default 5)")
    codec.add_argument("--no-peers", dest="peers", action="store_false", help="skip zfec and pyeclib")
    codec.set_defaults(func=_cmd_demo)


# -- catalog, serve ------------------------------------------------------------


def _cmd_catalog(args: argparse.Namespace) -> int:
    from vstack_sim.results import catalog_db

    print(catalog_db.build_catalog_for_folder(args.result_dir))
    return 0


def _add_catalog(subparsers) -> None:
    p = subparsers.add_parser(
        "catalog",
        help="build catalog.sqlite of a results folder whose run had outputs.catalog off",
        description="Rebuild the end-of-run catalog of RESULT_DIR (reruns its recorded scenario and checks "
                    "that the summary comes out identical) and write RESULT_DIR/catalog.sqlite.",
    )
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a folder written by 'vstack-sim run'")
    p.set_defaults(func=_cmd_catalog)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"must be a port number 0-65535, got {text}")
    return int(text)


def _cmd_serve(args: argparse.Namespace) -> int:
    from vstack_sim.service import app

    return app.serve(args.result_dir, host=args.host, port=args.port)


def _add_serve(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the design's metadata API over a results folder's catalog (needs the serve extra)",
        description="Serve /redundancy/recommend, /redundancy/override, /redundancy/efficiency and "
                    "/storage/overhead over RESULT_DIR/catalog.sqlite; overrides persist in serve-state.sqlite.",
    )
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a results folder with catalog.sqlite")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_arg_type("port", _port), default=8080,
                   help="port (default 8080; 0 picks a free one)")
    p.set_defaults(func=_cmd_serve)


# -- the parser -------------------------------------------------------------


def _no_command(commands: tuple[str, ...]):
    def run(args: argparse.Namespace) -> int:
        raise CLIError(f"a command is required ({', '.join(commands)}); see '{PROG} --help'")

    return run


def build_parser() -> argparse.ArgumentParser:
    """The ``vstack-sim`` parser with every registered subcommand."""
    parser = _Parser(
        prog=PROG,
        description="Simulate a distributed video store with popularity-driven adaptive redundancy.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # The order of --help: what a newcomer does first comes first.
    _add_run(subparsers)
    _add_validate(subparsers)
    _add_report(subparsers)
    _add_scenario(subparsers)
    _add_sweep(subparsers)
    _add_compare(subparsers)
    _add_catalog(subparsers)
    _add_serve(subparsers)
    _add_demo(subparsers)
    _add_recommend(subparsers)
    _add_efficiency(subparsers)
    _add_bench(subparsers)
    parser.set_defaults(func=_no_command(tuple(subparsers.choices)))
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
        sys.stdout.flush()  # inside the try: a closed pipe shows up here
        return code
    except BrokenPipeError:
        # `vstack-sim run ... | head`: the reader has gone, and everything was written before printing.
        _silence_stdout()
        return 0
    except (ValueError, CLIError) as exc:
        _print_error(str(exc))
        return 2
    except RecursionError:
        _print_error("input nested too deeply")
        return 2
    except MemoryError:
        _print_error("out of memory (see docs/limits.md for the up-front limits and --allow-huge)")
        return 1
    except OSError as exc:
        _print_error(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
        return 1 if exc.errno in (errno.ENOSPC, errno.EDQUOT) else 2
    except KeyboardInterrupt as exc:
        _print_error("interrupted")
        signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        return 128 + int(signum)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
