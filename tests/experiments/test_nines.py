"""Durability nines over many runs (issue 25's nines term): the exposure estimate pooled over runs, its interval
from the runs' exposure intervals, and ``--require durability.nines.exposure>=N`` in the constrained answer."""

import json
import math

import pandas as pd
import pytest

from tests.builders import config
from tests.model.test_exposure import INFLATED
from vstack_sim.analysis.durability import annual_chunk_loss, nines
from vstack_sim.experiments.comparison import compare
from vstack_sim.experiments.constraints import choose
from vstack_sim.experiments.intervals import KEY_METRICS, Group, format_interval, metric_interval, summary_row
from vstack_sim.experiments.nines import ANALYTIC_NINES, CHUNK_SECONDS, EXPECTED, EXPECTED_95, EXPOSURE_NINES
from vstack_sim.model.simulation import simulate

YEAR = 365 * 86400.0
COST = "cost.total_dollars"


def rows(*runs, cost=(1.0,)):
    """Flattened rows of runs given as (expected, [lo, hi] or None, chunk-seconds)."""
    return pd.DataFrame({EXPECTED: [e for e, _, _ in runs],
                         EXPECTED_95: [json.dumps(iv) if iv else math.nan for _, iv, _ in runs],
                         CHUNK_SECONDS: [cs for _, _, cs in runs], COST: list(cost) * len(runs)})


def test_runs_pool_their_expected_losses_over_their_chunk_seconds_and_add_their_variances():
    frame = rows((2.0, [0.0, 5.92], 1e8), (4.0, [1.0, 7.0], 3e8))
    iv = metric_interval(frame, EXPOSURE_NINES, False)
    seconds, z = 4e8, 1.959964
    half = z * math.sqrt((3.92 / z) ** 2 + (3.0 / z) ** 2)          # the runs' upper half-widths, as sd
    assert iv.n == 2 and iv.method == "exposure"
    assert iv.estimate == pytest.approx(-math.log10(-math.expm1(-6.0 / seconds * YEAR)), rel=1e-12)
    assert iv.lo == pytest.approx(nines(annual_chunk_loss(6.0 + half, seconds)), rel=1e-6)
    assert iv.hi == pytest.approx(nines(annual_chunk_loss(6.0 - half, seconds)), rel=1e-6)
    assert iv.lo < iv.estimate < iv.hi
    # An interval reaching 0 losses: no upper end in nines; no exposure at all: no estimate (n = 0).
    assert metric_interval(rows((2.0, [0.0, 5.92], 1e8)), EXPOSURE_NINES, False).hi == math.inf
    assert metric_interval(rows((0.0, None, 1e8), (0.0, None, 1e8)), EXPOSURE_NINES, False).n == 0
    assert format_interval(EXPOSURE_NINES, {"mean": 7.123, "lo": 6.5, "hi": 8.25}) == (
        "7.12 nines [6.50 nines, 8.25 nines]")
    assert {EXPOSURE_NINES, ANALYTIC_NINES} <= {m for m, _, _ in KEY_METRICS}


def test_one_run_pooled_is_its_own_summary_figure():
    r = simulate(config(INFLATED, {"run": {"duration": "3d"}}))
    n = r.summary["durability"]["nines"]
    iv = metric_interval(pd.DataFrame([summary_row(r.summary)]), EXPOSURE_NINES, False)
    assert iv.estimate == pytest.approx(n["exposure"], rel=1e-5)
    assert iv.lo == pytest.approx(n["exposure_95"][0], rel=1e-4)


def test_require_nines_picks_the_cheapest_option_whose_lower_end_meets_them():
    durable = Group("durable", rows((0.5, [0.1, 0.9], 1e9), (0.7, [0.2, 1.2], 1e9), cost=(20.0,)))
    cheap = Group("cheap", rows((40.0, [30.0, 50.0], 1e9), (44.0, [34.0, 54.0], 1e9), cost=(5.0,)))
    # About 1.73 nines [1.54, 2.06] against 0.13 [0.10, 0.18]: only the durable option's lower end reaches 1.
    choice = choose([durable, cheap], [f"{EXPOSURE_NINES}>=1"])
    assert choice.best == "durable" and list(choice.failing) == ["cheap"]
    assert choice.sentence().startswith(f"The cheapest option with {EXPOSURE_NINES} >= 1: durable at $20.00 "
                                        f"({EXPOSURE_NINES} 1.73 nines [1.54 nines, 2.06 nines]).")
    # Without exposure in any run of an option it is not judged.
    quiet = Group("quiet", rows((0.0, None, 1e9), cost=(1.0,)))
    choice = choose([durable, quiet], [f"{EXPOSURE_NINES}>=0"])
    assert choice.best == "durable" and choice.missing == {"quiet": [EXPOSURE_NINES]}


def test_compare_answers_a_nines_constraint_on_real_runs():
    often = simulate(config(INFLATED, {"run": {"duration": "2d"}}))
    rarely = simulate(config(INFLATED, {"run": {"duration": "2d"},
                                        "failures": {"node_mttf": "8d", "disk_mttf": "16d"}}))
    a, b = (r.summary["durability"]["nines"]["exposure"] for r in (often, rarely))
    assert a is not None and b is not None and a < b
    c = compare(often, rarely, labels=["often", "rarely"], require=[f"{EXPOSURE_NINES}>=-1"])
    assert c.choice is not None and c.choice.best is not None
    assert any(EXPOSURE_NINES in str(x) for x in c.choice.constraints)
    assert c.choice.sentence().startswith(f"The cheapest option with {EXPOSURE_NINES} >= -1: ")
