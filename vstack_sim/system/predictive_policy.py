"""The ``predictive`` policy: the threshold rule applied one check ahead, on a Holt forecast of each video's count.

At every call (ingest, then each popularity check) the policy updates, per video, Holt's linear exponential
smoothing (C. C. Holt, "Forecasting seasonals and trends by exponentially weighted moving averages", ONR memo,
1957): a level L and a trend B (the count's change per check, i.e. its smoothed rate) from the count x,

    L' = alpha x + (1 - alpha) (L + B),    B' = beta (L' - L) + (1 - beta) B,    forecast F = L' + B',

starting from L = x, B = 0 at a video's first call. A video is replicated when its count or its forecast for
the next check is above the popularity threshold T, so it converts a check ahead of the crossing; a replicated
video goes back to erasure coding only when both have fallen to the hysteresis's cold threshold or below. With
beta 0 (and L = x at first sight) the trend stays 0 and the rule is the threshold rule.

The policy keeps state between calls, per video id (non-negative integers, the simulator's row numbers):
arrays sized on the first call and grown when a larger id arrives (uploads). A second call at the same time
(ingest in batches, a scalar call) decides from the stored state without updating it.

It counts its own decisions (overrides and the upload grace, applied by the manager on top, are not seen):

* ``early_promotions``: videos it newly wanted replicated while their count was not above T (the forecast
  alone promoted them);
* ``false_promotions``: of those, the ones it wanted back in erasure coding before their count ever went above
  T: conversions both ways that the threshold rule would not have made.
"""

from __future__ import annotations

import numbers

import numpy as np

from vstack_sim.system.modes import MODE_REPLICATION, RedundancyMode, check_int
from vstack_sim.system.policy_base import Policy, VideoView, codes

__all__ = ["DEFAULT_PREDICTIVE_ALPHA", "DEFAULT_PREDICTIVE_BETA", "PredictivePolicy"]

#: Smoothing of the level and of the trend (this simulator's choice: Holt publishes no universal value).
DEFAULT_PREDICTIVE_ALPHA = 0.5
DEFAULT_PREDICTIVE_BETA = 0.5


def _share(name: str, value, low_open: bool) -> float:
    bad = isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
    if bad or not (0 < value <= 1 if low_open else 0 <= value <= 1):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name}: must be a number in {interval}, got {value!r}")
    return float(value)


