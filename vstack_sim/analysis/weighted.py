"""The estimate of a probability from independent, weighted replications (importance sampling).

Replication j contributes x_j = 1{loss} x L_j, with L_j its likelihood ratio (1 under plain Monte Carlo).
The estimate is the sample mean of x, unbiased for the probability under the real measure; its relative
error is 1.96 sd / (sqrt(N) mean), the half-width of a 95 % normal interval over the mean, as the rare-event
literature states it. The interval is the normal one at ``level`` (99 % by default), cut at 0. Unweighted
0/1 outcomes (plain Monte Carlo) take Wilson's interval instead, which behaves at 0 losses, where the
normal interval collapses to a point.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from vstack_sim.analysis.stats import wilson_interval

Z_RELATIVE_ERROR = 1.96
"""The relative error's z: 1.96 sd / (sqrt(N) mean), as issue 26 and the rare-event literature state it."""


def weighted_estimate(contributions, level: float = 0.99, weighted: bool = True) -> dict:
    """``estimate``, ``std_error``, ``relative_error`` (None when the estimate is 0), ``interval`` at ``level``
    ([low, high]) and ``replications`` of the mean of ``contributions`` (loss indicator x weight).
    ``weighted=False``: the contributions are 0/1 and the interval is Wilson's."""
    x = np.asarray(contributions, dtype=np.float64)
    n = len(x)
    if n < 2:
        raise ValueError(f"an estimate needs at least 2 replications, got {n}")
    mean = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(n)
    if weighted:
        half = NormalDist().inv_cdf(0.5 + level / 2.0) * se
        low, high = max(0.0, mean - half), mean + half
    else:
        iv = wilson_interval(int(np.count_nonzero(x)), n, level)
        low, high = iv.lo, iv.hi
    return {"estimate": mean, "std_error": se,
            "relative_error": Z_RELATIVE_ERROR * se / mean if mean > 0 else None,
            "interval": [low, high], "level": level, "replications": n}


def pooled_estimate(estimates, std_errors, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)`` of runs that each estimated the same probability from equally many weighted
    replications: the mean of the estimates, its standard error sqrt(sum se^2) / runs, and the normal
    interval at ``level`` cut at 0 (one run: its own estimate and standard error)."""
    p = np.asarray(estimates, dtype=np.float64)
    se = np.asarray(std_errors, dtype=np.float64)
    if len(p) == 0:
        return math.nan, math.nan, math.nan
    mean = float(p.mean())
    half = NormalDist().inv_cdf(0.5 + level / 2.0) * math.sqrt(float(np.sum(se ** 2))) / len(p)
    return mean, max(0.0, mean - half), mean + half
