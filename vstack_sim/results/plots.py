"""One function per figure; each takes a run and returns a matplotlib Figure.

A "run" is a simulation ``Result`` or a results folder read back with
:func:`vstack_sim.results.store.load_result`: anything with ``.config``,
``.summary`` and ``.tables`` (name -> DataFrame, columns as in docs/results.md).
``vstack-sim run`` draws its figures from the tables it has just written, with
these same functions, so a notebook, ``run`` and ``report`` agree.

Figures are built without pyplot and rendered by the Agg canvas at a fixed
size and dpi, and :func:`save_figure` writes PNGs without the "Software"
metadata, so the same tables give byte-identical PNGs.
"""

from __future__ import annotations

import sys

import matplotlib

# Headless and deterministic by default; a session that already chose a backend through pyplot
# (a notebook) keeps it, since these figures never go through pyplot anyway.
if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from vstack_sim.system.ledger import StorageLedger  # noqa: E402
from vstack_sim.scenario.units import format_bytes, format_duration  # noqa: E402

FIGSIZE = (8.0, 4.5)
DPI = 100
GIB = 2**30
KIND_LABELS = {"replication": "replication", "erasure_coding": "erasure coding (normal)", "degraded": "degraded EC"}
MODE_COLORS = {"replication": "#1f77b4", "erasure_coding": "#ff7f0e"}


# --------------------------------------------------------------------------- helpers