class PredictivePolicy(Policy):
    """``predictive``: replicate when the count or its Holt forecast one check ahead is above ``threshold``;
    a replicated video stays while either is above ``cold_threshold`` (see the module's docstring)."""

    name = "predictive"

    def __init__(self, threshold: int, cold_threshold: int | None = None, alpha: float = DEFAULT_PREDICTIVE_ALPHA,
                 beta: float = DEFAULT_PREDICTIVE_BETA):
        self.threshold = check_int("popularity_threshold", threshold, 0)
        self.cold_threshold = self.threshold if cold_threshold is None else check_int("cold_threshold",
                                                                                     cold_threshold, 0)
        if self.cold_threshold > self.threshold:
            raise ValueError(f"cold_threshold: must be at most popularity_threshold ({self.threshold}), "
                             f"got {self.cold_threshold}")
        self.alpha = _share("predictive_alpha", alpha, low_open=True)
        self.beta = _share("predictive_beta", beta, low_open=False)
        self.early_promotions = 0
        self.false_promotions = 0
        self._last = None       # per id: time of its latest update (-inf: never seen)
        self._level = self._trend = None
        self._wanted = self._early = self._crossed = None   # the last decision; in an early episode; crossed T

    def modes(self) -> frozenset[RedundancyMode]:
        return frozenset(RedundancyMode)

    def forecast(self, ids) -> np.ndarray:
        """The forecast for the next check of each of ``ids`` (nan for an id never seen)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.full(ids.shape, np.nan)
        if self._last is not None:
            known = ids < len(self._last)
            seen = np.zeros(ids.shape, dtype=bool)
            seen[known] = np.isfinite(self._last[ids[known]])
            out[seen] = self._level[ids[seen]] + self._trend[ids[seen]]
        return out

    def _grow(self, size: int) -> None:
        old = 0 if self._last is None else len(self._last)
        if size <= old:
            return
        size = max(size, 2 * old)           # amortised growth as uploads arrive one by one

        def grown(array, fill, dtype):
            new = np.full(size, fill, dtype=dtype)
            if array is not None:
                new[:old] = array
            return new

        self._last = grown(self._last, -np.inf, np.float64)
        self._level, self._trend = grown(self._level, 0.0, np.float64), grown(self._trend, 0.0, np.float64)
        self._wanted = grown(self._wanted, False, bool)
        self._early, self._crossed = grown(self._early, False, bool), grown(self._crossed, False, bool)

    def _ids(self, videos: VideoView) -> np.ndarray:
        ids = videos.ids
        if ids.dtype.kind not in "iu" or (ids.size and ids.min() < 0):
            raise ValueError("ids: the predictive policy keeps state per video id, so ids must be non-negative "
                             "integers")
        return ids.astype(np.int64)

    def recommend(self, videos: VideoView, now: float) -> np.ndarray:
        """A one-off question has no history to forecast from: the forecast is the count itself, so the answer is
        the threshold rule's, with the cold threshold on the way back; the checks' state is left alone."""
        counts = videos.view_counts
        hot = counts > self.threshold
        if videos.current_modes is not None:
            hot = hot | ((videos.current_modes == MODE_REPLICATION) & (counts > self.cold_threshold))
        return codes(hot)

    def counters(self) -> dict[str, int]:
        return {"early_promotions": self.early_promotions, "false_promotions": self.false_promotions}

    def decide(self, videos: VideoView, now: float) -> np.ndarray:
        ids = self._ids(videos)
        if ids.size == 0:
            return codes(np.zeros(0, dtype=bool))
        self._grow(int(ids.max()) + 1)
        x = np.asarray(videos.view_counts, dtype=np.float64)
        fresh = ~np.isfinite(self._last[ids])
        update = self._last[ids] < now
        self._smooth(ids[update], x[update], fresh[update])
        self._last[ids[update]] = now
        forecast = self._level[ids] + self._trend[ids]
        hot = x > self.threshold
        replicate = hot | (forecast > self.threshold)
        if videos.current_modes is not None:
            kept = (x > self.cold_threshold) | (forecast > self.cold_threshold)
            replicate |= (videos.current_modes == MODE_REPLICATION) & kept
        self._count(ids[update], replicate[update], hot[update],
                    None if videos.current_modes is None else videos.current_modes[update] == MODE_REPLICATION)
        return codes(replicate)

    def _smooth(self, ids: np.ndarray, x: np.ndarray, fresh: np.ndarray) -> None:
        level, trend = self._level[ids], self._trend[ids]
        new_level = self.alpha * x + (1 - self.alpha) * (level + trend)
        new_trend = self.beta * (new_level - level) + (1 - self.beta) * trend
        self._level[ids] = np.where(fresh, x, new_level)
        self._trend[ids] = np.where(fresh, 0.0, new_trend)

    def _count(self, ids: np.ndarray, replicate: np.ndarray, hot: np.ndarray, replicated: np.ndarray | None) -> None:
        wanted = self._wanted[ids]
        promoted = replicate & ~wanted
        if replicated is not None:
            promoted &= ~replicated               # already replicated (an upload, an override): nothing promoted
        early = promoted & ~hot
        self.early_promotions += int(np.count_nonzero(early))
        self._early[ids[promoted]] = early[promoted]
        self._crossed[ids[promoted]] = False
        self._crossed[ids] |= self._early[ids] & hot
        demoted = wanted & ~replicate
        self.false_promotions += int(np.count_nonzero(demoted & self._early[ids] & ~self._crossed[ids]))
        self._early[ids[demoted]] = False
        self._wanted[ids] = replicate

    def __repr__(self) -> str:
        return (f"PredictivePolicy(threshold={self.threshold}, cold_threshold={self.cold_threshold}, "
                f"alpha={self.alpha!r}, beta={self.beta!r})")
