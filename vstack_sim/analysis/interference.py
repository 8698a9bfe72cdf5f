"""Repair interference on reads: read latency quantiles per time window, and a block bootstrap.

A rebuild competes with reads in the disk queues, so the read tail during a
rebuild is the figure that matters. Reads close in time share queue states, so they are not
independent draws. The interval for the ratio of two periods' p99 therefore
comes from a **block bootstrap**: the blocks are the time windows (1 minute by
default). Each replicate resamples each period's windows with replacement,
pools their reads, and takes the ratio of the two pooled quantiles.

Quantiles are "inverted CDF" quantiles: the smallest value with cumulative
weight of at least q of the total. A replicate is then a weighted quantile
over the values sorted once, so 2,000 replicates of a few hundred thousand
reads take well under a second.

These functions take any reads table with ``time_s`` and ``latency_ms``
(``Result.reads`` or a results folder's ``reads.csv``; failed reads, with NaN
latency, are left out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _reads(reads: pd.DataFrame, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    t = reads["time_s"].to_numpy(dtype=np.float64)
    lat = reads["latency_ms"].to_numpy(dtype=np.float64)
    keep = (t >= start) & (t < end) & np.isfinite(lat)
    return t[keep], lat[keep]


def _weighted_quantile(sorted_values: np.ndarray, weights: np.ndarray, q: float) -> float:
    cum = np.cumsum(weights)
    return float(sorted_values[np.searchsorted(cum, q * cum[-1])])


def windowed_quantile(reads: pd.DataFrame, window: float = 60.0, q: float = 0.99) -> pd.DataFrame:
    """One row per window with reads: ``time_s`` (window start), ``count`` and ``latency_ms`` (the q quantile)."""
    if window <= 0:
        raise ValueError(f"window: must be > 0, got {window}")
    if not 0 < q < 1:
        raise ValueError(f"q: must be in (0, 1), got {q}")
    t, lat = _reads(reads, -np.inf, np.inf)
    w = np.floor(t / window).astype(np.int64)
    order = np.lexsort((lat, w))                 # by window, then by latency
    w, lat = w[order], lat[order]
    ids, first, counts = np.unique(w, return_index=True, return_counts=True)
    # Inverted-CDF quantile within each window: the value at rank ceil(q x n) - 1.
    rank = np.maximum(np.ceil(q * counts).astype(np.int64) - 1, 0)
    return pd.DataFrame({"time_s": ids * window, "count": counts, "latency_ms": lat[first + rank]})


class _Period:
    """A period's reads sorted once, with the window each belongs to."""

    def __init__(self, reads: pd.DataFrame, start: float, end: float, window: float, name: str):
        if not end > start:
            raise ValueError(f"{name}: the period must end after it starts, got ({start}, {end})")
        t, lat = _reads(reads, start, end)
        if len(t) == 0:
            raise ValueError(f"{name}: no reads between {start} s and {end} s")
        block = np.floor((t - start) / window).astype(np.int64)
        order = np.argsort(lat, kind="stable")
        self.values = lat[order]
        ids, self.block = np.unique(block[order], return_inverse=True)
        self.n_blocks = len(ids)
        self.n_reads = len(t)

    def quantile(self, q: float, multiplicity: np.ndarray | None = None) -> float:
        weights = np.ones(len(self.values)) if multiplicity is None else multiplicity[self.block]
        return _weighted_quantile(self.values, weights, q)


def p99_ratio(reads: pd.DataFrame, before: tuple[float, float], during: tuple[float, float],
              window: float = 60.0, q: float = 0.99, n_boot: int = 2000, level: float = 0.95,
              seed: int = 0) -> dict:
    """The ratio of the q quantile of read latency ``during`` over ``before``, with a block-bootstrap interval.

    ``before`` and ``during`` are (start, end) in seconds. Each period is cut into windows of ``window``
    seconds, the bootstrap blocks. Returns ``ratio``, ``low`` and ``high`` (the ``level`` percentile
    interval over ``n_boot`` replicates), both periods' quantiles, and their read and window counts.
    """
    if window <= 0:
        raise ValueError(f"window: must be > 0, got {window}")
    if n_boot < 100:
        raise ValueError(f"n_boot: must be >= 100, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level}")
    a = _Period(reads, before[0], before[1], window, "before")
    b = _Period(reads, during[0], during[1], window, "during")
    if min(a.n_blocks, b.n_blocks) < 2:
        raise ValueError(f"window: each period needs at least 2 windows of {window} s with reads")
    rng = np.random.default_rng(seed)
    ratios = np.empty(n_boot)
    for i in range(n_boot):
        ma = rng.multinomial(a.n_blocks, np.full(a.n_blocks, 1.0 / a.n_blocks)).astype(np.float64)
        mb = rng.multinomial(b.n_blocks, np.full(b.n_blocks, 1.0 / b.n_blocks)).astype(np.float64)
        ratios[i] = b.quantile(q, mb) / a.quantile(q, ma)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    qa, qb = a.quantile(q), b.quantile(q)
    return {"ratio": qb / qa, "low": float(lo), "high": float(hi), "level": level, "q": q,
            "before_ms": qa, "during_ms": qb, "before_reads": a.n_reads, "during_reads": b.n_reads,
            "before_windows": a.n_blocks, "during_windows": b.n_blocks, "window_s": window, "n_boot": n_boot}


def quantile_difference(reads: pd.DataFrame, kind_a: str, kind_b: str, q: float, window: float = 60.0,
                        n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict | None:
    """The q quantile of ``kind_b`` reads' latency minus that of ``kind_a``'s, with a block-bootstrap interval.

    Both kinds share the time windows (the blocks): each replicate draws one multiplicity per window and
    applies it to the reads of both kinds in it, so reads that met the same queues stay paired. Returns
    ``diff``, ``low``, ``high`` (ms) and each kind's quantile and read count, or None when either kind has
    no reads in ``reads`` (which may be the run's sampled reads table).
    """
    if not 0 < q < 1:
        raise ValueError(f"q: must be in (0, 1), got {q}")
    t, lat = _reads(reads, -np.inf, np.inf)
    kinds = reads["kind"].to_numpy()[np.isfinite(reads["latency_ms"].to_numpy(dtype=np.float64))]
    block_ids, block = np.unique(np.floor(t / window).astype(np.int64), return_inverse=True)
    parts = []
    for kind in (kind_a, kind_b):
        pick = kinds == kind
        if not pick.any():
            return None
        order = np.argsort(lat[pick], kind="stable")
        parts.append((lat[pick][order], block[pick][order]))
    n_blocks = len(block_ids)

    def quantiles(multiplicity):
        return [_weighted_quantile(v, np.ones(len(v)) if multiplicity is None else multiplicity[b], q)
                for v, b in parts]

    qa, qb = quantiles(None)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        m = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks)).astype(np.float64)
        if all(m[b].sum() > 0 for _, b in parts):    # a replicate must hold reads of both kinds
            a, b = quantiles(m)
            diffs.append(b - a)
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2]) if diffs else (np.nan, np.nan)
    return {"diff": qb - qa, "low": float(lo), "high": float(hi), "level": level, "q": q,
            "a_ms": qa, "b_ms": qb, "a_reads": len(parts[0][0]), "b_reads": len(parts[1][0])}
