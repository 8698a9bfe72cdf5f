"""Lifetime distributions of nodes and disks: exponential, or Weibull with the configured mean.

One object per component kind, built from the scenario (:meth:`Lifetime.node`, :meth:`Lifetime.disk`), and
used by the world's failure processes (:mod:`.failures`, :mod:`.disk_failures`) and by the one-stripe
durability model (:mod:`.stripe_durability`), so both draw from the same distribution with the same
parameters. The one-stripe model also needs the cumulative hazard H (the log of 1 / survival) and a
residual life drawn under a scaled hazard, for importance sampling by hazard scaling.

**Equilibrium age.** A node of a cluster in production has run for a while. Its residual life at an
equilibrium age follows the stationary excess distribution F_e(x) = (1/mu) int_0^x S(u) du (S the survival
function, mu the mean), which is also the distribution of its age. For Weibull(shape c, scale lam),
F_e(x) = P(1/c, (x/lam)^c), the regularised lower incomplete gamma function, so lam x G^(1/c) with
G ~ Gamma(1/c, 1) is an exact draw. Exponential lifetimes are memoryless: the residual life is the lifetime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def equilibrium_residual_weibull(rng: np.random.Generator, scale: float, shape: float, size=None):
    """A residual lifetime (or age) at equilibrium of Weibull(shape, scale): scale x G^(1/shape),
    G ~ Gamma(1/shape); a float when ``size`` is None, else an array."""
    draw = scale * rng.gamma(1.0 / shape, size=size) ** (1.0 / shape)
    return float(draw) if size is None else draw


@dataclass(frozen=True)
class Lifetime:
    """Time to failure with mean ``mean``: exponential, or Weibull of shape ``shape`` (None: exponential)."""

    mean: float
    shape: float | None = None

    @classmethod
    def node(cls, failures) -> "Lifetime":
        """A node's lifetime under the ``failures`` section of a scenario."""
        return cls(failures.node_mttf, failures.weibull_shape if failures.ttf_distribution == "weibull" else None)

    @classmethod
    def disk(cls, failures) -> "Lifetime":
        """A disk's lifetime under the ``failures`` section of a scenario."""
        weibull = failures.disk_ttf_distribution == "weibull"
        return cls(failures.disk_mttf, failures.disk_weibull_shape if weibull else None)

    @property
    def scale(self) -> float:
        """Weibull scale lam = mean / Gamma(1 + 1/shape) (the mean itself when exponential)."""
        return self.mean if self.shape is None else self.mean / math.gamma(1.0 + 1.0 / self.shape)

    def draw(self, rng: np.random.Generator, size=None):
        """A fresh lifetime (age 0); a float when ``size`` is None, else an array."""
        if self.shape is None:
            d = rng.exponential(self.mean, size=size)
        else:
            d = self.scale * rng.weibull(self.shape, size=size)
        return float(d) if size is None else d

    def first(self, rng: np.random.Generator, start_new: bool, size=None):
        """Time to the first failure: the residual life at an equilibrium age, or a fresh life when
        ``start_new`` (the same thing for exponential lifetimes)."""
        if self.shape is not None and not start_new:
            return equilibrium_residual_weibull(rng, self.scale, self.shape, size)
        return self.draw(rng, size)

    def age(self, rng: np.random.Generator, start_new: bool, size):
        """Ages of ``size`` components now: equilibrium ages (distributed as the residual life), or 0 when
        ``start_new`` or exponential (where age does not matter)."""
        if self.shape is None or start_new:
            return np.zeros(size)
        return equilibrium_residual_weibull(rng, self.scale, self.shape, size)

    def cumulative_hazard(self, age):
        """H(age) = -log S(age): (age / lam)^shape (age / mean when exponential)."""
        if self.shape is None:
            return np.asarray(age) / self.mean
        return (np.asarray(age) / self.scale) ** self.shape

    def age_at_hazard(self, hazard):
        """The inverse of :meth:`cumulative_hazard`: the age at which H reaches ``hazard``."""
        if self.shape is None:
            return np.asarray(hazard) * self.mean
        return self.scale * np.asarray(hazard) ** (1.0 / self.shape)
