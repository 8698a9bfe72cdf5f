"""The arithmetic of many runs: the key metrics with their labels and units, one row per run, intervals
per metric, paired differences under common random numbers, and their formatting.

Sweeps (:mod:`.sweeps`), their report (:mod:`.sweep_report`) and comparisons (:mod:`.comparison`) all
use this one module, so a metric is labelled, bounded and formatted the same way everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vstack_sim.analysis import stats
from vstack_sim.analysis.weighted import pooled_estimate
from vstack_sim.experiments.nines import ANALYTIC_NINES, EXPOSURE_NINES, exposure_nines_interval
from vstack_sim.scenario.units import format_bytes, format_duration

MTTDL = "durability.mttdl_s"
ANY_LOSS = "durability.any_loss"
LOSS_ESTIMATE = "loss_estimate.probability"
"""A one-stripe durability run's weighted P(loss) (``run.replications``): pooled over a point's runs with
their own standard errors, not with the t interval of a few run means."""

KEY_METRICS = (
    ("storage.storage_savings_percent", "storage savings at the end", "pct"),
    ("storage_mean_savings_percent", "storage savings, time-averaged", "pct"),
    ("reads.latency_ms.all.p99", "read p99, all reads", "ms"),
    ("reads.latency_ms.replication.p99", "read p99, replicated", "ms"),
    ("reads.latency_ms.erasure_coding.p99", "read p99, erasure coded (normal)", "ms"),
    ("reads.latency_ms.degraded.p99", "read p99, degraded", "ms"),
    ("reads.latency_ms.cache.p99", "read p99, cache hits", "ms"),
    ("reads.cache.hit_ratio", "cache hit ratio (the byte hit ratio too: chunks are one size)", "prob"),
    ("reads.cache.by_mode.replication.hit_ratio", "cache hit ratio, replicated chunks", "prob"),
    ("reads.cache.by_mode.erasure_coding.hit_ratio", "cache hit ratio, erasure-coded chunks", "prob"),
    ("reads.startup_latency_ms.p99", "start-up latency p99", "ms"),
    ("reads.failed", "failed chunk reads", "count"),
    ("recovery.node_failures", "declared node failures", "count"),
    ("recovery.disk_failures", "disk failures", "count"),
    ("recovery.time_s.mean", "recovery time, mean", "s"),
    ("recovery.repair_bytes_read", "bytes read by repairs", "bytes"),
    ("recovery.repair_bytes_written", "bytes repaired (written)", "bytes"),
    ("durability.chunks_lost", "chunks lost", "count"),
    ("durability.any_loss", "P(any chunk lost)", "prob"),
    ("durability.unavailable_chunk_seconds", "unavailable chunk-seconds", "count"),
    ("durability.mttdl_s", "MTTDL", "s"),
    (EXPOSURE_NINES, "durability nines, a chunk over a year (exposure estimate, pooled)", "nines"),
    (ANALYTIC_NINES, "durability nines, a chunk over a year (exact chain)", "nines"),
    (LOSS_ESTIMATE, "P(loss within the mission) (weighted replications)", "rare"),
    ("migrations.to_replication", "migrations to replication", "count"),
    ("migrations.to_erasure_coding", "migrations to EC", "count"),
    ("conversions.io_share.mean", "conversions' share of all disk I/O", "share"),
    ("conversions.replicated_fraction.steady_state.mean", "replicated share in steady state", "share"),
    ("cost.total_dollars", "cost at the scenario's prices", "usd"),
)
"""(metric, label, unit) of the numbers a comparison shows first."""
LABELS = {m: label for m, label, _ in KEY_METRICS}
UNITS = {m: unit for m, _, unit in KEY_METRICS}


def format_value(metric: str, value) -> str:
    """A number in the metric's unit (``12.34 %``, ``3.2 GiB``, ``4h 10min``)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "inf" if value == np.inf else "n/a"
    unit = UNITS.get(metric)
    if unit == "pct":
        return f"{value:.2f} %"
    if unit == "ms":
        return f"{value:,.2f} ms"
    if unit == "s":
        return format_duration(float(value))
    if unit == "bytes":
        return format_bytes(float(value))
    if unit == "prob":
        return f"{value:.3f}"
    if unit == "rare":                # a small probability: significant figures, not decimals
        return f"{value:.4g}"
    if unit == "share":               # a fraction shown in percent
        return f"{100 * value:.2f} %"
    if unit == "usd":
        return f"${value:,.2f}"
    if unit == "nines":
        return f"{value:.2f} nines"
    return f"{value:,.6g}"


