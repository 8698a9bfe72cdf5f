"""The summary's analytic durability beside the simulated one, and durability in nines.

* ``durability.analytic`` (:func:`analytic_block`): the exact birth-death chain and the Backblaze model
  (:func:`~vstack_sim.analysis.durability.analytic_for_config`) at the run's parameters, for each code the
  scenario can assign, scaled to the run's stripes of that code (the time-weighted mean of the chunks stored in
  it, x ``chunk_weight``) under independence. The repair time (MTTR) is the scenario's
  (``failures.detection_timeout`` + ``repair.mttr``) when ``repair.time_model`` is ``exponential``, and the run's
  measured mean recovery time (``recovery.time_s.mean``: detection + repair of a whole failure) when repairs are
  I/O-timed; without a finished recovery an I/O-timed run has no MTTR and the chain's figures are null.
* ``durability.nines`` (:func:`nines_block`): -log10 P(a given chunk is lost within a year)
  (:func:`~vstack_sim.analysis.durability.annual_chunk_loss`), from the exposure estimate's expected losses over
  the chunk-seconds stored (with the nines of its 95 % interval's ends), and from the exact chain's annual loss
  per stripe, averaged over the stored chunks.

Floats are rounded to 6 significant figures, so the same config and seed give a byte-identical summary.
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.analysis.durability import (
    DAYS_PER_YEAR,
    analytic_for_config,
    annual_chunk_loss,
    finite_nines,
    loss_probability,
    repeated_probability,
)

MODES = (("replication", "replication_chunks"), ("erasure_coding", "erasure_coded_chunks"))
"""Each mode, with its chunk count's key in the storage blocks (``storage_initial``, the storage timeline)."""
YEAR_S = DAYS_PER_YEAR * 86400.0


def _g(x):
    """6 significant figures; None, inf and nan as None (JSON has neither)."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.6g}")


def stored_chunks(tl, end: float) -> dict[str, float]:
    """Chunks stored in each mode over the run, time-weighted (a storage timeline's rows, held to ``end``)."""
    times = tl["time_s"].to_numpy(dtype=np.float64)
    spans = np.diff(np.append(times, end))
    total = spans.sum()
    out = {}
    for mode, key in MODES:
        values = tl[key].to_numpy(dtype=np.float64)
        out[mode] = float((values * spans).sum() / total) if total > 0 else float(values[-1])
    return out


def repair_time(config, recovery_mean_s: float | None) -> tuple[float | None, str]:
    """The MTTR the chain uses (None: the scenario's, which ``analytic_for_config`` reads) and where it came from."""
    if config.repair.time_model == "exponential":
        return None, "failures.detection_timeout + repair.mttr"
    if recovery_mean_s:
        return recovery_mean_s, "recovery.time_s.mean (measured: detection + repair of a failure)"
    return None, "none: repairs are I/O-timed and no recovery finished in the run"


def analytic_block(config, recovery_mean_s: float | None, stripes: dict[str, float]) -> dict | None:
    """The summary's ``durability.analytic`` (docs/results.md), or None when no random failure destroys data.

    ``stripes``: chunks stored per mode (real chunks). Per mode: the chain's MTTDL, P(loss within
    ``run.duration``) and its nines per stripe, the expected chunks lost over the run (stripes x P) and P(any of the
    stripes lost) with its nines under independence, the chain's annual loss per stripe, and the Backblaze
    calculator's annual loss with a rebuild window of the MTTR.
    """
    mttr, source = repair_time(config, recovery_mean_s)
    base = analytic_for_config(config, mttr=mttr)   # I/O-timed without a measured MTTR: the codes, no figures
    if base is None:
        return None
    lam, mttr = base["slot_hazard_per_s"], base["mttr_s"]
    modes, expected = {}, 0.0
    for mode, e in base["modes"].items():
        n = stripes.get(mode, 0.0)
        entry = {"n": e["n"], "tolerated": e["tolerated"], "stripes": _g(n), "mttdl_s": _g(e["mttdl_s"]),
                 "mission_loss": _g(e["mission_loss"]), "mission_nines": _g(e["mission_nines"]),
                 "expected_chunks_lost": None, "any_loss": None, "any_loss_nines": None,
                 "annual_loss": None, "annual_nines": None,
                 "backblaze_annual_loss": _g(e["backblaze_annual_loss"]),
                 "backblaze_nines": _g(e["backblaze_nines"])}
        if e["mission_loss"] is not None:
            p = e["mission_loss"]
            annual = loss_probability(e["n"], e["tolerated"], lam, 1.0 / mttr, YEAR_S, base["repair"])
            anyloss = repeated_probability(p, n) if n > 0 else 0.0
            entry.update(expected_chunks_lost=_g(n * p), any_loss=_g(anyloss), any_loss_nines=_g(finite_nines(anyloss)),
                         annual_loss=_g(annual), annual_nines=_g(finite_nines(annual)))
            expected += n * p
        modes[mode] = entry
    if any(m["mission_loss"] is None for m in modes.values()):
        expected = None
    return {"slot_hazard_per_s": _g(lam), "mttr_s": _g(mttr), "mttr_source": source,
            "mission_s": _g(base["mission_s"]), "repair": base["repair"],
            "expected_chunks_lost": _g(expected), "modes": modes, "assumptions": base["assumptions"]}


def nines_block(exposure: dict, analytic: dict | None, stripes: dict[str, float], seconds: float) -> dict:
    """The summary's ``durability.nines``: -log10 P(a given chunk is lost within a year), from the exposure
    estimate (``exposure``: the ``durability.exposure`` block) and from the exact chain (``analytic``)."""
    chunk_seconds = sum(stripes.values()) * seconds
    out = {"stored_chunk_seconds": _g(chunk_seconds), "exposure": None, "exposure_95": None, "analytic": None}
    if chunk_seconds <= 0:
        return out
    expected = exposure["expected_chunks_lost"]
    out["exposure"] = _g(finite_nines(annual_chunk_loss(expected, chunk_seconds)))
    interval = exposure.get("expected_chunks_lost_95")
    if interval:     # fewer losses, more nines: the estimate's upper end gives the lower end in nines
        lo, hi = (finite_nines(annual_chunk_loss(x, chunk_seconds)) for x in (interval[1], interval[0]))
        out["exposure_95"] = [_g(lo), _g(hi)]
    if analytic is not None:
        per_mode = [(stripes.get(mode, 0.0), m["annual_loss"]) for mode, m in analytic["modes"].items()]
        if all(p is not None for _, p in per_mode) and sum(n for n, _ in per_mode) > 0:
            p = sum(n * p for n, p in per_mode) / sum(n for n, _ in per_mode)
            out["analytic"] = _g(finite_nines(p))
    return out
