"""Units on the scenario side: sizes, durations, byte rates and event frequencies.

The model works in base units only: bytes, seconds, bytes per second and
events per second. Scenario files may write ``2MiB``, ``1.5TB``, ``30d``,
``15min``, ``500ms``, ``200MB/s``, ``1Gbps`` or ``10/min``; these parsers turn
them into base units at load time. Plain numbers are taken as base units.

Decimal prefixes (k, M, G, T, P) are powers of 1000 and binary ones (Ki, Mi,
Gi, Ti, Pi) powers of 1024. ``b`` in ``bps`` means bits; ``B`` means bytes.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_NUMBER = r"(-?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)"

_SIZE_PREFIX = {
    "": 1,
    "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
}

_DURATION_UNIT = {
    "": 1.0, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "us": 1e-6, "µs": 1e-6,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
    "y": 365.0 * 86400.0, "year": 365.0 * 86400.0, "years": 365.0 * 86400.0,
}

_SIZE_RE = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]*)?|-?\.[0-9]+)\s*([kKMGTP]i?)?B?\s*$")
_DURATION_RE = re.compile(rf"^\s*{_NUMBER}\s*([a-zµ]*)\s*$")
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*([kKMGTP]i?)?(B/s|Bps|bps|bit/s|b/s)\s*$")
_FREQ_RE = re.compile(rf"^\s*{_NUMBER}\s*/\s*([a-zµ]+)\s*$")
_PLAIN_RE = re.compile(rf"^\s*{_NUMBER}\s*$")
"""A number written as text with no unit: base units, as a YAML number would be (``--set`` and a mapping agree)."""


def _plain_number(value, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a {what}, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite {what}, got {value!r}")
        return float(value)
    raise TypeError


def _non_negative(x: float, text) -> float:
    if not math.isfinite(x):  # "1e309s" parses to inf
        raise ValueError(f"must be a finite number, got {text!r}")
    if x < 0:
        raise ValueError(f"must not be negative, got {text!r}")
    return x


def parse_size(value) -> int:
    """Bytes from ``2MiB``, ``1.5TB``, ``700 kB``, ``4096`` or ``4096B``. Must be a whole number of bytes.

    Units are case-sensitive (``Mb`` would be megabits). String values are computed
    with exact fractions, so ``1.5TB`` is exactly 1,500,000,000,000.
    """
    if type(value) is int:  # exact: through a float, 2**63 - 1 would become 2**63
        if value < 0:
            raise ValueError("must not be negative")
        return value
    try:
        x = _plain_number(value, "size")
    except TypeError:
        m = _SIZE_RE.match(str(value))
        if not m:
            raise ValueError(f"not a size: {value!r} (use e.g. 2MiB, 1.5TB, 4096)") from None
        exact = Fraction(m.group(1)) * _SIZE_PREFIX[m.group(2) or ""]
        _non_negative(exact, value)
        if exact.denominator != 1:
            raise ValueError(f"not a whole number of bytes: {value!r}") from None
        return int(exact)
    _non_negative(x, value)
    if x != int(x):
        raise ValueError(f"not a whole number of bytes: {value!r}")
    return int(x)


def parse_duration(value) -> float:
    """Seconds from ``30d``, ``15min``, ``500ms``, ``2h``, ``1w`` or a plain number of seconds."""
    try:
        x = _plain_number(value, "duration")
    except TypeError:
        m = _DURATION_RE.match(str(value))
        if not m or m.group(2) not in _DURATION_UNIT:
            raise ValueError(f"not a duration: {value!r} (use e.g. 30d, 15min, 500ms, 3600)") from None
        x = float(m.group(1)) * _DURATION_UNIT[m.group(2)]
    return _non_negative(x, value)


def parse_rate(value) -> float:
    """Bytes per second from ``200MB/s``, ``1Gbps``, ``100MiB/s`` or a plain number of bytes/s."""
    try:
        x = _plain_number(value, "rate")
    except TypeError:
        if plain := _PLAIN_RE.match(str(value)):
            return _non_negative(float(plain.group(1)), value)
        m = _RATE_RE.match(str(value))
        if not m:
            raise ValueError(f"not a byte rate: {value!r} (use e.g. 200MB/s, 1Gbps)") from None
        x = float(m.group(1)) * _SIZE_PREFIX[m.group(2) or ""]
        if m.group(3) in ("bps", "bit/s", "b/s"):
            x /= 8.0
    return _non_negative(x, value)


def parse_frequency(value) -> float:
    """Events per second from ``10/s``, ``600/min``, ``3/h``, ``100/d`` or a plain number per second."""
    try:
        x = _plain_number(value, "frequency")
    except TypeError:
        if plain := _PLAIN_RE.match(str(value)):
            return _non_negative(float(plain.group(1)), value)
        m = _FREQ_RE.match(str(value))
        if not m or m.group(2) not in _DURATION_UNIT:
            raise ValueError(f"not a frequency: {value!r} (use e.g. 2.5/s, 600/min, 3/h)") from None
        x = float(m.group(1)) / _DURATION_UNIT[m.group(2)]
    return _non_negative(x, value)


def format_bytes(n: float) -> str:
    """Human-readable binary size, e.g. ``2.00 MiB``."""
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {unit}"
    return f"{n:.0f} B"


def format_duration(s: float) -> str:
    """Human-readable duration, e.g. ``1.50 h``."""
    for unit, factor in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if abs(s) >= factor:
            return f"{s / factor:.2f} {unit}"
    return f"{s * 1000:.2f} ms"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 node``, ``2 nodes``: the count (with thousands separators) and the word in the right number."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
