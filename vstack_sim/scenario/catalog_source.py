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

Loading is vectorised (pandas' C parser, then whole-column checks), so a file
of millions of rows loads in seconds. Every problem is a ``ValueError`` whose
one line names the file, the line and the column, e.g.
``catalog.source: videos.csv line 7, column views: must be a non-negative
integer, got '-3'`` (line 1 is the header). A parsed file is cached by path,
size and modification time, so validating a scenario and running it read it once.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SourceCatalog", "load_videos_csv", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS"]

REQUIRED_COLUMNS = ("video_id", "views")
LENGTH_COLUMNS = ("chunks", "bytes")
OPTIONAL_COLUMNS = ("uploaded_at", "size_class")
_KEY = "catalog.source"
_FIRST_ROW_LINE = 2   # line 1 is the header


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
        """Chunks per video: the file's ``chunks``, or ``ceil(bytes / chunk_size)`` (at least 1)."""
        if self.chunks is not None:
            return self.chunks
        return np.maximum(1, -(-self.bytes // int(chunk_size)))


def _fail(path: str, message: str):
    raise ValueError(f"{_KEY}: {path} {message}")


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _integer_column(df, name: str, path: str, minimum: int, raw) -> np.ndarray:
    """A column as int64 >= minimum, naming the first bad line; ``raw`` gives the text shown."""
    import pandas as pd

    col = df[name]
    if col.dtype.kind in "iu":
        values = col.to_numpy(dtype=np.int64)
        bad = values < minimum
    else:
        # Not all integers: find the first cell that is not one (text, a fraction, empty, too big), in the
        # file's own text (a float column would show 3 as 3.0).
        text = pd.read_csv(path, usecols=[name], dtype=str, keep_default_na=False, skip_blank_lines=False,
                           encoding="utf-8-sig", engine="c")[name].str.strip()
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        whole = text.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
        bad = ~whole | ~np.isfinite(numbers) | (numbers < minimum) | (np.abs(numbers) >= 2**63)
        values = None
    if bad.any():
        i = _first_bad(bad)
        what = "an integer >= 1" if minimum == 1 else "a non-negative integer"
        shown = text.iloc[i] if values is None else raw(name, i)
        _fail(path, f"line {i + _FIRST_ROW_LINE}, column {name}: must be {what}, got {shown!r}")
    return values if values is not None else pd.to_numeric(text).to_numpy(dtype=np.int64)


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
    views = _integer_column(df, "views", path, 0, raw)
    length = _integer_column(df, lengths[0], path, 1, raw)
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
