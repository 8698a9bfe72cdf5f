"""Analytic durability of one stripe: the exact birth-death chain and the Backblaze calculator's model.

* **The birth-death chain.** A stripe of n slots tolerates f failed slots. Each live
  slot fails at rate lambda; in state i (i failed) a failure moves it to i + 1 at
  rate (n - i) lambda, and a repair moves it to i - 1 at rate i mu (``parallel``:
  every failed slot rebuilds at once, the simulator's rule with
  ``repair.time_model: exponential`` and no stream cap) or mu (``serial``: one
  rebuild at a time). State f + 1 is data loss, absorbing. The exact mean and
  second moment of the time to loss come from a linear solve (Xorbas, PVLDB
  2013, §4 gives the same chain); the probability of loss within a mission time
  T is the entry [exp(Q T)] from "all up" to "lost" (``scipy.linalg.expm``),
  which is not T / MTTDL: the chain first has to leave "all up".
* **The Backblaze model** (the ``Backblaze/erasure-coding-durability``
  calculator's ``durability.py``): a shard fails within a rebuild window of d
  days with p = 1 - exp(-AFR d / 365); a stripe of k + m shards is lost in a
  window when more than m fail (binomial in p); a year is 365 / d independent
  windows, so the annual loss is 1 - (1 - P_window)^(365 / d), with a
  fractional exponent. The naive AFR d / 365 for p is what this replaces.
* **Nines and clusters.** nines = -log10(P); N stripes that fail independently
  lose data with 1 - (1 - P)^N (computed with log1p and expm1, so P = 1e-15
  is not rounded away).

:func:`stripe_mttdl`, :func:`slot_hazard` and :func:`analytic_for_config` read a
scenario's ``Config`` (duck-typed: this layer does not import the scenario).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, special

REPAIRS = ("parallel", "serial")
"""How many failed slots rebuild at once: all of them (rate i mu in state i), or one (rate mu)."""

DAYS_PER_YEAR = 365.0
"""The calculator's year, which is also the package's (``1y`` in scenario files is 365 days)."""

_DAY_S = 86400.0


# -- the birth-death chain ----------------------------------------------------


def _check_chain(n: int, tolerated: int, lam: float, mu: float, repair: str) -> None:
    if n < 1 or not 0 <= tolerated < n:
        raise ValueError(f"tolerated: must be in [0, n), got n={n}, tolerated={tolerated}")
    if not lam > 0 or not math.isfinite(lam):
        raise ValueError(f"lam: must be a finite rate > 0, got {lam}")
    if not mu >= 0 or not math.isfinite(mu):
        raise ValueError(f"mu: must be a finite rate >= 0, got {mu}")
    if repair not in REPAIRS:
        raise ValueError(f"repair: must be one of {REPAIRS}, got {repair!r}")


def _rates(n: int, tolerated: int, lam: float, mu: float, repair: str) -> tuple[np.ndarray, np.ndarray]:
    """Failure and repair rates out of each transient state 0..tolerated."""
    _check_chain(n, tolerated, lam, mu, repair)
    i = np.arange(tolerated + 1)
    up = (n - i) * lam
    down = i * mu if repair == "parallel" else np.where(i > 0, mu, 0.0)
    return up.astype(np.float64), down.astype(np.float64)


def _jump_chain(n: int, tolerated: int, lam: float, mu: float, repair: str):
    """I - P of the embedded jump chain over the transient states, and the total rate out of each."""
    up, down = _rates(n, tolerated, lam, mu, repair)
    size = tolerated + 1
    q = up + down
    a = np.eye(size)
    for i in range(size):
        if i + 1 < size:
            a[i, i + 1] = -up[i] / q[i]
        if i > 0:
            a[i, i - 1] = -down[i] / q[i]
    return a, q


def generator(n: int, tolerated: int, lam: float, mu: float, repair: str = "parallel") -> np.ndarray:
    """The chain's generator Q over states 0..tolerated + 1, the last one "lost" (absorbing)."""
    up, down = _rates(n, tolerated, lam, mu, repair)
    size = tolerated + 2
    q = np.zeros((size, size))
    for i in range(tolerated + 1):
        q[i, i + 1] = up[i]
        if i > 0:
            q[i, i - 1] = down[i]
        q[i, i] = -(up[i] + down[i])
    return q


