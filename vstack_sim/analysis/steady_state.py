"""The steady-state mean of an output series, with an interval, or "not reached": MSER-5, then batch means.

A run's series (the storage timeline's replicated fraction, say) starts in a transient and, if the system
settles, then fluctuates about a steady-state mean. :func:`steady_state_mean` takes equally spaced observations
and returns that mean with a confidence interval, or says why it cannot:

1. **Warm-up truncation, MSER-5** (White, Simulation 1997; Franklin and White, WSC 2008): the series is averaged
   in batches of 5, Z_1..Z_m; for each truncation d (in batches) MSER(d) = sum_{j>d} (Z_j - mean_{j>d} Z)^2 /
   (m - d)^2, the squared standard error of the mean of what is kept; d* is the smallest d that minimises it,
   among those that keep at least a quarter of the batches (near the end the statistic is noise). A minimum in
   the second half means that the truncation that looks best throws most of the run away: the series still
   drifts, and the steady state was **not reached** (the usual MSER rule).
2. **Batch means** (Law and Kelton, *Simulation Modeling and Analysis*, ch. 9): the kept observations, less the
   oldest few that do not fill a batch, are cut into :data:`BATCHES` equal batches; Student's t interval over
   the batch means (B - 1 degrees of freedom). Fewer than :data:`MIN_BATCH` observations a batch: **too short**.
3. **Stationarity checks**: the kept part only rises or only falls (and is not constant): a stationary series
   with any spread goes both ways, so it still drifts (a count-driven series such as the replicated fraction under
   cumulative popularity steps up a few times, and its few steps are too rare for the batch means to see):
   **not reached**. And Welch's 99 % interval of the difference between the means of the first and the second
   half of the batches; when it excludes 0, the kept part still drifts: **not reached**.

The sums of squares are accumulated from the end (Welford's update), so a plateau that is exactly constant has
MSER exactly 0 and a constant series is truncated at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vstack_sim.analysis.stats import difference_interval, mean_interval

MSER_BATCH = 5
"""Observations averaged into one MSER batch (MSER-5)."""
BATCHES = 10
"""Batches of the batch-means interval."""
MIN_BATCH = 3
"""Fewest observations in a batch of the batch-means interval; fewer and the series is too short."""
DRIFT_LEVEL = 0.99
"""Level of the halves' check: a stationary series fails it 1 time in 100 (at 0.95, 1 in 20 runs that did settle
would be called unsettled)."""


@dataclass(frozen=True)
class SteadyState:
    """A steady-state estimate. ``reached`` False: ``mean``, ``lo``, ``hi`` are NaN and ``why`` says why."""

    reached: bool
    mean: float
    lo: float
    hi: float
    truncated: int          # observations dropped at the start (warm-up and the part that fills no batch)
    batch_size: int
    why: str | None = None


def mser_truncation(values: np.ndarray, batch: int = MSER_BATCH) -> tuple[int, int]:
    """(d*, m): the MSER truncation in batches of ``batch`` observations and the number m of whole batches (the
    trailing observations that fill no batch are left out of the statistic)."""
    x = np.asarray(values, dtype=np.float64)
    m = len(x) // batch
    z = x[:m * batch].reshape(m, batch).mean(axis=1).tolist()
    best, best_d = math.inf, 0
    mean = m2 = 0.0
    scores = [0.0] * m
    for i in range(m - 1, -1, -1):          # Welford from the end: the kept part is z[i:]
        n = m - i
        delta = z[i] - mean
        mean += delta / n
        m2 += delta * (z[i] - mean)
        scores[i] = m2 / (n * n)
    # The statistic of the last few batches is noise (two batches that happen to agree score near 0), so the
    # search keeps at least a quarter of them; a trend still puts the minimum past the half.
    for d in range(max(m - max(2, -(-m // 4)), 0) + 1):
        if scores[d] < best:
            best, best_d = scores[d], d
    return best_d, m


def steady_state_mean(values, level: float = 0.95) -> SteadyState:
    """The steady-state mean of equally spaced observations (NaNs are not allowed): MSER-5 truncation, then
    :data:`BATCHES` batch means with a Student t interval, and a check that the two halves agree."""
    x = np.asarray(values, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("values: every observation must be finite")
    nan = math.nan
    if len(x) < 2 * MSER_BATCH:
        return SteadyState(False, nan, nan, nan, 0, 0, "too short")
    d, m = mser_truncation(x)
    if d > m // 2:
        return SteadyState(False, nan, nan, nan, d * MSER_BATCH, 0, "still drifting: no warm-up end in the first half")
    kept = x[d * MSER_BATCH:]
    size = len(kept) // BATCHES
    if size < MIN_BATCH:
        return SteadyState(False, nan, nan, nan, d * MSER_BATCH, size, "too short")
    steps = np.diff(kept)
    if (steps >= 0).all() and (steps > 0).any():
        return SteadyState(False, nan, nan, nan, d * MSER_BATCH, size, "still drifting: it only rises")
    if (steps <= 0).all() and (steps < 0).any():
        return SteadyState(False, nan, nan, nan, d * MSER_BATCH, size, "still drifting: it only falls")
    cut = len(kept) - size * BATCHES        # the oldest observations that fill no batch
    means = kept[cut:].reshape(BATCHES, size).mean(axis=1)
    half = BATCHES // 2
    drift = difference_interval(means[half:], means[:half], DRIFT_LEVEL)
    if drift.lo > 0 or drift.hi < 0:
        return SteadyState(False, nan, nan, nan, d * MSER_BATCH + cut, size,
                           "still drifting: the two halves differ")
    iv = mean_interval(means, level)
    return SteadyState(True, iv.estimate, iv.lo, iv.hi, d * MSER_BATCH + cut, size)
