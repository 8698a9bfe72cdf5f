"""The self-contained ``report.html`` and ``report.md`` of a sweep folder, and the ``report.html`` of a
comparison: the verdict first, the key numbers per point in tables that fit an A4-wide page, paired
differences, the figures (:mod:`.sweep_figures`), and the resolved sweep and its manifest.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from vstack_sim.experiments import constraints
from vstack_sim.experiments.intervals import (
    KEY_METRICS,
    LABELS,
    format_difference,
    format_interval,
    group_differences,
    groups_of_sweep,
    paired_table,
    verdict,
)
from vstack_sim.experiments.sweep_figures import latency_cdfs, pareto, sweep_figures
from vstack_sim.results.plots.common import save_figure

_CSS = ("body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
        "pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}img{max-width:100%}")
# --------------------------------------------------------------------------- HTML

def _img(fig, path: Path) -> str:
    save_figure(fig, path)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _plain_value(value) -> str:
    """A grid value as a reader writes it: text unquoted, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


MARKDOWN_WIDTH = 120
"""Characters a line of the sweep's report.md may take (an A4-wide page); wider tables split by points."""


def key_table_markdown(sweep) -> list[str]:
    """The key numbers as Markdown, metrics down and points across, split into tables of as many points as fit
    in :data:`MARKDOWN_WIDTH` characters a line."""
    spec = sweep.spec
    shown = [m for m, _, _ in KEY_METRICS if m in set(sweep.points["metric"])]
    points = list(spec.points())
    cells = {}
    for point in points:
        rows = sweep.points[sweep.points["point"] == point.name].set_index("metric")
        cells[point.name] = [format_interval(m, rows.loc[m]) for m in shown]
    first = max([len("metric")] + [len(LABELS[m]) for m in shown])
    out, block = [], []

    def flush():
        if not block:
            return
        widths = [first] + [max(len(p.name), *(len(c) for c in cells[p.name])) for p in block]
        row = lambda items: "| " + " | ".join(s.ljust(w) for s, w in zip(items, widths, strict=True)) + " |"  # noqa: E731
        out.extend([row(["metric"] + [p.name for p in block]), row(["-" * w for w in widths])]
                   + [row([LABELS[m]] + [cells[p.name][i] for p in block]) for i, m in enumerate(shown)] + [""])

    used = first + 4
    for point in points:
        width = max(len(point.name), *(len(c) for c in cells[point.name])) + 3
        if block and used + width > MARKDOWN_WIDTH:
            flush()
            block, used = [], first + 4
        block.append(point)
        used += width
    flush()
    values = [f"- {p.name}: " + ", ".join(f"{k} = {_plain_value(p.values[k])}" for k in spec.keys) for p in points
              if spec.keys]
    return out + values


HTML_POINTS_PER_TABLE = 4
"""Points side by side in one HTML table of key numbers: more would not fit an A4-wide page."""


def key_table_html(sweep) -> list[str]:
    """The key numbers, metrics down and points across, in tables of at most :data:`HTML_POINTS_PER_TABLE` points;
    each point's grid values head its column."""
    e = html.escape
    spec = sweep.spec
    shown = [m for m, _, _ in KEY_METRICS if m in set(sweep.points["metric"])]
    points = list(spec.points())
    out = []
    for start in range(0, len(points), HTML_POINTS_PER_TABLE):
        block = points[start:start + HTML_POINTS_PER_TABLE]
        head = "".join(f"<th>{e(p.name)}" + "".join(f"<br><small>{e(k.rsplit('.', 1)[-1])} = "
                                                     f"{e(_plain_value(p.values[k]))}</small>" for k in spec.keys)
                       + "</th>" for p in block)
        out.append(f"<table><tr><th>metric</th>{head}</tr>")
        rows = {p.name: sweep.points[sweep.points["point"] == p.name].set_index("metric") for p in block}
        out += [f"<tr><td>{e(LABELS[m])}</td>" + "".join(f"<td>{e(format_interval(m, rows[p.name].loc[m]))}</td>"
                                                         for p in block) + "</tr>" for m in shown]
        out.append("</table>")
    return out


def write_markdown(sweep, verdict_lines: list[str], cheapest: str | None = None) -> Path:
    """``report.md``: the verdict (and the cheapest option meeting the constraints, when there are some), then
    the key numbers per point within an A4 page's width."""
    spec = sweep.spec
    out = [f"# vstack-sim sweep: {spec.name}", "", "## Verdict", ""] + [f"- {line}" for line in verdict_lines]
    out += ["", cheapest] if cheapest else []
    out += ["", f"{spec.n_points()} points x {spec.replications} replications; intervals are 95 %.", "",
            "## Key numbers per point", ""] + key_table_markdown(sweep) + [""]
    path = sweep.path / "report.md"
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def _paired_html(sweep, metrics: list[str]) -> str:
    """One table: a row per metric and compared point, the difference with its interval."""
    e = html.escape
    by = sweep.spec.compare.by
    rows, head = [], None
    for metric in metrics:
        if metric == "durability.mttdl_s" or metric not in sweep.runs:
            continue
        table = paired_table(sweep, metric, by, sweep.spec.compare.baseline)
        keys = [c for c in table.columns if c not in ("baseline", "n", "baseline_mean", "mean", "diff", "lo", "hi",
                                                      "diff_percent")]
        head = head or ["metric", *keys, "n", "difference [95 % interval]", "relative"]
        for _, r in table.iterrows():
            rel = "" if not np.isfinite(r["diff_percent"]) else f"{r['diff_percent']:+.2f} %"
            values = [r[k] if isinstance(r[k], str) else json.dumps(r[k], default=str) for k in keys]
            rows.append([LABELS[metric], *values, str(r["n"]), format_difference(metric, r), rel])
    if not rows:
        return "<p>No paired differences.</p>"
    out = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
    return "\n".join(out + ["</table>"])


