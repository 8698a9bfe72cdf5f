"""Replaying a failure log (``failures.trace``): node and rack events from a CSV file.

The file has a header and one event a line, with columns ``time`` (when the
failure happens: seconds or a duration such as ``3d`` or ``90min`` after the
start), ``node`` or ``rack`` (exactly one of them on each line), ``disk``
(optional, with ``node``: that node's disk fails instead, 0 ..
``cluster.disks_per_node`` - 1), ``kind`` (``transient`` or ``permanent``,
default transient) and ``duration`` (optional: downtime, or replacement delay
of a permanent failure; empty means the scenario's
``failures.transient_downtime`` / ``failures.replacement_delay``). A UTF-8 byte
order mark is accepted, as in ``catalog.source``.

Node, rack and disk numbers are plain ASCII digits (``²`` is not a number
here), and each must exist in the scenario's cluster, so no count reaches the
model unchecked. A field longer than the csv module's limit (128 KiB) is a
one-line error naming its line, like every other problem.

Each line becomes a :class:`~vstack_sim.scenario.schema.ScheduledFailure`, so a replayed
event is carried out exactly like a scheduled one. Every problem is a
``ValueError`` naming the file and line, e.g. ``failures.trace: events.csv
line 4: node 25 does not exist (20 nodes)``. A log is small (one line per
event), so it is read with the csv module; parsed logs are cached by path,
size and modification time.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from pydantic import ValidationError

_KEY = "failures.trace"
COLUMNS = ("time", "node", "rack", "disk", "kind", "duration")
_NUMBER = re.compile(r"[0-9]{1,30}")   # ASCII digits only: str.isdigit() accepts '²', which int() refuses


def _fail(path, line: int, message: str):
    raise ValueError(f"{_KEY}: {path} line {line}: {message}")


def _shown(text: str) -> str:
    """A cell as shown in a message: its repr, cut short (a field may be 128 KiB)."""
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text):,} characters)"


def _read_rows(path: str) -> list:
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                for row in reader:
                    rows.append(row)
            except csv.Error as exc:
                _fail(path, reader.line_num, f"not a readable CSV line: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{_KEY}: {path}: cannot read: {exc}") from None
    return rows


@functools.lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int, nodes: int, racks: int, disks: int) -> tuple:
    from vstack_sim.scenario.sections import ScheduledFailure, validation_error_line

    rows = _read_rows(path)
    if not rows or not any(cell.strip() for cell in rows[0]):
        _fail(path, 1, "the file is empty (expected a header: time,node,rack,kind,duration)")
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        _fail(path, 1, f"column {unknown[0]}: unknown column (known: {', '.join(COLUMNS)})")
    if "time" not in header:
        _fail(path, 1, "column time: missing column")
    if "node" not in header and "rack" not in header:
        _fail(path, 1, "column node: missing column (give node or rack)")
    events = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue   # blank lines are allowed
        if len(row) != len(header):
            _fail(path, number, f"{len(row)} fields, the header has {len(header)}")
        cells = {h: c.strip() for h, c in zip(header, row, strict=False)}
        item = {k: v for k, v in cells.items() if v != ""}
        for key in ("node", "rack", "disk"):
            if key in item:
                if not _NUMBER.fullmatch(item[key]):
                    _fail(path, number, f"column {key}: must be a non-negative integer, got {_shown(item[key])}")
                item[key] = int(item[key])
        try:
            event = ScheduledFailure.model_validate({"at": item.pop("time", None), **item})
        except ValidationError as exc:
            message = validation_error_line(exc).replace("at:", "column time:", 1)
            for key in ("kind", "duration", "node", "rack", "disk"):
                if message.startswith(f"{key}:"):
                    message = f"column {message}"
            if message.startswith("give exactly one"):
                message = f"columns node, rack: {message}"
            _fail(path, number, message)
        if event.at < 0:
            _fail(path, number, f"column time: must not be negative, got {_shown(cells['time'])}")
        if event.node is not None and event.node >= nodes:
            _fail(path, number, f"column node: node {event.node} does not exist ({nodes} nodes)")
        if event.disk is not None and event.disk >= disks:
            _fail(path, number, f"column disk: disk {event.disk} does not exist ({disks} disks a node, "
                                f"cluster.disks_per_node)")
        if event.rack is not None and event.rack >= racks:
            _fail(path, number, f"column rack: rack {event.rack} does not exist ({racks} racks)")
        events.append(event)
    return tuple(events)


def load_trace(path, nodes: int, racks: int, disks_per_node: int = 1) -> tuple:
    """The events of a failure log as ``ScheduledFailure`` objects, checked against the cluster's size."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ValueError(f"{_KEY}: {path}: file not found") from None
    if not p.is_file():
        raise ValueError(f"{_KEY}: {path}: not a file")
    return _load(str(p), st.st_mtime_ns, st.st_size, int(nodes), int(racks), int(disks_per_node))
