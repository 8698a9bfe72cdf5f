"""The V-Stack metadata catalog as a real SQLite database (``catalog.sqlite`` of a results folder).

The design's schema, exactly, plus the columns and tables it implies:

* ``chunk_fragments`` (design): one row per stored copy, replicas included
  (``fragment_index`` is the fragment number 0 .. k+m-1, or the replica
  number 0 .. r-1), so that ``SUM(size_bytes)`` over ``status = 'active'``
  rows is the physical bytes of each mode. ``status`` is ``active`` (the
  bytes exist), ``lost`` (the copy's bytes are gone: awaiting repair, or the
  whole chunk is lost) or ``stale`` (an old copy on a node that is still down,
  already rebuilt elsewhere). ``checksum`` is the real CRC32C of the stored
  bytes when ``codec.verify_payloads`` carried real bytes, else ``''`` (and
  ``catalog_meta`` says so): never a made-up value.
* ``video_stats`` (design): ``video_id`` holds the ``video_key``.
* ``chunks`` (the design's ``chunks.redundancy_mode`` plus what a chunk row
  needs): chunk_id, video_id (the key), chunk_index, size_bytes, status.
* ``videos``: the simulator's integer id of each ``video_key`` and its
  starting views, length and, from a ``catalog.source`` file, upload time
  and size class.
* ``nodes``: each simulated node's stable ``node_url`` and rack.
* ``catalog_meta``: key/value notes (epoch, geometry, policy, checksums).

Times (``created_at``, ``last_viewed``) are ISO 8601 UTC strings, simulated
seconds after :data:`EPOCH` (simulated t = 0). Ids: a chunk is
``<video_key>:<chunk_index>``; a copy is ``<chunk_id>:f<j>`` (fragment) or
``<chunk_id>:r<j>`` (replica), a stale copy ``...:stale:<node>``.

The rows are built with NumPy from the end-of-run state and the run's tables
(repairs give rebuild times, failures the nodes still down) and inserted
with ``executemany`` in one transaction; indexes are created after the rows.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Mapping

import numpy as np

from vstack_sim.model.end_state import EndState, end_state_of
from vstack_sim.results.folders import signals_as_interrupt
from vstack_sim.scenario import limits
from vstack_sim.system.modes import MODE_REPLICATION

__all__ = ["CATALOG_FILE", "EPOCH", "write_catalog", "node_url", "iso_times",
           "SCHEMA", "build_catalog_for_folder"]

CATALOG_FILE = "catalog.sqlite"
EPOCH = "2025-01-01T00:00:00Z"
"""Simulated t = 0 as wall-clock time in the catalog's timestamps."""
SCHEMA_VERSION = "1"
_EPOCH_MS = np.datetime64(EPOCH.rstrip("Z"), "ms")

SCHEMA = """
CREATE TABLE chunk_fragments (
    fragment_id TEXT PRIMARY KEY,
    chunk_id TEXT NOT NULL,
    fragment_index INTEGER NOT NULL,
    node_url TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    checksum TEXT NOT NULL,
    status TEXT DEFAULT 'active',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE video_stats (
    video_id TEXT PRIMARY KEY,
    view_count INTEGER DEFAULT 0,
    last_viewed TIMESTAMP,
    total_bytes_served INTEGER DEFAULT 0
);
CREATE TABLE chunks (
    chunk_id TEXT PRIMARY KEY,
    video_id TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'active'
);
ALTER TABLE chunks ADD COLUMN redundancy_mode TEXT DEFAULT 'replication';
CREATE TABLE videos (
    video_id INTEGER PRIMARY KEY,
    video_key TEXT NOT NULL UNIQUE,
    starting_views INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    uploaded_at TEXT,
    size_class TEXT
);
CREATE TABLE nodes (
    node_id INTEGER PRIMARY KEY,
    node_url TEXT NOT NULL UNIQUE,
    rack INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE catalog_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_INDEXES = """
