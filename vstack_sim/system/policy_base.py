"""What every redundancy policy shares: the :class:`VideoView` of the catalog it decides from, and the
:class:`Policy` base class.

Kept apart from the policies themselves (:mod:`.policies` for the design's threshold rule and the
one-mode baselines, :mod:`.store_policies` for the rules of real stores) so that both modules build on
it and :func:`~vstack_sim.system.policies.make_policy` can name every policy without an import circle.
"""

from __future__ import annotations

import abc
import dataclasses

import numpy as np

from vstack_sim.system.modes import (
    MODE_ERASURE_CODING,
    MODE_REPLICATION,
    RedundancyMode,
)

__all__ = ["Policy", "VideoView", "codes"]


def _same_shape(name: str, values, ids: np.ndarray) -> np.ndarray | None:
    if values is None:
        return None
    values = np.asarray(values)
    if values.shape != ids.shape:
        raise ValueError(f"{name}: shape {values.shape} does not match video_ids shape {ids.shape}")
    return values


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
    def of(cls, ids, view_counts, current_modes=None, sizes=None, uploaded_at=None, last_read=None) -> VideoView:
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
        current = _same_shape("current_modes", current_modes, ids)
        known = (MODE_REPLICATION, MODE_ERASURE_CODING)
        if current is not None and current.size and not np.isin(current, known).all():
            raise ValueError(f"current_modes: codes must be {MODE_REPLICATION} or {MODE_ERASURE_CODING}")
        times = {}
        for name, values in (("uploaded_at", uploaded_at), ("last_read", last_read)):
            values = _same_shape(name, values, ids)
            # -inf is a meaning (there before the run, age unknown); nan or +inf is a bug upstream.
            if values is not None and values.size and (np.isnan(values).any() or (values == np.inf).any()):
                raise ValueError(f"{name}: must be times in seconds or -inf, got nan or +inf")
            times[name] = values
        return cls(ids, counts, current, _same_shape("sizes", sizes, ids), **times)


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

    def recommend(self, videos: VideoView, now: float) -> np.ndarray:
        """Mode codes for a one-off question about ``videos`` (the seed's ``/redundancy/recommend``): as
        :meth:`decide`, but it never changes what the policy keeps between checks."""
        return self.decide(videos, now)

    def counters(self) -> dict[str, int]:
        """What the policy counts of its own decisions, for the run's summary (none by default)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def codes(replicate: np.ndarray) -> np.ndarray:
    """``int8`` mode codes from a boolean mask: replication where it is true, erasure coding elsewhere."""
    return np.where(replicate, np.int8(MODE_REPLICATION), np.int8(MODE_ERASURE_CODING))