def _new(rows: int = 1, sharex: bool = False, height: float | None = None) -> tuple[Figure, list]:
    fig = Figure(figsize=(FIGSIZE[0], height or FIGSIZE[1]), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, list(axes)


def _table(run, name: str) -> pd.DataFrame:
    df = run.tables.get(name) if hasattr(run.tables, "get") else None
    return df if df is not None else pd.DataFrame()


def _time_axis(run) -> tuple[float, str]:
    """Seconds per plotted unit and its label: days for runs of two days or more, else hours."""
    if run.config.run.duration >= 2 * 86400:
        return 86400.0, "simulated time (days)"
    return 3600.0, "simulated time (hours)"


def _byte_unit(largest: float) -> tuple[float, str]:
    """GiB for big stores, MiB for small ones, so axis numbers stay readable."""
    return (GIB, "GiB") if largest >= GIB else (2**20, "MiB")


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


def _ecdf(ax, values, label: str, **kw) -> None:
    x = np.sort(np.asarray(values, dtype=float))
    y = np.arange(1, len(x) + 1) / len(x)
    ax.step(x, y, where="post", label=f"{label} (n={len(x):,})", **kw)


def _latency_scale(ax, values: list) -> None:
    """Log x only when latencies spread over more than a decade; a linear axis reads better otherwise."""
    lo = min(float(np.min(v)) for v in values)
    hi = max(float(np.max(v)) for v in values)
    if lo > 0 and hi / lo > 10:
        ax.set_xscale("log")


def _title(fig: Figure, run, text: str) -> None:
    fig.suptitle(f"{text} - {run.config.name}", fontsize=11)


def save_figure(fig: Figure, path) -> None:
    """Write a PNG that depends only on the figure: fixed dpi, no Software/date metadata."""
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


# --------------------------------------------------------------------------- figures

def storage_baselines(run) -> dict:
    """All-replication and all-EC physical bytes of the run's chunks, asked of the real ledger.

    ``{"chunks", "all_replication", "all_erasure_coding", "per_chunk_savings_percent"}``; the report's
    conclusion and :func:`storage_by_mode` use these, so neither redoes the storage arithmetic.
    """
    ledger = StorageLedger.for_settings(run.config.redundancy, run.config.catalog.chunk_size)
    start = run.summary["storage_initial"]
    chunks = int(start["replication_chunks"] + start["erasure_coded_chunks"])
    return {"chunks": chunks, "all_replication": ledger.all_replication_bytes(chunks),
            "all_erasure_coding": ledger.all_erasure_coding_bytes(chunks),
            "per_chunk_savings_percent": round(ledger.per_chunk_savings_percent(), 2), "ledger": ledger}


def storage_by_mode(run) -> Figure:
    """Physical bytes at the start and the end, by mode, against all-replication and all-EC (the V-Stack design's table)."""
    cfg = run.config
    red = cfg.redundancy
    start, end = run.summary["storage_initial"], run.summary["storage"]
    base = storage_baselines(run)
    chunks, all_rep, all_ec, ledger = base["chunks"], base["all_replication"], base["all_erasure_coding"], base["ledger"]
    bars = [("all replication", all_rep, 0), ("adaptive, start", start["replication_overhead_bytes"],
                                              start["erasure_overhead_bytes"]),
            ("adaptive, end", end["replication_overhead_bytes"], end["erasure_overhead_bytes"]),
            ("all erasure coding", 0, all_ec)]
    fig, (ax,) = _new()
    unit, uname = _byte_unit(max(all_rep, all_ec))
    names = [b[0] for b in bars]
    rep = np.array([b[1] for b in bars], dtype=float) / unit
    ec = np.array([b[2] for b in bars], dtype=float) / unit
    ax.bar(names, rep, color=MODE_COLORS["replication"], label=f"replicated ({red.replication_factor} copies)")
    ax.bar(names, ec, bottom=rep, color=MODE_COLORS["erasure_coding"],
           label=f"erasure coded RS({red.data_shards},{red.parity_shards})")
    for i, total in enumerate(rep + ec):
        saving = ledger.savings_percent(total * unit, chunks)
        ax.text(i, total, f"{total:,.2f} {uname}\n{saving:.2f} % saved", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel(f"physical bytes ({uname})")
    ax.set_xlabel("layout of the same chunks")
    ax.set_ylim(0, max(max(rep + ec), 1e-9) * 1.25)
    ax.legend(loc="upper right", fontsize=9)
    _title(fig, run, f"Storage of {chunks:,} chunks ({start['total_logical_bytes'] / unit:,.2f} {uname} logical)")
    return fig


def storage_over_time(run) -> Figure:
    """Nominal and held physical bytes, and the savings against all-replication, over the run."""
    tl = _table(run, "storage_timeline")
    scale, xlabel = _time_axis(run)
    fig, (top, bottom) = _new(2, sharex=True, height=6.0)
    if tl.empty:
        _no_data(top, "no storage timeline")
        top.set_ylabel("physical bytes")
    else:
        t = tl["time_s"] / scale
        unit, uname = _byte_unit(float(tl["held_bytes"].max()))
        top.plot(t, tl["total_physical_bytes"] / unit, label="nominal layout")
        top.plot(t, tl["held_bytes"] / unit, linestyle="--", label="held (incl. stale copies, both layouts)")
        top.plot(t, tl["total_logical_bytes"] / unit, color="0.5", linewidth=0.8, label="logical")
        top.set_ylim(bottom=0)
        top.legend(fontsize=8, loc="lower right")
        savings = tl["storage_savings_percent"].to_numpy(dtype=float)
        bottom.plot(t, savings, color="tab:green")
        # From 0, so a drift of a fraction of a point is not drawn as a cliff; the change is written out.
        bottom.set_ylim(0, max(float(np.nanmax(savings)) * 1.2, 1.0))
        change = savings[-1] - savings[0]
        bottom.text(0.02, 0.08, f"{savings[0]:.2f} % at the start, {savings[-1]:.2f} % at the end "
                    f"({change:+.2f} points)", transform=bottom.transAxes, fontsize=9)
        top.set_ylabel(f"physical bytes ({uname})")
    bottom.set_ylabel("savings vs all-replication (%)")
    bottom.set_xlabel(xlabel)
    _title(fig, run, "Storage over time")
    return fig


def read_latency_cdf(run) -> Figure:
    """CDFs of chunk read latency by kind: replication, normal EC and degraded EC reads."""
    reads = _table(run, "reads")
    fig, (ax,) = _new()
    drawn = []
    for kind, label in KIND_LABELS.items():
        values = reads.loc[reads["kind"] == kind, "latency_ms"].dropna() if not reads.empty else []
        if len(values):
            _ecdf(ax, values, label)
            drawn.append(values)
    if drawn:
        _latency_scale(ax, drawn)
        ax.legend(fontsize=9, loc="lower right")
    else:
        _no_data(ax, "no successful reads")
    note = (f" (a sample: {len(reads):,} of {run.summary['reads']['count']:,} reads)"
            if _reads_sampled(run) else "")
    ax.set_xlabel("chunk read latency (ms)")
    ax.set_ylabel("fraction of reads")
    ax.set_ylim(0, 1.02)
    _title(fig, run, "Read latency" + note)
    return fig


def _reads_sampled(run) -> bool:
    """Whether the run's reads table is a sample of its chunk reads."""
    reads = _table(run, "reads")
    return len(reads) < run.summary.get("reads", {}).get("count", len(reads))


def startup_latency(run) -> Figure:
    """CDF of the start-up latency (the first chunk's latency) of all views, and of first-chunk reads by kind."""
    views = _table(run, "views")
    fig, (ax,) = _new()
    values = views["startup_latency_ms"].dropna() if not views.empty else []
    if len(values):
        _ecdf(ax, values, "all views", color="black")
        reads = _table(run, "reads")
        if not reads.empty:
            # A uniform sample of the reads keeps a uniform sample of first-chunk reads: the curves by
            # kind stay unbiased, and their labels say they are a sample.
            sample = " (sample)" if _reads_sampled(run) else ""
            first = reads[reads["chunk_index"] == 0].dropna(subset=["latency_ms"])
            for kind, label in KIND_LABELS.items():
                part = first.loc[first["kind"] == kind, "latency_ms"]
                if len(part):
                    _ecdf(ax, part, f"first chunk, {label}{sample}", linewidth=0.9, alpha=0.8)
        _latency_scale(ax, [values])
        ax.legend(fontsize=9, loc="lower right")
    else:
        _no_data(ax, "no views started")
    ax.set_xlabel("start-up latency (ms)")
    ax.set_ylabel("fraction of views")
    ax.set_ylim(0, 1.02)
    _title(fig, run, "Start-up latency")
    return fig


def _duration_unit(seconds: float) -> tuple[float, str]:
    """The unit ``format_duration`` (CLI and report) would print ``seconds`` in: d, h, min or s."""
    for unit, factor in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= factor:
            return factor, unit
    return 1.0, "seconds"


def _component(failures) -> np.ndarray:
    """Each failure's component, node or disk (tables from before disk failures: all nodes)."""
    if "component" in failures:
        return failures["component"].astype(str).to_numpy()
    return np.full(len(failures), "node")


COMPONENT_COLORS = {"node": "tab:red", "disk": "tab:purple"}


def recovery_times(run) -> Figure:
    """Distribution of recovery times of declared failures (failure to full redundancy), node and disk
    failures apart, each failure a dot."""
    failures = _table(run, "failures")
    fig, (ax,) = _new()
    if not failures.empty and "censored" in failures:
        failures = failures[~failures["censored"].astype(bool)]   # open at the end: see recovery_split
    if not failures.empty:
        failures = failures[failures["recovery_time_s"].notna()]
    seconds = failures["recovery_time_s"].to_numpy(dtype=float) if not failures.empty else np.array([])
    if len(seconds):
        factor, unit = _duration_unit(float(seconds.max()))
        parts = _component(failures)
        for part, color in COMPONENT_COLORS.items():
            mine = seconds[parts == part]
            if not len(mine):
                continue
            values = np.sort(mine) / factor
            _ecdf(ax, values, f"{part} failures", color=color)
            # One dot per failure, so a single failure (a step of zero width) is still drawn.
            ax.plot(values, np.arange(1, len(values) + 1) / len(values), "o", color=color, markersize=4)
        ax.set_xlim(0, float(seconds.max()) / factor * 1.1 or 1.0)
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.text(0.02, 0.95, f"mean {format_duration(seconds.mean())}, max {format_duration(seconds.max())}",
                transform=ax.transAxes, va="top", fontsize=9)
        ax.legend(fontsize=9, loc="lower right")
    else:
        unit = "hours"
        _no_data(ax, "no finished recoveries")
    ax.set_xlabel(f"recovery time ({unit})")
    ax.set_ylabel("fraction of failures")
    ax.set_ylim(0, 1.05)
    _title(fig, run, "Recovery time")
    return fig


def recovery_split(run) -> Figure:
    """Each declared failure's recovery as detection (failure to declaration) then repair (to fully
    redundant or lost); recoveries still open at the end are hatched (censored: at least this long)."""
    failures = _table(run, "failures")
    fig, (ax,) = _new()
    declared = failures[failures["declared"].astype(bool)] if not failures.empty else failures
    if declared.empty:
        _no_data(ax, "no declared failures")
    else:
        detection = (declared["declared_s"] - declared["time_s"]).to_numpy(dtype=float)
        if "repair_s" in declared:
            repair = declared["repair_s"].to_numpy(dtype=float)
        else:
            repair = (declared["recovery_end_s"] - declared["declared_s"]).to_numpy(dtype=float)
        censored = declared["censored"].to_numpy(dtype=bool) if "censored" in declared else np.zeros(len(declared), bool)
        repair = np.nan_to_num(repair)
        y = np.arange(len(declared))
        hours = 3600.0
        ax.barh(y, detection / hours, color="tab:gray", label="detection")
        disk = _component(declared) == "disk"
        for part, mask in (("node", ~disk), ("disk", disk)):
            rows = ~censored & mask
            if rows.any():
                ax.barh(y[rows], repair[rows] / hours, left=detection[rows] / hours,
                        color=COMPONENT_COLORS[part], label=f"repair after a {part} failure")
        if censored.any():
            ax.barh(y[censored], repair[censored] / hours, left=detection[censored] / hours, color="white",
                    edgecolor="tab:red", hatch="//", label=f"repair, open at the end ({int(censored.sum())})")
        disks = declared["disk"].to_numpy() if "disk" in declared else np.full(len(declared), -1)
        ax.set_yticks(y, [f"#{int(f)} node {int(n)}" + (f" disk {int(d)}" if is_disk else "")
                          for f, n, d, is_disk in zip(declared["failure_id"], declared["node"], disks, disk)],
                      fontsize=8 if len(y) <= 30 else 5)
        if len(y) > 60:
            ax.set_yticks([])
        ax.invert_yaxis()
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))   # beside the bars, never over one
    ax.set_xlabel("time since the failure (hours)")
    ax.set_ylabel("declared failure")
    _title(fig, run, "Recovery: detection and repair")
    return fig


