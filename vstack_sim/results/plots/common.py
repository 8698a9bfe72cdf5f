"""What every figure shares: the fixed size and dpi, a new Agg figure, byte-stable PNGs, table access,
time and byte axis units, the CDF step, the latency axis scale, the "no data" note and the title.

Figures are built without pyplot and rendered by the Agg canvas at a fixed
size and dpi, and :func:`save_figure` writes PNGs without the "Software"
metadata, so the same tables give byte-identical PNGs. The sweep report
(:mod:`vstack_sim.experiments.sweep_report`) draws with these same helpers.
"""

from __future__ import annotations

import sys

import matplotlib

# Headless and deterministic by default; a session that already chose a backend through pyplot
# (a notebook) keeps it, since these figures never go through pyplot anyway.
if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FIGSIZE = (8.0, 4.5)
DPI = 100
GIB = 2**30
MODE_COLORS = {"replication": "#1f77b4", "erasure_coding": "#ff7f0e"}


def new_figure(rows: int = 1, sharex: bool = False, height: float | None = None) -> tuple[Figure, list]:
    """A figure of ``rows`` stacked axes at the fixed width (and ``height`` or the fixed height), on an Agg canvas."""
    fig = Figure(figsize=(FIGSIZE[0], height or FIGSIZE[1]), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, list(axes)


def table(run, name: str) -> pd.DataFrame:
    """The run's table ``name``, or an empty DataFrame when it has none."""
    df = run.tables.get(name) if hasattr(run.tables, "get") else None
    return df if df is not None else pd.DataFrame()


def time_axis(run) -> tuple[float, str]:
    """Seconds per plotted unit and its label: days for runs of two days or more, else hours."""
    if run.config.run.duration >= 2 * 86400:
        return 86400.0, "simulated time (days)"
    return 3600.0, "simulated time (hours)"


def byte_unit(largest: float) -> tuple[float, str]:
    """GiB for big stores, MiB for small ones, so axis numbers stay readable."""
    return (GIB, "GiB") if largest >= GIB else (2**20, "MiB")


def no_data(ax, text: str) -> None:
    """Write ``text`` in grey in the middle of an axes that has nothing to draw."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


def ecdf(ax, values, label: str, **kw) -> None:
    """The empirical CDF of ``values`` as a step, labelled with its count."""
    x = np.sort(np.asarray(values, dtype=float))
    y = np.arange(1, len(x) + 1) / len(x)
    ax.step(x, y, where="post", label=f"{label} (n={len(x):,})", **kw)


def latency_scale(ax, values: list) -> None:
    """Log x only when latencies spread over more than a decade; a linear axis reads better otherwise."""
    lo = min(float(np.min(v)) for v in values)
    hi = max(float(np.max(v)) for v in values)
    if lo > 0 and hi / lo > 10:
        ax.set_xscale("log")


def title(fig: Figure, run, text: str) -> None:
    """The figure's title: ``text`` and the run's name."""
    fig.suptitle(f"{text} - {run.config.name}", fontsize=11)


def save_figure(fig: Figure, path) -> None:
    """Write a PNG that depends only on the figure: fixed dpi, no Software/date metadata."""
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
