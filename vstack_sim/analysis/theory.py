"""Closed forms the simulator is checked against.

* The birth-death Markov chain of one stripe with parallel repair: n slots,
  up to f failed slots tolerated, each live slot failing at rate lambda and
  each failed slot repaired at rate mu (state i -> i+1 at (n-i)lambda,
  i -> i-1 at i mu; absorbed at f+1 failures = data loss). The exact mean
  and second moment of the time to data loss come from a linear solve
  (Xorbas, PVLDB 2013, §4 gives the same chain).
* The M/D/1 queue's mean sojourn time (Pollaczek-Khinchine).
* The M/G/1 queue's mean sojourn time from the service time's first two
  moments (Pollaczek-Khinchine): E[S] + lambda E[S^2] / (2 (1 - rho)).
* The expected maximum of k independent non-negative service times,
  E[max] = integral of 1 - F(x)^k over x >= 0, by numerical integration
  (Simpson's rule on a fine grid).
"""

from __future__ import annotations

import numpy as np


def _chain(n: int, tolerated: int, lam: float, mu: float):
    if n < 1 or not 0 <= tolerated < n:
        raise ValueError(f"tolerated must be in [0, n), got n={n}, tolerated={tolerated}")
    if lam <= 0 or mu < 0:
        raise ValueError("lam must be > 0 and mu >= 0")
    size = tolerated + 1
    a = np.zeros((size, size))
    for i in range(size):
        up, down = (n - i) * lam, i * mu
        q = up + down
        a[i, i] = 1.0
        if i + 1 < size:
            a[i, i + 1] = -up / q
        if i > 0:
            a[i, i - 1] = -down / q
    q = np.array([(n - i) * lam + i * mu for i in range(size)])
    return a, q


def mttdl(n: int, tolerated: int, lam: float, mu: float) -> float:
    """Exact mean time to data loss from the all-healthy state."""
    a, q = _chain(n, tolerated, lam, mu)
    t = np.linalg.solve(a, 1.0 / q)
    return float(t[0])


def ttdl_std(n: int, tolerated: int, lam: float, mu: float) -> float:
    """Exact standard deviation of the time to data loss (from the chain's second moment)."""
    a, q = _chain(n, tolerated, lam, mu)
    t = np.linalg.solve(a, 1.0 / q)
    m2 = np.linalg.solve(a, 2.0 * t / q)
    return float(np.sqrt(m2[0] - t[0] ** 2))


def md1_mean_sojourn(arrival_rate: float, service_time: float) -> float:
    """Mean time in an M/D/1 system: 1/mu + rho / (2 mu (1 - rho)), with mu = 1/service_time."""
    rho = arrival_rate * service_time
    if not 0 <= rho < 1:
        raise ValueError(f"utilisation must be in [0, 1), got {rho}")
    mu = 1.0 / service_time
    return 1.0 / mu + rho / (2.0 * mu * (1.0 - rho))


def stripe_mttdl(config) -> float | None:
    """The exact chain's MTTDL for a scenario that is that chain, else None.

    The chain holds for one chunk stored in one fixed mode, exponential permanent node failures and
    nothing else failing, detection and replacement at once, and exponential repairs that never wait
    for a stream (``repair.streams_per_node`` 0, no bandwidth cap), on a cluster with a spare node.
    """
    cat, red, f, rep, cl = config.catalog, config.redundancy, config.failures, config.repair, config.cluster
    if red.policy == "replication":
        n, tolerated = red.replication_factor, red.replication_factor - 1
    elif red.policy == "erasure_coding":
        n, tolerated = red.data_shards + red.parity_shards, red.parity_shards
    else:
        return None
    chain = (cat.videos == 1 and cat.chunks_per_video == 1 and cat.chunk_count_distribution == "fixed"
             and not red.overrides and f.node_mttf > 0 and f.ttf_distribution == "exponential"
             and f.permanent_fraction == 1.0 and f.detection_timeout == 0 and f.replacement_delay == 0
             and f.rack_mttf == 0 and not f.scheduled and rep.time_model == "exponential"
             and rep.streams_per_node == 0 and rep.bandwidth == 0 and cl.nodes > n and tolerated < n)
    if not chain:
        return None
    return mttdl(n, tolerated, 1.0 / f.node_mttf, 1.0 / rep.mttr)


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
