"""Comparisons a newcomer can read: the verdict, warnings where compared runs differ in more than the compared
keys, formatted HTML, and terminal tables within 120 columns (issue 23)."""

from __future__ import annotations

import pandas as pd

from tests.builders import config
from vstack_sim.experiments.comparison import Comparison, compare, text_table
from vstack_sim.experiments.intervals import Group
from vstack_sim.model.simulation import simulate


def group(label, savings, p99, seeds=(1, 2, 3)):
    rows = pd.DataFrame({"run.seed": list(seeds), "storage_mean_savings_percent": savings,
                         "reads.latency_ms.all.p99": p99})
    return Group(label, rows)


def test_the_verdict_says_who_dominates_with_intervals_and_where_there_is_no_difference():
    adaptive = group("adaptive", [42.0, 42.2, 42.4], [50.0, 52.0, 51.0])
    all_ec = group("all-ec", [44.4, 44.5, 44.7], [45.0, 46.5, 46.0])      # +2.33 points, -5.17 ms paired
    same = group("same", [42.1, 42.0, 42.5], [50.5, 51.5, 51.0])          # differences straddle 0
    c = Comparison([adaptive, all_ec, same])
    lines = c.verdict()
    assert lines[0].startswith("all-ec dominates adaptive here: better on storage savings +2.33 points [")
    assert "read p99 -5.17 ms [" in lines[0]
    assert lines[1] == "same against adaptive: no difference on any weighed metric."
    assert c.format().splitlines()[:2] == lines


def test_compare_warns_once_per_key_where_runs_differ_beyond_what_is_compared(tmp_path):
    base = {"catalog": {"videos": 6, "chunks_per_video": 2, "chunk_size": "64KiB"}, "cluster": {"nodes": 6, "racks": 6},
            "workload": {"view_rate": "0.1/s"}}
    a = simulate(config(base, {"name": "a", "run": {"duration": 3600}}))
    b = simulate(config(base, {"name": "b", "run": {"duration": 7200, "seed": 9},
                               "catalog": {"hot_fraction": 0.13}}))
    c = compare(a, b)
    assert c.warnings == ["scenario key catalog.hot_fraction differs: 0.05 (a), 0.13 (b)",
                          "scenario key run.duration differs: 3600.0 (a), 7200.0 (b)"]
    import re

    html = (c.write(tmp_path / "cmp") / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"data:image/png;base64,[^\"]*", "", html)       # the figures' bytes may spell anything
    assert "scenario key run.duration differs" in text
    assert "NaN" not in text and "e+" not in text
    assert "storage savings" in text and " ms" in text


def test_terminal_tables_wrap_into_blocks_within_120_columns():
    head = ["metric"] + [f"a-long-sweep-point-name-{i} (n=3)" for i in range(8)]
    rows = [["read p99, replicated"] + ["45.12 ms [44.10 ms, 46.30 ms]"] * 8]
    lines = text_table(head, rows)
    assert max(len(line) for line in lines) <= 120
    assert sum(line.startswith("metric") for line in lines) > 1           # the first column repeats per block
    assert all(f"a-long-sweep-point-name-{i}" in "\n".join(lines) for i in range(8))
