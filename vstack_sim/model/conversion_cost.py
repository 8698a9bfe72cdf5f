"""What conversions cost: the summary's ``conversions`` block (docs/results.md), and the records it needs.

Every figure is recomputed from records kept during the run:

* **disk I/O by class** (:mod:`.io_ledger`): the conversions' bytes read and written, and their share of disk I/O
  per bucket of ``outputs.timeline_interval``, two ways. ``io_share``: of the bytes of every class (client reads,
  repairs, conversions). ``bandwidth_share``: of the bytes the disks could have moved in the bucket, PACEMAKER's
  measure (Kadekodi et al., OSDI'20: transitions "never needing more than 5 % cluster IO bandwidth (0.2-0.4 % on
  average)"), the cluster's bandwidth being every disk's ``disk_bandwidth`` times its ``io_slots`` (once, with
  ``shared_disk_bandwidth``), positioning not counted. Peak: the largest bucket; mean: the run's total over total.
* **chunk-seconds mid-conversion** (:class:`ConversionClock`, kept by the migrator): per chunk, from its first
  attempt (its new layout placed) to its commit, or to when it was given up (lost), or to the end of the run;
  x ``chunk_weight``.
* **EC reads while hot**: erasure-coded and degraded reads (every read, not the sampled table) of a video between
  the check that decided to replicate it (the migrations table's ``decided_s``) and the end of that conversion
  (the end of the run for one still queued or converting): what waiting for the replicas cost the readers.
* **reversals** (flapping): a conversion decided no later than one ``migration.check_interval`` after the same
  video's previous conversion finished, i.e. at the first check that could take it back: the video spent at most
  one check interval in its new mode, so both rewrites bought nothing.
* **the replicated fraction** (the storage timeline's ``replicated_fraction``: replicated logical bytes over
  stored logical bytes, lost chunks left out), at the start and the end, and its steady-state mean with a 95 %
  interval (:func:`vstack_sim.analysis.steady_state.steady_state_mean` over the timeline's regular samples), or
  why it was not reached.
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.analysis.steady_state import steady_state_mean
from vstack_sim.model.io_ledger import COLUMNS
from vstack_sim.model.reads import KINDS
from vstack_sim.system.modes import MODE_ERASURE_CODING

EC_KINDS = (KINDS.index("erasure_coding"), KINDS.index("degraded"))
"""Reads served from erasure-coded fragments."""
CONVERSION_COLUMNS = (COLUMNS.index("conversion_read"), COLUMNS.index("conversion_written"))


class ConversionClock:
    """Seconds chunks spend mid-conversion: from a chunk's first attempt to the end of its conversion."""

    def __init__(self):
        self.open: dict[int, float] = {}
        self.closed = 0.0

    def begin(self, chunk: int, t: float) -> None:
        """An attempt at converting ``chunk`` starts (a retry keeps the first attempt's start)."""
        self.open.setdefault(chunk, t)

    def end(self, chunk: int, t: float) -> None:
        """The chunk's conversion is over (committed, lost, or nothing to do): no-op if it never began."""
        began = self.open.pop(chunk, None)
        if began is not None:
            self.closed += t - began

    def seconds(self, t_end: float) -> float:
        """Simulated-chunk-seconds so far, chunks still converting counted up to ``t_end``."""
        return self.closed + sum(t_end - began for began in self.open.values())


def replicated_fraction(storage: dict) -> float:
    """Share of stored logical bytes that are replicated (every chunk has the same size); NaN with none stored."""
    stored = storage["replication_chunks"] + storage["erasure_coded_chunks"]
    return storage["replication_chunks"] / stored if stored else math.nan


def cluster_bandwidth(disks) -> float:
    """Bytes per second every disk together can transfer: each of its io_slots at disk_bandwidth, or once when
    the slots share one data path."""
    return disks.slot_rate()


def _peak(share: np.ndarray, bucket: float) -> tuple[float | None, float | None]:
    if not np.isfinite(share).any():
        return None, None
    i = int(np.nanargmax(share))
    return float(share[i]), (i * bucket if share[i] > 0 else None)


def io_shares(table: np.ndarray, lengths: np.ndarray, bandwidth: float, bucket: float) -> dict:
    """Conversion bytes as a share of every class's (``io_share``) and of the disks' bandwidth
    (``bandwidth_share``), per bucket (peak, when it began) and over the run (mean: total over total)."""
    conv = table[:, list(CONVERSION_COLUMNS)].sum(axis=1).astype(np.float64)
    total = table.sum(axis=1).astype(np.float64)
    capacity = bandwidth * lengths
    with np.errstate(divide="ignore", invalid="ignore"):
        of_io = np.where(total > 0, conv / total, np.nan)
        of_bw = np.where(capacity > 0, conv / capacity, np.nan)
    out = {}
    for name, share, whole in (("io_share", of_io, total.sum()), ("bandwidth_share", of_bw, capacity.sum())):
        peak, at = _peak(share, bucket)
        out[name] = {"peak": peak, "peak_at_s": at, "mean": float(conv.sum() / whole) if whole > 0 else None}
    return out


