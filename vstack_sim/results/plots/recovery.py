"""Failure and recovery figures: recovery times, detection and repair per failure, chunks at reduced
redundancy, repair traffic, and each node's downtime."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vstack_sim.results.plots.common import (
    ecdf,
    new_figure,
    no_data,
    table,
    time_axis,
    title,
)
from vstack_sim.scenario.units import format_bytes, format_duration


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


def recovery_unit(run) -> tuple[float, str]:
    """One unit for every recovery figure of a run: the one its longest declared recovery reads best in."""
    failures = table(run, "failures")
    times = failures["recovery_time_s"].to_numpy(dtype=float) if "recovery_time_s" in failures else np.array([])
    times = times[np.isfinite(times)]
    return _duration_unit(float(times.max())) if len(times) else (3600.0, "hours")


def recovery_times(run) -> Figure:
    """Distribution of recovery times of declared failures (failure to full redundancy), node and disk
    failures apart, each failure a dot."""
    failures = table(run, "failures")
    fig, (ax,) = new_figure()
    if not failures.empty and "censored" in failures:
        failures = failures[~failures["censored"].astype(bool)]   # open at the end: see recovery_split
    if not failures.empty:
        failures = failures[failures["recovery_time_s"].notna()]
    seconds = failures["recovery_time_s"].to_numpy(dtype=float) if not failures.empty else np.array([])
    factor, unit = recovery_unit(run)
    if len(seconds):
        parts = _component(failures)
        for part, color in COMPONENT_COLORS.items():
            mine = seconds[parts == part]
            if not len(mine):
                continue
            values = np.sort(mine) / factor
            ecdf(ax, values, f"{part} failures", color=color)
            # One dot per failure, so a single failure (a step of zero width) is still drawn.
            ax.plot(values, np.arange(1, len(values) + 1) / len(values), "o", color=color, markersize=4)
        ax.set_xlim(0, float(seconds.max()) / factor * 1.1 or 1.0)
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.text(0.02, 0.95, f"mean {format_duration(seconds.mean())}, max {format_duration(seconds.max())}",
                transform=ax.transAxes, va="top", fontsize=9)
        ax.legend(fontsize=9, loc="lower right")
    else:
        no_data(ax, "no finished recoveries")
    ax.set_xlabel(f"recovery time ({unit})")
    ax.set_ylabel("fraction of failures")
    ax.set_ylim(0, 1.05)
    title(fig, run, "Recovery time")
    return fig


def recovery_split(run) -> Figure:
    """Each declared failure's recovery as detection (failure to declaration) then repair (to fully
    redundant or lost); recoveries still open at the end are hatched (censored: at least this long)."""
    failures = table(run, "failures")
    fig, (ax,) = new_figure()
    declared = failures[failures["declared"].astype(bool)] if not failures.empty else failures
    if declared.empty:
        no_data(ax, "no declared failures")
    else:
        detection = (declared["declared_s"] - declared["time_s"]).to_numpy(dtype=float)
        if "repair_s" in declared:
            repair = declared["repair_s"].to_numpy(dtype=float)
        else:
            repair = (declared["recovery_end_s"] - declared["declared_s"]).to_numpy(dtype=float)
        censored = (declared["censored"].to_numpy(dtype=bool) if "censored" in declared
                    else np.zeros(len(declared), bool))
        repair = np.nan_to_num(repair)
        y = np.arange(len(declared))
        hours, unit = recovery_unit(run)
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
                          for f, n, d, is_disk in zip(declared["failure_id"], declared["node"], disks, disk,
                                                      strict=False)],
                      fontsize=8 if len(y) <= 30 else 5)
        if len(y) > 60:
            ax.set_yticks([])
        ax.invert_yaxis()
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))   # beside the bars, never over one
    ax.set_xlabel(f"time since the failure ({recovery_unit(run)[1]})")
    ax.set_ylabel("declared failure")
    title(fig, run, "Recovery: detection and repair")
    return fig


def reduced_redundancy(run) -> Figure:
    """Chunks at reduced redundancy (fewer slots available than the layout has) over time, and
    those one slot loss away from being lost."""
    tl = table(run, "storage_timeline")
    scale, xlabel = time_axis(run)
    fig, (ax,) = new_figure()
    if tl.empty:
        no_data(ax, "no timeline")
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
    title(fig, run, "Chunks at reduced redundancy")
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


def _bin_peaks(times: np.ndarray, rate: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The highest rate of a step function within each bin, so a short burst keeps its height."""
    first = np.clip(np.searchsorted(times, edges[:-1], side="right") - 1, 0, len(rate) - 1)
    last = np.clip(np.searchsorted(times, edges[1:], side="left") - 1, 0, len(rate) - 1)
    return np.array([rate[a:max(a, b) + 1].max() for a, b in zip(first, last, strict=True)])


