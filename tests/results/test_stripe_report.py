"""A one-stripe durability run's results folder: a small summary, the per-replication weights, a report that
says what the biased measure does not estimate, and ``vstack-sim report`` on it again."""

import json

import pandas as pd
import pytest

from tests.builders import stripe_scenario
from vstack_sim.results.report import build_report, format_summary
from vstack_sim.results.runner import run_to_folder
from vstack_sim.results.store import load_result


def test_the_folder_holds_the_estimate_the_weights_and_a_report(tmp_path):
    folder = run_to_folder(stripe_scenario(run={"replications": 1000}), out=tmp_path / "run", quiet=True)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["model"] == "one_stripe" and set(summary) >= {"run", "estimator", "stripe", "loss_estimate"}
    assert len((folder / "summary.json").read_bytes()) < 4000
    table = pd.read_csv(folder / "tables" / "replications.csv")
    assert len(table) == 1000
    assert (table["lost"] * table["weight"]).mean() == pytest.approx(summary["loss_estimate"]["probability"], rel=1e-12)
    report = (folder / "report.md").read_text()
    assert "importance (balanced_failure_biasing), 1,000 replications" in report
    assert "biased measure" in report and "not estimates" in report
    loaded = load_result(folder)
    assert loaded.summary == summary and "99 % interval" in format_summary(loaded.summary)
    before = (folder / "report.md").read_bytes()
    build_report(folder)
    assert (folder / "report.md").read_bytes() == before
