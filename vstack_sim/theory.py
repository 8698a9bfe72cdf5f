"""Closed forms the simulator is checked against.

* The birth-death Markov chain of one stripe with parallel repair: n slots,
  up to f failed slots tolerated, each live slot failing at rate lambda and
  each failed slot repaired at rate mu (state i -> i+1 at (n-i)lambda,
  i -> i-1 at i mu; absorbed at f+1 failures = data loss). The exact mean
  and second moment of the time to data loss come from a linear solve
  (Xorbas, PVLDB 2013, §4 gives the same chain).
* The M/D/1 queue's mean sojourn time (Pollaczek-Khinchine).
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
