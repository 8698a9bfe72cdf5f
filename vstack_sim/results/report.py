"""Reports from a results folder: ``report.md``, a self-contained ``report.html`` and the figures.

:func:`build_report` reads a folder back (:func:`vstack_sim.results.store.load_result`), draws every figure of
:mod:`vstack_sim.results.plots` into ``figures/`` and writes both reports. ``vstack-sim run`` calls it on the folder
it has just written, and ``vstack-sim report RESULT_DIR`` calls it again, so the two give the same bytes.

The report opens with an interpreted conclusion and its caveats (:mod:`vstack_sim.results.conclusion`), then
the key numbers with the V-Stack design's claims beside ours where they apply, then the figures, the resolved
scenario, the manifest and a one-line command that reproduces the run. :func:`format_summary` is the short table
``vstack-sim run`` prints at the end. A one-stripe durability run's are :mod:`.stripe_report`'s.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from pathlib import Path

from vstack_sim.results.conclusion import caveats, interpret
from vstack_sim.results.durability_view import durability_rows, losses_line
from vstack_sim.results.plots.relevance import FEW_RECOVERIES, finished_recoveries, left_out
from vstack_sim.results.store import ResultsError, load_result
from vstack_sim.results.stripe_report import build_stripe_report, format_stripe_summary, is_stripe_summary
from vstack_sim.scenario.units import format_bytes, format_duration, plural


def _is_seed_shaped(config) -> bool:
    """The V-Stack design's catalog: 1,000 videos x 50 chunks of 2 MiB, 5 % hot, 3 replicas vs RS(3,2), adaptive."""
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
    """(what, ours, the V-Stack design's claim or "") rows for the report."""
    from vstack_sim.results.plots import storage_baselines

    s, cfg = run.summary, run.config
    red = cfg.redundancy
    seed_shaped = _is_seed_shaped(cfg)
    per_chunk = storage_baselines(run)["per_chunk_savings_percent"]
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
                        ("degraded", "degraded"), ("cache", "cache hits"), ("all", "all")):
        if kind == "cache" and "cache" not in s["reads"]:
            continue
        rows.append((f"Read latency p50 / p99, {label}",
                     f"{_ms(_stat(lat.get(kind), 'p50'))} / {_ms(_stat(lat.get(kind), 'p99'))}", ""))
    if "cache" in s["reads"]:
        c = s["reads"]["cache"]
        by = c["by_mode"]
        rows.append(("Cache hit ratio (byte hit ratio): all / replicated / erasure coded",
                     " / ".join(_pct(None if x["hit_ratio"] is None else 100 * x["hit_ratio"])
                                for x in (c, by["replication"], by["erasure_coding"])), ""))
    if "hedges" in s["reads"]:
        h = s["reads"]["hedges"]
        rows.append(("Hedged reads (after " + (h["after"] if isinstance(h["after"], str) else _ms(1000 * h["after"]))
                     + "): sent / won / cancelled before start; extra I/O",
                     f"{h['sent']:,} / {h['won']:,} / {h['cancelled']:,}; {format_bytes(h['extra_bytes'])}", ""))
    if "late_binding" in s["reads"]:
        lb = s["reads"]["late_binding"]
        rows.append((f"Late binding (k + {lb['extra']}): extra fragments read; extra I/O",
                     f"{lb['extra_fragments']:,}; {format_bytes(lb['extra_bytes'])}", ""))
    st = s["reads"]["startup_latency_ms"]
    rows.append(("Start-up latency p50 / p99", f"{_ms(_stat(st, 'p50'))} / {_ms(_stat(st, 'p99'))}", ""))
    r = s["reads"]
    rows.append(("Chunk reads (failed)", f"{r['count']:,} ({r['failed']:,})", ""))
    rec = s["recovery"]
    t = rec["time_s"]
    rows += [
        *_failure_rows(rec),
        ("Disk failures", f"{rec.get('disk_failures', 0):,}", ""),
        ("Recovery time mean / p95 / max",
         " / ".join("n/a" if _stat(t, k) is None else format_duration(t[k]) for k in ("mean", "p95", "max")), ""),
        *_each_recovery(run),
        ("Repair traffic read / written",
         f"{format_bytes(rec['repair_bytes_read'])} / {format_bytes(rec['repair_bytes_written'])}", ""),
    ]
    rows += durability_rows(s["durability"])
    m = s["migrations"]
    rows.append(("Migrations to replication / to EC", f"{m['to_replication']:,} / {m['to_erasure_coding']:,}", ""))
    return rows + _conversion_rows(s.get("conversions")) + _upload_rows(s.get("uploads")) + _cost_rows(s.get("cost"))


