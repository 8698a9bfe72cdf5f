"""One function per figure; each takes a run and returns a matplotlib Figure.

A "run" is a simulation ``Result`` or a results folder read back with
:func:`vstack_sim.results.store.load_result`: anything with ``.config``,
``.summary`` and ``.tables`` (name -> DataFrame, columns as in docs/results.md).
``vstack-sim run`` draws its figures from the tables it has just written, with
these same functions, so a notebook, ``run`` and ``report`` agree.

The figures live by subject: :mod:`~vstack_sim.results.plots.storage`,
:mod:`~vstack_sim.results.plots.latency`, :mod:`~vstack_sim.results.plots.recovery`
and :mod:`~vstack_sim.results.plots.adaptive` (popularity, migrations); what they share (fixed size and
dpi, :func:`save_figure`, axis helpers) is in :mod:`~vstack_sim.results.plots.common`.
This package gathers them in :data:`FIGURES`, in report order.

Figures are built without pyplot and rendered by the Agg canvas at a fixed
size and dpi, and :func:`save_figure` writes PNGs without the "Software"
metadata, so the same tables give byte-identical PNGs.
"""

from __future__ import annotations

from vstack_sim.results.plots.adaptive import migrations_over_time, popularity
from vstack_sim.results.plots.common import DPI, FIGSIZE, MODE_COLORS, save_figure
from vstack_sim.results.plots.latency import (
    KIND_LABELS,
    read_latency_cdf,
    read_p99_over_time,
    startup_latency,
)
from vstack_sim.results.plots.recovery import (
    COMPONENT_COLORS,
    node_timeline,
    recovery_split,
    recovery_times,
    reduced_redundancy,
    repair_traffic,
)
from vstack_sim.results.plots.storage import (
    storage_baselines,
    storage_by_mode,
    storage_over_time,
)

__all__ = [
    "COMPONENT_COLORS",
    "DPI",
    "FIGSIZE",
    "FIGURES",
    "KIND_LABELS",
    "MODE_COLORS",
    "migrations_over_time",
    "node_timeline",
    "popularity",
    "read_latency_cdf",
    "read_p99_over_time",
    "recovery_split",
    "recovery_times",
    "reduced_redundancy",
    "repair_traffic",
    "save_figure",
    "startup_latency",
    "storage_baselines",
    "storage_by_mode",
    "storage_over_time",
]

FIGURES = {
    "storage_by_mode": storage_by_mode,
    "storage_over_time": storage_over_time,
    "read_latency_cdf": read_latency_cdf,
    "startup_latency": startup_latency,
    "recovery_times": recovery_times,
    "recovery_split": recovery_split,
    "reduced_redundancy": reduced_redundancy,
    "repair_traffic": repair_traffic,
    "node_timeline": node_timeline,
    "popularity": popularity,
    "migrations_over_time": migrations_over_time,
    "read_p99_over_time": read_p99_over_time,
}
"""Every figure by file name (``figures/<name>.png``), in report order."""