def mttdl(n: int, tolerated: int, lam: float, mu: float, repair: str = "parallel") -> float:
    """Exact mean time to data loss from the all-healthy state (in the unit of 1 / lam)."""
    a, q = _jump_chain(n, tolerated, lam, mu, repair)
    t = np.linalg.solve(a, 1.0 / q)
    return float(t[0])


def ttdl_std(n: int, tolerated: int, lam: float, mu: float, repair: str = "parallel") -> float:
    """Exact standard deviation of the time to data loss (from the chain's second moment)."""
    a, q = _jump_chain(n, tolerated, lam, mu, repair)
    t = np.linalg.solve(a, 1.0 / q)
    m2 = np.linalg.solve(a, 2.0 * t / q)
    return float(np.sqrt(m2[0] - t[0] ** 2))


def loss_probability(n: int, tolerated: int, lam: float, mu: float, mission: float,
                     repair: str = "parallel") -> float:
    """P(data lost within ``mission``) from all up: [exp(Q mission)] from state 0 to "lost".

    The entry is read directly, not as 1 minus the survivors, so 1e-15 keeps its digits.
    """
    if not mission >= 0 or not math.isfinite(mission):
        raise ValueError(f"mission: must be a finite time >= 0, got {mission}")
    q = generator(n, tolerated, lam, mu, repair)
    return float(min(1.0, max(0.0, linalg.expm(q * mission)[0, -1])))


# -- the Backblaze calculator -------------------------------------------------


def _check_code(data_shards: int, parity_shards: int) -> None:
    if data_shards < 1:
        raise ValueError(f"data_shards: must be >= 1, got {data_shards}")
    if parity_shards < 0:
        raise ValueError(f"parity_shards: must be >= 0, got {parity_shards}")


def shard_failure_probability(afr: float, window_days: float) -> float:
    """P(one shard fails within a window of ``window_days``) = 1 - exp(-AFR d / 365)."""
    if not afr > 0 or not math.isfinite(afr):
        raise ValueError(f"afr: must be a finite rate > 0 (failures per drive-year), got {afr}")
    if not window_days > 0 or not math.isfinite(window_days):
        raise ValueError(f"window_days: must be a finite number of days > 0, got {window_days}")
    return -math.expm1(-afr * window_days / DAYS_PER_YEAR)


def window_loss_probability(data_shards: int, parity_shards: int, afr: float, window_days: float,
                            at_least: int | None = None) -> float:
    """P(at least ``at_least`` of the k + m shards fail in one window); default m + 1: the stripe is lost.

    The calculator prints this for every ``at_least`` (its "cumulative" column, the rows of its table).
    """
    _check_code(data_shards, parity_shards)
    n = data_shards + parity_shards
    at_least = parity_shards + 1 if at_least is None else at_least
    if not 0 <= at_least <= n:
        raise ValueError(f"at_least: must be in [0, {n}], got {at_least}")
    if at_least == 0:
        return 1.0
    # bdtrc(j, n, p) = P(more than j of n): the upper tail straight from the incomplete beta, no 1 - cdf
    return float(special.bdtrc(at_least - 1, n, shard_failure_probability(afr, window_days)))


def annual_loss_probability(data_shards: int, parity_shards: int, afr: float, window_days: float,
                            at_least: int | None = None) -> float:
    """The calculator's annual loss: 1 - (1 - P_window)^(365 / d), a fractional exponent for any d."""
    p = window_loss_probability(data_shards, parity_shards, afr, window_days, at_least)
    return repeated_probability(p, DAYS_PER_YEAR / window_days)


# -- nines and clusters -------------------------------------------------------


