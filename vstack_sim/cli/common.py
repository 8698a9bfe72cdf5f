"""What every ``vstack-sim`` subcommand shares: the program name, the one-line error contract
(:class:`CLIError`, :class:`Parser`, :func:`print_error`), the argparse value types and the JSON printer.

Kept apart from :mod:`vstack_sim.cli.main` so that the group modules can import it while
``main`` imports them, without a cycle. Imports stay light (argparse, json).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from vstack_sim.scenario.units import parse_size

PROG = "vstack-sim"


class CLIError(Exception):
    """A bad command-line value; becomes the one-line exit-2 message."""


def arg_type(name: str, convert):
    """An argparse ``type=`` whose message reads ``must be ..., got X`` (argparse adds the option)."""

    def parse(text: str):
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name
    return parse


def int_at_least(minimum: int, what: str):
    """An argparse ``type=`` for a base-10 integer of at least ``minimum``, described as ``what``."""

    def convert(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise ValueError(f"must be {what}, got {text}")
        return value

    return arg_type(what, convert)


def positive_size(text: str) -> int:
    """A size such as ``2MiB`` in bytes, at least 1."""
    size = parse_size(text)
    if size < 1:
        raise ValueError(f"must be at least 1 byte, got {text}")
    return size


MAX_BENCH_CHUNK = 2**30
"""The largest chunk the codec benchmarks take (1 GiB): they allocate several buffers of it."""


def bench_chunk_size(text: str) -> int:
    """A chunk size for a codec benchmark: 1 byte to 1 GiB, refused before anything is allocated."""
    size = positive_size(text)
    if size > MAX_BENCH_CHUNK:
        raise ValueError(f"must be at most 1GiB (the benchmark holds several copies in memory), got {text}")
    return size


non_negative_int = int_at_least(0, "a non-negative integer")
positive_int = int_at_least(1, "a positive integer")
size = arg_type("size", positive_size)
bench_size = arg_type("size", bench_chunk_size)


def print_error(message: str) -> None:
    """The one-line ``vstack-sim: error: ...`` on stderr."""
    first_line = " ".join(str(message).split())
    print(f"{PROG}: error: {first_line}", file=sys.stderr)


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2))


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        # argparse says "argument --views: ..."; the option name alone reads better.
        message = message.removeprefix("argument ")
        print_error(message)
        raise SystemExit(2)
