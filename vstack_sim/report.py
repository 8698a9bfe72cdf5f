"""Reports from a results folder: ``report.md``, a self-contained ``report.html`` and the figures.

:func:`build_report` reads a folder back (:func:`vstack_sim.results.load_result`),
draws every figure of :mod:`vstack_sim.plots` into ``figures/`` and writes both
reports. ``vstack-sim run`` calls it on the folder it has just written, and
``vstack-sim report RESULT_DIR`` calls it again, so the two give the same bytes.

The report shows the resolved scenario, the key numbers with the seed
document's claims beside ours where they apply, the figures, the manifest and
a one-line command that reproduces the run. :func:`format_summary` is the
short table ``vstack-sim run`` prints at the end.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

from .ledger import StorageLedger
from .units import format_bytes, format_duration

def _is_seed_shaped(config) -> bool:
    """The seed's catalog: 1,000 videos x 50 chunks of 2 MiB, 5 % hot, 3 replicas vs RS(3,2), adaptive."""
    cat, red = config.catalog, config.redundancy
    return (cat.videos, cat.chunks_per_video, cat.chunk_size, cat.hot_fraction, cat.starting_views,
            cat.chunk_count_distribution, red.replication_factor, red.data_shards, red.parity_shards,
            red.policy) == (1000, 50, 2 * 2**20, 0.05, "hot_fraction", "fixed", 3, 3, 2, "adaptive")


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.2f} %"


def _ms(x) -> str:
    return "n/a" if x is None else f"{x:,.2f} ms"


def _stat(block, key):
    return None if not block else block.get(key)


def key_numbers(run) -> list[tuple[str, str, str]]:
    """(what, ours, the seed's claim or "") rows for the report."""
    s, cfg = run.summary, run.config
    red = cfg.redundancy
    seed_shaped = _is_seed_shaped(cfg)
    per_chunk = StorageLedger.for_settings(red, cfg.catalog.chunk_size).per_chunk_savings_percent()
    standard = (red.replication_factor, red.data_shards, red.parity_shards) == (3, 3, 2)
    start, end = s["storage_initial"], s["storage"]
    rows = [
        ("Storage savings at ingest (vs all-replication)", _pct(start["storage_savings_percent"]),
         "42.2 % (1,000 videos x 50 chunks, 5 % hot)" if seed_shaped else "~40 % (headline)"),
        ("Physical bytes at ingest", f"{start['total_physical_bytes']:,} B",
         "173.5 GB in its text; 186,413,875,200 B in its /storage/overhead example" if seed_shaped else ""),
        ("Chunks at ingest: replicated / erasure coded",
         f"{start['replication_chunks']:,} / {start['erasure_coded_chunks']:,}",
         "2,500 / 47,500" if seed_shaped else ""),
        ("Storage savings at the end", _pct(end["storage_savings_percent"]), "~40 % (headline)"),
        ("Storage savings, time-averaged", _pct(s.get("storage_mean_savings_percent")), ""),
        ("Per-chunk savings, EC vs replication", f"{per_chunk:.2f} %", "44.4 %" if standard else ""),
    ]
    lat = s["reads"]["latency_ms"]
    for kind, label in (("replication", "replicated"), ("erasure_coding", "erasure coded (normal)"),
                        ("degraded", "degraded"), ("all", "all")):
        rows.append((f"Read latency p50 / p99, {label}",
                     f"{_ms(_stat(lat.get(kind), 'p50'))} / {_ms(_stat(lat.get(kind), 'p99'))}", ""))
    st = s["reads"]["startup_latency_ms"]
    rows.append(("Start-up latency p50 / p99", f"{_ms(_stat(st, 'p50'))} / {_ms(_stat(st, 'p99'))}", ""))
    r = s["reads"]
    rows.append(("Chunk reads (failed)", f"{r['count']:,} ({r['failed']:,})", ""))
    rec = s["recovery"]
    t = rec["time_s"]
    rows += [
        ("Node failures declared / transient", f"{rec['node_failures']:,} / {rec['transient_failures']:,}", ""),
        ("Recovery time mean / p95 / max",
         " / ".join("n/a" if _stat(t, k) is None else format_duration(t[k]) for k in ("mean", "p95", "max")), ""),
        ("Repair traffic read / written",
         f"{format_bytes(rec['repair_bytes_read'])} / {format_bytes(rec['repair_bytes_written'])}", ""),
    ]
    d = s["durability"]
    rows += [
        ("Chunks lost (bytes)", f"{d['chunks_lost']:,} ({d['bytes_lost']:,} B)", ""),
        ("Unavailable chunk-seconds", f"{d['unavailable_chunk_seconds']:,.0f}", ""),
    ]
    m = s["migrations"]
    rows.append(("Migrations to replication / to EC", f"{m['to_replication']:,} / {m['to_erasure_coding']:,}", ""))
    return rows


