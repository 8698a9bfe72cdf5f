"""Zipf popularity over a finite catalog: the share of plays the most popular videos draw, and the exponent
that gives a measured share.

Ranks 1..n draw plays in proportion to i^-alpha (``catalog.zipf_alpha``). The top k = round(f x n) videos
draw H(k, alpha) / H(n, alpha) of them, where H(m, alpha) = sum over i = 1..m of i^-alpha (the exact finite
sum, not the continuous approximation). A 2006 analysis of 5.1 M YouTube videos found the top 10 % drew 79 %
of plays; for that a pure Zipf law needs alpha = ``zipf_alpha_for_top_share(5_100_000, 0.1, 0.79)``, about
0.94, and about 1.13 at 1,000 videos (docs/model.md, "Catalog", tabulates the shipped scenarios).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["zipf_partial_sum", "zipf_top_share", "zipf_alpha_for_top_share"]

_DIRECT = 4096
"""Terms summed one by one; the rest by Euler-Maclaurin (its next term is below 1e-18 of the sum there)."""


def _integral(a: float, b: float, alpha: float) -> float:
    """The integral of x^-alpha from a to b (a, b > 0), stable near alpha = 1."""
    log_ratio = math.log(b / a)
    t = (1.0 - alpha) * log_ratio
    scale = math.expm1(t) / t if t != 0 else 1.0
    return a ** (1.0 - alpha) * log_ratio * scale


def zipf_partial_sum(m: int, alpha: float) -> float:
    """H(m, alpha) = sum of i^-alpha over i = 1..m (generalised harmonic number), to double precision.

    The first terms are summed directly; beyond them Euler-Maclaurin with the Bernoulli terms up to f'''
    (the remainder is below alpha (alpha+1)...(alpha+4) a^(-alpha-5) / 30240 at a = 4096, negligible).
    """
    if m < 0:
        raise ValueError(f"m must be >= 0, got {m}")
    if alpha < 0 or not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    head = min(m, _DIRECT)
    total = float(np.sum(np.arange(1, head + 1, dtype=np.float64) ** -alpha)) if head else 0.0
    if m <= _DIRECT:
        return total
    a, b = float(_DIRECT + 1), float(m)

    def f(x):
        return x ** -alpha

    def d1(x):
        return -alpha * x ** (-alpha - 1)

    def d3(x):
        return -alpha * (alpha + 1) * (alpha + 2) * x ** (-alpha - 3)

    tail = _integral(a, b, alpha) + (f(a) + f(b)) / 2 + (d1(b) - d1(a)) / 12 - (d3(b) - d3(a)) / 720
    return total + tail


def _top(n: int, top_fraction: float) -> int:
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction}")
    return max(1, min(n, round(top_fraction * n)))


def zipf_top_share(n: int, alpha: float, top_fraction: float) -> float:
    """Share of plays the top round(top_fraction x n) of n videos draw under Zipf(alpha)."""
    k = _top(n, top_fraction)
    return zipf_partial_sum(k, alpha) / zipf_partial_sum(n, alpha)


def zipf_alpha_for_top_share(n: int, top_fraction: float, share: float, tol: float = 1e-9) -> float:
    """The Zipf exponent at which the top ``top_fraction`` of ``n`` videos draw ``share`` of the plays.

    By bisection: the share grows with alpha, from k / n at alpha = 0 towards 1. A share at or below k / n
    (alpha 0 gives it: every video equally popular) or a share of 1 with k < n is a ``ValueError``.
    """
    k = _top(n, top_fraction)
    floor = k / n
    if not floor <= share < 1 or k == n:
        raise ValueError(f"share must be in [{floor:g}, 1) for the top {k:,} of {n:,} videos, got {share}")
    lo, hi = 0.0, 1.0
    while zipf_top_share(n, hi, top_fraction) < share:
        lo, hi = hi, 2 * hi
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if zipf_top_share(n, mid, top_fraction) < share:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