def build(sweep, require=None) -> Path:
    """Write ``figures/*.png`` and ``report.html`` of a sweep folder; returns the report's path. ``require``:
    constraints such as ``reads.latency_ms.all.p99<=60`` whose cheapest meeting point the verdict names
    (:mod:`.constraints`)."""
    folder = sweep.path
    spec = sweep.spec
    e = html.escape
    (folder / "figures").mkdir(exist_ok=True)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>vstack-sim sweep: {e(spec.name)}</title><style>{_CSS}</style></head><body>",
           f"<h1>vstack-sim sweep: {e(spec.name)}</h1>"]
    if spec.description:
        out.append(f"<p>{e(spec.description)}</p>")
    out.append(f"<p>{spec.n_points()} points x {spec.replications} replications on {e(spec.base_label)}; "
               f"root seed {spec.seed} (replication i has the same seed at every point). Intervals are 95 %: "
               "t for means, Wilson for proportions, exponential for MTTDL.</p>")
    groups = groups_of_sweep(sweep)
    metrics = [m for m, _, _ in KEY_METRICS if m in set(sweep.points["metric"])]
    verdict_lines = (verdict(group_differences(groups, metrics)) if len(groups) > 1
                     else ["One point: nothing to compare it with."])
    out += ["<h2>Verdict</h2><ul>"] + [f"<li>{e(line)}</li>" for line in verdict_lines] + ["</ul>"]
    cheapest = constraints.answer(groups, require) if require else None
    if cheapest:
        out.append(f"<p>{e(cheapest)}</p>")
    out.append(f"<p>Reproduce:</p><pre><code>vstack-sim sweep {e(folder.as_posix())}/sweep.yaml</code></pre>")
    out.append("<h2>Key numbers per point</h2>")
    out += key_table_html(sweep)
    if spec.compare is not None:
        out.append(f"<h2>Paired differences against {e(spec.compare.by)} = {e(str(spec.compare.baseline))}</h2>")
        out.append("<p>Per replication (same seed), then a t-interval of the mean difference.</p>")
        out.append(_paired_html(sweep, metrics))
    out.append("<h2>Figures</h2>")
    for name, fig in sweep_figures(sweep).items():
        title = fig.texts[0].get_text() if fig.texts else name
        out += [f"<h3>{e(title)}</h3>", _img(fig, folder / "figures" / f"{name}.png")]
    resolved = (folder / "sweep.yaml").read_text(encoding="utf-8")
    out += ["<h2>Sweep (resolved)</h2>", f"<pre><code>{e(resolved)}</code></pre>",
            "<h2>Manifest</h2>", f"<pre><code>{e((folder / 'manifest.json').read_text(encoding='utf-8'))}</code></pre>",
            "</body></html>", ""]
    path = folder / "report.html"
    path.write_text("\n".join(out), encoding="utf-8")
    write_markdown(sweep, verdict_lines, cheapest)
    return path


def write_comparison_html(comparison, folder: Path) -> Path:
    """The comparison's ``report.html``: the side-by-side table, the differences and two figures."""
    e = html.escape
    (folder / "figures").mkdir(exist_ok=True)
    labels = ", ".join(g.label for g in comparison.groups)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>vstack-sim comparison</title><style>{_CSS}</style></head><body>",
           "<h1>vstack-sim comparison</h1>"]
    out += ["<h2>Verdict</h2><ul>"] + [f"<li>{e(line)}</li>" for line in comparison.verdict()] + ["</ul>"]
    if comparison.choice is not None:
        out.append(f"<p>{e(comparison.choice.sentence())}</p>")
    if comparison.warnings:
        out += ["<p>The compared runs differ in more than the compared keys:</p><ul>"]
        out += [f"<li>{e(line)}</li>" for line in comparison.warnings] + ["</ul>"]
    out += [f"<p>{e(labels)}. Intervals are 95 % where there are replications.</p>",
            "<h2>Key numbers</h2>", comparison.to_html_table()]
    if len(comparison.differences):
        d = comparison.differences
        out += [f"<h2>Differences against {e(comparison.groups[0].label)}</h2>",
                "<p>Paired t when both ran the same seeds (common random numbers), Welch otherwise; "
                "differences of percentages in points.</p>",
                "<table><tr><th>metric</th><th>group</th><th>n</th><th>difference [95 % interval]</th>"
                "<th>method</th></tr>"]
        out += [f"<tr><td>{e(LABELS.get(r['metric'], r['metric']))}</td><td>{e(str(r['group']))}</td>"
                f"<td>{int(r['n'])}</td><td>{e(format_difference(r['metric'], r))}</td><td>{e(r['method'])}</td></tr>"
                for _, r in d.iterrows()]
        out.append("</table>")
    out.append("<h2>Figures</h2>")
    for name, fig in (("read_latency_cdfs", latency_cdfs(comparison.groups)), ("pareto", pareto(comparison.groups))):
        out += [f"<h3>{e(fig.texts[0].get_text())}</h3>", _img(fig, folder / "figures" / f"{name}.png")]
    out += ["</body></html>", ""]
    path = folder / "report.html"
    path.write_text("\n".join(out), encoding="utf-8")
    return path
