"""Closed forms the simulator is checked against.

* The birth-death Markov chain of one stripe (its exact MTTDL, the standard
  deviation of the time to loss, and :func:`stripe_mttdl` for a scenario that
  is that chain) lives in :mod:`vstack_sim.analysis.durability`, with serial
  repair, the loss probability within a mission time and the Backblaze
  model; it is re-exported here for the theory checks that import it from
  this module.
* The M/D/1 queue's mean sojourn time (Pollaczek-Khinchine).
* The M/G/1 queue's mean sojourn time from the service time's first two
  moments (Pollaczek-Khinchine): E[S] + lambda E[S^2] / (2 (1 - rho)).
* The expected maximum of k independent non-negative service times,
  E[max] = integral of 1 - F(x)^k over x >= 0, by numerical integration
  (Simpson's rule on a fine grid).
"""

from __future__ import annotations

import numpy as np

from vstack_sim.analysis.durability import mttdl, stripe_mttdl, ttdl_std

__all__ = ["mttdl", "ttdl_std", "stripe_mttdl", "md1_mean_sojourn", "mg1_mean_sojourn", "expected_max",
           "che_lru_hit_probabilities", "che_lru_hit_ratio"]


def md1_mean_sojourn(arrival_rate: float, service_time: float) -> float:
    """Mean time in an M/D/1 system: 1/mu + rho / (2 mu (1 - rho)), with mu = 1/service_time."""
    rho = arrival_rate * service_time
    if not 0 <= rho < 1:
        raise ValueError(f"utilisation must be in [0, 1), got {rho}")
    mu = 1.0 / service_time
    return 1.0 / mu + rho / (2.0 * mu * (1.0 - rho))


def mg1_mean_sojourn(arrival_rate: float, mean_service: float, second_moment: float) -> float:
    """Mean time in an M/G/1 system: E[S] + lambda E[S^2] / (2 (1 - rho)), rho = lambda E[S]."""
    rho = arrival_rate * mean_service
    if not 0 <= rho < 1:
        raise ValueError(f"utilisation must be in [0, 1), got {rho}")
    if second_moment < mean_service ** 2:
        raise ValueError("second_moment: must be >= mean_service ** 2")
    return mean_service + arrival_rate * second_moment / (2.0 * (1.0 - rho))


def expected_max(cdf, k: int, upper: float, points: int = 20_001) -> float:
    """E[max of k iid non-negative variables with CDF ``cdf``] = integral_0^upper 1 - F(x)^k dx.

    ``upper`` must lie beyond (almost) all the mass; Simpson's rule on ``points`` (odd) points.
    """
    if k < 1:
        raise ValueError(f"k: must be >= 1, got {k}")
    if points < 3 or points % 2 == 0:
        raise ValueError(f"points: must be odd and >= 3, got {points}")
    x = np.linspace(0.0, upper, points)
    f = 1.0 - np.asarray(cdf(x), dtype=np.float64) ** k
    h = upper / (points - 1)
    return float(h / 3.0 * (f[0] + f[-1] + 4.0 * f[1:-1:2].sum() + 2.0 * f[2:-1:2].sum()))


def che_lru_hit_probabilities(popularity, cache_items: float) -> np.ndarray:
    """Each item's probability of being in an LRU cache when requested, by Che's approximation (Che, Tung and
    Wang, "Hierarchical Web caching systems: modeling, design and experimental results", IEEE JSAC 20(7), 2002).

    Items of equal size are requested independently with probabilities ``popularity`` (normalised here);
    the cache holds ``cache_items`` of them. The characteristic time T solves
    sum_i (1 - exp(-p_i T)) = C, and item i is a hit with probability 1 - exp(-p_i T).
    """
    p = np.asarray(popularity, dtype=np.float64)
    p = p / p.sum()
    if cache_items <= 0:
        return np.zeros_like(p)
    if cache_items >= len(p):
        return np.ones_like(p)

    def filled(t: float) -> float:
        return float(np.sum(-np.expm1(-p * t)))

    lo, hi = 0.0, 1.0
    while filled(hi) < cache_items:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if filled(mid) < cache_items else (lo, mid)
    return -np.expm1(-p * (0.5 * (lo + hi)))


def che_lru_hit_ratio(popularity, cache_items: float) -> float:
    """LRU hit ratio under the independent reference model, by Che's approximation: sum_i p_i (1 - exp(-p_i T))
    (:func:`che_lru_hit_probabilities`)."""
    p = np.asarray(popularity, dtype=np.float64)
    return float(np.sum(p / p.sum() * che_lru_hit_probabilities(p, cache_items)))
