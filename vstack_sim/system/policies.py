"""Redundancy policies: who decides each video's mode from what it sees of the catalog.

The seed's rule: a video with more views than the popularity threshold
(default 1000) is *hot* and kept as r full replicas of each chunk; every
other video is *cold* and kept as RS(k, m) fragments, any k of the k + m
recovering the chunk.

This module is the one place that rule lives, as a :class:`Policy` object:
``decide(videos, now) -> modes`` over a :class:`VideoView` of the catalog
(NumPy arrays of ids, view counts, current modes, sizes). ``adaptive``
(:class:`ThresholdPolicy`), ``replication`` and ``erasure_coding``
(:class:`FixedPolicy`) are three such policies (:data:`POLICIES`,
:func:`make_policy`); a new one subclasses :class:`Policy` and says which
modes it can assign. Manual overrides are not a policy's business: the
:class:`~vstack_sim.system.manager.RedundancyManager` applies them on top.

Two additions the seed lists as future work are here too:

* hysteresis ``h``: a replicated video returns to erasure coding only when
  its count falls to or below ``threshold x (1 - h)`` (:func:`cold_threshold`),
  so videos near the threshold do not flap between modes at every popularity check;
* policies that pin every video to one mode, so the all-replication and
  all-EC baselines go through the same code as the adaptive one.

The default threshold, and the ``POPULARITY_THRESHOLD`` environment variable
that changes it (:func:`threshold_from_env`), live here too.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import os
from fractions import Fraction

import numpy as np

from vstack_sim.system.modes import (
    MODE_ERASURE_CODING,
    MODE_REPLICATION,
    RedundancyMode,
    check_int,
    mode_code,
    parse_mode,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "ENV_THRESHOLD",
    "POLICIES",
    "FixedPolicy",
    "Policy",
    "ThresholdPolicy",
    "VideoView",
    "cold_threshold",
    "make_policy",
    "threshold_from_env",
]

#: Policies a manager can follow: the threshold rule, or one mode for all.
POLICIES = ("adaptive", "replication", "erasure_coding")

#: The environment variable a manager without an explicit threshold reads, and its default.
ENV_THRESHOLD = "POPULARITY_THRESHOLD"
DEFAULT_THRESHOLD = 1000


def threshold_from_env() -> int:
    """The ``POPULARITY_THRESHOLD`` environment variable, or :data:`DEFAULT_THRESHOLD` when unset or blank."""
    raw = os.environ.get(ENV_THRESHOLD, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = int(raw, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{ENV_THRESHOLD}: must be a non-negative integer, got {raw!r}")
    return value


def cold_threshold(threshold: int, hysteresis: float) -> int:
    """A replicated video goes back to EC at or below this many views: floor(T x (1 - h)).

    Counts are integers, so "count <= T(1-h)" is "count <= floor(T(1-h))". The
    Fraction of the decimal repr keeps 1000 x (1 - 0.2) at exactly 800 instead
    of 799.99...; with h = 0 this is T itself.
    """
    return math.floor(threshold * (1 - Fraction(repr(float(hysteresis)))))


@dataclasses.dataclass(frozen=True)
class VideoView:
    """What a policy sees of the catalog: parallel 1-D NumPy arrays, one entry per video.

    ``ids`` video ids; ``view_counts`` the popularity measure; ``current_modes``
    mode codes now (None at ingest, when there are none yet); ``sizes`` bytes
    per video (None when unknown); ``uploaded_at`` each video's upload time in
    simulated seconds (``-inf`` for a video of unknown age that was there
    before the run); ``last_read`` the start of its latest view, or its upload
    time (0 for the starting catalog) when it has not been viewed in the run.
    Fields are added with a default of None, so existing policies keep working.
    """

    ids: np.ndarray
    view_counts: np.ndarray
    current_modes: np.ndarray | None = None
    sizes: np.ndarray | None = None
    uploaded_at: np.ndarray | None = None
    last_read: np.ndarray | None = None

    @classmethod
    def of(cls, ids, view_counts, current_modes=None, sizes=None) -> VideoView:
        """A checked view from array-likes (ValueError naming the argument on a bad one)."""
        ids = np.asarray(ids)
        counts = np.asarray(view_counts)
        if ids.ndim != 1:
            raise ValueError(f"video_ids: must be a 1-D array, got shape {ids.shape}")
        if counts.shape != ids.shape:
            raise ValueError(f"view_counts: shape {counts.shape} does not match video_ids shape {ids.shape}")
        if counts.dtype.kind not in "iuf":
            raise ValueError(f"view_counts: must be an array of numbers, got dtype {counts.dtype}")
        if counts.size and counts.dtype.kind != "u":
            if counts.dtype.kind == "f" and not np.isfinite(counts).all():
                raise ValueError("view_counts: must be finite")
            if counts.min() < 0:
                raise ValueError(f"view_counts: must be non-negative, got {counts.min()}")
        current = None
        if current_modes is not None:
            current = np.asarray(current_modes)
            if current.shape != ids.shape:
                raise ValueError(f"current_modes: shape {current.shape} does not match video_ids shape {ids.shape}")
            if current.size and not np.isin(current, (MODE_REPLICATION, MODE_ERASURE_CODING)).all():
                raise ValueError(f"current_modes: codes must be {MODE_REPLICATION} or {MODE_ERASURE_CODING}")
        if sizes is not None:
            sizes = np.asarray(sizes)
            if sizes.shape != ids.shape:
                raise ValueError(f"sizes: shape {sizes.shape} does not match video_ids shape {ids.shape}")
        return cls(ids, counts, current, sizes)


class Policy(abc.ABC):
    """Decides each video's mode from a :class:`VideoView`. Subclass it to add a policy:

    * ``name``: how scenarios and summaries call it;
    * :meth:`modes`: every mode it can assign (config checks the cluster can hold them);
    * :meth:`decide`: mode codes (``int8``, one per video) at simulated time ``now``.

    Overrides are not the policy's business: the manager applies them on top.
    """

    name: str = "policy"

    @abc.abstractmethod
    def modes(self) -> frozenset[RedundancyMode]:
        """Every mode this policy can give a video."""

    @abc.abstractmethod
    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        """Mode codes for ``videos`` at time ``now``."""

    def upload_modes(self, videos: VideoView, now: float) -> np.ndarray:
        """Mode codes for videos uploaded at ``now``: replication when this policy can assign it (a new video
        is at its hottest, as f4 keeps new BLOBs in its hot tier), else its one mode."""
        code = MODE_REPLICATION if RedundancyMode.REPLICATION in self.modes() else MODE_ERASURE_CODING
        return np.full(videos.ids.shape, np.int8(code), dtype=np.int8)


class ThresholdPolicy(Policy):
    """The seed's rule (``adaptive``): more than ``threshold`` views -> replication, else erasure
    coding; with a current mode, a replicated video stays until it falls to the cold threshold."""

    name = "adaptive"

    def __init__(self, threshold: int, hysteresis: float = 0.0):
        self.threshold = check_int("popularity_threshold", threshold, 0)
        self.cold_threshold = cold_threshold(threshold, hysteresis)

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        counts = videos.view_counts
        replicate = counts > self.threshold
        if videos.current_modes is not None:
            replicate = replicate | ((videos.current_modes == MODE_REPLICATION) & (counts > self.cold_threshold))
        return np.where(replicate, np.int8(MODE_REPLICATION), np.int8(MODE_ERASURE_CODING))


class FixedPolicy(Policy):
    """Every video in one mode: the all-replication and all-EC baselines."""

    def __init__(self, mode: RedundancyMode | str | int):
        self.mode = parse_mode(mode)
        self.name = self.mode.value

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset({self.mode})

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        return np.full(videos.ids.shape, mode_code(self.mode), dtype=np.int8)


def make_policy(name: str | RedundancyMode, threshold: int = DEFAULT_THRESHOLD, hysteresis: float = 0.0) -> Policy:
    """The policy called ``name`` (one of :data:`POLICIES`) with these settings."""
    key = name.value if isinstance(name, RedundancyMode) else name
    if not isinstance(key, str) or key.strip().lower() not in POLICIES:
        raise ValueError(f"policy: must be one of {', '.join(POLICIES)}, got {name!r}")
    key = key.strip().lower()
    if key == "adaptive":
        return ThresholdPolicy(threshold, hysteresis)
    return FixedPolicy(key)