def _cost_rows(c: dict | None) -> list[tuple[str, str, str]]:
    """Dollars at the run's prices, and the price table itself (summary ``cost``)."""
    if c is None:
        return []
    p = c["prices"]
    storage = p["storage_per_gb_month"]
    return [
        ("Prices: storage $/GB-month replication / EC; $ per read request; $ per GB moved",
         f"{storage['replication']:g} / {storage['erasure_coding']:g}; {p['request']:g}; {p['moved_per_gb']:g}",
         "defaults: Amazon S3 Standard list prices (2024); moved: illustrative"),
        ("Cost: storage replication / EC; read requests; traffic; total",
         f"${c['storage_dollars']['replication']:,.2f} / ${c['storage_dollars']['erasure_coding']:,.2f}; "
         f"${c['read_request_dollars']:,.2f}; ${c['traffic_dollars']:,.2f}; ${c['total_dollars']:,.2f}", ""),
    ]


def _upload_rows(u: dict | None) -> list[tuple[str, str, str]]:
    """The living catalog (summary ``uploads``; only when uploads or deletes were on)."""
    if u is None:
        return []
    return [("Uploads: stored / refused; deleted; videos stored at the end",
             f"{u['uploaded']:,} / {u['refused']:,}; {u['deleted']:,}; {u['stored_videos_end']:,}", ""),
            ("Upload bytes in / deleted", f"{format_bytes(u['uploaded_bytes'])} / {format_bytes(u['deleted_bytes'])}",
             "")]


def _share(block: dict) -> str:
    """A share's peak and mean, as percentages to 3 significant digits (a mean can be a few 1e-6)."""
    def pct(x):
        return "n/a" if x is None else "< 0.001 %" if 0 < 100 * x < 0.001 else f"{100 * x:.3g} %"

    return f"{pct(block['peak'])} / {pct(block['mean'])}"


def _conversion_rows(c: dict | None) -> list[tuple[str, str, str]]:
    """What conversions cost (summary ``conversions``; absent from folders written before it existed)."""
    if c is None:
        return []
    bucket = format_duration(c["bucket_s"])
    ss = c["replicated_fraction"]["steady_state"]
    steady = (f"{100 * ss['mean']:.2f} % [{100 * ss['lo']:.2f}, {100 * ss['hi']:.2f}]" if ss["reached"]
              else f"not reached ({ss['why']})")
    frac = c["replicated_fraction"]
    return [
        ("Conversion disk I/O read / written", f"{format_bytes(c['bytes_read'])} / {format_bytes(c['bytes_written'])}",
         ""),
        (f"Conversions' share of disk bandwidth, peak (per {bucket}) / mean; "
         "PACEMAKER (OSDI'20): at most 5 % / 0.2-0.4 %", _share(c["bandwidth_share"]), ""),
        (f"Conversions' share of all disk I/O, peak (per {bucket}) / mean", _share(c["io_share"]), ""),
        ("Chunk-seconds mid-conversion; EC reads while hot; videos that flapped",
         f"{c['converting_chunk_seconds']:,.1f}; {c['ec_reads_while_hot']:,}; {c['flaps']['videos']:,}", ""),
        ("Replicated share of stored bytes: start / end / steady state (95 %)",
         f"{_pct(None if frac['start'] is None else 100 * frac['start'])} / "
         f"{_pct(None if frac['end'] is None else 100 * frac['end'])} / {steady}", ""),
    ]


def _each_recovery(run) -> list[tuple[str, str, str]]:
    """A few recoveries are listed one by one: a distribution of three points says nothing more."""
    times = finished_recoveries(run) if hasattr(run, "tables") else []
    if 0 < len(times) <= FEW_RECOVERIES:
        return [("Recovery times, each", ", ".join(format_duration(x) for x in times), "")]
    return []