def repeated_probability(p: float, times: float) -> float:
    """P(at least once in ``times`` independent tries of probability ``p``) = 1 - (1 - p)^times."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p: must be a probability in [0, 1], got {p}")
    if not times >= 0 or not math.isfinite(times):
        raise ValueError(f"times: must be a finite number >= 0, got {times}")
    if p == 1.0:
        return 1.0 if times > 0 else 0.0
    return -math.expm1(times * math.log1p(-p))


def cluster_loss_probability(p: float, stripes: int) -> float:
    """P(any of ``stripes`` stripes is lost) when each is lost with ``p``, independently of the others.

    Independence is the assumption: stripes that share nodes fail together, so a real cluster's
    figure lies between ``p`` (every stripe on the same nodes) and this one.
    """
    if stripes < 1:
        raise ValueError(f"stripes: must be >= 1, got {stripes}")
    return repeated_probability(p, stripes)


def nines(p: float) -> float:
    """-log10(p): 1e-7 is 7 nines of durability (inf for p = 0)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p: must be a probability in [0, 1], got {p}")
    return math.inf if p == 0.0 else 0.0 - math.log10(p)   # 0.0 - : p = 1 gives 0, not -0


def finite_nines(p: float) -> float | None:
    """:func:`nines`, or None when ``p`` underflows to 0: JSON (summary.json, ``--json``) has no infinity."""
    x = nines(p)
    return None if math.isinf(x) else x


def annual_chunk_loss(expected_losses: float, chunk_seconds: float) -> float:
    """P(a given chunk is lost within a year) at a measured loss rate: ``expected_losses`` over ``chunk_seconds``
    stored, a constant rate r per chunk-second, so 1 - exp(-r x 365 d). This is the durability a store states
    (S3's "eleven nines" is this probability's nines); :func:`nines` of it is the summary's ``durability.nines``."""
    if not expected_losses >= 0 or not math.isfinite(expected_losses):
        raise ValueError(f"expected_losses: must be a finite number >= 0, got {expected_losses}")
    if not chunk_seconds > 0 or not math.isfinite(chunk_seconds):
        raise ValueError(f"chunk_seconds: must be a finite number > 0, got {chunk_seconds}")
    return -math.expm1(-expected_losses / chunk_seconds * DAYS_PER_YEAR * _DAY_S)


# -- a scenario's figures -----------------------------------------------------


def stripe_code(config) -> tuple[int, int] | None:
    """(n, tolerated) of a scenario whose chunks are all stored one way (``replication`` or
    ``erasure_coding``), else None."""
    red = config.redundancy
    if red.policy == "replication":
        return red.replication_factor, red.replication_factor - 1
    if red.policy == "erasure_coding":
        return red.data_shards + red.parity_shards, red.parity_shards
    return None


def stripe_mttdl(config) -> float | None:
    """The exact chain's MTTDL for a scenario that is that chain, else None.

    The chain holds for one chunk stored in one fixed mode, exponential permanent node failures and
    nothing else failing, detection and replacement at once, and exponential repairs that never wait
    for a stream (``repair.streams_per_node`` 0, no bandwidth cap), on a cluster with a spare node.
    """
    code = stripe_code(config)
    if code is None:
        return None
    n, tolerated = code
    cat, red, f, rep, cl = config.catalog, config.redundancy, config.failures, config.repair, config.cluster
    chain = (cat.videos == 1 and cat.chunks_per_video == 1 and cat.chunk_count_distribution == "fixed"
             and not red.overrides and f.node_mttf > 0 and f.ttf_distribution == "exponential"
             and f.permanent_fraction == 1.0 and f.detection_timeout == 0 and f.replacement_delay == 0
             and f.rack_mttf == 0 and not f.scheduled and rep.time_model == "exponential"
             and rep.streams_per_node == 0 and rep.bandwidth == 0 and cl.nodes > n and tolerated < n)
    if not chain:
        return None
    return mttdl(n, tolerated, 1.0 / f.node_mttf, 1.0 / rep.mttr)


def slot_hazard_parts(failures) -> dict[str, float]:
    """The rates (per second) at which one slot's data is destroyed, by cause, for a ``failures`` section:
    ``node_permanent`` (``permanent_fraction / node_mttf``), ``disk`` (``1 / disk_mttf``) and ``rack_permanent``
    (``1 / rack_mttf`` when rack outages destroy data). A Weibull lifetime counts by its mean rate; scheduled
    failures and traces are not random and are left out. The one rule for a slot's hazard: the exposure
    estimator (:mod:`vstack_sim.model.exposure`) and the analytic figures both read it."""
    fl = failures
    return {"node_permanent": fl.permanent_fraction / fl.node_mttf if fl.node_mttf > 0 else 0.0,
            "disk": 1.0 / fl.disk_mttf if fl.disk_mttf > 0 else 0.0,
            "rack_permanent": 1.0 / fl.rack_mttf if fl.rack_mttf > 0 and fl.rack_permanent else 0.0}


