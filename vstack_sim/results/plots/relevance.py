"""Which figures have something to show for a run: a figure with nothing to show is left out of the report,
with one line saying why, and three recoveries or fewer are a row of the key numbers, not a distribution."""

from __future__ import annotations

import numpy as np

from vstack_sim.results.plots.common import table

FEW_RECOVERIES = 3
"""Finished recoveries at or below which their times are listed, not drawn as a distribution."""


def finished_recoveries(run) -> np.ndarray:
    """Recovery times (s) of declared failures that finished before the end of the run."""
    failures = table(run, "failures")
    if failures.empty or "recovery_time_s" not in failures:
        return np.array([])
    done = failures[failures["declared"].astype(bool)]
    if "censored" in done:
        done = done[~done["censored"].astype(bool)]
    times = done["recovery_time_s"].to_numpy(dtype=float)
    return times[np.isfinite(times)]


def _reads(run) -> str | None:
    reads = table(run, "reads")
    return None if not reads.empty and reads["latency_ms"].notna().any() else "no chunk read succeeded"


def _recoveries(run) -> str | None:
    n = len(finished_recoveries(run))
    if n == 0:
        return "no declared failure finished its recovery"
    if n <= FEW_RECOVERIES:
        return f"only {n} finished {'recovery' if n == 1 else 'recoveries'}: the key numbers list each"
    return None


def _declared(run) -> str | None:
    failures = table(run, "failures")
    return None if not failures.empty and failures["declared"].astype(bool).any() else "no declared failures"


def _reduced(run) -> str | None:
    tl = table(run, "storage_timeline")
    column = "reduced_redundancy_chunks" if "reduced_redundancy_chunks" in tl else None
    if tl.empty or (column and not (tl[column] > 0).any()):
        return "no chunk was ever at reduced redundancy"
    return None


def _repairs(run) -> str | None:
    return None if not table(run, "repairs").empty else "no repairs"


def _node_events(run) -> str | None:
    return None if not table(run, "node_events").empty else "no node went down"


def _migrations(run) -> str | None:
    return None if not table(run, "migrations").empty else "no conversions between modes"


def _views(run) -> str | None:
    views = table(run, "views")
    return None if not views.empty and views["startup_latency_ms"].notna().any() else "no view started"


RULES = {
    "read_latency_cdf": _reads, "startup_latency": _views, "recovery_times": _recoveries,
    "recovery_split": _declared, "reduced_redundancy": _reduced, "repair_traffic": _repairs,
    "node_timeline": _node_events, "migrations_over_time": _migrations, "read_p99_over_time": _reads,
}
"""Figure name -> the reason it has nothing to show for a run, or None; figures not named always have content."""


def left_out(name: str, run) -> str | None:
    """Why figure ``name`` is left out of this run's report, or None when it has something to show."""
    rule = RULES.get(name)
    return rule(run) if rule else None
