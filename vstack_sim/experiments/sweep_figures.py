"""The figures of a sweep report and of a comparison.

Each figure function returns a matplotlib Figure (built without pyplot, as in
:mod:`vstack_sim.results.plots`, and saved without metadata so the PNGs are
byte-stable):

* :func:`metric_vs_parameter`: a metric's mean against one grid key with its
  95 % band (error bars for a key whose values are not numbers), one line per
  combination of the other axes;
* :func:`latency_cdfs`: read latency CDFs of every point overlaid (the reads
  tables of its replications pooled);
* :func:`pareto`: storage savings against read p99 and against durability
  across points, with error bars both ways and the non-dominated points joined;
* :func:`recovery_frontier`: the rebuild's window (exposure to a second
  failure) against read p99 during it, one point per setting with intervals
  both ways (``scenarios/sweeps/recovery-frontier.yaml``), and
  :func:`conversion_frontier`, the same for the first wave of conversions;
* :func:`cost_frontier`: the run's dollars against read p99 of replicated and of erasure-coded reads, one point
  per policy (``scenarios/sweeps/policy-zoo.yaml``);
* :func:`mttdl_vs_parameter`: MTTDL with its exponential interval and, where a
  point is the birth-death chain (:func:`vstack_sim.analysis.theory.stripe_mttdl`), the
  exact chain on the same axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vstack_sim.experiments.intervals import (
    LABELS,
    LOSS_ESTIMATE,
    UNITS,
    Group,
    groups_of_sweep,
)
from vstack_sim.results.plots.common import ecdf, latency_scale, new_figure, no_data

SAVINGS = "storage_mean_savings_percent"
P99 = "reads.latency_ms.all.p99"
DURABILITY = (("durability.chunks_lost", "chunks lost"), ("durability.any_loss", "P(any chunk lost)"),
              ("durability.unavailable_chunk_seconds", "unavailable chunk-seconds"))
"""Durability measures for the Pareto view, in order of preference."""
MAX_CDF_ROWS = 20_000
"""Reads drawn per point in the overlaid CDFs (an even thinning of the pooled reads tables)."""


def _axis_label(key: str) -> str:
    """The key with its base unit, e.g. ``failures.node_mttf (seconds)``."""
    from vstack_sim.scenario.reference import schema_rows

    unit = next((r["unit"] for r in schema_rows() if r["key"] == key), "")
    return f"{key} ({unit})" if unit else key


def _metric_label(metric: str) -> str:
    """A metric's label with its unit, e.g. ``read p99, all reads (ms)``."""
    unit = {"pct": "%", "share": "%", "ms": "ms", "s": "s", "bytes": "bytes", "usd": "$"}.get(UNITS.get(metric, ""), "")
    label = LABELS.get(metric, metric)
    return f"{label} ({unit})" if unit else label


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
               for v in values)


def _x_values(sweep, key: str) -> tuple[list, bool]:
    """The key's values in base units (from runs.csv) in point order, and whether they are numbers."""
    xs = [sweep.runs.loc[sweep.runs["point"] == p.name, key].iloc[0] for p in sweep.spec.points()]
    return xs, _numeric(xs)


