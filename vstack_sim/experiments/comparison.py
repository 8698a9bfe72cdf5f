"""Comparisons: paired differences under common random numbers, and side-by-side tables of results.

Two entry points share one arithmetic:

* ``Sweep.compare(metric, by=..., baseline=...)`` (:func:`~.intervals.paired_table`): per
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
from pathlib import Path

import pandas as pd

from vstack_sim.analysis import stats
from vstack_sim.experiments.intervals import (
    KEY_METRICS,
    LABELS,
    Group,
    format_difference,
    format_interval,
    groups_of_sweep,
    summary_row,
)


def _groups(item, label: str | None) -> list[Group]:
    from vstack_sim.experiments.sweeps import Sweep
    from vstack_sim.results.store import LoadedResult, ResultsError, load_result

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
            groups = [Group(label or folder.name, pd.DataFrame([summary_row(run.summary)]), [folder],
                            run.config.run.stop_at_first_loss)]
    elif isinstance(item, LoadedResult) or hasattr(item, "summary"):
        folder = getattr(item, "path", None)
        groups = [Group(label or item.config.name, pd.DataFrame([summary_row(item.summary)]),
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
        head = ["metric"] + [f"{lab} (n={len(g.rows)})" for lab, g in zip(labels, self.groups, strict=False)]
        widths = [max(len(str(r[i])) for r in cells + [head]) for i in range(len(head))]
        line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip()  # noqa: E731
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
