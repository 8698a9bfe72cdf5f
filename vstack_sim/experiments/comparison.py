"""Comparisons: paired differences under common random numbers, and side-by-side tables of results.

Two entry points share one arithmetic:

* ``Sweep.compare(metric, by=..., baseline=...)`` (:func:`paired_table`): per
  replication i, ``metric(point with by=v, i) - metric(point with by=baseline, i)``
  at every combination of the other axes, with a t-interval of the mean
  difference. Replication i has the same seed at every point, so both sides saw
  the same failures and views and the noise they share cancels.
* ``vstack_sim.compare(results...)`` / ``vstack-sim compare DIR DIR ...``: run
  folders, sweep folders (one group per point), ``Result`` or ``Sweep`` objects
  side by side, with intervals where there are replications, and differences
  against the first group: paired when both groups ran the same seeds, Welch's
  interval otherwise.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vstack_sim.analysis import stats
from vstack_sim.scenario.units import format_bytes, format_duration

KEY_METRICS = (
    ("storage.storage_savings_percent", "storage savings at the end", "pct"),
    ("storage_mean_savings_percent", "storage savings, time-averaged", "pct"),
    ("reads.latency_ms.all.p99", "read p99, all reads", "ms"),
    ("reads.latency_ms.replication.p99", "read p99, replicated", "ms"),
    ("reads.latency_ms.erasure_coding.p99", "read p99, erasure coded (normal)", "ms"),
    ("reads.latency_ms.degraded.p99", "read p99, degraded", "ms"),
    ("reads.startup_latency_ms.p99", "start-up latency p99", "ms"),
    ("reads.failed", "failed chunk reads", "count"),
    ("recovery.node_failures", "declared node failures", "count"),
    ("recovery.time_s.mean", "recovery time, mean", "s"),
    ("recovery.repair_bytes_read", "bytes read by repairs", "bytes"),
    ("recovery.repair_bytes_written", "bytes repaired (written)", "bytes"),
    ("durability.chunks_lost", "chunks lost", "count"),
    ("durability.any_loss", "P(any chunk lost)", "prob"),
    ("durability.unavailable_chunk_seconds", "unavailable chunk-seconds", "count"),
    ("durability.mttdl_s", "MTTDL", "s"),
    ("migrations.to_replication", "migrations to replication", "count"),
    ("migrations.to_erasure_coding", "migrations to EC", "count"),
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
    for key, members in groups.items():
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


# --------------------------------------------------------------------------- groups of runs

@dataclass
class Group:
    """Runs compared as one column: their flattened summaries, seeds and folders (where known)."""

    label: str
    rows: pd.DataFrame
    folders: list = field(default_factory=list)
    stop_at_first_loss: bool = False

    @property
    def seeds(self) -> list:
        return [int(s) for s in self.rows["run.seed"]] if "run.seed" in self.rows else []

    def interval(self, metric: str, level: float = 0.95) -> stats.Interval:
        from vstack_sim.experiments.sweeps import metric_interval

        return metric_interval(self.rows, metric, self.stop_at_first_loss, level)

    def values(self, metric: str) -> np.ndarray:
        if metric not in self.rows:
            return np.array([])
        return pd.to_numeric(self.rows[metric], errors="coerce").to_numpy(dtype=float)


def _flat_row(summary: dict) -> dict:
    from vstack_sim.experiments.sweeps import summary_row

    return summary_row(summary)


def groups_of_sweep(sweep) -> list[Group]:
    """One group per point of a sweep."""
    out = []
    for point in sweep.spec.points():
        rows = sweep.runs[sweep.runs["point"] == point.name].reset_index(drop=True)
        folders = [sweep.path / "runs" / f for f in rows["folder"]] if sweep.path is not None else []
        label = point.name if len(sweep.spec.keys) else sweep.spec.name
        out.append(Group(label, rows, folders, sweep.spec.point_config(point).run.stop_at_first_loss))
    return out


def _groups(item, label: str | None) -> list[Group]:
    from vstack_sim.results.store import LoadedResult, ResultsError, load_result
    from vstack_sim.experiments.sweeps import Sweep

    if isinstance(item, Sweep):
        groups = groups_of_sweep(item)
    elif isinstance(item, (str, Path)):
        folder = Path(item)
        if (folder / "runs.csv").is_file() and (folder / "sweep.yaml").is_file():
            groups = groups_of_sweep(Sweep.load(folder))
            if len(groups) > 1:
                for g in groups:
                    g.label = f"{folder.name}/{g.label}"
        elif (folder / "sweep.yaml").is_file():
            raise ResultsError(f"{item}: an unfinished sweep (no runs.csv); finish it with --resume first")
        else:
            run = load_result(folder)
            groups = [Group(label or folder.name, pd.DataFrame([_flat_row(run.summary)]), [folder],
                            run.config.run.stop_at_first_loss)]
    elif isinstance(item, LoadedResult) or hasattr(item, "summary"):
        folder = getattr(item, "path", None)
        groups = [Group(label or item.config.name, pd.DataFrame([_flat_row(item.summary)]),
                        [folder] if folder is not None else [], item.config.run.stop_at_first_loss)]
    else:
        raise TypeError(f"cannot compare a {type(item).__name__}; give folders, Results or Sweeps")
    if label is not None and len(groups) == 1:
        groups[0].label = label
    return groups


class Comparison:
    """Groups side by side: ``table`` (metric x group intervals) and ``differences`` (vs the first group)."""

    def __init__(self, groups: list[Group], level: float = 0.95):
        if len(groups) < 1:
            raise ValueError("compare needs at least one result")
        self.groups = groups
        self.level = level
        metrics = [m for m, _, _ in KEY_METRICS if any(g.interval(m, level).n for g in groups)]
        self.metrics = metrics
        self.table = pd.DataFrame([{"metric": m, "group": g.label, **g.interval(m, level).as_dict()}
                                   for m in metrics for g in groups])
        rows = []
        base = groups[0]
        for g in groups[1:]:
            paired = bool(base.seeds) and base.seeds == g.seeds
            for m in metrics:
                if m == "durability.mttdl_s":
                    continue
                a, b = g.values(m), base.values(m)
                iv = stats.mean_interval(a - b, level) if paired else stats.difference_interval(a, b, level)
                rows.append({"metric": m, "group": g.label, "baseline": base.label, "n": iv.n,
                             "diff": iv.estimate, "lo": iv.lo, "hi": iv.hi,
                             "method": "paired t" if paired else "welch"})
        self.differences = pd.DataFrame(rows, columns=["metric", "group", "baseline", "n", "diff", "lo", "hi",
                                                       "method"])

    def format(self) -> str:
        """A side-by-side text table of the key numbers (``mean [lo, hi]`` where there are replications)."""
        labels = [g.label for g in self.groups]
        cells = [[LABELS[m]] + [format_interval(m, self._row(m, lab)) for lab in labels] for m in self.metrics]
        head = ["metric"] + [f"{lab} (n={len(g.rows)})" for lab, g in zip(labels, self.groups)]
        widths = [max(len(str(r[i])) for r in cells + [head]) for i in range(len(head))]
        line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
        out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in cells]
        d = self.differences
        if len(self.groups) > 1 and len(d):
            others = labels[1:]
            rows = []
            for m in self.metrics:
                cells = []
                for lab in others:
                    r = d[(d["metric"] == m) & (d["group"] == lab)]
                    cells.append(format_difference(m, r.iloc[0]) if len(r) else "")
                if any(c not in ("", "0", "n/a") for c in cells):
                    rows.append([LABELS[m]] + cells)
            methods = sorted(set(d["method"]))
            head = [f"minus {labels[0]}"] + others
            widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
            out += ["", f"differences ({', '.join(methods)}, {int(self.level * 100)} % intervals; rows that "
                    "differ somewhere):", line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
        return "\n".join(out)

    def _row(self, metric: str, label: str):
        t = self.table
        return t[(t["metric"] == metric) & (t["group"] == label)].iloc[0]

    def write(self, out: str | Path) -> Path:
        """``comparison.csv``, ``differences.csv`` and a self-contained ``report.html`` in ``out``."""
        from vstack_sim.experiments import sweep_report
        from vstack_sim.results.folders import AtomicFolder
        from vstack_sim.results.store import write_table

        with AtomicFolder(Path(out)) as folder:
            write_table(self.table, folder.tmp / "comparison.csv")
            write_table(self.differences, folder.tmp / "differences.csv")
            sweep_report.write_comparison_html(self, folder.tmp)
        return folder.final

    def to_html_table(self) -> str:
        e = html.escape
        labels = [g.label for g in self.groups]
        out = ["<table><tr><th>metric</th>" + "".join(f"<th>{e(lab)}</th>" for lab in labels) + "</tr>"]
        for m in self.metrics:
            out.append(f"<tr><td>{e(LABELS[m])}</td>"
                       + "".join(f"<td>{e(format_interval(m, self._row(m, lab)))}</td>" for lab in labels) + "</tr>")
        out.append("</table>")
        return "\n".join(out)


def compare(*results, labels: list[str] | None = None, level: float = 0.95) -> Comparison:
    """Compare run folders, sweep folders, ``Result``/``LoadedResult`` or ``Sweep`` objects side by side."""
    if labels is not None and len(labels) != len(results):
        raise ValueError(f"labels: {len(labels)} labels for {len(results)} results")
    groups = []
    for i, item in enumerate(results):
        groups.extend(_groups(item, labels[i] if labels else None))
    seen = set()
    for g in groups:  # two folders of the same name stay apart in tables
        base, n = g.label, 2
        while g.label in seen:
            g.label = f"{base}-{n}"
            n += 1
        seen.add(g.label)
    return Comparison(groups, level)