def _failure_rows(rec: dict) -> list[tuple[str, str, str]]:
    """Node failures by outcome, and the repair work spent on nodes that came back, where the summary has them."""
    outcomes = rec.get("node_failure_outcomes")
    if outcomes is None:   # a folder from before outcomes were recorded
        return [("Node failures declared / back before declared",
                 f"{rec['node_failures']:,} / {rec['transient_failures']:,}", "")]
    rows = [("Node failures: permanent / transient, declared / transient, back before declared",
             f"{outcomes['permanent']:,} / {outcomes['transient_declared']:,} / "
             f"{outcomes['transient_undeclared']:,}", "")]
    wasted = rec.get("wasted_repair")
    if wasted is not None:
        rows.append(("Repair wasted on nodes that came back: slots / read / written",
                     f"{wasted['slots']:,} / {format_bytes(wasted['bytes_read'])} / "
                     f"{format_bytes(wasted['bytes_written'])}", ""))
    return rows


def _declared(recovery: dict, label: str = "declared failure") -> str:
    """The declared failures the recovery times cover: node failures (``label``), and disk failures if any."""
    nodes = recovery["node_failures"]
    disks = recovery.get("by_component", {}).get("disk", {}).get("declared", 0)
    if not disks:
        return plural(nodes, label)
    return f"{nodes:,} node and {plural(disks, 'disk failure')} declared"


def format_summary(summary: dict, title: str = "") -> str:
    """The short table ``vstack-sim run`` prints: savings, read latency, recovery, losses, migrations."""
    if is_stripe_summary(summary):
        return format_stripe_summary(summary, title)
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
    lines.append(f"{'recovery time':<26}{rec} ({_declared(summary['recovery'])})")
    lines.append(f"{'chunks lost':<26}{losses_line(summary['durability'])}")
    m = summary["migrations"]
    lines.append(f"{'migrations':<26}{m['to_replication']:,} to replication, {m['to_erasure_coding']:,} to EC")
    c = summary.get("conversions")
    if c is not None:
        lines.append(f"{'conversion I/O':<26}{_share(c['bandwidth_share'])} of disk bandwidth (peak / mean)")
    return "\n".join(lines)


def reads_note(run) -> str:
    """One line on whether the reads table is every read or a sample."""
    count = run.summary["reads"]["count"]
    rows = len(run.tables["reads"]) if "reads" in run.tables else 0
    if rows < count:
        return (f"tables/reads.csv is a sample of {rows:,} of the run's {count:,} chunk reads (every read of a "
                f"kind with fewer than 1,000, a uniform sample of the rest: outputs.reads_table_sample); every "
                f"statistic here uses all of them.")
    return f"tables/reads.csv holds every one of the run's {plural(count, 'chunk read')}."


def reproduce_command(run) -> str:
    """One line that reruns this scenario (the resolved scenario carries the seed)."""
    out = (getattr(run, "manifest", None) or {}).get("out") or "RESULT_DIR"
    return f"vstack-sim run {Path(out).as_posix()}/scenario.yaml"


def draw_figures(run, folder: Path) -> list[str]:
    """Every figure of :mod:`vstack_sim.results.plots` with something to show, as ``folder/figures/<name>.png``;
    returns the names drawn (:func:`left_out_figures` gives the others and why)."""
    from vstack_sim.results import plots

    (folder / "figures").mkdir(exist_ok=True)
    for name, draw in plots.FIGURES.items():
        path = folder / "figures" / f"{name}.png"
        if left_out(name, run):
            if path.exists():   # drawn by an earlier report of this folder; its content is gone now
                path.unlink()
            continue
        plots.save_figure(draw(run), _partial(path))
        os.replace(_partial(path), path)
    return [name for name in plots.FIGURES if not left_out(name, run)]


def left_out_figures(run) -> list[str]:
    """One line per figure left out of the report, saying why."""
    from vstack_sim.results import plots

    return [f"{name}: {why}" for name in plots.FIGURES if (why := left_out(name, run))]


def _partial(path: Path) -> Path:
    # `vstack-sim report` rewrites a finished folder: write beside, then replace, so a reader
    # never sees half a file.
    return path.with_name(f".{path.name}.partial")


def _write_text(path: Path, text: str) -> None:
    _partial(path).write_text(text, encoding="utf-8")
    os.replace(_partial(path), path)


def _figure_caption(name: str) -> str:
    from vstack_sim.results import plots

    # The docstring's first paragraph, whole: a wrapped first sentence is never cut at its line break.
    return " ".join((plots.FIGURES[name].__doc__ or name).strip().split("\n\n")[0].split())


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~:")


