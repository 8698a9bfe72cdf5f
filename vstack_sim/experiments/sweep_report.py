"""Figures and the self-contained ``report.html`` of a sweep folder and of a comparison.

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
* :func:`mttdl_vs_parameter`: MTTDL with its exponential interval and, where a
  point is the birth-death chain (:func:`vstack_sim.analysis.theory.stripe_mttdl`), the
  exact chain on the same axes.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from vstack_sim.experiments.intervals import (
    KEY_METRICS,
    LABELS,
    UNITS,
    Group,
    format_difference,
    format_interval,
    group_differences,
    groups_of_sweep,
    paired_table,
    verdict,
)
from vstack_sim.results.plots.common import ecdf, latency_scale, new_figure, no_data, save_figure

_CSS = ("body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
        "pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}img{max-width:100%}")
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
    unit = {"pct": "%", "ms": "ms", "s": "s", "bytes": "bytes"}.get(UNITS.get(metric, ""), "")
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


def _front(x: np.ndarray, y: np.ndarray) -> list[int]:
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
    for ax, (metric, ylabel) in zip(axes, ((P99, "read p99, all reads (ms)"), durability), strict=False):
        sx = [g.interval(SAVINGS) for g in groups]
        sy = [g.interval(metric) for g in groups]
        x = np.array([i.estimate for i in sx], dtype=float)
        y = np.array([i.estimate for i in sy], dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            no_data(ax, f"no {ylabel}")
            continue
        for g, ix, iy in zip(groups, sx, sy, strict=False):
            if not (np.isfinite(ix.estimate) and np.isfinite(iy.estimate)):
                continue
            xerr = [[ix.estimate - ix.lo], [ix.hi - ix.estimate]] if np.isfinite(ix.lo) else None
            yerr = [[iy.estimate - iy.lo], [iy.hi - iy.estimate]] if np.isfinite(iy.lo) else None
            ax.errorbar([ix.estimate], [iy.estimate], xerr=xerr, yerr=yerr, fmt="o", capsize=3, color="tab:blue")
            ax.annotate(g.label, (ix.estimate, iy.estimate), fontsize=7, xytext=(4, 4), textcoords="offset points")
        idx = np.flatnonzero(ok)
        front = idx[_front(x[ok], y[ok])]
        ax.plot(x[front], y[front], color="tab:red", linewidth=1, marker="o", markersize=11, fillstyle="none",
                label="non-dominated (more savings, lower value)")
        ax.legend(fontsize=8, loc="best")
        ax.set_ylabel(ylabel)
    axes[-1].set_xlabel("storage savings vs all-replication, time-averaged (%)")
    fig.suptitle(f"Savings against read p99 and durability{(' - ' + title) if title else ''}", fontsize=11)
    return fig


def mttdl_vs_parameter(sweep, key: str | None = None):
    """MTTDL per point with its exponential 95 % interval, and the exact chain where a point is that chain."""
    from vstack_sim.analysis.theory import stripe_mttdl

    spec = sweep.spec
    rows = sweep.points[sweep.points["metric"] == "durability.mttdl_s"]
    fig, (ax,) = new_figure()
    if rows.empty:
        no_data(ax, "no stop_at_first_loss points")
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


# --------------------------------------------------------------------------- HTML

def _img(fig, path: Path) -> str:
    save_figure(fig, path)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _all_zero(points: pd.DataFrame, metric: str) -> bool:
    """Every point's mean and interval of ``metric`` is 0 (or missing): a panel would draw an empty axis."""
    rows = points[points["metric"] == metric][["mean", "lo", "hi"]].to_numpy(dtype=float)
    return bool(np.all(np.nan_to_num(rows) == 0))


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


def write_markdown(sweep, verdict_lines: list[str]) -> Path:
    """``report.md``: the verdict, then the key numbers per point within an A4 page's width."""
    spec = sweep.spec
    out = [f"# vstack-sim sweep: {spec.name}", "", "## Verdict", ""] + [f"- {line}" for line in verdict_lines]
    out += ["", f"{spec.n_points()} points x {spec.replications} replications; intervals are 95 %.", "",
            "## Key numbers per point", ""] + key_table_markdown(sweep) + [""]
    path = sweep.path / "report.md"
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def sweep_figures(sweep) -> dict:
    """name -> Figure for the sweep's report."""
    spec = sweep.spec
    groups = groups_of_sweep(sweep)
    figs = {}
    present = set(sweep.points["metric"])
    for key in spec.keys:
        for metric in (SAVINGS, P99, "recovery.repair_bytes_read", "durability.unavailable_chunk_seconds"):
            if metric in present and not _all_zero(sweep.points, metric):
                figs[f"{metric.replace('.', '_')}-vs-{key.replace('.', '_')}"] = metric_vs_parameter(sweep, metric, key)
    if sweep.path is not None:
        figs["read_latency_cdfs"] = latency_cdfs(groups, spec.name)
    figs["pareto"] = pareto(groups, spec.name)
    if "durability.mttdl_s" in present:
        figs["mttdl"] = mttdl_vs_parameter(sweep)
    return figs


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


def build(sweep) -> Path:
    """Write ``figures/*.png`` and ``report.html`` of a sweep folder; returns the report's path."""
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
    write_markdown(sweep, verdict_lines)
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
