"""The redundancy policies of real stores: by age (f4), by windowed reads with hysteresis (HACFS) and by
time since the last read (S3 Intelligent-Tiering).

Each is a :class:`~vstack_sim.system.policy_base.Policy` that replicates what it deems hot and
erasure-codes the rest; the manager applies manual overrides on top, as for every policy. They keep the
base class's :meth:`~vstack_sim.system.policy_base.Policy.upload_modes`: a new video is replicated (it is
young, just written and unread), which is also what each of these rules decides for it at its first check.

* :class:`AgePolicy` (``age``): erasure-code a video once it is older than ``age_threshold``. Facebook's
  f4 (Muralidhar et al., OSDI'14) keeps new BLOBs replicated in Haystack and moves whole volumes to its
  erasure-coded warm tier once they are one to three months old.
* :class:`ReadsPolicy` (``reads``): promote a video to replication when its reads in the popularity window
  reach ``promote``, demote it to erasure coding when they fall to ``demote`` or below, and keep its mode
  in between; optionally at most a share of the catalog's bytes replicated, hottest first. This is
  HACFS's style (Xia et al., "A Tale of Two Erasure Codes in HDFS", FAST'15): it counts reads per file,
  keeps read-hot files in its fast code and the rest in its compact code, within a bound on storage
  overhead reached by down-coding the least-read files first.
* :class:`QuietPolicy` (``quiet``): erasure-code a video not read for ``quiet_for``. Amazon S3
  Intelligent-Tiering moves an object to its Infrequent Access tier after 30 consecutive days without
  access (and back on the next access); SeaweedFS's ``ec.encode -quietFor`` codes volumes left alone
  that long (without writes, in its case).

Their default settings (:data:`DEFAULT_AGE_THRESHOLD` and the others) follow those sources where they
publish one, and say so where they are this simulator's choice.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np

from vstack_sim.system.modes import MODE_REPLICATION, RedundancyMode, check_int
from vstack_sim.system.policy_base import Policy, VideoView, codes

__all__ = [
    "DEFAULT_AGE_THRESHOLD",
    "DEFAULT_QUIET_FOR",
    "DEFAULT_READS_DEMOTE",
    "DEFAULT_READS_MAX_REPLICATED",
    "DEFAULT_READS_PROMOTE",
    "AgePolicy",
    "QuietPolicy",
    "ReadsPolicy",
]

_DAY = 86400.0

#: f4 moves volumes to warm storage after one to three months; the shorter, 30 days.
DEFAULT_AGE_THRESHOLD = 30 * _DAY
#: S3 Intelligent-Tiering: 30 consecutive days without access.
DEFAULT_QUIET_FOR = 30 * _DAY
#: HACFS publishes no single read count; these are the design's 1,000-view threshold and half of it (assumption).
DEFAULT_READS_PROMOTE = 1000
DEFAULT_READS_DEMOTE = 500
#: 1: no bound on the replicated share of the catalog's bytes.
DEFAULT_READS_MAX_REPLICATED = 1.0


def _check_seconds(name: str, value) -> float:
    """``value`` as a float, or ValueError naming ``name`` unless it is a finite number of seconds > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        raise ValueError(f"{name}: must be a finite number of seconds > 0, got {value!r}")
    return float(value)


def _times(name: str, values: np.ndarray | None, n: int) -> np.ndarray:
    # A view without these times (the seed's scalar call, a notebook's arrays) knows nothing of them:
    # -inf, i.e. there before anything was recorded, exactly what the world says of its starting catalog.
    return np.full(n, -np.inf) if values is None else np.asarray(values, dtype=np.float64)


class AgePolicy(Policy):
    """``age``: erasure coding once a video is older than ``age_threshold`` seconds, else replication (f4).

    Age is ``now - uploaded_at``; a video of unknown age (``uploaded_at`` -inf, or a view without upload
    times) is old. A video exactly ``age_threshold`` old is still replicated ("older than").
    """

    name = "age"

    def __init__(self, age_threshold: float = DEFAULT_AGE_THRESHOLD):
        self.age_threshold = _check_seconds("age_threshold", age_threshold)

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        uploaded = _times("uploaded_at", videos.uploaded_at, len(videos.ids))
        return codes(now - uploaded <= self.age_threshold)

    def __repr__(self) -> str:
        return f"AgePolicy(age_threshold={self.age_threshold!r})"


