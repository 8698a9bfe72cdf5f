"""Latency figures: chunk read latency CDFs by kind, start-up latency, and read p99 over time
against the rebuilds (repair interference)."""

from __future__ import annotations

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

KIND_LABELS = {"replication": "replication", "erasure_coding": "erasure coding (normal)", "degraded": "degraded EC"}


def read_latency_cdf(run) -> Figure:
    """CDFs of chunk read latency by kind: replication, normal EC and degraded EC reads."""
    reads = table(run, "reads")
    fig, (ax,) = new_figure()
    drawn = []
    for kind, label in KIND_LABELS.items():
        values = reads.loc[reads["kind"] == kind, "latency_ms"].dropna() if not reads.empty else []
        if len(values):
            ecdf(ax, values, label)
            drawn.append(values)
    if drawn:
        latency_scale(ax, drawn)
        ax.legend(fontsize=9, loc="lower right")
    else:
        no_data(ax, "no successful reads")
    note = (f" (a sample: {len(reads):,} of {run.summary['reads']['count']:,} reads)"
            if _reads_sampled(run) else "")
    ax.set_xlabel("chunk read latency (ms)")
    ax.set_ylabel("fraction of reads")
    ax.set_ylim(0, 1.02)
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




def read_p99_over_time(run, window: float = 60.0) -> Figure:
    """Read latency p99 per minute over the run, with each rebuild shaded (repair interference)."""
    # pandas only; keeps the figure's logic in one place
    from vstack_sim.analysis.interference import windowed_quantile

    reads = table(run, "reads")
    scale, xlabel = time_axis(run)
    fig, (ax,) = new_figure()
    per = windowed_quantile(reads, window, 0.99) if not reads.empty else pd.DataFrame()
    if per.empty:
        no_data(ax, "no reads")
    else:
        ax.step(per["time_s"] / scale, per["latency_ms"], where="post", color="tab:blue", lw=1.0,
                label=f"p99 per {window:g} s window")
        repairs, failures = table(run, "repairs"), table(run, "failures")
        if not repairs.empty:
            for fid, rows in repairs.groupby("failure_id"):
                ax.axvspan(rows["start_s"].min() / scale, rows["end_s"].max() / scale, color="tab:red",
                           alpha=0.12, lw=0, label="rebuild" if fid == repairs["failure_id"].min() else None)
        if not failures.empty:
            for t in failures["time_s"]:
                ax.axvline(t / scale, color="tab:red", lw=0.8, ls="--")
        ax.set_ylim(0, float(per["latency_ms"].max()) * 1.15)
        ax.legend(fontsize=9, loc="upper right")
    ax.set_xlabel(xlabel + " (dashed: failures)")
    ax.set_ylabel("read latency p99 (ms)")
    title(fig, run, "Read p99 over time")
    return fig
