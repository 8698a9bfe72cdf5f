"""The report of a replicated durability run (``run.replications``: the one-stripe model, or replications of the
world): the estimate, its interval, and why nothing else is reported.

Such a run has no reads, storage or recoveries to draw (the one-stripe model has none; the replicated worlds keep
none); under importance sampling its paths come from a biased measure, so the report shows only the weighted
estimate of P(loss within the mission), with the summary's note saying so, and the per-replication table it was
computed from (``tables/replications.csv``). :func:`vstack_sim.results.report.build_report` and
:func:`~vstack_sim.results.report.format_summary` hand such a folder here.
"""

from __future__ import annotations

import html
from pathlib import Path

from vstack_sim.scenario.units import format_duration

REPLICATED_MODELS = {"one_stripe": ("run", "estimator", "stripe", "loss_estimate"),
                     "world_replications": ("run", "estimator", "world", "loss_estimate")}
"""The summary ``model`` of each replicated durability run, with the sections its summary.json has."""


def is_stripe_summary(summary: dict) -> bool:
    """True for the summary of a replicated durability run (one-stripe or world replications)."""
    return summary.get("model") in REPLICATED_MODELS


def _model_line(summary: dict) -> str:
    if summary["model"] == "one_stripe":
        s = summary["stripe"]
        return f"one stripe, {s['mode']} ({s['need']} of {s['width']} slots)"
    w = summary["world"]
    return (f"full world, {w['nodes']} nodes, {w['chunks']:,} chunks ({', '.join(w['modes'])}), repair "
            f"{w['repair_time_model']}")


def format_stripe_summary(summary: dict, title: str = "") -> str:
    """The lines ``vstack-sim run`` prints for a one-stripe durability run."""
    est, e = summary["loss_estimate"], summary["estimator"]
    lo, hi = est["interval_99"]
    rel = "n/a" if est["relative_error"] is None else f"{100 * est['relative_error']:.1f} %"
    lines = [title] if title else []
    lines += [
        f"{'model':<26}{_model_line(summary)}",
        f"{'estimator':<26}{e['kind']} ({e['method']}), {e['replications']:,} replications",
        f"{'P(loss) in mission':<26}{est['probability']:.4g} (mission {format_duration(est['mission_s'])})",
        f"{'99 % interval':<26}[{lo:.4g}, {hi:.4g}]",
        f"{'relative error':<26}{rel} (1.96 sd / (sqrt(N) mean))",
        f"{'losses observed':<26}{est['losses_observed']:,}",
    ]
    chunks = summary.get("chunks_lost_estimate")
    if chunks is not None:
        clo, chi = chunks["interval_99"]
        lines.append(f"{'chunks lost in mission':<26}{chunks['value']:.4g} [{clo:.4g}, {chi:.4g}] (expected, 99 %)")
    if "mean_weight" in est and e["kind"] == "importance":
        verdict = "ok" if est["weights_ok"] else "HEAVY TAILS: the estimate cannot be trusted; lower run.failure_bias"
        lines.append(f"{'mean weight':<26}{est['mean_weight']:.3f} +- {est['mean_weight_std_error']:.3f} "
                     f"(1 in expectation: {verdict})")
    lines.append(summary["outputs_note"])
    return "\n".join(lines)


def build_stripe_report(folder: Path, run) -> Path:
    """Write ``report.md`` and ``report.html`` of a one-stripe durability run; returns the HTML page."""
    text = format_stripe_summary(run.summary)
    kind = "one-stripe durability" if run.summary["model"] == "one_stripe" else "replicated worlds' durability"
    title = f"{run.config.name}: {kind}, seed {run.config.run.seed}"
    markdown = (f"# {title}\n\n```\n{text}\n```\n\nThe estimate is the mean of lost x weight over "
                f"tables/replications.csv (weight: each replication's likelihood ratio, 1 under plain Monte "
                f"Carlo).\n")
    page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><pre>{html.escape(text)}</pre><p>The estimate is the mean of "
            f"lost x weight over tables/replications.csv.</p></body></html>\n")
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    (folder / "report.html").write_text(page, encoding="utf-8")
    return folder / "report.html"
