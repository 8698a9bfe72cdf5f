"""The two redundancy modes: :class:`RedundancyMode` (its values are the seed's JSON strings), their
``int8`` array codes (:data:`MODE_REPLICATION`, :data:`MODE_ERASURE_CODING`) and the conversions
between enum, string and code (:func:`parse_mode`, :func:`mode_code`, :func:`mode_from_code`).

It also holds the integer checks the system layer's arguments share (:func:`is_int`,
:func:`check_int`): the modes, the policies and the manager all use them.
"""

from __future__ import annotations

import enum
import numbers
from typing import Any

import numpy as np

__all__ = [
    "MODE_ERASURE_CODING",
    "MODE_REPLICATION",
    "RedundancyMode",
    "check_int",
    "is_int",
    "mode_code",
    "mode_from_code",
    "parse_mode",
]

#: Integer codes for modes in NumPy arrays (``int8``).
MODE_REPLICATION = 0
MODE_ERASURE_CODING = 1


class RedundancyMode(enum.StrEnum):
    """How a video's chunks are stored. Its value is the seed's JSON string."""

    REPLICATION = "replication"
    ERASURE_CODING = "erasure_coding"


_CODE_OF = {RedundancyMode.REPLICATION: MODE_REPLICATION, RedundancyMode.ERASURE_CODING: MODE_ERASURE_CODING}
_MODE_OF = {code: mode for mode, code in _CODE_OF.items()}


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), bools excluded."""
    # bool is an Integral, but True views or True shards are always a mistake.
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, or ValueError naming ``name`` unless it is an integer >= ``minimum``."""
    if not is_int(value) or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")
    return int(value)


def mode_from_code(code: int) -> RedundancyMode:
    """The mode whose array code is ``code`` (``MODE_REPLICATION`` or ``MODE_ERASURE_CODING``)."""
    mode = _MODE_OF.get(int(code)) if is_int(code) else None
    if mode is None:
        raise ValueError(
            f"code: must be {MODE_REPLICATION} (replication) or {MODE_ERASURE_CODING} (erasure_coding), got {code!r}"
        )
    return mode


def parse_mode(mode: RedundancyMode | str | int) -> RedundancyMode:
    """A :class:`RedundancyMode` from the enum, its string (any case) or its array code."""
    if isinstance(mode, RedundancyMode):
        return mode
    if isinstance(mode, str):
        try:
            return RedundancyMode(mode.strip().lower())
        except ValueError:
            pass
    elif is_int(mode) and int(mode) in _MODE_OF:
        return _MODE_OF[int(mode)]
    raise ValueError(f"mode: must be 'replication' or 'erasure_coding', got {mode!r}")


def mode_code(mode: RedundancyMode | str | int) -> int:
    """The array code of a mode given as enum, string or code."""
    return _CODE_OF[parse_mode(mode)]
