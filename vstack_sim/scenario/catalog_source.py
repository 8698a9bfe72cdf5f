"""Bring your own catalog: videos and their view counts from a CSV file (``catalog.source``).

The file has a header line and one video a line:

* ``video_id`` (required): any text, unique; it becomes the video's ``video_key``
  in the catalog database and the API, while the simulator numbers the videos
  0 .. V-1 in file order;
* ``views`` (required): the starting view count, a non-negative integer;
* ``chunks`` or ``bytes`` (exactly one): the video's length in chunks, or in
  bytes (``ceil(bytes / catalog.chunk_size)`` chunks, at least 1);
* ``uploaded_at`` (optional): an ISO 8601 time, kept in the catalog;
* ``size_class`` (optional): free text, kept in the catalog.

Views during the run pick a video in proportion to its starting views (the
file's empirical popularity takes the place of Zipf ranks).

Every count is bounded per row, then summed in exact arithmetic (Python
integers), so nothing reaches NumPy that could wrap (docs/limits.md, "Counts
in input files"):

* ``chunks``: at most :data:`MAX_CHUNKS_PER_VIDEO` (2^31 - 1), the largest
  chunk id (the model's chunk ids and chunk indexes are int32); the same bound
  holds for the chunks a ``bytes`` value makes at the scenario's chunk size;
* ``bytes``: at most :data:`MAX_BYTES_PER_VIDEO` (2^62), the model's byte
  counters (int64, with room to add);
* ``views``: at most :data:`MAX_VIEWS` (2^53) per video **and** for the whole
  file: popularity is views / total views in float64, and 2^53 is the largest
  range in which float64 holds every integer, so each share is exact to the
  last view, and no int64 sum of views (starting views plus the run's) can wrap.
  The file's total chunks are checked against the model's limits
  (:mod:`vstack_sim.scenario.limits`) from :meth:`SourceCatalog.total_chunks`.
* ``video_id``: printable text; a control character (a newline, a tab) is
  refused, because such an id could not be asked for through the metadata API
  or written on one CSV line.

Loading is vectorised (pandas' C parser, then whole-column checks), so a file
of millions of rows loads in seconds. Every problem is a ``ValueError`` whose
one line names the file, the line and the column, e.g.
``catalog.source: videos.csv line 7, column views: must be a non-negative
integer, got '-3'`` (line 1 is the header). A parsed file is cached by path,
size and modification time, so validating a scenario and running it read it once.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vstack_sim.scenario.sections import MAX_VIEWS

__all__ = ["SourceCatalog", "load_videos_csv", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS"]

REQUIRED_COLUMNS = ("video_id", "views")
LENGTH_COLUMNS = ("chunks", "bytes")
OPTIONAL_COLUMNS = ("uploaded_at", "size_class")
_KEY = "catalog.source"
_FIRST_ROW_LINE = 2   # line 1 is the header

MAX_CHUNKS_PER_VIDEO = 2**31 - 1
"""Most chunks one video may have: the largest chunk id (chunk ids and chunk indexes are int32)."""
MAX_BYTES_PER_VIDEO = 2**62
"""Most bytes one video may have: the model's byte counters are int64, with room to add."""
_CONTROL = r"[\x00-\x1f\x7f-\x9f]"