def slot_hazard(config) -> float:
    """Rate (per second) at which one slot's data is destroyed, every cause of :func:`slot_hazard_parts`
    together."""
    parts = slot_hazard_parts(config.failures)
    return parts["node_permanent"] + parts["disk"] + parts["rack_permanent"]


def analytic_for_config(config, mttr: float | None = None, repair: str = "parallel") -> dict | None:
    """The analytic durability of a scenario's codes, to show beside the simulated figures.

    Every slot loses its data at :func:`slot_hazard`'s rate lambda and is rebuilt in ``mttr`` seconds:
    by default the detection timeout plus ``repair.mttr`` when ``repair.time_model`` is ``exponential``;
    with I/O-timed repair pass it (e.g. the run's measured mean recovery time, the summary's
    ``recovery.time_s.mean``), or the figures are None. Slots fail independently and exponentially.

    Returns None when no random failure destroys data (lambda = 0); otherwise a dict::

        {"slot_hazard_per_s": lambda, "slot_mttf_s": 1 / lambda, "mttr_s": float | None,
         "mission_s": run.duration, "repair": "parallel" | "serial", "assumptions": str,
         "modes": {mode: {"n": slots, "tolerated": f, "data_shards": k, "parity_shards": m,
                          "mttdl_s": chain MTTDL, "mission_loss": P(loss within run.duration),
                          "mission_nines": -log10 of it (None if it underflows to 0),
                          "backblaze_annual_loss": the calculator's annual loss with AFR = 365 d x lambda
                                                   and a rebuild window of mttr,
                          "backblaze_nines": -log10 of it (None likewise)}}}

    ``modes`` holds ``replication`` (k = 1, m = r - 1) and ``erasure_coding`` (RS(k, m)) for the modes
    the scenario's policy or overrides can assign; every figure is for one chunk (one stripe).
    """
    lam = slot_hazard(config)
    if lam <= 0:
        return None
    if mttr is None and config.repair.time_model == "exponential":
        mttr = config.failures.detection_timeout + config.repair.mttr
    if mttr is not None and not (mttr > 0 and math.isfinite(mttr)):
        raise ValueError(f"mttr: must be a finite time > 0 in seconds, got {mttr}")
    red, mission = config.redundancy, config.run.duration
    codes = {"replication": (1, red.replication_factor - 1),
             "erasure_coding": (red.data_shards, red.parity_shards)}
    modes = {}
    for mode in sorted(config.assignable_modes() & set(codes)):
        k, m = codes[mode]
        entry = {"n": k + m, "tolerated": m, "data_shards": k, "parity_shards": m, "mttdl_s": None,
                 "mission_loss": None, "mission_nines": None, "backblaze_annual_loss": None,
                 "backblaze_nines": None}
        if mttr is not None:
            mu = 1.0 / mttr
            entry["mttdl_s"] = mttdl(k + m, m, lam, mu, repair)
            entry["mission_loss"] = loss_probability(k + m, m, lam, mu, mission, repair)
            entry["mission_nines"] = finite_nines(entry["mission_loss"])
            annual = annual_loss_probability(k, m, lam * DAYS_PER_YEAR * _DAY_S, mttr / _DAY_S)
            entry["backblaze_annual_loss"], entry["backblaze_nines"] = annual, finite_nines(annual)
        modes[mode] = entry
    return {"slot_hazard_per_s": lam, "slot_mttf_s": 1.0 / lam, "mttr_s": mttr, "mission_s": mission,
            "repair": repair, "modes": modes,
            "assumptions": "slots fail independently and exponentially, at the rate of permanent node, disk and "
                           "permanent rack failures; each failed slot is rebuilt in mttr"}
