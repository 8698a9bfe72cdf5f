"""Confidence intervals for experiments: replications of a run, a sweep's points, paired differences.

* :func:`mean_interval`: Student's t interval of a mean (also used for paired
  differences, which is what common random numbers buy: the spread of the
  differences is much smaller than the spread of either side).
* :func:`wilson_interval`: Wilson's score interval of a proportion, such as
  P(any chunk lost); it behaves at 0/n and n/n, where the normal interval
  collapses to a point.
* :func:`mttdl_interval`: the mean of exponential times to data loss from
  replications that stop at the first loss, with the chi-square interval;
  replications that end without a loss are right-censored at their end
  (time-truncated test: 2r + 2 degrees of freedom on the lower side).

The quantiles of t, chi-square and the normal distribution, and the
regularised incomplete gamma function, are SciPy's (``scipy.special``, the
lighter half of SciPy: ``scipy.stats`` would double the import time);
``tests/analysis/test_stats.py`` checks them against tabulated values.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special


def _check_p(p: float) -> None:
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")


def _check_df(df: float) -> None:
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df}")


def gammainc(a: float, x):
    """The regularised lower incomplete gamma function P(a, x) (``x`` a number or an array; 0 for x <= 0)."""
    if not a > 0:
        raise ValueError(f"a must be > 0, got {a}")
    return special.gammainc(a, np.maximum(x, 0.0))


@functools.lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom."""
    _check_p(p)
    _check_df(df)
    return float(special.stdtrit(df, p))


@functools.lru_cache(maxsize=1024)
def chi2_quantile(p: float, df: float) -> float:
    """The p-quantile of chi-square with ``df`` degrees of freedom."""
    _check_p(p)
    _check_df(df)
    # chi-square(df) is gamma(df / 2, scale 2): invert the lower tail directly, not 1 - p's upper tail
    return float(2.0 * special.gammaincinv(df / 2.0, p))


def normal_quantile(p: float) -> float:
    """The p-quantile of the standard normal distribution."""
    _check_p(p)
    return float(special.ndtri(p))


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval; ``lo``/``hi`` are NaN when it cannot be formed."""

    estimate: float
    lo: float
    hi: float
    n: int
    method: str
    level: float = 0.95

    def as_dict(self) -> dict:
        return {"n": self.n, "mean": self.estimate, "lo": self.lo, "hi": self.hi, "method": self.method}


def _check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return 1.0 - level


def mean_interval(values, level: float = 0.95) -> Interval:
    """Student's t interval of the mean of ``values`` (NaNs dropped); no interval below 2 values."""
    alpha = _check_level(level)
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, "t", level)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, "t", level)
    half = t_quantile(1.0 - alpha / 2.0, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, "t", level)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> Interval:
    """Wilson's score interval of a proportion ``successes / n``."""
    alpha = _check_level(level)
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got successes={successes}, n={n}")
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, "wilson", level)
    z = normal_quantile(1.0 - alpha / 2.0)
    p = successes / n
    denom = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if successes == 0 else max(0.0, center - half)  # exact ends, not 1e-17 off them
    hi = 1.0 if successes == n else min(1.0, center + half)
    return Interval(p, lo, hi, n, "wilson", level)


def mttdl_interval(times, lost, level: float = 0.95) -> Interval:
    """Mean time to data loss from exponential replications: total time on test over losses.

    ``times[i]`` is when replication i lost data, or when it ended without a loss (``lost[i]``
    False: right-censored). With r losses in total time T the estimate is T / r and the interval is
    [2T / chi2(1 - a/2, 2r'), 2T / chi2(a/2, 2r)], where r' = r when every replication lost data and
    r + 1 otherwise (time-truncated). No loss at all gives an estimate of NaN and an upper bound of inf.
    """
    alpha = _check_level(level)
    t = np.asarray(times, dtype=np.float64)
    lost = np.asarray(lost, dtype=bool)
    if t.shape != lost.shape:
        raise ValueError("times and lost must have the same length")
    keep = np.isfinite(t)
    t, lost = t[keep], lost[keep]
    n, r, total = len(t), int(lost.sum()), float(t.sum())
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, "exponential", level)
    r_lower = r if r == n else r + 1
    lo = 2.0 * total / chi2_quantile(1.0 - alpha / 2.0, 2 * r_lower)
    if r == 0:
        return Interval(math.nan, lo, math.inf, n, "exponential", level)
    hi = 2.0 * total / chi2_quantile(alpha / 2.0, 2 * r)
    return Interval(total / r, lo, hi, n, "exponential", level)


def difference_interval(a, b, level: float = 0.95) -> Interval:
    """Welch's t interval of mean(a) - mean(b) for independent samples (no pairing)."""
    alpha = _check_level(level)
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    n = min(len(x), len(y))
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, "welch", level)
    diff = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return Interval(diff, math.nan, math.nan, n, "welch", level)
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    if se == 0:
        return Interval(diff, diff, diff, n, "welch", level)
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = t_quantile(1.0 - alpha / 2.0, df) * se
    return Interval(diff, diff - half, diff + half, n, "welch", level)