@dataclass(frozen=True)
class SourceCatalog:
    """A validated videos file: one entry per video, in file order."""

    path: str
    keys: np.ndarray            # object [V], the user's ids as text
    views: np.ndarray           # int64 [V]
    chunks: np.ndarray | None   # int64 [V] when the file gives chunks
    bytes: np.ndarray | None    # int64 [V] when the file gives bytes
    uploaded_at: np.ndarray | None = None   # object [V] ISO 8601 text, or None
    size_class: np.ndarray | None = None    # object [V], or None

    @property
    def videos(self) -> int:
        return len(self.keys)

    def chunk_counts(self, chunk_size: int) -> np.ndarray:
        """Chunks per video: the file's ``chunks``, or ``ceil(bytes / chunk_size)`` (at least 1).

        Each is at most :data:`MAX_CHUNKS_PER_VIDEO`; a ``bytes`` value over it at this chunk size is a
        ``ValueError`` naming its line.
        """
        if self.chunks is not None:
            return self.chunks
        counts = np.maximum(1, -(-self.bytes // int(chunk_size)))   # bytes <= 2^62: no wrap
        over = counts > MAX_CHUNKS_PER_VIDEO
        if over.any():
            i = _first_bad(over)
            _fail(self.path, f"line {i + _FIRST_ROW_LINE}, column bytes: {int(self.bytes[i]):,} bytes are "
                             f"{int(counts[i]):,} chunks of {int(chunk_size):,} bytes; a video has at most "
                             f"{MAX_CHUNKS_PER_VIDEO:,} chunks (chunk ids are int32)")
        return counts

    def total_chunks(self, chunk_size: int) -> int:
        """Chunks of the whole file, summed exactly (a Python int, never an int64 that could wrap)."""
        return sum(self.chunk_counts(chunk_size).tolist())

    def total_views(self) -> int:
        """Starting views of the whole file, summed exactly (at most :data:`MAX_VIEWS`, checked on load)."""
        return sum(self.views.tolist())


def _fail(path: str, message: str):
    raise ValueError(f"{_KEY}: {path} {message}")


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _integer_column(df, name: str, path: str, minimum: int, maximum: int, why: str, raw) -> np.ndarray:
    """A column as int64 in [minimum, maximum], naming the first bad line; ``raw`` gives the text shown.

    Bounds are compared before any conversion (a uint64 column is never cast to int64 unchecked), and
    cells the C parser could not type are read as exact Python integers.
    """
    import pandas as pd

    col = df[name]
    what = "an integer >= 1" if minimum == 1 else "a non-negative integer"
    if col.dtype.kind in "iu":
        values = col.to_numpy()
        low, high = values < minimum, values > maximum
    else:
        # Not all integers in int64/uint64: text, a fraction, an empty cell, or a number too big for 64 bits.
        # Read the file's own text (a float column would show 3 as 3.0) and parse each cell exactly.
        text = pd.read_csv(path, usecols=[name], dtype=str, keep_default_na=False, skip_blank_lines=False,
                           encoding="utf-8-sig", engine="c")[name].str.strip()
        whole = text.str.fullmatch(r"[+-]?\d{1,400}").to_numpy(dtype=bool)
        exact = [int(t) if ok else None for t, ok in zip(text.tolist(), whole.tolist(), strict=True)]
        low = np.array([x is None or x < minimum for x in exact], dtype=bool)
        high = np.array([x is not None and x > maximum for x in exact], dtype=bool)
        values = None
    bad = low | high
    if bad.any():
        i = _first_bad(bad)
        shown = raw(name, i) if values is not None else text.iloc[i]
        shown = shown if len(shown) <= 40 else f"{shown[:40]}... ({len(shown):,} characters)"
        if low[i]:
            _fail(path, f"line {i + _FIRST_ROW_LINE}, column {name}: must be {what}, got {shown!r}")
        _fail(path, f"line {i + _FIRST_ROW_LINE}, column {name}: {shown} is over the limit of {maximum:,} ({why})")
    if values is None:
        values = np.array(exact, dtype=np.int64)
    return values.astype(np.int64)


@functools.lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int) -> SourceCatalog:
    import pandas as pd

    try:
        # Ids stay text (an id "007" is not 7); counts are parsed by the C engine. Blank lines are kept
        # as rows so that line numbers in messages are the file's own.
        df = pd.read_csv(path, dtype={"video_id": str, "uploaded_at": str, "size_class": str},
                         keep_default_na=False, skip_blank_lines=False, engine="c", encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        _fail(path, "line 1: the file is empty (expected a header: video_id,views,chunks)")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        _fail(path, f"is not a readable CSV file: {' '.join(str(exc).split())}")
    df.columns = [str(c).strip() for c in df.columns]
    for name in REQUIRED_COLUMNS:
        if name not in df.columns:
            _fail(path, f"line 1, column {name}: missing column (header has {', '.join(df.columns)})")
    lengths = [c for c in LENGTH_COLUMNS if c in df.columns]
    if len(lengths) != 1:
        what = "missing column" if not lengths else "give chunks or bytes, not both"
        _fail(path, f"line 1, column chunks: {what} (header has {', '.join(df.columns)})")
    known = set(REQUIRED_COLUMNS + LENGTH_COLUMNS + OPTIONAL_COLUMNS)
    unknown = [c for c in df.columns if c not in known]
    if unknown:
        _fail(path, f"line 1, column {unknown[0]}: unknown column (known: {', '.join(sorted(known))})")
    if len(df) == 0:
        _fail(path, "line 2: no videos (the file has only a header)")

    def raw(name: str, i: int) -> str:
        return str(df[name].iloc[i])

    keys = df["video_id"].astype(str).str.strip()
    empty = (keys == "").to_numpy()
    if empty.any():
        i = _first_bad(empty)
        _fail(path, f"line {i + _FIRST_ROW_LINE}, column video_id: empty id")
    dup = keys.duplicated(keep="first").to_numpy()
    if dup.any():
        i = _first_bad(dup)
        first = _first_bad((keys == keys.iloc[i]).to_numpy())
        _fail(path, f"line {i + _FIRST_ROW_LINE}, column video_id: duplicate id {keys.iloc[i]!r} "
                    f"(first on line {first + _FIRST_ROW_LINE})")
    control = keys.str.contains(_CONTROL, regex=True).to_numpy(dtype=bool)
    if control.any():
        i = _first_bad(control)
        char = re.search(_CONTROL, keys.iloc[i]).group()
        _fail(path, f"line {i + _FIRST_ROW_LINE}, column video_id: the id {keys.iloc[i]!r} holds a control "
                    f"character ({char!r}); ids must be printable text")
    views = _integer_column(df, "views", path, 0, MAX_VIEWS, "2^53: float64 popularity stays exact", raw)
    if lengths[0] == "chunks":
        length = _integer_column(df, "chunks", path, 1, MAX_CHUNKS_PER_VIDEO, "2^31 - 1: chunk ids are int32", raw)
    else:
        length = _integer_column(df, "bytes", path, 1, MAX_BYTES_PER_VIDEO, "2^62: byte counters are int64", raw)
    total_views = sum(views.tolist())
    if total_views > MAX_VIEWS:
        last = next(i for i, total in enumerate(itertools.accumulate(views.tolist())) if total > MAX_VIEWS)
        _fail(path, f"line {last + _FIRST_ROW_LINE}, column views: the views up to this line add up to more than "
                    f"{MAX_VIEWS:,} (2^53, the most starting views of a whole file: float64 popularity stays exact)")
    uploaded = None
    if "uploaded_at" in df.columns:
        text = df["uploaded_at"].astype(str).str.strip()
        parsed = pd.to_datetime(text.where(text != ""), errors="coerce", utc=True, format="ISO8601")
        bad = (text != "").to_numpy() & parsed.isna().to_numpy()
        if bad.any():
            i = _first_bad(bad)
            _fail(path, f"line {i + _FIRST_ROW_LINE}, column uploaded_at: "
                        f"not an ISO 8601 time: {raw('uploaded_at', i)!r}")
        uploaded = text.to_numpy(dtype=object)
    size_class = df["size_class"].astype(str).str.strip().to_numpy(dtype=object) if "size_class" in df.columns else None
    return SourceCatalog(
        path=path, keys=keys.to_numpy(dtype=object), views=views,
        chunks=length if lengths[0] == "chunks" else None, bytes=length if lengths[0] == "bytes" else None,
        uploaded_at=uploaded, size_class=size_class)


def load_videos_csv(path: str | os.PathLike) -> SourceCatalog:
    """Read and check a videos file (cached while the file is unchanged)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ValueError(f"{_KEY}: {path}: file not found") from None
    except OSError as exc:
        raise ValueError(f"{_KEY}: {path}: cannot read: {exc.strerror}") from None
    if not p.is_file():
        raise ValueError(f"{_KEY}: {path}: not a file")
    return _load(str(p), st.st_mtime_ns, st.st_size)
