"""The subcommands over the real system rather than the simulation: ``demo``, ``recommend``,
``efficiency`` and ``bench`` (the V-Stack design's manager, codec and demos, on this machine).

:func:`add` registers them, in the order of ``vstack-sim --help``.
"""

from __future__ import annotations

import argparse
import sys

from vstack_sim.cli.common import (
    PROG,
    CLIError,
    Parser,
    bench_size,
    non_negative_int,
    positive_int,
    print_json,
    size,
)

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
    targets = p.add_subparsers(dest="target", metavar="DEMO", parser_class=Parser)
    targets.required = True
    storage = targets.add_parser(
        "storage", help="savings of the design's example, against the hot fraction, the code and a YouTube mix",
        description="Storage of the design's 1,000-video example and variations, from the real manager and ledger.")
    storage.set_defaults(func=_cmd_demo)
    codec = targets.add_parser(
        "codec", help="encode/decode throughput and decode time for every pair of lost fragments",
        description="Time the real codec (and zfec, pyeclib where installed) and decode every two-fragment loss.")
    codec.add_argument(
        "--chunk-size", type=bench_size, default=2 * 2**20, metavar="SIZE",
        help="bytes per chunk, e.g. 2MiB (default), at most 1GiB"
    )
    codec.add_argument("--repeats", type=positive_int, default=5, metavar="N", help="timed runs per case (default 5)")
    codec.add_argument("--no-peers", dest="peers", action="store_false", help="skip zfec and pyeclib")
    codec.set_defaults(func=_cmd_demo)


# -- recommend --------------------------------------------------------------


def _cmd_recommend(args: argparse.Namespace) -> int:
    from vstack_sim.system.manager import RedundancyManager

    manager = RedundancyManager(popularity_threshold=args.threshold)
    print_json(manager.recommend(args.video_id, args.views))
    return 0


def _add_recommend(subparsers) -> None:
    p = subparsers.add_parser(
        "recommend",
        help="the redundancy mode for one video (the V-Stack design's /redundancy/recommend JSON)",
        description="Print the recommended redundancy mode for a video with N views.",
    )
    p.add_argument("video_id", metavar="VIDEO_ID", help="video identifier, echoed in the output")
    p.add_argument("--views", type=non_negative_int, required=True, metavar="N", help="the video's view count")
    p.add_argument(
        "--threshold",
        type=non_negative_int,
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
    print_json(manager.efficiency())
    return 0


def _add_efficiency(subparsers) -> None:
    p = subparsers.add_parser(
        "efficiency",
        help="storage cost of replication vs erasure coding (the V-Stack design's /redundancy/efficiency JSON)",
        description="Print overhead factors, savings and per-mode geometry for r replicas vs RS(k, m).",
    )
    p.add_argument("--data-shards", type=positive_int, default=3, metavar="K", help="RS data shards k (default 3)")
    p.add_argument(
        "--parity-shards", type=non_negative_int, default=2, metavar="M", help="RS parity shards m (default 2)"
    )
    p.add_argument(
        "--replication-factor", type=positive_int, default=3, metavar="R", help="replicas per hot chunk (default 3)"
    )
    p.add_argument(
        "--chunk-size", type=size, default=2 * 2**20, metavar="SIZE", help="chunk size, e.g. 2MiB (default)"
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
    targets = p.add_subparsers(dest="target", metavar="TARGET", parser_class=Parser)
    targets.required = True
    codec = targets.add_parser(
        "codec",
        help="encode/decode throughput of the RS codec, beside replication and peer libraries",
        description="Time the Reed-Solomon codec on one chunk size and print a table.",
    )
    codec.add_argument(
        "--chunk-size", type=bench_size, default=2 * 2**20, metavar="SIZE",
        help="bytes per chunk, e.g. 2MiB (default), at most 1GiB"
    )
    codec.add_argument("--repeats", type=positive_int, default=5, metavar="N", help="timed runs per case (default 5)")
    codec.add_argument(
        "--no-peers", dest="peers", action="store_false", help="skip the peer libraries (zfec, pyeclib)"
    )
    codec.set_defaults(func=_cmd_bench_codec)


def add(subparsers) -> None:
    """Register demo, recommend, efficiency and bench, in that order."""
    _add_demo(subparsers)
    _add_recommend(subparsers)
    _add_efficiency(subparsers)
    _add_bench(subparsers)