def format_summary(summary: dict, title: str = "") -> str:
    """The short table ``vstack-sim run`` prints: savings, read latency, recovery, losses, migrations."""
    lat = summary["reads"]["latency_ms"]
    t = summary["recovery"]["time_s"]
    lines = [title] if title else []
    lines.append(f"{'storage savings':<26}{'start':>14}{'end':>14}")
    lines.append(f"{'':<26}{_pct(summary['storage_initial']['storage_savings_percent']):>14}"
                 f"{_pct(summary['storage']['storage_savings_percent']):>14}")
    lines.append(f"{'read latency':<26}{'p50':>14}{'p99':>14}")
    for kind, label in (("replication", "  replication"), ("erasure_coding", "  erasure coding"),
                        ("degraded", "  degraded")):
        lines.append(f"{label:<26}{_ms(_stat(lat.get(kind), 'p50')):>14}{_ms(_stat(lat.get(kind), 'p99')):>14}")
    rec = "n/a" if _stat(t, "mean") is None else f"{format_duration(t['mean'])} mean, {format_duration(t['max'])} max"
    lines.append(f"{'recovery time':<26}{rec} ({summary['recovery']['node_failures']} declared failures)")
    lines.append(f"{'chunks lost':<26}{summary['durability']['chunks_lost']:,}")
    m = summary["migrations"]
    lines.append(f"{'migrations':<26}{m['to_replication']:,} to replication, {m['to_erasure_coding']:,} to EC")
    return "\n".join(lines)


def reproduce_command(run) -> str:
    """One line that reruns this scenario (the resolved scenario carries the seed)."""
    out = (getattr(run, "manifest", None) or {}).get("out") or "RESULT_DIR"
    return f"vstack-sim run {Path(out).as_posix()}/scenario.yaml"


def draw_figures(run, folder: Path) -> list[str]:
    """Every figure of :mod:`vstack_sim.plots` as ``folder/figures/<name>.png``; returns the names."""
    from . import plots

    (folder / "figures").mkdir(exist_ok=True)
    for name, draw in plots.FIGURES.items():
        path = folder / "figures" / f"{name}.png"
        plots.save_figure(draw(run), _partial(path))
        os.replace(_partial(path), path)
    return list(plots.FIGURES)


def _partial(path: Path) -> Path:
    # `vstack-sim report` rewrites a finished folder: write beside, then replace, so a reader
    # never sees half a file.
    return path.with_name(f".{path.name}.partial")


def _write_text(path: Path, text: str) -> None:
    _partial(path).write_text(text, encoding="utf-8")
    os.replace(_partial(path), path)


def _figure_caption(name: str) -> str:
    from . import plots

    return (plots.FIGURES[name].__doc__ or name).strip().splitlines()[0]


def render_markdown(run, scenario_text: str, figures: list[str]) -> str:
    cfg = run.config
    out = [f"# vstack-sim report: {cfg.name}", ""]
    if cfg.description:
        out += [cfg.description, ""]
    out += [f"Seed {cfg.run.seed}, {format_duration(cfg.run.duration)} simulated.", "",
            "Reproduce:", "", "```", reproduce_command(run), "```", "", "## Key numbers", "",
            "| | This run | The seed document says |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in key_numbers(run)]
    out += ["", "## Figures", ""]
    for name in figures:
        out += [f"### {_figure_caption(name)}", "", f"![{name}](figures/{name}.png)", ""]
    out += ["## Scenario (resolved)", "", "```yaml", scenario_text.rstrip("\n"), "```", "",
            "## Manifest", "", "```json", json.dumps(run.manifest, indent=2), "```", ""]
    return "\n".join(out)


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
        "pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}img{max-width:100%}")


def render_html(run, scenario_text: str, figures: list[str], folder: Path) -> str:
    cfg = run.config
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>vstack-sim report: {e(cfg.name)}</title><style>{_CSS}</style></head><body>",
           f"<h1>vstack-sim report: {e(cfg.name)}</h1>"]
    if cfg.description:
        out.append(f"<p>{e(cfg.description)}</p>")
    out += [f"<p>Seed {cfg.run.seed}, {e(format_duration(cfg.run.duration))} simulated.</p>",
            f"<p>Reproduce:</p><pre><code>{e(reproduce_command(run))}</code></pre>",
            "<h2>Key numbers</h2><table><tr><th></th><th>This run</th><th>The seed document says</th></tr>"]
    out += [f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in key_numbers(run)]
    out += ["</table>", "<h2>Figures</h2>"]
    for name in figures:
        data = base64.b64encode((folder / "figures" / f"{name}.png").read_bytes()).decode("ascii")
        out += [f"<h3>{e(_figure_caption(name))}</h3>",
                f'<img alt="{e(name)}" src="data:image/png;base64,{data}">']
    out += ["<h2>Scenario (resolved)</h2>", f"<pre><code>{e(scenario_text)}</code></pre>",
            "<h2>Manifest</h2>", f"<pre><code>{e(json.dumps(run.manifest, indent=2))}</code></pre>",
            "</body></html>", ""]
    return "\n".join(out)


def build_report(folder: str | Path) -> Path:
    """Draw the figures and write ``report.md`` and ``report.html`` of a results folder, from its tables."""
    from .results import load_result

    folder = Path(folder)
    run = load_result(folder)
    figures = draw_figures(run, folder) if run.config.outputs.figures else []
    scenario_text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    _write_text(folder / "report.md", render_markdown(run, scenario_text, figures))
    _write_text(folder / "report.html", render_html(run, scenario_text, figures, folder))
    return folder / "report.html"
