"""Redundancy policies: who decides each video's mode from what it sees of the catalog.

The seed's rule (``threshold``, also called ``adaptive``): a video with more
views than the popularity threshold (default 1000) is *hot* and kept as r full
replicas of each chunk; every other video is *cold* and kept as RS(k, m)
fragments, any k of the k + m recovering the chunk. Its count is whatever the
manager is handed: the migration's popularity measure, cumulative or windowed.

A policy is a :class:`~vstack_sim.system.policy_base.Policy` object:
``decide(videos, now) -> modes`` over a
:class:`~vstack_sim.system.policy_base.VideoView` of the catalog (NumPy arrays
of ids, view counts, current modes, sizes, upload times, last reads). This
module holds the seed's rule (:class:`ThresholdPolicy`), the one-mode
baselines (:class:`FixedPolicy`) and the registry of every policy
(:data:`POLICIES`, :func:`make_policy`); the rules of real stores (``age``,
``reads``, ``quiet``) are in :mod:`vstack_sim.system.store_policies`, the rules that weigh size and price
(``size``, ``cost``) in :mod:`vstack_sim.system.cost_policies`, and the forecasting one (``predictive``) in
:mod:`vstack_sim.system.predictive_policy`. A new
policy subclasses :class:`Policy` and says which modes it can assign. Manual
overrides are not a policy's business: the
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

import math
import os
from fractions import Fraction

import numpy as np

from vstack_sim.system.cost_policies import (
    DEFAULT_COST_HORIZON,
    DEFAULT_COST_WINDOW,
    DEFAULT_MIN_EC_BYTES,
    CostPolicy,
    PriceTable,
    SizePolicy,
)
from vstack_sim.system.modes import (
    MODE_REPLICATION,
    RedundancyMode,
    check_int,
    mode_code,
    parse_mode,
)
from vstack_sim.system.policy_base import Policy, VideoView, codes
from vstack_sim.system.predictive_policy import DEFAULT_PREDICTIVE_ALPHA, DEFAULT_PREDICTIVE_BETA, PredictivePolicy
from vstack_sim.system.store_policies import (
    DEFAULT_AGE_THRESHOLD,
    DEFAULT_QUIET_FOR,
    DEFAULT_READS_DEMOTE,
    DEFAULT_READS_MAX_REPLICATED,
    DEFAULT_READS_PROMOTE,
    AgePolicy,
    QuietPolicy,
    ReadsPolicy,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "ENV_THRESHOLD",
    "POLICIES",
    "AgePolicy",
    "CostPolicy",
    "FixedPolicy",
    "Policy",
    "PredictivePolicy",
    "PriceTable",
    "QuietPolicy",
    "ReadsPolicy",
    "SizePolicy",
    "ThresholdPolicy",
    "VideoView",
    "cold_threshold",
    "make_policy",
    "threshold_from_env",
]

#: Policies a manager can follow: the threshold rule (``adaptive`` is its older name), the rules of real
#: stores, the rules by size, price and forecast, or one mode for all.
POLICIES = ("threshold", "adaptive", "age", "reads", "quiet", "size", "cost", "predictive", "replication",
            "erasure_coding")

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


class ThresholdPolicy(Policy):
    """The seed's rule (``threshold``, or ``adaptive``): more than ``threshold`` views -> replication, else
    erasure coding; with a current mode, a replicated video stays until it falls to the cold threshold.

    ``name`` is the name it was asked by: ``adaptive`` (the default's name, kept so that older scenarios,
    summaries and reports read the same) or ``threshold``; the rule is the same object either way.
    """

    def __init__(self, threshold: int, hysteresis: float = 0.0, name: str = "threshold"):
        if name not in ("threshold", "adaptive"):
            raise ValueError(f"name: must be 'threshold' or 'adaptive', got {name!r}")
        self.name = name
        self.threshold = check_int("popularity_threshold", threshold, 0)
        self.hysteresis = hysteresis
        self.cold_threshold = cold_threshold(threshold, hysteresis)

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        counts = videos.view_counts
        replicate = counts > self.threshold
        if videos.current_modes is not None:
            replicate = replicate | ((videos.current_modes == MODE_REPLICATION) & (counts > self.cold_threshold))
        return codes(replicate)

    def __repr__(self) -> str:
        return f"ThresholdPolicy(threshold={self.threshold}, hysteresis={self.hysteresis!r}, name={self.name!r})"


class FixedPolicy(Policy):
    """Every video in one mode: the all-replication and all-EC baselines."""

    def __init__(self, mode: RedundancyMode | str | int):
        self.mode = parse_mode(mode)
        self.name = self.mode.value

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset({self.mode})

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        return np.full(videos.ids.shape, mode_code(self.mode), dtype=np.int8)

    def __repr__(self) -> str:
        return f"FixedPolicy(mode={self.mode.value!r})"


def make_policy(name: str | RedundancyMode, threshold: int = DEFAULT_THRESHOLD, hysteresis: float = 0.0, *,
                age_threshold: float = DEFAULT_AGE_THRESHOLD, reads_promote: int = DEFAULT_READS_PROMOTE,
                reads_demote: int = DEFAULT_READS_DEMOTE,
                reads_max_replicated: float = DEFAULT_READS_MAX_REPLICATED,
                quiet_for: float = DEFAULT_QUIET_FOR, min_ec_bytes: int = DEFAULT_MIN_EC_BYTES,
                geometry=None, window: float = DEFAULT_COST_WINDOW, prices: PriceTable | None = None,
                cost_horizon: float = DEFAULT_COST_HORIZON, predictive_alpha: float = DEFAULT_PREDICTIVE_ALPHA,
                predictive_beta: float = DEFAULT_PREDICTIVE_BETA) -> Policy:
    """The policy called ``name`` (one of :data:`POLICIES`) with these settings.

    Each policy takes its own settings and ignores the others' (as a scenario accepts them all):
    ``threshold`` and ``hysteresis`` for ``threshold``/``adaptive`` (and for ``size``'s large videos and
    ``predictive``), ``age_threshold`` (seconds) for ``age``, ``reads_promote``, ``reads_demote`` and
    ``reads_max_replicated`` for ``reads``, ``quiet_for`` (seconds) for ``quiet``, ``min_ec_bytes`` for
    ``size``; ``geometry`` (the manager whose r, k, m and chunk size it prices: required), ``window`` (the
    seconds the counts cover), ``prices`` and ``cost_horizon`` (seconds) for ``cost``;
    ``predictive_alpha`` and ``predictive_beta`` for ``predictive``. A bad setting of the chosen policy is a
    ValueError naming it.
    """
    key = name.value if isinstance(name, RedundancyMode) else name
    if not isinstance(key, str) or key.strip().lower() not in POLICIES:
        raise ValueError(f"policy: must be one of {', '.join(POLICIES)}, got {name!r}")
    key = key.strip().lower()
    if key in ("threshold", "adaptive"):
        return ThresholdPolicy(threshold, hysteresis, name=key)
    if key == "age":
        return AgePolicy(age_threshold)
    if key == "reads":
        return ReadsPolicy(reads_promote, reads_demote, reads_max_replicated)
    if key == "quiet":
        return QuietPolicy(quiet_for)
    if key == "size":
        return SizePolicy(ThresholdPolicy(threshold, hysteresis), min_ec_bytes)
    if key == "cost":
        if geometry is None:
            raise ValueError("geometry: the cost policy prices a manager's geometry (r, k, m, chunk size); pass one")
        return CostPolicy(geometry, window, prices, cost_horizon)
    if key == "predictive":
        return PredictivePolicy(check_int("popularity_threshold", threshold, 0), cold_threshold(threshold, hysteresis),
                                predictive_alpha, predictive_beta)
    return FixedPolicy(key)
