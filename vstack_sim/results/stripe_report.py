"""The report of a one-stripe durability run (``run.replications``): the estimate, its interval, and why
nothing else is reported.

Such a run has no reads, storage or recoveries to draw; under importance sampling its paths come from a
biased measure, so the report shows only the weighted estimate of P(loss within the mission), with the
summary's note saying so, and the per-replication table it was computed from
(``tables/replications.csv``). :func:`vstack_sim.results.report.build_report` and
:func:`~vstack_sim.results.report.format_summary` hand such a folder here.
"""

from __future__ import annotations

import html
from pathlib import Path

from vstack_sim.scenario.units import format_duration


def is_stripe_summary(summary: dict) -> bool:
    """True for the summary of a one-stripe durability run."""
    return summary.get("model") == "one_stripe"


def format_stripe_summary(summary: dict, title: str = "") -> str:
    """The lines ``vstack-sim run`` prints for a one-stripe durability run."""
    est, e, s = summary["loss_estimate"], summary["estimator"], summary["stripe"]
    lo, hi = est["interval_99"]
    rel = "n/a" if est["relative_error"] is None else f"{100 * est['relative_error']:.1f} %"
    lines = [title] if title else []
    lines += [
        f"{'model':<26}one stripe, {s['mode']} ({s['need']} of {s['width']} slots)",
        f"{'estimator':<26}{e['kind']} ({e['method']}), {e['replications']:,} replications",
        f"{'P(loss) in mission':<26}{est['probability']:.4g} (mission {format_duration(est['mission_s'])})",
        f"{'99 % interval':<26}[{lo:.4g}, {hi:.4g}]",
        f"{'relative error':<26}{rel} (1.96 sd / (sqrt(N) mean))",
        f"{'losses observed':<26}{est['losses_observed']:,}",
        summary["outputs_note"],
    ]
    return "\n".join(lines)


def build_stripe_report(folder: Path, run) -> Path:
    """Write ``report.md`` and ``report.html`` of a one-stripe durability run; returns the HTML page."""
    text = format_stripe_summary(run.summary)
    title = f"{run.config.name}: one-stripe durability, seed {run.config.run.seed}"
    markdown = (f"# {title}\n\n```\n{text}\n```\n\nThe estimate is the mean of lost x weight over "
                f"tables/replications.csv (weight: each replication's likelihood ratio, 1 under plain Monte "
                f"Carlo).\n")
    page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><pre>{html.escape(text)}</pre><p>The estimate is the mean of "
            f"lost x weight over tables/replications.csv.</p></body></html>\n")
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    (folder / "report.html").write_text(page, encoding="utf-8")
    return folder / "report.html"