CREATE INDEX chunk_fragments_chunk ON chunk_fragments (chunk_id);
CREATE INDEX chunks_video ON chunks (video_id);
"""

_NO_CHECKSUMS = ("not computed: codec.verify_payloads was off, so no bytes existed to checksum; "
                 "chunk_fragments.checksum is the empty string")
_CHECKSUMS = ("crc32c (8 lowercase hex digits) of each copy's stored bytes; the empty string where the "
              "bytes no longer exist (status lost) or belong to a layout since replaced")


def node_url(node: int, rack: int) -> str:
    """The stable name of simulated node ``node`` (``.invalid`` never resolves, RFC 2606)."""
    return f"http://node-{node:03d}.rack-{rack}.vstack.invalid"


def iso_times(seconds) -> np.ndarray:
    """Simulated seconds as ISO 8601 UTC strings after :data:`EPOCH` (None where NaN)."""
    s = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(s)
    ms = np.where(ok, np.round(s * 1000.0), 0).astype(np.int64)
    # Most copies share a few times (ingest, a conversion wave): format each distinct time once.
    distinct, where = np.unique(ms, return_inverse=True)
    text = np.datetime_as_string(_EPOCH_MS + distinct.astype("timedelta64[ms]"), unit="ms",
                                 timezone="UTC").astype(object)[where.reshape(s.shape)]
    text[~ok] = None
    return text


def _col(df, name, dtype):
    return df[name].to_numpy(dtype=dtype) if len(df) else np.zeros(0, dtype=dtype)


BATCH = 65536
"""Chunks (or videos) turned into rows at a time: memory stays bounded whatever the catalog's size."""


def _batches(n: int):
    for a in range(0, n, BATCH):
        yield a, min(n, a + BATCH)


def _status(end: EndState, a: int, b: int) -> np.ndarray:
    """``active``, ``lost``, or ``absent`` (not stored at the end: its video was deleted, or its upload refused)."""
    status = np.where(end.lost[a:b], "lost", "active").astype(object)
    if end.absent is not None:
        status[end.absent[a:b]] = "absent"
    return status


def _chunk_ids(end: EndState, a: int = 0, b: int | None = None) -> list[str]:
    keys = end.video_keys[end.chunk_video[a:b]]
    return [f"{k}:{i}" for k, i in zip(keys.tolist(), end.chunk_index[a:b].tolist(), strict=False)]


class _Repairs:
    """The repairs table sorted by (chunk, slot), for rebuild times by binary search."""

    def __init__(self, repairs, width: int):
        self.w = width
        chunk = _col(repairs, "chunk_id", np.int64)
        slot = _col(repairs, "slot", np.int64)
        key = chunk * width + slot
        order = np.argsort(key, kind="stable")
        self.key, self.end = key[order], _col(repairs, "end_s", np.float64)[order]
        self.chunk, self.slot = chunk, slot
        self.end_unsorted = _col(repairs, "end_s", np.float64)
        self.failure = _col(repairs, "failure_id", np.int64)
        self.mode = repairs["mode"].astype(str).to_numpy() if len(repairs) else np.zeros(0, dtype=object)

    def in_chunks(self, a: int, b: int):
        lo, hi = np.searchsorted(self.key, [a * self.w, b * self.w])
        k = self.key[lo:hi]
        return k // self.w, k % self.w, self.end[lo:hi]

    def last_end_by(self, c: int, s: int, t: float) -> float | None:
        lo, hi = np.searchsorted(self.key, [c * self.w + s, c * self.w + s + 1])
        ends = self.end[lo:hi]
        ends = ends[ends <= t]
        return float(ends.max()) if len(ends) else None


