"""Latency figures: chunk read latency CDFs by kind, start-up latency, and read p99 over time
against the rebuilds (repair interference)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vstack_sim.results.plots.common import (
    ecdf,
    latency_scale,
    new_figure,
    no_data,
    table,
    time_axis,
    title,
)

KIND_LABELS = {"replication": "replication", "erasure_coding": "erasure coding (normal)", "degraded": "degraded EC",
               "cache": "cache hit"}


QUANTILE_MARKS = ((0.5, "p50"), (0.99, "p99"), (0.999, "p99.9"))


def read_latency_cdf(run) -> Figure:
    """Chunk read latency by kind as survival curves on a log scale, so the tail shows, with the run's exact p50, p99 and p99.9 marked."""  # noqa: E501 (the report's caption)
    reads = table(run, "reads")
    fig, (ax,) = new_figure()
    exact = run.summary.get("reads", {}).get("latency_ms", {})
    drawn = []
    for kind, label in KIND_LABELS.items():
        values = reads.loc[reads["kind"] == kind, "latency_ms"].dropna() if not reads.empty else []
        if not len(values):
            continue
        x = np.sort(np.asarray(values, dtype=float))
        survival = 1.0 - np.arange(len(x)) / len(x)      # P(latency >= x), down to 1/n
        total = (exact.get(kind) or {}).get("count", len(x))
        shown = f"{label} (n={len(x):,}" + (f" of {total:,}" if total > len(x) else "") + ")"
        (line,) = ax.step(x, survival, where="post", label=shown)
        drawn.append(x)
        # The marks are the summary's, over every read of the run, not the table's sample.
        for q, name in QUANTILE_MARKS[:2]:
            value = (exact.get(kind) or {}).get(name)
            if value is not None:
                ax.plot([value], [1.0 - q], marker="o", ms=4, color=line.get_color(), ls="none")
    if drawn:
        latency_scale(ax, drawn)
        ax.set_yscale("log")
        low = min(1.0 / len(x) for x in drawn)
        ax.set_ylim(min(low, 1e-3) / 2, 1.05)
        for q, name in QUANTILE_MARKS:
            ax.axhline(1.0 - q, color="0.75", lw=0.6, ls=":")
            ax.text(1.0, 1.0 - q, f" {name}", transform=ax.get_yaxis_transform(), fontsize=8, va="center",
                    color="0.4")
        ax.legend(fontsize=9, loc="lower left")
    else:
        no_data(ax, "no successful reads")
    note = (f" (curves from a sample: {len(reads):,} of {run.summary['reads']['count']:,} reads; dots: exact "
            f"p50 and p99)" if _reads_sampled(run) else " (dots: p50 and p99)")
    ax.set_xlabel("chunk read latency (ms)")
    ax.set_ylabel("fraction of reads at least this slow")
    title(fig, run, "Read latency" + note)
    return fig


def _reads_sampled(run) -> bool:
    """Whether the run's reads table is a sample of its chunk reads."""
    reads = table(run, "reads")
    return len(reads) < run.summary.get("reads", {}).get("count", len(reads))


def startup_latency(run) -> Figure:
    """CDF of the start-up latency (the first chunk's latency) of all views, and of first-chunk reads by kind."""
    views = table(run, "views")
    fig, (ax,) = new_figure()
    values = views["startup_latency_ms"].dropna() if not views.empty else []
    if len(values):
        ecdf(ax, values, "all views", color="black")
        reads = table(run, "reads")
        if not reads.empty:
            # A uniform sample of the reads keeps a uniform sample of first-chunk reads: the curves by
            # kind stay unbiased, and their labels say they are a sample.
            sample = " (sample)" if _reads_sampled(run) else ""
            first = reads[reads["chunk_index"] == 0].dropna(subset=["latency_ms"])
            for kind, label in KIND_LABELS.items():
                part = first.loc[first["kind"] == kind, "latency_ms"]
                if len(part):
                    ecdf(ax, part, f"first chunk, {label}{sample}", linewidth=0.9, alpha=0.8)
        latency_scale(ax, [values])
        ax.legend(fontsize=9, loc="lower right")
    else:
        no_data(ax, "no views started")
    ax.set_xlabel("start-up latency (ms)")
    ax.set_ylabel("fraction of views")
    ax.set_ylim(0, 1.02)
    title(fig, run, "Start-up latency")
    return fig




