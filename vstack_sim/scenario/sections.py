"""The building blocks of the scenario schema: unit-bearing field types, the strict ``Section`` base, the
small records that lists hold (scheduled failures, flash crowds, scheduled views), and the one-line form of
a validation error.

Kept apart from :mod:`.schema` so that data files checked against these records (the failure trace,
:mod:`.failure_trace`) need not import the whole schema, and the schema can import them.
"""

from __future__ import annotations

import math
import re
import typing
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from vstack_sim.scenario.units import parse_duration, parse_frequency, parse_rate, parse_size

Bytes = Annotated[int, BeforeValidator(parse_size)]
"""A size in bytes; accepts ``2MiB``, ``1.5TB`` or a plain integer."""
Seconds = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in seconds; accepts ``30d``, ``15min``, ``500ms`` or a plain number."""
BytesPerSecond = Annotated[float, BeforeValidator(parse_rate)]
"""A byte rate; accepts ``200MB/s``, ``1Gbps`` or a plain number of bytes/s."""
PerSecond = Annotated[float, BeforeValidator(parse_frequency)]
"""An event rate; accepts ``2/s``, ``600/min``, ``3/h`` or a plain number per second."""

ModeName = Literal["replication", "erasure_coding"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _video_ref(value):
    """A video named by its id (an integer >= 0) or its key (non-empty printable text, stripped)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a video id (an integer) or key (text), got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected a video id (an integer) or key (text), got {value!r}")
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a video id must be >= 0, got {value}")
        return value
    text = value.strip()
    if not text:
        raise ValueError("empty video key")
    if _CONTROL.search(text):
        raise ValueError(f"the video key {text!r} holds a control character; keys are printable text")
    return text


VideoRef = Annotated[int | str, BeforeValidator(_video_ref)]
"""A video: its id (an integer) or its ``video_key`` (text); :mod:`.video_refs` gives the rules."""

def _numeric(annotation) -> bool:
    """Whether a field holds a number (int or float, possibly with units or None), not a bool."""
    if annotation is bool:
        return False
    if annotation in (int, float):
        return True
    return any(_numeric(arg) for arg in typing.get_args(annotation)
               if arg is not type(None) and typing.get_origin(annotation) is not tuple
               and typing.get_origin(annotation) is not dict)


NUMBER_LIMIT = 2**63 - 1
"""Largest magnitude of any integer setting (the model's arrays are 64-bit)."""

MAX_VIEWS = 2**53
"""Most starting views of a video, and of a whole catalog (``catalog.total_views``, a ``catalog.source`` file):
float64 holds every integer up to 2^53, so popularity shares are exact and no int64 sum of views can wrap."""


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True, validate_default=True)

    @field_validator("*", mode="wrap")
    @classmethod
    def _strict_numbers(cls, value, handler, info):
        # Numbers are numbers: YAML's yes/no are booleans, never 1/0, and inf, nan or a 5,000-digit
        # integer are refused here, naming the key, rather than overflowing an array later.
        numeric = _numeric(cls.model_fields[info.field_name].annotation)
        if numeric and isinstance(value, bool):
            raise ValueError(f"expected a number, got {str(value).lower()}")
        result = handler(value)
        if numeric and not isinstance(result, bool):
            if isinstance(result, float) and not math.isfinite(result):
                raise ValueError(f"must be a finite number, got {result}")
            if isinstance(result, int) and abs(result) > NUMBER_LIMIT:
                raise ValueError(f"must be at most 2^63 - 1, got a number of {result.bit_length()} bits")
        return result


class ScheduledFailure(Section):
    """A failure at a fixed time, for deterministic scenarios and tests."""

    at: Seconds
    """When the failure happens."""
    node: int | None = Field(None, ge=0)
    """The node that fails (give node or rack, not both), or the node whose disk fails."""
    rack: int | None = Field(None, ge=0)
    """The rack whose nodes all fail at once."""
    disk: int | None = Field(None, ge=0)
    ("With node: that node's disk (0 .. cluster.disks_per_node - 1) fails instead, losing its slots; the node stays "
     "up.")
    kind: Literal["transient", "permanent"] = "transient"
    ("transient: back with its data after `duration`; permanent: data lost, empty replacement after `duration` (a disk "
     "failure is always permanent).")
    duration: Seconds | None = None
    ("Downtime (transient) or replacement delay (permanent); default failures.transient_downtime / "
     "failures.replacement_delay (failures.disk_replacement_delay for a disk).")

    @model_validator(mode="after")
    def _one_target(self):
        if (self.node is None) == (self.rack is None):
            raise ValueError("give exactly one of node or rack")
        if self.disk is not None and self.node is None:
            raise ValueError("disk: give the node whose disk fails")
        if self.disk is not None and self.kind == "transient" and "kind" in self.model_fields_set:
            raise ValueError("kind: a disk failure loses the disk's data, so it is permanent")
        return self


class FlashCrowd(Section):
    """A video that goes viral for a while."""

    video: VideoRef
    """The video: its key (text), or its id (an integer; rank - 1 in the Zipf catalog)."""
    start: Seconds
    """When the crowd arrives."""
    duration: Seconds = Field(gt=0)
    """How long it stays."""
    view_rate: PerSecond = Field(gt=0)
    """Extra views per second of that video while it lasts."""


class ScheduledView(Section):
    """A view at a fixed time, for deterministic scenarios and tests."""

    at: Seconds
    """When the view starts."""
    video: VideoRef
    """The video watched (from its first chunk to its last): its key, or its id (an integer)."""


def validation_error_line(exc: ValidationError) -> str:
    """One line naming the key path of the first problem, e.g. ``failures.node_mttf: must not be negative``."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"] if p not in ("function-after", "[key]"))
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    if loc and msg.startswith(f"{loc}."):   # a section's own check that already names its key
        return msg
    return f"{loc}: {msg}" if loc else msg