def metric_vs_parameter(sweep, metric: str, key: str | None = None):
    """A metric's mean and 95 % interval against one grid key (one line per other-axes combination)."""
    spec = sweep.spec
    key = key or spec.keys[0]
    rows = sweep.points[sweep.points["metric"] == metric]
    fig, (ax,) = new_figure()
    if rows.empty or not spec.keys:
        no_data(ax, f"no {metric}")
        return fig
    others = [k for k in spec.keys if k not in spec.axis_of(key)]
    xs_all, numeric = _x_values(sweep, key)
    cats = list(dict.fromkeys(map(str, xs_all)))
    lines = list(rows.groupby(others, sort=False)) if others else [("", rows)]
    for n, (label, part) in enumerate(lines):
        x = part[key].to_numpy()
        xpos = x.astype(float) if numeric else np.array([cats.index(str(v)) for v in x], dtype=float)
        mean, lo, hi = (part[c].to_numpy(dtype=float) for c in ("mean", "lo", "hi"))
        name = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}"
                         for k, v in zip(others, np.atleast_1d(label), strict=False)) or None
        if numeric:
            line, = ax.plot(xpos, mean, marker="o", label=name)
            ax.fill_between(xpos, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
        else:
            offset = (n - (len(lines) - 1) / 2) * 0.08  # side by side, not on top of each other
            err = np.vstack([mean - np.where(np.isnan(lo), mean, lo), np.where(np.isnan(hi), mean, hi) - mean])
            ax.errorbar(xpos + offset, mean, yerr=err, fmt="o", capsize=4, label=name)
    if numeric:
        finite = np.asarray([v for v in xs_all if v > 0], dtype=float)
        if len(finite) and finite.max() / finite.min() > 100:
            ax.set_xscale("log")
    else:
        ax.set_xticks(range(len(cats)), cats)
    if others:
        ax.legend(fontsize=8)
    ax.set_xlabel(_axis_label(key))
    ax.set_ylabel(_metric_label(metric))
    fig.suptitle(f"{LABELS.get(metric, metric)} against {key.rsplit('.', 1)[-1]}, mean and 95 % interval - "
                 f"{spec.name}", fontsize=11)
    return fig


def _reads(folders: list) -> pd.DataFrame:
    frames = []
    for folder in folders:
        path = Path(folder) / "tables" / "reads.csv"
        if path.is_file():
            frames.append(pd.read_csv(path, usecols=["kind", "latency_ms"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["kind", "latency_ms"])


def latency_cdfs(groups: list[Group], title: str = ""):
    """Overlaid CDFs of chunk read latency (successful reads, replications pooled), one line per group."""
    fig, (ax,) = new_figure()
    drawn = []
    for g in groups:
        reads = _reads(g.folders)
        values = reads.loc[reads["kind"] != "failed", "latency_ms"].dropna().to_numpy(dtype=float)
        if len(values) > MAX_CDF_ROWS:
            values = np.sort(values)[np.linspace(0, len(values) - 1, MAX_CDF_ROWS).astype(int)]
        if len(values):
            ecdf(ax, values, g.label, linewidth=1.0)
            drawn.append(values)
    if drawn:
        latency_scale(ax, drawn)
        if len(drawn) <= 12:
            ax.legend(fontsize=7, loc="lower right")
    else:
        no_data(ax, "no reads tables")
    ax.set_xlabel("chunk read latency (ms)")
    ax.set_ylabel("fraction of reads")
    ax.set_ylim(0, 1.02)
    fig.suptitle(f"Read latency, replications pooled (at most {MAX_CDF_ROWS:,} reads drawn each)"
                 f"{(' - ' + title) if title else ''}", fontsize=11)
    return fig


def non_dominated(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Indices of the points no other point beats on both (more savings, lower y), by savings."""
    keep = [i for i in range(len(x)) if not any((x[j] >= x[i] and y[j] <= y[i]) and (x[j] > x[i] or y[j] < y[i])
                                                for j in range(len(x)))]
    return sorted(keep, key=lambda i: x[i])


def pareto(groups: list[Group], title: str = ""):
    """Storage savings against read p99 (top) and durability (bottom) per point, with 95 % intervals."""
    fig, axes = new_figure(2, height=7.0)
    # The first durability measure that is not zero everywhere (a sweep without losses may still have
    # unavailable time); all zero is drawn too, and said.
    durability = next(((m, label) for m, label in DURABILITY
                       if any(np.nansum(np.abs(g.values(m))) > 0 for g in groups)), None)
    if durability is None:
        durability = (DURABILITY[0][0], DURABILITY[0][1] + " (none in any run)")
    _panels(axes, groups, SAVINGS, ((P99, "read p99, all reads (ms)"), durability), False,
            "non-dominated (more savings, lower value)")
    axes[-1].set_xlabel("storage savings vs all-replication, time-averaged (%)")
    fig.suptitle(f"Savings against read p99 and durability{(' - ' + title) if title else ''}", fontsize=11)
    return fig


REBUILD_WINDOW = "recovery.rebuild.window_s"
REBUILD_P99 = "recovery.rebuild.read_latency_during_ms.p99"
CONVERSION_FINISH = "migrations.first_wave.finish_s"
CONVERSION_P99 = "migrations.first_wave.ec_read_latency_after_ms.p99"


def _panels(axes, groups: list[Group], xm: str, panels, smaller_x_better: bool, front_label: str) -> None:
    """One panel per (metric, label) of ``panels`` against ``xm``: points, intervals and the non-dominated line."""
    for ax, (metric, ylabel) in zip(axes, panels, strict=True):
        if _points_and_front(ax, groups, xm, metric, 1.0, smaller_x_better, front_label):
            ax.set_ylabel(ylabel)
        else:
            no_data(ax, f"no {ylabel}")


def _points_and_front(ax, groups: list[Group], xm: str, ym: str, x_unit: float, smaller_x_better: bool,
                      front_label: str) -> bool:
    """Each group's estimate of ``xm`` (divided by ``x_unit``) against ``ym`` with 95 % intervals both ways, the
    points no other beats on both joined (more x, or less x if ``smaller_x_better``; lower y). False if no group
    has both."""
    ix, iy = [g.interval(xm) for g in groups], [g.interval(ym) for g in groups]
    x = np.array([i.estimate for i in ix], dtype=float) / x_unit
    y = np.array([i.estimate for i in iy], dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return False
    for g, a, b in zip(groups, ix, iy, strict=False):
        if not (np.isfinite(a.estimate) and np.isfinite(b.estimate)):
            continue
        xerr = [[(a.estimate - a.lo) / x_unit], [(a.hi - a.estimate) / x_unit]] if np.isfinite(a.lo) else None
        yerr = [[b.estimate - b.lo], [b.hi - b.estimate]] if np.isfinite(b.lo) else None
        ax.errorbar([a.estimate / x_unit], [b.estimate], xerr=xerr, yerr=yerr, fmt="o", capsize=3, color="tab:blue")
        ax.annotate(g.label, (a.estimate / x_unit, b.estimate), fontsize=7, xytext=(4, 4), textcoords="offset points")
    idx = np.flatnonzero(ok)
    front = idx[non_dominated(-x[ok] if smaller_x_better else x[ok], y[ok])]
    ax.plot(x[front], y[front], color="tab:red", linewidth=1, marker="o", markersize=11, fillstyle="none",
            label=front_label)
    ax.legend(fontsize=8, loc="best")
    return True


def _frontier(groups: list[Group], xm: str, ym: str, xlabel: str, ylabel: str, what: str, title: str):
    """x (seconds, drawn in hours) against y (ms) per point; the faster, lower points joined."""
    fig, (ax,) = new_figure()
    if not _points_and_front(ax, groups, xm, ym, 3600.0, True, "non-dominated (faster, lower p99)"):
        no_data(ax, f"no {what} in any run")
        return fig
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.suptitle(f"{what[0].upper() + what[1:]}: time against read tail{(' - ' + title) if title else ''}",
                 fontsize=11)
    return fig


def recovery_frontier(groups: list[Group], title: str = ""):
    """Rebuild window (the exposure to a second failure) against read p99 during the rebuild."""
    return _frontier(groups, REBUILD_WINDOW, REBUILD_P99,
                     "rebuild window: first repair start to last repair end (hours)",
                     "read p99 during the rebuild (ms)", "the recovery frontier", title)


def conversion_frontier(groups: list[Group], title: str = ""):
    """Time for the first converting check's conversions against EC read p99 in the span after that check."""
    return _frontier(groups, CONVERSION_FINISH, CONVERSION_P99,
                     "conversions of the first converting check: time to finish (hours)",
                     "EC read p99 after that check (ms)", "the conversion frontier", title)


COST = "cost.total_dollars"
HOT_P99 = "reads.latency_ms.replication.p99"
COLD_P99 = "reads.latency_ms.erasure_coding.p99"


def cost_frontier(groups: list[Group], title: str = ""):
    """The run's dollars at its prices against read p99 of replicated (top) and erasure-coded (bottom) reads."""
    fig, axes = new_figure(2, height=7.0)
    _panels(axes, groups, COST, ((HOT_P99, "read p99, replicated (ms)"), (COLD_P99, "read p99, erasure coded (ms)")),
            True, "non-dominated (cheaper, lower p99)")
    axes[-1].set_xlabel("cost at the scenario's prices, whole run ($)")
    fig.suptitle(f"Cost against read p99{(' - ' + title) if title else ''}", fontsize=11)
    return fig


def mttdl_vs_parameter(sweep, key: str | None = None):
    """MTTDL per point with its exponential 95 % interval, and the exact chain where a point is that chain."""
    from vstack_sim.analysis.theory import stripe_mttdl

    spec = sweep.spec
    rows = sweep.points[sweep.points["metric"] == "durability.mttdl_s"]
    rows = rows[pd.to_numeric(rows["mean"], errors="coerce") > 0]   # replicated durability runs have no MTTDL
    fig, (ax,) = new_figure()
    if rows.empty:
        no_data(ax, "no stop_at_first_loss points with an MTTDL")
        return fig
    numeric_keys = [k for k in spec.keys if _x_values(sweep, k)[1]]
    key = key or (numeric_keys[0] if numeric_keys else spec.keys[0])
    others = [k for k in spec.keys if k not in spec.axis_of(key)]
    points = {p.name: p for p in spec.points()}
    for label, part in (rows.groupby(others, sort=False) if others else [("", rows)]):
        x = part[key].to_numpy(dtype=float)
        mean, lo, hi = (part[c].to_numpy(dtype=float) / 3600.0 for c in ("mean", "lo", "hi"))
        name = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}"
                         for k, v in zip(others, np.atleast_1d(label), strict=False)) or "simulated"
        err = np.vstack([mean - lo, np.where(np.isfinite(hi), hi, mean) - mean])
        bars = ax.errorbar(x, mean, yerr=err, fmt="o", capsize=4, label=f"{name}: simulated")
        exact = [stripe_mttdl(spec.point_config(points[p])) for p in part["point"]]
        if all(e is not None for e in exact):
            ax.plot(x, np.array(exact) / 3600.0, color=bars[0].get_color(), linestyle="--",
                    label=f"{name}: exact chain")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_axis_label(key))
    ax.set_ylabel("MTTDL (hours)")
    ax.legend(fontsize=8)
    fig.suptitle(f"MTTDL (95 % exponential interval) against the exact chain - {spec.name}", fontsize=11)
    return fig


def _all_zero(points: pd.DataFrame, metric: str) -> bool:
    """Every point's mean and interval of ``metric`` is 0 (or missing): a panel would draw an empty axis."""
    rows = points[points["metric"] == metric][["mean", "lo", "hi"]].to_numpy(dtype=float)
    return bool(np.all(np.nan_to_num(rows) == 0))


def sweep_figures(sweep) -> dict:
    """name -> Figure for the sweep's report."""
    spec = sweep.spec
    present = set(sweep.points["metric"])
    if LOSS_ESTIMATE in present:    # replicated durability runs: no reads or storage, the estimate is what they give
        return {f"loss_estimate-vs-{key.replace('.', '_')}": metric_vs_parameter(sweep, LOSS_ESTIMATE, key)
                for key in spec.keys}
    groups = groups_of_sweep(sweep)
    figs = {}
    for key in spec.keys:
        for metric in (SAVINGS, P99, "recovery.repair_bytes_read", "durability.unavailable_chunk_seconds"):
            if metric in present and not _all_zero(sweep.points, metric):
                figs[f"{metric.replace('.', '_')}-vs-{key.replace('.', '_')}"] = metric_vs_parameter(sweep, metric, key)
    if sweep.path is not None:
        figs["read_latency_cdfs"] = latency_cdfs(groups, spec.name)
    figs["pareto"] = pareto(groups, spec.name)
    if REBUILD_WINDOW in present and not _all_zero(sweep.points, REBUILD_WINDOW):
        figs["recovery_frontier"] = recovery_frontier(groups, spec.name)
    if CONVERSION_FINISH in present and not _all_zero(sweep.points, CONVERSION_FINISH):
        figs["conversion_frontier"] = conversion_frontier(groups, spec.name)
    if "redundancy.policy" in spec.keys and COST in present:
        figs["cost_frontier"] = cost_frontier(groups, spec.name)
    if "durability.mttdl_s" in present:
        figs["mttdl"] = mttdl_vs_parameter(sweep)
    return figs
