"""Durability nines over many runs: the nines term of the constrained answer (issue 25, section 3).

A run's ``durability.nines.exposure`` is -log10 P(a given chunk is lost within a year) at the loss rate its
exposure estimate implies (:func:`~vstack_sim.analysis.durability.annual_chunk_loss`: expected chunks lost over
the chunk-seconds stored). Over a point's or a group's runs the estimate is pooled, not averaged in nines: the
runs' expected losses are summed over their summed chunk-seconds, and the variance of the sum is the sum of each
run's (from its ``expected_chunks_lost_95``, a normal interval over exposure episodes). The interval's ends map to
nines swapped (more losses, fewer nines); no expected loss at the lower end gives infinitely many nines at the top.
Without any exposure in any run there is no estimate (n = 0), so a constraint on it is "not judged".

``durability.nines.analytic`` (the exact chain's nines at each run's parameters) takes the ordinary t interval.
"""

from __future__ import annotations

import json
import math

import numpy as np

from vstack_sim.analysis import stats
from vstack_sim.analysis.durability import annual_chunk_loss, nines

EXPOSURE_NINES = "durability.nines.exposure"
ANALYTIC_NINES = "durability.nines.analytic"
EXPECTED = "durability.exposure.expected_chunks_lost"
EXPECTED_95 = "durability.exposure.expected_chunks_lost_95"
CHUNK_SECONDS = "durability.nines.stored_chunk_seconds"
Z95 = 1.959964
"""The quantile the summary's 95 % exposure intervals were built with."""


def _half_width(text, expected: float) -> float:
    """The upper half-width of a run's 95 % interval of expected losses (JSON text of [lo, hi], or missing)."""
    if not isinstance(text, str):
        return 0.0
    pair = json.loads(text)
    return max(0.0, float(pair[1]) - expected) if pair else 0.0


def exposure_nines_interval(rows, level: float = 0.95) -> stats.Interval:
    """The pooled nines of some runs (a frame of flattened summaries), with the interval at ``level``."""
    nan = stats.Interval(math.nan, math.nan, math.nan, 0, "exposure", level)
    if EXPECTED not in rows or CHUNK_SECONDS not in rows:
        return nan
    done = rows[rows[EXPECTED].notna() & rows[CHUNK_SECONDS].notna()]
    expected = done[EXPECTED].to_numpy(dtype=np.float64)
    seconds = float(done[CHUNK_SECONDS].to_numpy(dtype=np.float64).sum())
    total = float(expected.sum())
    if not (total > 0 and seconds > 0):
        return nan
    texts = done[EXPECTED_95] if EXPECTED_95 in done else [None] * len(done)
    sd = [_half_width(t, e) / Z95 for t, e in zip(texts, expected, strict=True)]
    half = stats.normal_quantile(0.5 + level / 2) * math.sqrt(sum(s * s for s in sd))
    at = lambda e: nines(annual_chunk_loss(e, seconds))  # noqa: E731
    return stats.Interval(at(total), at(total + half), at(max(0.0, total - half)), len(done), "exposure", level)