def _fragment_batches(end: EndState, repairs, failures):
    """chunk_fragments rows, a batch of chunks at a time (active and lost copies, then stale ones)."""
    m = end.manager
    slot_bytes = np.array([m.slot_bytes(x, end.chunk_size) for x in ("replication", "erasure_coding")],
                          dtype=np.int64)
    n_chunks, w = end.slot_node.shape
    urls = np.array([node_url(i, int(r)) for i, r in enumerate(end.node_rack.tolist())], dtype=object)
    rep = _Repairs(repairs, w)
    for a, b in _batches(n_chunks):
        width = end.mode_width[end.mode[a:b]].astype(np.int64)
        if end.absent is not None:      # a chunk not stored at the end has no copies at all
            width[end.absent[a:b]] = 0
        c, j = np.nonzero(np.arange(w)[None, :] < width[:, None])
        c_abs = c + a
        active = end.slot_live[c_abs, j] & ~end.lost[c_abs]
        # created_at: the chunk's layout time, or the end of the last repair of that slot after it.
        created = np.repeat(end.layout_time[a:b, None], w, axis=1)
        rc, rs, rend = rep.in_chunks(a, b)
        after = rend >= end.layout_time[rc]
        np.maximum.at(created, (rc[after] - a, rs[after]), rend[after])
        ids = np.array(_chunk_ids(end, a, b), dtype=object)[c]
        prefix = np.where(end.mode[c_abs] == MODE_REPLICATION, ":r", ":f")
        cl, jl = c_abs.tolist(), j.tolist()
        if end.checksums is not None:
            get = end.checksums.get
            checks = [get((x, y), "") if ok else "" for x, y, ok in zip(cl, jl, active.tolist(), strict=False)]
        else:
            checks = [""] * len(cl)
        yield zip([f"{x}{p}{y}" for x, p, y in zip(ids.tolist(), prefix.tolist(), jl, strict=False)], ids.tolist(), jl,
                  urls[end.slot_node[c_abs, j]].tolist(), slot_bytes[end.mode[c_abs]].tolist(), checks,
                  np.where(active, "active", "lost").tolist(), iso_times(created[c, j]).tolist(), strict=False)

    # Stale copies: slots rebuilt away from a node whose transient failure has not ended by the end of the run.
    if not len(failures) or not len(rep.chunk):
        return
    kind = failures["kind"].astype(str).to_numpy()
    open_transient = (kind == "transient") & ~np.isfinite(_col(failures, "back_s", np.float64))
    fnode, ftime = _col(failures, "node", np.int64), _col(failures, "time_s", np.float64)
    hit = (rep.failure >= 0) & open_transient[np.clip(rep.failure, 0, None)]
    rows = []
    for i in np.flatnonzero(hit).tolist():
        cc, ss, fid = int(rep.chunk[i]), int(rep.slot[i]), int(rep.failure[i])
        old, t_fail = int(fnode[fid]), float(ftime[fid])
        # The old copy was written by the chunk's layout or by an earlier rebuild, before the failure.
        lt = float(end.layout_time[cc])
        made = max(lt if lt <= t_fail else 0.0, rep.last_end_by(cc, ss, t_fail) or 0.0)
        mcode = 0 if rep.mode[i] == "replication" else 1
        chk = ""
        if end.checksums is not None and mcode == int(end.mode[cc]):
            chk = end.checksums.get((cc, ss), "")
        chunk_id = _chunk_ids(end, cc, cc + 1)[0]
        tag = "r" if mcode == MODE_REPLICATION else "f"
        rows.append((f"{chunk_id}:{tag}{ss}:stale:{old}", chunk_id, ss, urls[old], int(slot_bytes[mcode]), chk,
                     "stale", iso_times([made])[0]))
    yield rows


def write_catalog(path: str | Path, end: EndState, tables: Mapping) -> Path:
    """Write ``catalog.sqlite`` at ``path`` (which must not exist) from an end state and the run's tables."""
    path = Path(path)
    if path.exists():
        raise ValueError(f"{path}: already exists")
    videos, repairs, failures = tables["videos"], tables["repairs"], tables["failures"]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write(tmp, end, videos, repairs, failures)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            # Where an OSError is caught, so is the database's: one line naming the catalog (a full disk exits 1).
            full = getattr(exc, "sqlite_errorcode", None) == getattr(sqlite3, "SQLITE_FULL", 13)
            raise OSError(errno.ENOSPC if full else errno.EIO, f"cannot write the catalog: {exc}", str(path)) from None
        raise
    return path