def reduced_redundancy(run) -> Figure:
    """Chunks at reduced redundancy (fewer slots available than the layout has) over time, and
    those one slot loss away from being lost."""
    tl = _table(run, "storage_timeline")
    scale, xlabel = _time_axis(run)
    fig, (ax,) = _new()
    if tl.empty:
        _no_data(ax, "no timeline")
    else:
        t = tl["time_s"] / scale
        if "reduced_redundancy_chunks" in tl:
            reduced = tl["reduced_redundancy_chunks"]
        else:
            reduced = tl["degraded_chunks"] + tl["unavailable_chunks"]
        ax.step(t, reduced, where="post", color="tab:orange", label="reduced redundancy")
        if "one_failure_from_loss_chunks" in tl:
            ax.step(t, tl["one_failure_from_loss_chunks"], where="post", color="tab:red",
                    label="one failure from loss")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=9, loc="upper right")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("chunks")
    _title(fig, run, "Chunks at reduced redundancy")
    return fig


def _rate_steps(start_s: np.ndarray, end_s: np.ndarray, nbytes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact total rate when each job moves its bytes evenly from its start to its end.

    Returns ``(times, rate)``: the rate is ``rate[i]`` bytes/s from ``times[i]`` to ``times[i + 1]``.
    """
    span = np.maximum(end_s - start_s, 1e-6)        # an instantaneous job: its bytes in a microsecond
    per_job = nbytes / span
    times = np.concatenate([start_s, start_s + span])
    deltas = np.concatenate([per_job, -per_job])
    order = np.argsort(times, kind="stable")
    times, rate = times[order], np.cumsum(deltas[order])
    # Several changes at one instant (a job ends as the next starts) are one step: keep the last.
    last = np.r_[times[1:] != times[:-1], True]
    return times[last], np.clip(rate[last], 0.0, None)   # rounding leaves -1e-9, not negative traffic


def _binned(times: np.ndarray, rate: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean of a step rate over each bin (bytes moved in the bin / bin width)."""
    moved = np.concatenate([[0.0], np.cumsum(rate[:-1] * np.diff(times))])    # bytes moved up to times[i]
    at_edges = np.interp(edges, times, moved)
    return np.diff(at_edges) / np.diff(edges)


def repair_traffic(run) -> Figure:
    """Repair traffic over the run (mean rate in 400 bins) and, below, its busiest burst at full resolution with the peak."""
    repairs = _table(run, "repairs")
    scale, xlabel = _time_axis(run)
    fig, (top, bottom) = _new(2, height=6.0)
    duration = run.config.run.duration
    if repairs.empty:
        _no_data(top, "no repairs")
        _no_data(bottom, "no repairs")
    else:
        start_s = repairs["start_s"].to_numpy(dtype=float)
        end_s = repairs["end_s"].to_numpy(dtype=float)
        edges = np.linspace(0.0, duration, 401)
        steps = {}
        for col, label in (("bytes_read", "read"), ("bytes_written", "written")):
            times, rate = _rate_steps(start_s, end_s, repairs[col].to_numpy(dtype=float))
            steps[label] = (times, rate)
            top.step(edges[:-1] / scale, _binned(times, rate, edges) / 1e6, where="post", label=label)
        top.legend(fontsize=9)
        top.set_xlim(0, duration / scale)
        # The busiest burst: the stretch of non-zero read traffic around the peak, drawn exactly.
        times, rate = steps["read"]
        peak = int(np.argmax(rate))
        idle = np.flatnonzero(rate <= 0)
        lo = times[idle[idle < peak].max() + 1] if (idle < peak).any() else times[0]
        hi = times[idle[idle > peak].min()] if (idle > peak).any() else times[-1]
        width = max(hi - lo, 1.0)
        zscale, zunit = _duration_unit(width)
        for label, (t, r) in steps.items():
            t0 = (t - lo) / zscale
            bottom.step(np.r_[t0[0], t0], np.r_[0.0, r] / 1e6, where="post", label=label)
        bottom.plot([(times[peak] - lo) / zscale], [rate[peak] / 1e6], "kv", markersize=6)
        bottom.text(0.01, 0.97, f"peak {rate[peak] / 1e6:,.0f} MB/s read (▼)", transform=bottom.transAxes,
                    fontsize=9, va="top")
        bottom.set_xlim(-0.05 * width / zscale, 1.05 * width / zscale)
        bottom.set_ylim(0, rate[peak] / 1e6 * 1.3 or 1.0)
        bottom.set_xlabel(f"{zunit} from the start of the busiest burst (at {format_duration(lo)}; "
                          f"{format_bytes(float(repairs['bytes_read'].sum()))} read in all)")
        bottom.set_ylabel("MB/s, exact")
        bottom.legend(fontsize=9, loc="upper right")
    top.set_xlabel(xlabel)
    top.set_ylabel("repair traffic (MB/s,\nmean per bin)")
    if repairs.empty:
        bottom.set_xlabel("time in the busiest burst")
        bottom.set_ylabel("MB/s, exact")
    _title(fig, run, "Repair traffic")
    return fig


def node_timeline(run) -> Figure:
    """When each node was down (bars), declared dead (x) and replaced by an empty node (diamond)."""
    events = _table(run, "node_events")
    scale, xlabel = _time_axis(run)
    nodes = run.config.cluster.nodes
    fig, (ax,) = _new(height=max(3.0, min(9.0, 1.5 + 0.18 * nodes)))
    end = run.config.run.duration
    if events.empty:
        _no_data(ax, "no node went down")
    else:
        for node, ev in events.sort_values(["time_s"], kind="stable").groupby("node", sort=True):
            down_at = None
            spans = []
            for t, what in zip(ev["time_s"], ev["event"]):
                if what == "down" and down_at is None:
                    down_at = t
                elif what in ("up", "replaced") and down_at is not None:
                    spans.append((down_at / scale, (t - down_at) / scale))
                    down_at = None
            if down_at is not None:
                spans.append((down_at / scale, (end - down_at) / scale))
            ax.broken_barh(spans, (node - 0.4, 0.8), color="tab:red")
            declared = ev.loc[ev["event"] == "declared", "time_s"] / scale
            ax.plot(declared, [node] * len(declared), "kx", markersize=6)
            replaced = ev.loc[ev["event"] == "replaced", "time_s"] / scale
            ax.plot(replaced, [node] * len(replaced), "D", color="tab:blue", markeredgecolor="black",
                    markersize=6)
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [Patch(color="tab:red", label="down"),
                   Line2D([], [], marker="x", color="black", linestyle="none", label="declared dead (repair starts)"),
                   Line2D([], [], marker="D", color="tab:blue", markeredgecolor="black", linestyle="none",
                          label="replaced by an empty node")]
        ax.legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.9)
    ax.set_xlim(0, end / scale)
    ax.set_ylim(-0.7, nodes - 0.3)
    if nodes <= 24:
        ax.set_yticks(range(nodes))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("node")
    _title(fig, run, "Node downtime")
    return fig