def _flat(lo, hi, mean) -> bool:
    """An interval of no width (every replication gave the same value, up to rounding)."""
    return abs(hi - lo) <= 1e-9 * max(1.0, abs(mean))


def format_interval(metric: str, row) -> str:
    """``mean [lo, hi]``, or the value alone without an interval (one run)."""
    mean = format_value(metric, row["mean"])
    if (pd.isna(row["lo"]) and pd.isna(row["hi"])) or _flat(row["lo"], row["hi"], row["mean"]):
        return mean  # one run, or every replication gave the same value
    lo, hi = format_value(metric, row["lo"]), format_value(metric, row["hi"])
    return mean if lo == hi == mean else f"{mean} [{lo}, {hi}]"


def _signed(metric: str, value) -> str:
    if value is None or not np.isfinite(value):
        return format_value(metric, value)
    if value == 0:
        return "0"
    if UNITS.get(metric) in ("pct", "share"):    # a difference of percentages is in points
        scale = 100 if UNITS.get(metric) == "share" else 1
        return ("+" if value > 0 else "-") + f"{scale * abs(value):.2f} points"
    return ("+" if value > 0 else "-") + format_value(metric, abs(value))


def format_difference(metric: str, row) -> str:
    """``+diff [lo, hi]`` in the metric's unit; the difference alone without an interval."""
    diff = _signed(metric, row["diff"])
    if pd.isna(row["lo"]) or _flat(row["lo"], row["hi"], row["diff"]):
        return diff
    lo, hi = _signed(metric, row["lo"]), _signed(metric, row["hi"])
    return diff if lo == hi == diff else f"{diff} [{lo}, {hi}]"


# --------------------------------------------------------------------------- paired, inside a sweep

def paired_table(sweep, metric: str, by: str | None, baseline, level: float = 0.95) -> pd.DataFrame:
    """Rows: the other axes' values, ``by``'s value, n, baseline mean, mean, diff, lo, hi, diff_percent."""
    spec, runs = sweep.spec, sweep.runs
    if by is None:
        if spec.compare is not None:
            by = spec.compare.by
        elif len(spec.keys) == 1:
            by = spec.keys[0]
        else:
            raise ValueError(f"by: which key to compare along? one of {', '.join(spec.keys)}")
    if by not in spec.keys:
        raise ValueError(f"by: {by!r} is not a grid or zip key of this sweep ({', '.join(spec.keys) or 'none'})")
    if metric not in runs.columns:
        raise ValueError(f"metric: {metric!r} is not a column of runs (e.g. storage.storage_savings_percent)")
    values = spec.grid.get(by) or spec.zip.get(by)
    if baseline is None:
        baseline = spec.compare.baseline if spec.compare is not None and spec.compare.by == by else values[0]
    if baseline not in values:
        raise ValueError(f"baseline: {baseline!r} is not a value of {by} ({values})")
    others = [k for k in spec.keys if k not in spec.axis_of(by)]
    groups: dict[tuple, dict] = {}
    for point in spec.points():
        key = tuple(json.dumps(point.values[k], sort_keys=True, default=str) for k in others)
        groups.setdefault(key, {})[json.dumps(point.values[by], sort_keys=True, default=str)] = point
    rows = []
    base_key = json.dumps(baseline, sort_keys=True, default=str)
    for _key, members in groups.items():
        base_point = members[base_key]
        base = runs[runs["point"] == base_point.name].set_index("replication")[metric].astype(float)
        for value in values:
            vkey = json.dumps(value, sort_keys=True, default=str)
            if vkey == base_key or vkey not in members:
                continue
            point = members[vkey]
            other = runs[runs["point"] == point.name].set_index("replication")[metric].astype(float)
            common = base.index.intersection(other.index)
            diffs = (other.loc[common] - base.loc[common]).to_numpy()
            iv = stats.mean_interval(diffs, level)
            b_mean = float(base.loc[common].mean()) if len(common) else np.nan
            rows.append({**{k: point.values[k] for k in others}, by: value, "baseline": baseline, "n": iv.n,
                         "baseline_mean": b_mean, "mean": float(other.loc[common].mean()) if len(common) else np.nan,
                         "diff": iv.estimate, "lo": iv.lo, "hi": iv.hi,
                         "diff_percent": 100.0 * iv.estimate / b_mean if b_mean else np.nan})
    return pd.DataFrame(rows)


