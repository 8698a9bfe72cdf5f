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

The quantiles of t and chi-square are computed here (regularised incomplete
beta and gamma functions, inverted by bisection), so the package does not
depend on scipy; ``tests/test_stats.py`` checks them against tabulated values.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_EPS = 1e-15
_TINY = 1e-300


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if a <= 0 or b <= 0:
        raise ValueError(f"a and b must be > 0, got a={a}, b={b}")
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def gammainc(a: float, x: float) -> float:
    """The regularised lower incomplete gamma function P(a, x)."""
    if a <= 0:
        raise ValueError(f"a must be > 0, got {a}")
    if x <= 0:
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # series
        term = total = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return total * math.exp(log_front)
    # continued fraction for Q(a, x) (modified Lentz)
    b = x + 1.0 - a
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return 1.0 - math.exp(log_front) * h


def _invert(cdf, p: float, lo: float, hi: float) -> float:
    """x with cdf(x) = p for an increasing cdf, by bisection (the bracket is widened as needed)."""
    while cdf(hi) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * max(1.0, abs(hi)):
            break
    return 0.5 * (lo + hi)


def _check_p(p: float) -> None:
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")


def t_cdf(t: float, df: float) -> float:
    """Cumulative distribution of Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"df must be > 0, got {df}")
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@functools.lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom."""
    _check_p(p)
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    return _invert(lambda t: t_cdf(t, df), p, 0.0, 10.0)


def chi2_cdf(x: float, df: float) -> float:
    """Cumulative distribution of chi-square with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"df must be > 0, got {df}")
    return gammainc(df / 2.0, x / 2.0)


@functools.lru_cache(maxsize=1024)
def chi2_quantile(p: float, df: float) -> float:
    """The p-quantile of chi-square with ``df`` degrees of freedom."""
    _check_p(p)
    return _invert(lambda x: chi2_cdf(x, df), p, 0.0, max(1.0, 2.0 * df))


def normal_quantile(p: float) -> float:
    """The p-quantile of the standard normal distribution."""
    _check_p(p)
    return NormalDist().inv_cdf(p)


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