def _write(tmp: Path, end: EndState, videos, repairs, failures) -> None:
    conn = sqlite3.connect(tmp)
    try:
        # A fresh file published by rename: no journal is needed while it is built.
        conn.execute("PRAGMA page_size=65536")        # fewer, larger B-tree pages: faster bulk inserts
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")  # nobody else opens the file before it is renamed
        conn.executescript(SCHEMA)
        with conn:
            for rows in _fragment_batches(end, repairs, failures):
                conn.executemany("INSERT INTO chunk_fragments VALUES (?,?,?,?,?,?,?,?)", rows)
            keys = end.video_keys
            vid = _col(videos, "video_id", np.int64)
            views, served = _col(videos, "view_count", np.int64), _col(videos, "total_bytes_served", np.int64)
            last = _col(videos, "last_viewed", np.float64)
            modes = np.array(["replication", "erasure_coding"], dtype=object)
            for lo, hi in _batches(len(vid)):
                conn.executemany("INSERT INTO video_stats VALUES (?,?,?,?)", zip(
                    keys[vid[lo:hi]].tolist(), views[lo:hi].tolist(), iso_times(last[lo:hi]).tolist(),
                    served[lo:hi].tolist(), strict=False))
            for lo, hi in _batches(len(keys)):
                n = hi - lo
                conn.executemany("INSERT INTO videos VALUES (?,?,?,?,?,?)", zip(
                    range(lo, hi), keys[lo:hi].tolist(), end.starting_views[lo:hi].tolist(),
                    end.chunks_per_video[lo:hi].tolist(),
                    end.uploaded_at[lo:hi].tolist() if end.uploaded_at is not None else [None] * n,
                    end.size_class[lo:hi].tolist() if end.size_class is not None else [None] * n, strict=False))
            for lo, hi in _batches(len(end.mode)):
                conn.executemany("INSERT INTO chunks (chunk_id, video_id, chunk_index, size_bytes, status, "
                                 "redundancy_mode) VALUES (?,?,?,?,?,?)", zip(
                                     _chunk_ids(end, lo, hi), keys[end.chunk_video[lo:hi]].tolist(),
                                     end.chunk_index[lo:hi].tolist(), [end.chunk_size] * (hi - lo),
                                     _status(end, lo, hi).tolist(),
                                     modes[end.mode[lo:hi]].tolist(), strict=False))
            conn.executemany("INSERT INTO nodes VALUES (?,?,?,?)", [
                (i, node_url(i, int(r)), int(r), "up" if up else "down")
                for i, (r, up) in enumerate(zip(end.node_rack.tolist(), end.node_up.tolist(), strict=False))])
            meta = {
                "schema_version": SCHEMA_VERSION,
                "epoch": EPOCH,
                "timestamps": f"ISO 8601 UTC; simulated second t is {EPOCH} + t",
                "simulated_end": iso_times([end.end_time])[0],
                "checksums": _CHECKSUMS if end.checksums is not None else _NO_CHECKSUMS,
                "fragment_index": "fragment number 0..k+m-1 (erasure_coding) or replica number 0..r-1",
                "video_key": "video_stats.video_id and chunks.video_id hold videos.video_key",
                "fragment_size": str(end.manager.fragment_size(end.chunk_size)),
                **end.meta,
            }
            conn.executemany("INSERT INTO catalog_meta VALUES (?,?)", sorted(meta.items()))
        conn.executescript(_INDEXES)
    finally:
        conn.close()


def build_catalog_for_folder(folder: str | Path, allow_huge: bool = False) -> Path:
    """``vstack-sim catalog RESULT_DIR``: the catalog of a run that had ``outputs.catalog`` off.

    A results folder keeps tables, not the node of every copy, so the recorded scenario (seed included)
    is run again to reach the same end state; the run's own summary.json must come out byte for byte,
    or nothing is written. The rebuild times, stale copies and video stats come from the folder's tables.
    The rerun makes the up-front checks of ``vstack-sim run`` first (the folder's scenario.yaml may have been
    edited); ``allow_huge`` lifts the memory and event limits, as ``--allow-huge`` does.
    """
    from vstack_sim.model.simulation import Simulation
    from vstack_sim.results import store

    folder = Path(folder)
    loaded = store.load_result(folder)
    target = folder / CATALOG_FILE
    if target.exists():
        raise ValueError(f"{target}: already exists")
    try:
        limits.check(loaded.config, allow_huge=allow_huge)
    except limits.ResourceError as exc:
        raise limits.ResourceError(f"{folder / 'scenario.yaml'}: {exc}") from None
    # SIGTERM, SIGHUP and SIGQUIT unwind like Ctrl-C (as in `run`): the temporary catalog is removed.
    with signals_as_interrupt():
        sim = Simulation(loaded.config, check=False).build().start().run().finalize()
        result = sim.collect()
        if store.dump_json(result.summary) != (folder / "summary.json").read_text(encoding="utf-8"):
            raise ValueError(f"{folder}: running its scenario again does not reproduce its summary.json "
                             f"(made by another version?); cannot rebuild its catalog")
        tables = {name: loaded.tables[name] for name in ("videos", "repairs", "failures")}
        return write_catalog(target, end_state_of(sim), tables)