def markdown_text(text: str) -> str:
    """Free text as one inert Markdown paragraph: HTML and Markdown syntax escaped, no fences or blocks.

    Lines are joined (an indented or fenced line would start a code block), ``&<>"`` become entities
    and every other Markdown punctuation character is backslash-escaped.
    """
    out = []
    for ch in " ".join(text.split()):
        if ch in "&<>\"'":
            out.append(html.escape(ch, quote=True))
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def fenced(text: str, lang: str = "") -> list[str]:
    """``text`` as a fenced code block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + lang, text.rstrip("\n"), fence]


def render_markdown(run, scenario_text: str, figures: list[str], conclusion: tuple | None = None) -> str:
    """``report.md``; ``conclusion`` is ``(sentences, caveats)`` when the caller computed them already."""
    lines, found = conclusion or (interpret(run), caveats(run))
    cfg = run.config
    out = [f"# vstack-sim report: {cfg.name}", "", "## Conclusion", ""]
    # The sentences are the package's own text around numbers (no user text), so they need no escaping.
    out += [f"- {line}" for line in lines] + [""]
    if found:
        out += ["Caveats:", ""] + [f"- {c.text} (`{c.rule}`)" for c in found] + [""]
    if cfg.description:
        out += [markdown_text(cfg.description), ""]
    out += [f"Random seed {cfg.run.seed}, {format_duration(cfg.run.duration)} simulated.", "",
            "Reproduce:", "", *fenced(reproduce_command(run)), "", "## Key numbers", "",
            "| | This run | The V-Stack design says |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in key_numbers(run)]
    out += ["", reads_note(run), "", "## Figures", ""]
    if run.config.outputs.figures:
        out += [f"Left out, with nothing to show: {line}." for line in left_out_figures(run)] + [""]
    for name in figures:
        out += [f"### {_figure_caption(name)}", "", f"![{name}](figures/{name}.png)", ""]
    out += ["## Scenario (resolved)", "", *fenced(scenario_text, "yaml"), "",
            "## Manifest", "", *fenced(json.dumps(run.manifest, indent=2), "json"), ""]
    return "\n".join(out)


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
        "pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}img{max-width:100%}")


def render_html(run, scenario_text: str, figures: list[str], folder: Path, conclusion: tuple | None = None) -> str:
    """``report.html``, self-contained; ``conclusion`` as for :func:`render_markdown`."""
    lines, found = conclusion or (interpret(run), caveats(run))
    cfg = run.config
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>vstack-sim report: {e(cfg.name)}</title><style>{_CSS}</style></head><body>",
           f"<h1>vstack-sim report: {e(cfg.name)}</h1>"]
    out += ["<h2>Conclusion</h2><ul>"] + [f"<li>{e(line)}</li>" for line in lines] + ["</ul>"]
    if found:
        out += ["<p>Caveats:</p><ul>"] + [f"<li>{e(c.text)} ({e(c.rule)})</li>" for c in found] + ["</ul>"]
    if cfg.description:
        out.append(f"<p>{e(cfg.description)}</p>")
    out += [f"<p>Random seed {cfg.run.seed}, {e(format_duration(cfg.run.duration))} simulated.</p>",
            f"<p>Reproduce:</p><pre><code>{e(reproduce_command(run))}</code></pre>",
            "<h2>Key numbers</h2><table><tr><th></th><th>This run</th><th>The V-Stack design says</th></tr>"]
    out += [f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in key_numbers(run)]
    out += ["</table>", f"<p>{e(reads_note(run))}</p>", "<h2>Figures</h2>"]
    if run.config.outputs.figures:
        out += [f"<p>Left out, with nothing to show: {e(line)}.</p>" for line in left_out_figures(run)]
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
    folder = Path(folder)
    run = load_result(folder)
    if is_stripe_summary(run.summary):
        return build_stripe_report(folder, run)
    if (folder / "figures").exists() and not (folder / "figures").is_dir():
        raise ResultsError(f"{folder / 'figures'}: is not a folder")
    try:
        figures = draw_figures(run, folder) if run.config.outputs.figures else []
        scenario_text = (folder / "scenario.yaml").read_text(encoding="utf-8")
        conclusion = interpret(run), caveats(run)     # the bootstrap intervals are computed once for both
        markdown = render_markdown(run, scenario_text, figures, conclusion)
        page = render_html(run, scenario_text, figures, folder, conclusion)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        # A summary or table edited by hand (or from another version) lacks what a figure needs.
        raise ResultsError(f"{folder}: cannot draw the report: {type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:200]}") from None
    _write_text(folder / "report.md", markdown)
    _write_text(folder / "report.html", page)
    return folder / "report.html"
