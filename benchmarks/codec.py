"""Encode/decode throughput of the Reed-Solomon codec beside reedsolo, zfec and pyeclib.

A thin wrapper over :func:`vstack_sim.system.codec.bench.codec_benchmark` (also behind
``vstack-sim bench codec``); the figures it prints are the simulator's default codec
rates (encode, and decode with fragments lost).

    .venv/bin/python benchmarks/codec.py [--chunk-size 2097152] [--repeats 7] [--no-peers]
"""

from __future__ import annotations

import argparse

from vstack_sim.system.codec.bench import codec_benchmark, format_codec_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=2 * 2**20, help="bytes per chunk (default 2 MiB)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (default 7)")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="skip zfec and pyeclib")
    args = parser.parse_args()
    print(format_codec_table(codec_benchmark(chunk_size=args.chunk_size, repeats=args.repeats, peers=args.peers)))


if __name__ == "__main__":
    main()