@dataclass
class Group:
    """Runs compared as one column: their flattened summaries, seeds and folders (where known)."""

    label: str
    rows: pd.DataFrame
    folders: list = field(default_factory=list)
    stop_at_first_loss: bool = False
    config: object | None = None
    """The group's scenario (a sweep point's, or a run's), when known: comparisons warn where configs differ."""
    compared: tuple = ()
    """Scenario keys the groups differ in on purpose (a sweep's grid and zip keys)."""

    @property
    def seeds(self) -> list:
        return [int(s) for s in self.rows["run.seed"]] if "run.seed" in self.rows else []

    def interval(self, metric: str, level: float = 0.95) -> stats.Interval:
        return metric_interval(self.rows, metric, self.stop_at_first_loss, level)

    def values(self, metric: str) -> np.ndarray:
        if metric not in self.rows:
            return np.array([])
        return pd.to_numeric(self.rows[metric], errors="coerce").to_numpy(dtype=float)


def groups_of_sweep(sweep) -> list[Group]:
    """One group per point of a sweep."""
    out = []
    for point in sweep.spec.points():
        rows = sweep.runs[sweep.runs["point"] == point.name].reset_index(drop=True)
        folders = [sweep.path / "runs" / f for f in rows["folder"]] if sweep.path is not None else []
        label = point.name if len(sweep.spec.keys) else sweep.spec.name
        config = sweep.spec.point_config(point)
        out.append(Group(label, rows, folders, config.run.stop_at_first_loss, config, tuple(sweep.spec.keys)))
    return out


def group_differences(groups: list[Group], metrics: list[str], level: float = 0.95) -> pd.DataFrame:
    """Each group after the first minus the first, per metric: paired t when both ran the same seeds
    (common random numbers), Welch's interval otherwise."""
    rows = []
    base = groups[0]
    for g in groups[1:]:
        paired = bool(base.seeds) and base.seeds == g.seeds
        for m in metrics:
            if m == MTTDL:
                continue
            a, b = g.values(m), base.values(m)
            iv = stats.mean_interval(a - b, level) if paired else stats.difference_interval(a, b, level)
            rows.append({"metric": m, "group": g.label, "baseline": base.label, "n": iv.n,
                         "diff": iv.estimate, "lo": iv.lo, "hi": iv.hi,
                         "method": "paired t" if paired else "welch"})
    return pd.DataFrame(rows, columns=["metric", "group", "baseline", "n", "diff", "lo", "hi", "method"])


VERDICT_METRICS = {
    "storage_mean_savings_percent": ("storage savings", 1), "reads.latency_ms.all.p99": ("read p99", -1),
    "reads.latency_ms.replication.p99": ("replicated read p99", -1),
    "reads.latency_ms.erasure_coding.p99": ("EC read p99", -1), "durability.chunks_lost": ("chunks lost", -1),
    "recovery.time_s.mean": ("recovery time", -1),
}
"""The metrics a verdict weighs, each with its name in the sentence and its better direction (+1: higher)."""