MIN_READS_PER_WINDOW = 1000
"""A p99 needs enough reads to be more than the window's maximum: windows hold at least this many on average."""


def p99_window(run, reads: pd.DataFrame) -> float:
    """Whole minutes long enough for :data:`MIN_READS_PER_WINDOW` reads of the table on average (60 s at least)."""
    n = len(reads)
    if n == 0:
        return 60.0
    per_second = n / max(run.config.run.duration, 1.0)
    return 60.0 * max(1, math.ceil(MIN_READS_PER_WINDOW / per_second / 60.0))


def _rebuilds(repairs: pd.DataFrame) -> list[tuple[float, float]]:
    """(start, end) of each declared failure's repairs, longest first."""
    if repairs.empty:
        return []
    spans = repairs.groupby("failure_id").agg(start=("start_s", "min"), end=("end_s", "max"))
    spans["length"] = spans["end"] - spans["start"]
    spans = spans.sort_values("length", ascending=False, kind="stable")
    return list(zip(spans["start"], spans["end"], strict=True))


def read_p99_over_time(run, window: float | None = None) -> Figure:
    """Read latency p99 over the run in windows of at least 1,000 reads, each rebuild shaded, and below, the longest rebuild up close."""  # noqa: E501 (the report's caption)
    from vstack_sim.analysis.interference import windowed_quantile

    reads = table(run, "reads")
    window = p99_window(run, reads) if window is None else window
    scale, xlabel = time_axis(run)
    rebuilds = _rebuilds(table(run, "repairs"))
    fig, axes = new_figure(rows=2 if rebuilds and not reads.empty else 1, height=7.0 if rebuilds else None)
    ax = axes[0]
    per = windowed_quantile(reads, window, 0.99) if not reads.empty else pd.DataFrame()
    if per.empty:
        no_data(ax, "no reads")
    else:
        ax.step(per["time_s"] / scale, per["latency_ms"], where="post", color="tab:blue", lw=1.0,
                label=f"p99 per {window:g} s window (about {len(reads) * window / run.config.run.duration:,.0f} "
                      "reads each)")
        for i, (start, end) in enumerate(rebuilds):
            ax.axvspan(start / scale, end / scale, color="tab:red", alpha=0.12, lw=0,
                       label="rebuild" if i == 0 else None)
        failures = table(run, "failures")
        for i, t in enumerate(failures["time_s"] if not failures.empty else []):
            ax.axvline(t / scale, color="tab:red", lw=0.8, ls="--", label="failure" if i == 0 else None)
        ax.set_ylim(0, float(per["latency_ms"].max()) * 1.15)
        ax.legend(fontsize=9, loc="upper right")
        if len(axes) > 1:
            _rebuild_close_up(axes[1], reads, *rebuilds[0])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("read latency p99 (ms)")
    title(fig, run, "Read p99 over time")
    return fig


def _rebuild_close_up(ax, reads: pd.DataFrame, start: float, end: float) -> None:
    """Every read of the table from a rebuild's length before it to one after it, and the rebuild shaded."""
    span = max(end - start, 1.0)
    lo, hi = start - span, end + span
    t = reads["time_s"].to_numpy(dtype=np.float64)
    keep = (t >= lo) & (t <= hi) & np.isfinite(reads["latency_ms"].to_numpy(dtype=np.float64))
    minutes = 60.0 if span >= 600 else 1.0
    unit = "min" if minutes == 60.0 else "s"
    ax.axvspan((start - lo) / minutes, (end - lo) / minutes, color="tab:red", alpha=0.12, lw=0, label="rebuild")
    if keep.any():
        ax.plot((t[keep] - lo) / minutes, reads["latency_ms"].to_numpy()[keep], ".", ms=2, color="tab:blue",
                alpha=0.5, label=f"each read ({int(keep.sum()):,})")
        ax.set_yscale("log")
    else:
        no_data(ax, "no reads near the rebuild")
    ax.set_xlabel(f"{unit} from {lo / 3600.0:,.2f} h (the longest rebuild, with as long before and after)")
    ax.set_ylabel("read latency (ms)")
    ax.legend(fontsize=9, loc="upper right")
