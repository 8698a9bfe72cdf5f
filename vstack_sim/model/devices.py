"""Per-request positioning times of storage devices (the profiles themselves: :mod:`vstack_sim.scenario.devices`).

:class:`PositioningTimes` draws the variates from the run's ``service``
stream in NumPy blocks (one block serves many requests), so that a compiled
read path can later consume exactly the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.analysis.stats import gammainc
from vstack_sim.scenario.devices import DISTRIBUTIONS

BLOCK = 1 << 16


def lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of the log of a lognormal variable with this mean and coefficient of variation."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


class PositioningTimes:
    """Per-request positioning times of one kind, mean and CV, drawn in blocks of :data:`BLOCK`."""

    def __init__(self, kind: str, mean: float, cv: float, rng: np.random.Generator):
        if kind not in DISTRIBUTIONS:
            raise ValueError(f"kind: must be one of {DISTRIBUTIONS}, got {kind!r}")
        if not mean >= 0:
            raise ValueError(f"mean: must be >= 0, got {mean}")
        if not cv >= 0:
            raise ValueError(f"cv: must be >= 0, got {cv}")
        self.kind = kind
        self.mean = float(mean)
        self.cv = float(cv)
        self.rng = rng
        self.deterministic = kind == "deterministic" or cv == 0.0 or mean == 0.0
        self.block: list[float] = []      # the current block, reversed: ``block.pop()`` is the next variate

    def draw(self, n: int) -> np.ndarray:
        """``n`` variates from the stream (the deterministic kind draws nothing)."""
        if self.deterministic:
            return np.full(n, self.mean)
        if self.kind == "lognormal":
            mu, sigma = lognormal_params(self.mean, self.cv)
            return self.rng.lognormal(mu, sigma, n)
        shape = 1.0 / (self.cv * self.cv)
        return self.rng.gamma(shape, self.mean / shape, n)

    def next(self) -> float:
        """One variate; the hot loops bind ``take`` instead (the same numbers in the same order)."""
        return self.take()

    def take(self) -> float:
        """The next variate; hot loops pop ``block`` themselves and call this only when it is empty."""
        if self.deterministic:
            return self.mean
        block = self.block
        if not block:
            block.extend(self.draw(BLOCK)[::-1].tolist())   # popped from the end: block order
        return block.pop()

    def moments(self) -> tuple[float, float]:
        """E[X] and E[X^2] of one positioning time."""
        m = self.mean
        var = 0.0 if self.deterministic else (self.cv * m) ** 2
        return m, var + m * m

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(X <= x), for the numerical integrals in :mod:`vstack_sim.analysis.theory`."""
        x = np.asarray(x, dtype=np.float64)
        if self.deterministic:
            return (x >= self.mean).astype(np.float64)
        if self.kind == "lognormal":
            mu, sigma = lognormal_params(self.mean, self.cv)
            z = np.log(np.maximum(x, 1e-300)) - mu
            erf = np.frompyfunc(math.erf, 1, 1)
            return np.where(x > 0, 0.5 * (1.0 + erf(z / (sigma * math.sqrt(2.0))).astype(np.float64)), 0.0)
        shape = 1.0 / (self.cv * self.cv)
        scale = self.mean / shape
        return np.asarray(gammainc(shape, x / scale), dtype=np.float64)

    def upper(self) -> float:
        """A point beyond which less than about 1e-12 of the mass lies (integration bound)."""
        if self.deterministic:
            return self.mean
        if self.kind == "lognormal":
            mu, sigma = lognormal_params(self.mean, self.cv)
            return math.exp(mu + 7.5 * sigma)
        shape = 1.0 / (self.cv * self.cv)
        return self.mean / shape * (shape + 12.0 * math.sqrt(shape) + 40.0)

    def __repr__(self) -> str:
        return f"PositioningTimes({self.kind}, mean={self.mean}, cv={self.cv})"