def verdict(diffs: pd.DataFrame) -> list[str]:
    """One sentence per group against the first: where it is better or worse with intervals, where the
    interval holds 0 ("no different"), and "dominates" when it is better somewhere and worse nowhere."""
    out = []
    for (group, baseline), part in diffs.groupby(["group", "baseline"], sort=False):
        better, worse, same = [], [], []
        for metric, (name, sign) in VERDICT_METRICS.items():
            row = part[part["metric"] == metric]
            if not len(row) or not np.isfinite(row["diff"].iloc[0]):
                continue
            r = row.iloc[0]
            shown = f"{name} {format_difference(metric, r)}"
            if not np.isfinite(r["lo"]):
                shown += " (no interval: too few runs)"
            if np.isfinite(r["lo"]) and r["lo"] <= 0 <= r["hi"] or r["diff"] == 0:
                same.append(name)
            elif sign * r["diff"] > 0:      # the interval excludes 0 (or there is one run a side)
                better.append(shown)
            else:
                worse.append(shown)
        if better and not worse:
            head = f"{group} dominates {baseline} here: better on {', '.join(better)}"
        elif better or worse:
            head = f"{group} against {baseline}: " + "; ".join(
                part for part in (f"better on {', '.join(better)}" if better else "",
                                  f"worse on {', '.join(worse)}" if worse else "") if part)
        else:
            head = f"{group} against {baseline}: no difference on any weighed metric"
        out.append(head + (f"; no different on {', '.join(same)}." if same and (better or worse) else "."))
    return out


# --------------------------------------------------------------------------- one row per run

def flatten(summary: dict, prefix: str = "") -> dict:
    """A nested summary as ``{"reads.latency_ms.all.p99": 12.3, ...}``; lists become JSON text."""
    out = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            out[name] = json.dumps(value, sort_keys=True)
        else:
            out[name] = np.nan if value is None else value
    return out


def summary_row(summary: dict) -> dict:
    """A run's summary as one row: flattened, plus ``durability.any_loss`` (a proportion across runs)."""
    row = flatten(summary)
    lost = row.get("durability.chunks_lost")
    row[ANY_LOSS] = bool(lost > 0) if lost is not None and lost == lost else np.nan
    return row


def metric_interval(rows: pd.DataFrame, metric: str, stop_at_first_loss: bool, level: float = 0.95) -> stats.Interval:
    """The interval of one metric over some runs: Wilson for true/false, exponential for MTTDL, the pooled
    exposure estimate for its nines (:mod:`.nines`), else t."""
    if metric == MTTDL:
        if not stop_at_first_loss or "durability.chunks_lost" not in rows:
            return stats.Interval(np.nan, np.nan, np.nan, 0, "exponential", level)
        lost = rows["durability.chunks_lost"].to_numpy(dtype=np.float64) > 0
        times = np.where(lost, rows["durability.first_loss_s"].to_numpy(dtype=np.float64),
                         rows["run.ended_s"].to_numpy(dtype=np.float64))
        return stats.mttdl_interval(times, lost, level)
    if metric == EXPOSURE_NINES:        # from the runs' expected losses, not their nines (nines.py)
        return exposure_nines_interval(rows, level)
    if metric not in rows:
        return stats.Interval(np.nan, np.nan, np.nan, 0, "t", level)
    if metric == LOSS_ESTIMATE and "loss_estimate.std_error" in rows:
        done = rows.dropna(subset=[metric])
        mean, lo, hi = pooled_estimate(done[metric], done["loss_estimate.std_error"], level)
        return stats.Interval(mean, lo, hi, int(done["run.replications"].sum()), "weighted", level)
    values = rows[metric].dropna()
    if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
        return stats.wilson_interval(int(sum(bool(v) for v in values)), len(values), level)
    return stats.mean_interval(pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64), level)
