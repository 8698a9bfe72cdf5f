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
import json
from pathlib import Path

import pandas as pd

from vstack_sim.experiments.constraints import choose
from vstack_sim.experiments.intervals import (
    KEY_METRICS,
    LABELS,
    Group,
    format_difference,
    format_interval,
    group_differences,
    groups_of_sweep,
    summary_row,
    verdict,
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
                            run.config.run.stop_at_first_loss, run.config)]
    elif isinstance(item, LoadedResult) or hasattr(item, "summary"):
        folder = getattr(item, "path", None)
        groups = [Group(label or item.config.name, pd.DataFrame([summary_row(item.summary)]),
                        [folder] if folder is not None else [], item.config.run.stop_at_first_loss, item.config)]
    else:
        raise TypeError(f"cannot compare a {type(item).__name__}; give folders, Results or Sweeps")
    if label is not None and len(groups) == 1:
        groups[0].label = label
    return groups


IGNORED_KEYS = ("name", "description", "run.seed")
"""Scenario keys that differ between compared runs without changing what they measure."""


def _flat_config(config) -> dict:
    from vstack_sim.scenario.emit import config_dict

    def walk(node, prefix=""):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from walk(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", json.dumps(value, sort_keys=True, default=str)

    return dict(walk(config_dict(config)))


def config_differences(groups: list[Group]) -> list[str]:
    """One line per scenario key whose value differs between groups, other than the keys compared on purpose
    (a sweep's axes) and those in :data:`IGNORED_KEYS`."""
    known = [(g.label, _flat_config(g.config)) for g in groups if g.config is not None]
    if len(known) < 2:
        return []
    compared = {k for g in groups for k in g.compared}
    keys = sorted(set().union(*(flat for _, flat in known)))
    out = []
    for key in keys:
        if key in IGNORED_KEYS or key in compared or any(key.startswith(c + ".") for c in compared):
            continue
        values = {label: flat.get(key, "(unset)") for label, flat in known}
        if len(set(values.values())) > 1:
            shown = ", ".join(f"{v} ({label})" for label, v in values.items())
            out.append(f"scenario key {key} differs: {shown if len(shown) <= 200 else shown[:197] + '...'}")
    return out


TERMINAL_WIDTH = 120
"""Columns a terminal table may take; wider tables wrap into blocks of columns."""


def text_table(head: list[str], rows: list[list[str]], width: int = TERMINAL_WIDTH) -> list[str]:
    """Left-aligned columns; when they would pass ``width``, the first column repeats over blocks of the rest."""
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    blocks, block, used = [], [], widths[0]
    for i in range(1, len(head)):
        if block and used + 2 + widths[i] > width:
            blocks.append(block)
            block, used = [], widths[0]
        block.append(i)
        used += 2 + widths[i]
    blocks.append(block)
    out = []
    for n, block in enumerate(blocks):
        cols = [0, *block]

        def line(r, cols=cols):
            return "  ".join(str(r[i]).ljust(widths[i]) for i in cols).rstrip()

        out += ([""] if n else []) + [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return out


class Comparison:
    """Groups side by side: ``table`` (metric x group intervals), ``differences`` (vs the first group) and, given
    constraints (``require``), ``choice``: the cheapest group meeting them (:mod:`.constraints`)."""

    def __init__(self, groups: list[Group], level: float = 0.95, require=None):
        if len(groups) < 1:
            raise ValueError("compare needs at least one result")
        self.groups = groups
        self.level = level
        metrics = [m for m, _, _ in KEY_METRICS if any(g.interval(m, level).n for g in groups)]
        self.metrics = metrics
        self.table = pd.DataFrame([{"metric": m, "group": g.label, **g.interval(m, level).as_dict()}
                                   for m in metrics for g in groups])
        self.differences = group_differences(groups, metrics, level)
        self.warnings = config_differences(groups)
        self.choice = choose(groups, require, level) if require else None

    def verdict(self) -> list[str]:
        """Which group wins on which metric against the first, with intervals, and where they do not differ."""
        return verdict(self.differences)

    def format(self, width: int = TERMINAL_WIDTH) -> str:
        """The verdict, then side-by-side text tables of the key numbers (``mean [lo, hi]`` where there are
        replications) and of the differences, wrapped into blocks of groups that fit ``width`` columns."""
        labels = [g.label for g in self.groups]
        cells = [[LABELS[m]] + [format_interval(m, self._row(m, lab)) for lab in labels] for m in self.metrics]
        head = ["metric"] + [f"{lab} (n={len(g.rows)})" for lab, g in zip(labels, self.groups, strict=True)]
        out = [*self.verdict(), ""] if len(self.groups) > 1 else []
        out += [self.choice.sentence(), ""] if self.choice is not None else []
        out += text_table(head, cells, width)
        d = self.differences
        if len(self.groups) > 1 and len(d):
            others = labels[1:]
            rows = []
            for m in self.metrics:
                diff_cells = []
                for lab in others:
                    r = d[(d["metric"] == m) & (d["group"] == lab)]
                    diff_cells.append(format_difference(m, r.iloc[0]) if len(r) else "")
                if any(c not in ("", "0", "n/a") for c in diff_cells):
                    rows.append([LABELS[m]] + diff_cells)
            methods = sorted(set(d["method"]))
            out += ["", f"differences ({', '.join(methods)}, {int(self.level * 100)} % intervals; rows that "
                    "differ somewhere):"] + text_table([f"minus {labels[0]}"] + others, rows, width)
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


def compare(*results, labels: list[str] | None = None, level: float = 0.95, require=None) -> Comparison:
    """Compare run folders, sweep folders, ``Result``/``LoadedResult`` or ``Sweep`` objects side by side;
    ``require``: constraints such as ``"storage_mean_savings_percent>=35"`` whose cheapest meeting group
    the comparison names."""
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
    return Comparison(groups, level, require)