def repair_traffic(run) -> Figure:
    """Repair traffic over the run (mean and peak rate in each of 400 bins, so no burst is hidden) and, below, its busiest burst at full resolution with each peak on its own line."""  # noqa: E501 (the report's caption)
    repairs = table(run, "repairs")
    scale, xlabel = time_axis(run)
    fig, (top, bottom) = new_figure(2, height=6.0)
    duration = run.config.run.duration
    if repairs.empty:
        no_data(top, "no repairs")
        no_data(bottom, "no repairs")
    else:
        start_s = repairs["start_s"].to_numpy(dtype=float)
        end_s = repairs["end_s"].to_numpy(dtype=float)
        edges = np.linspace(0.0, duration, 401)
        steps = {}
        for col, label in (("bytes_read", "read"), ("bytes_written", "written")):
            times, rate = _rate_steps(start_s, end_s, repairs[col].to_numpy(dtype=float))
            steps[label] = (times, rate)
            (line,) = top.step(edges[:-1] / scale, _binned(times, rate, edges) / 1e6, where="post",
                               label=f"{label}, mean per bin", ls="-" if label == "read" else "--")
            # The peak within each bin as a light band above the mean: a short burst keeps its height.
            top.fill_between(edges[:-1] / scale, 0, _bin_peaks(times, rate, edges) / 1e6, step="post",
                             color=line.get_color(), alpha=0.2, lw=0, label=f"{label}, peak in bin")
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
        peaks = []
        for (label, (t, r)), marker in zip(steps.items(), ("v", "^"), strict=True):
            t0 = (t - lo) / zscale
            (line,) = bottom.step(np.r_[t0[0], t0], np.r_[0.0, r] / 1e6, where="post", label=label,
                                  ls="-" if label == "read" else "--")
            inside = (t >= lo) & (t <= hi)
            at = int(np.flatnonzero(inside)[np.argmax(r[inside])]) if inside.any() else int(np.argmax(r))
            bottom.plot([(t[at] - lo) / zscale], [r[at] / 1e6], marker, color=line.get_color(), markersize=7,
                        markeredgecolor="black", ls="none")
            peaks.append(f"{r[at] / 1e6:,.0f} MB/s {label} ({'▼' if marker == 'v' else '▲'})")
        bottom.text(0.01, 0.97, "peak " + ", ".join(peaks), transform=bottom.transAxes, fontsize=9, va="top")
        bottom.set_xlim(-0.05 * width / zscale, 1.05 * width / zscale)
        bottom.set_ylim(0, rate[peak] / 1e6 * 1.3 or 1.0)
        bottom.set_xlabel(f"{zunit} from the start of the busiest burst (at {format_duration(lo)}; "
                          f"{format_bytes(float(repairs['bytes_read'].sum()))} read in all)")
        bottom.set_ylabel("MB/s, exact")
        bottom.legend(fontsize=9, loc="upper right")
    top.set_xlabel(xlabel)
    top.set_ylabel("repair traffic (MB/s)")
    if repairs.empty:
        bottom.set_xlabel("time in the busiest burst")
        bottom.set_ylabel("MB/s, exact")
    title(fig, run, "Repair traffic")
    return fig


def node_timeline(run) -> Figure:
    """When each node was down (bars), declared dead (x) and replaced by an empty node (diamond)."""
    events = table(run, "node_events")
    scale, xlabel = time_axis(run)
    nodes = run.config.cluster.nodes
    fig, (ax,) = new_figure(height=max(3.0, min(9.0, 1.5 + 0.18 * nodes)))
    end = run.config.run.duration
    if events.empty:
        no_data(ax, "no node went down")
    else:
        for node, ev in events.sort_values(["time_s"], kind="stable").groupby("node", sort=True):
            down_at = None
            spans = []
            for t, what in zip(ev["time_s"], ev["event"], strict=False):
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

        happened = set(events["event"].astype(str))
        handles = [Patch(color="tab:red", label="down")]
        if "declared" in happened:
            handles.append(Line2D([], [], marker="x", color="black", linestyle="none",
                                  label="declared dead (repair starts)"))
        if "replaced" in happened:
            handles.append(Line2D([], [], marker="D", color="tab:blue", markeredgecolor="black", linestyle="none",
                                  label="replaced by an empty node"))
        ax.legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.9)   # only what is drawn
    ax.set_xlim(0, end / scale)
    ax.set_ylim(-0.7, nodes - 0.3)
    if nodes <= 24:
        ax.set_yticks(range(nodes))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("node")
    title(fig, run, "Node downtime")
    return fig