def ec_reads_while_hot(videos: np.ndarray, starts: np.ndarray, ends: np.ndarray, n_videos: int,
                       video: np.ndarray, times: np.ndarray, kind: np.ndarray) -> int:
    """Erasure-coded or degraded reads of ``videos[i]`` with ``starts[i] <= time < ends[i]``, summed over i."""
    if not len(videos) or not len(video):
        return 0
    wanted = np.zeros(n_videos, dtype=bool)
    wanted[videos] = True
    keep = np.isin(kind, EC_KINDS) & wanted[video]
    v, t = video[keep], times[keep]
    order = np.lexsort((t, v))
    v, t = v[order], t[order]
    total = 0
    for vid, lo, hi in zip(videos.tolist(), starts.tolist(), ends.tolist(), strict=True):
        a, b = np.searchsorted(v, [vid, vid + 1])
        seg = t[a:b]
        total += int(np.searchsorted(seg, hi) - np.searchsorted(seg, lo))
    return total


def reversals(video: np.ndarray, decided: np.ndarray, end: np.ndarray, window: float) -> dict:
    """Conversions decided at most ``window`` after the same video's previous conversion ended (``end`` NaN: not
    finished), and the videos that had one."""
    if window <= 0 or len(video) < 2:
        return {"reversals": 0, "videos": 0}
    order = np.lexsort((decided, video))
    v, d, e = video[order], decided[order], end[order]
    back = (v[1:] == v[:-1]) & (d[1:] - e[:-1] <= window)
    return {"reversals": int(back.sum()), "videos": int(len(np.unique(v[1:][back])))}


def _steady_replicated(tl, step: float) -> dict:
    times = tl["time_s"].to_numpy(dtype=np.float64)
    values = tl["replicated_fraction"].to_numpy(dtype=np.float64)
    if len(times) > 1 and times[-1] - times[-2] < step:   # the end's sample falls between two regular ones
        times, values = times[:-1], values[:-1]
    if not np.isfinite(values).all():
        return {"reached": False, "mean": None, "lo": None, "hi": None, "from_s": None,
                "why": "no chunk stored at some sample"}
    s = steady_state_mean(values)
    return {"reached": s.reached, "mean": s.mean, "lo": s.lo, "hi": s.hi,
            "from_s": float(times[s.truncated]) if s.reached else None, "why": s.why}


def conversion_summary(sim, tables: dict) -> dict:
    """The ``conversions`` block of the summary, unrounded (metrics rounds it)."""
    w, cfg, reads = sim.world, sim.config, sim.reads
    end = sim.end_time
    ledger = w.cluster.io
    kind = reads.column("kind")
    times = reads.column("time_s")
    table = ledger.table(end, times, reads.column("bytes"), kind,
                         KINDS.index("cache") if reads.cache is not None else None)
    by_class = dict(zip(COLUMNS, table.sum(axis=0).tolist(), strict=True))
    migr = tables["migrations"]
    mig = sim.migrator
    # Conversions still queued or under way at the end: decided, not in the table.
    open_videos = np.flatnonzero(mig.busy)
    to_rep = (migr["to_mode"] == "replication").to_numpy()
    open_to_rep = open_videos[w.video_mode[open_videos] == MODE_ERASURE_CODING]
    hot_videos = np.concatenate([migr["video_id"].to_numpy(dtype=np.int64)[to_rep], open_to_rep])
    hot_from = np.concatenate([migr["decided_s"].to_numpy(dtype=np.float64)[to_rep], mig.decided_at[open_to_rep]])
    hot_to = np.concatenate([migr["end_s"].to_numpy(dtype=np.float64)[to_rep], np.full(len(open_to_rep), end)])
    flaps = reversals(np.concatenate([migr["video_id"].to_numpy(dtype=np.int64), open_videos]),
                      np.concatenate([migr["decided_s"].to_numpy(dtype=np.float64), mig.decided_at[open_videos]]),
                      np.concatenate([migr["end_s"].to_numpy(dtype=np.float64), np.full(len(open_videos), np.nan)]),
                      cfg.migration.check_interval)
    tl = tables["storage_timeline"]
    frac = tl["replicated_fraction"].to_numpy(dtype=np.float64)
    return {
        "bucket_s": ledger.bucket,
        "bytes_read": by_class["conversion_read"], "bytes_written": by_class["conversion_written"],
        "disk_bytes": by_class,
        **io_shares(table, ledger.lengths(end), cluster_bandwidth(w.cluster.disks), ledger.bucket),
        "converting_chunk_seconds": mig.clock.seconds(end) * w.weight,
        "ec_reads_while_hot": ec_reads_while_hot(hot_videos, hot_from, hot_to, w.catalog.videos,
                                                 reads.column("video_id"), times, kind),
        "flaps": flaps,
        "replicated_fraction": {"start": float(frac[0]), "end": float(frac[-1]),
                                "steady_state": _steady_replicated(tl, cfg.outputs.timeline_interval)},
    }