def popularity(run) -> Figure:
    """Rank against views, log-log: starting and final view counts, with the popularity threshold."""
    videos = _table(run, "videos")
    fig, (ax,) = _new()
    if videos.empty:
        _no_data(ax, "no videos")
    else:
        for col, label in (("starting_views", "at ingest"), ("view_count", "at the end")):
            counts = np.sort(videos[col].to_numpy(dtype=float))[::-1]
            rank = np.arange(1, len(counts) + 1)
            keep = counts > 0  # log scale
            ax.plot(rank[keep], counts[keep], label=label)
        ax.axhline(run.config.redundancy.popularity_threshold, color="0.4", linestyle=":",
                   label=f"threshold ({run.config.redundancy.popularity_threshold:,} views)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=9)
    ax.set_xlabel("popularity rank")
    ax.set_ylabel("views")
    _title(fig, run, "Popularity")
    return fig


def migrations_over_time(run) -> Figure:
    """Cumulative finished conversions by direction over the run."""
    mig = _table(run, "migrations")
    scale, xlabel = _time_axis(run)
    fig, (ax,) = _new()
    if mig.empty:
        _no_data(ax, "no migrations")
    else:
        for mode, label in (("replication", "to replication"), ("erasure_coding", "to erasure coding")):
            t = np.sort(mig.loc[mig["to_mode"] == mode, "end_s"].to_numpy(dtype=float))
            if len(t):
                ax.step(np.r_[0.0, t / scale], np.arange(len(t) + 1), where="post",
                        color=MODE_COLORS[mode], label=f"{label} ({len(t):,})")
        ax.legend(fontsize=9, loc="upper left")
    ax.set_xlim(0, run.config.run.duration / scale)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("videos converted (cumulative)")
    _title(fig, run, "Migrations")
    return fig


def read_p99_over_time(run, window: float = 60.0) -> Figure:
    """Read latency p99 per minute over the run, with each rebuild shaded (repair interference)."""
    from vstack_sim.analysis.interference import windowed_quantile   # pandas only; keeps the figure's logic in one place

    reads = _table(run, "reads")
    scale, xlabel = _time_axis(run)
    fig, (ax,) = _new()
    per = windowed_quantile(reads, window, 0.99) if not reads.empty else pd.DataFrame()
    if per.empty:
        _no_data(ax, "no reads")
    else:
        ax.step(per["time_s"] / scale, per["latency_ms"], where="post", color="tab:blue", lw=1.0,
                label=f"p99 per {window:g} s window")
        repairs, failures = _table(run, "repairs"), _table(run, "failures")
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
    _title(fig, run, "Read p99 over time")
    return fig


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