class QuietPolicy(Policy):
    """``quiet``: erasure coding for a video not read for ``quiet_for`` seconds, else replication (S3
    Intelligent-Tiering).

    Quiet time is ``now - last_read`` (the world gives the upload time, or 0 for the starting catalog, to
    a video not read in the run, so the whole catalog starts replicated, as objects start in S3's Frequent
    Access tier); a video quiet exactly ``quiet_for`` is coded. A view without last reads is all quiet.
    """

    name = "quiet"

    def __init__(self, quiet_for: float = DEFAULT_QUIET_FOR):
        self.quiet_for = _check_seconds("quiet_for", quiet_for)

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        last = _times("last_read", videos.last_read, len(videos.ids))
        return codes(now - last < self.quiet_for)

    def __repr__(self) -> str:
        return f"QuietPolicy(quiet_for={self.quiet_for!r})"


class ReadsPolicy(Policy):
    """``reads``: windowed read counts with hysteresis and an optional bound on replicated bytes (HACFS).

    A video is promoted to replication when its count reaches ``promote`` and demoted to erasure coding
    when it falls to ``demote`` or below; in between it keeps its current mode (at ingest, when there is
    none, only ``promote`` counts). The count is the one the manager is handed: the scenario requires
    the windowed measure, so it is the reads in the last ``migration.window``.

    With ``max_replicated`` s < 1, the videos to replicate are taken hottest first (highest count, ties
    in catalog order) while their logical bytes (``VideoView.sizes``) sum to at most s x the catalog's;
    the first that does not fit and every colder one are coded, as HACFS down-codes its least-read files
    until the bound holds. Uploads (replicated) and overrides may exceed the bound until the next check.
    """

    name = "reads"

    def __init__(self, promote: int = DEFAULT_READS_PROMOTE, demote: int = DEFAULT_READS_DEMOTE,
                 max_replicated: float = DEFAULT_READS_MAX_REPLICATED):
        self.promote = check_int("reads_promote", promote, 1)
        self.demote = check_int("reads_demote", demote, 0)
        if self.demote >= self.promote:
            raise ValueError(f"reads_demote: must be below reads_promote ({self.promote}), got {self.demote}")
        if (isinstance(max_replicated, (bool, np.bool_)) or not isinstance(max_replicated, numbers.Real)
                or not 0 < max_replicated <= 1):
            raise ValueError(f"reads_max_replicated: must be a share in (0, 1], got {max_replicated!r}")
        self.max_replicated = float(max_replicated)

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        counts = videos.view_counts
        replicate = np.asarray(counts >= self.promote, dtype=bool)
        if videos.current_modes is not None:
            replicate |= (videos.current_modes == MODE_REPLICATION) & np.asarray(counts > self.demote, dtype=bool)
        if self.max_replicated < 1:
            replicate = self._within_bound(videos, replicate)
        return codes(replicate)

    def _within_bound(self, videos: VideoView, replicate: np.ndarray) -> np.ndarray:
        if videos.sizes is None:
            raise ValueError("sizes: the reads policy's reads_max_replicated bound needs each video's bytes")
        sizes = np.asarray(videos.sizes, dtype=np.int64)
        # Exact: floor(total x s) with s read as the decimal it was written as (0.3 is 3/10, not 0.2999...).
        cap = math.floor(int(sizes.sum()) * Fraction(repr(self.max_replicated)))
        wanted = np.flatnonzero(replicate)
        counts = np.asarray(videos.view_counts)[wanted]
        # Hottest first, ties in catalog order: a stable ascending sort of the reversed counts, reversed back
        # (negating the counts instead would wrap unsigned ones).
        backwards = len(wanted) - 1 - np.argsort(counts[::-1], kind="stable")
        order = wanted[backwards[::-1]]
        fits = np.cumsum(sizes[order]) <= cap                        # a prefix: colder ones never jump a queue
        bounded = np.zeros_like(replicate)
        bounded[order[fits]] = True
        return bounded

    def __repr__(self) -> str:
        return (f"ReadsPolicy(promote={self.promote}, demote={self.demote}, "
                f"max_replicated={self.max_replicated!r})")
