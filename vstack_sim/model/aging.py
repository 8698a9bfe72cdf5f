"""Per-video aging: how a video's view intensity follows its own age.

A video with lifetime views A is viewed at A x g(age), where g is a probability density over ages:
a burst at upload, then a decay. Its cumulative form G (kept as its survival 1 - G, exact for old
videos) gives the expected views between two ages, and its inverse draws view ages, so a video's
views in a stretch of time are a Poisson count placed by inverse transform.

* :class:`PowerLawAging`: g(x) = (beta - 1) / tau x (1 + x / tau)^-beta (beta > 1, so the integral converges);
* :class:`ExponentialAging`: g(x) = exp(-x / tau) / tau.

With uploads at a constant rate U, the catalog's expected view rate at time t after the first upload is
U x E[A] x G(t): it rises to the steady state U x E[A] as G(t) -> 1 (docs/model.md, "A living catalog").
"""

from __future__ import annotations

import numpy as np


class PowerLawAging:
    """g(x) = (beta - 1) / tau x (1 + x / tau)^-beta: flat for ages well below tau, then x^-beta."""

    def __init__(self, burst: float, exponent: float):
        if not burst > 0:
            raise ValueError(f"burst: must be positive, got {burst!r}")
        if not exponent > 1:
            raise ValueError(f"exponent: must be above 1 (the lifetime views diverge otherwise), got {exponent!r}")
        self.burst = float(burst)
        self.exponent = float(exponent)

    def density(self, age):
        a = np.asarray(age, dtype=np.float64)
        return (self.exponent - 1.0) / self.burst * (1.0 + a / self.burst) ** -self.exponent

    def survival(self, age):
        """1 - G(age): the share of a video's lifetime views still to come at this age (exact for old videos,
        where G itself is too close to 1 to subtract)."""
        a = np.maximum(np.asarray(age, dtype=np.float64), 0.0)
        return np.exp((1.0 - self.exponent) * np.log1p(a / self.burst))

    def age_at_survival(self, rest):
        """The age at which this share of the lifetime views is still to come (the inverse of survival)."""
        return self.burst * np.expm1(np.log(np.asarray(rest, dtype=np.float64)) / (1.0 - self.exponent))

    def cdf(self, age):
        """G(age): the share of a video's lifetime views it has had by this age."""
        return 1.0 - self.survival(age)

    @property
    def mean(self) -> float:
        """Mean age of a view (infinite for beta <= 2)."""
        return self.burst / (self.exponent - 2.0) if self.exponent > 2 else float("inf")

    def __repr__(self) -> str:
        return f"PowerLawAging(burst={self.burst:g}, exponent={self.exponent:g})"


class ExponentialAging:
    """g(x) = exp(-x / tau) / tau: memoryless decay with mean age tau."""

    def __init__(self, burst: float):
        if not burst > 0:
            raise ValueError(f"burst: must be positive, got {burst!r}")
        self.burst = float(burst)

    def density(self, age):
        return np.exp(-np.asarray(age, dtype=np.float64) / self.burst) / self.burst

    def survival(self, age):
        return np.exp(-np.maximum(np.asarray(age, dtype=np.float64), 0.0) / self.burst)

    def age_at_survival(self, rest):
        return -self.burst * np.log(np.asarray(rest, dtype=np.float64))

    def cdf(self, age):
        return 1.0 - self.survival(age)

    @property
    def mean(self) -> float:
        return self.burst

    def __repr__(self) -> str:
        return f"ExponentialAging(burst={self.burst:g})"


def aging_curve(cfg) -> PowerLawAging | ExponentialAging:
    """The curve of a ``workload.aging`` section (its preset already applied by the schema)."""
    if cfg.curve == "exponential":
        return ExponentialAging(cfg.burst)
    return PowerLawAging(cfg.burst, cfg.exponent)
