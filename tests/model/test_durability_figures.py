"""The summary's analytic durability (``durability.analytic``) and nines (``durability.nines``), issue 26 part 1's
last bullet and issue 25's nines term: the block's figures against analysis/durability.py's functions called on
the same parameters by hand."""

import math

import pytest

from tests.builders import config
from tests.model.test_exposure import INFLATED
from vstack_sim.analysis import durability as d
from vstack_sim.model.simulation import simulate

DAY = 86400.0
YEAR = 365 * DAY

# 20 chunks, all RS(3,2); permanent node failures at 0.5 / 100 d a slot, exponential repair of 2 h after 1 h of
# detection: a hazard far too low for a loss in 2 days, so the 20 stripes stay stored all along.
EXPONENTIAL = {
    "run": {"duration": "2d"},
    "catalog": {"videos": 10, "chunks_per_video": 2, "chunk_size": "64KiB"},
    "cluster": {"nodes": 8, "racks": 8},
    "redundancy": {"policy": "erasure_coding"},
    "failures": {"node_mttf": "100d", "permanent_fraction": 0.5, "detection_timeout": "1h"},
    "repair": {"time_model": "exponential", "mttr": "2h"},
}


def g6(x):
    return float(f"{x:.6g}")


def test_the_block_is_the_chain_and_the_calculator_at_the_scenarios_rates_and_repair_time():
    r = simulate(config(EXPONENTIAL))
    assert r.summary["durability"]["chunks_lost"] == 0
    a = r.summary["durability"]["analytic"]
    lam, mttr, mission = 0.5 / (100 * DAY), 3 * 3600.0, 2 * DAY
    assert a["slot_hazard_per_s"] == g6(lam) and a["mttr_s"] == g6(mttr) and a["mission_s"] == mission
    assert a["mttr_source"] == "failures.detection_timeout + repair.mttr" and a["repair"] == "parallel"
    assert list(a["modes"]) == ["erasure_coding"]
    ec = a["modes"]["erasure_coding"]
    p = d.loss_probability(5, 2, lam, 1 / mttr, mission)
    annual = d.loss_probability(5, 2, lam, 1 / mttr, YEAR)
    bb = d.annual_loss_probability(3, 2, lam * YEAR, mttr / DAY)
    assert ec["n"] == 5 and ec["tolerated"] == 2 and ec["stripes"] == 20
    assert ec["mttdl_s"] == g6(d.mttdl(5, 2, lam, 1 / mttr))
    assert ec["mission_loss"] == g6(p) and ec["mission_nines"] == g6(-math.log10(p))
    assert ec["expected_chunks_lost"] == g6(20 * p) and a["expected_chunks_lost"] == g6(20 * p)
    assert ec["any_loss"] == g6(1 - (1 - p) ** 20) and ec["any_loss_nines"] == g6(-math.log10(1 - (1 - p) ** 20))
    assert ec["annual_loss"] == g6(annual) and ec["annual_nines"] == g6(-math.log10(annual))
    assert ec["backblaze_annual_loss"] == g6(bb) and ec["backblaze_nines"] == g6(-math.log10(bb))
    # Nines a year per chunk: the chain's annual loss of a stripe (one mode: no average to take).
    n = r.summary["durability"]["nines"]
    assert n["analytic"] == g6(-math.log10(annual))
    assert n["stored_chunk_seconds"] == g6(20 * mission)


def test_io_timed_repair_uses_the_runs_mean_recovery_time_and_says_so():
    r = simulate(config(INFLATED, {"run": {"duration": "3d"}}))
    a = r.summary["durability"]["analytic"]
    mean = r.summary["recovery"]["time_s"]["mean"]
    assert a["mttr_s"] == g6(mean) and a["mttr_source"].startswith("recovery.time_s.mean (measured")
    # RS(3,2) and 3 replicas both run, at the exposure's hazard plus nothing else (no rack failures here).
    lam = r.summary["durability"]["exposure"]["slot_hazard_per_s"]["total"]
    assert a["slot_hazard_per_s"] == g6(lam)
    rep = a["modes"]["replication"]
    p = d.loss_probability(3, 2, lam, 1 / mean, 3 * DAY)
    assert rep["mission_loss"] == pytest.approx(p, rel=2e-5)
    assert rep["expected_chunks_lost"] == pytest.approx(rep["stripes"] * p, rel=2e-5)
    total = sum(m["expected_chunks_lost"] for m in a["modes"].values())
    assert a["expected_chunks_lost"] == pytest.approx(total, rel=1e-5)


def test_io_timed_repair_without_a_finished_recovery_has_no_chain_figure():
    r = simulate(config(EXPONENTIAL, {"repair": {"time_model": "io"}, "failures": {"node_mttf": "3650d"}}))
    assert r.summary["recovery"]["time_s"] is None
    a = r.summary["durability"]["analytic"]
    assert a["mttr_s"] is None and a["mttr_source"].startswith("none: repairs are I/O-timed")
    assert a["expected_chunks_lost"] is None and a["modes"]["erasure_coding"]["mttdl_s"] is None
    assert r.summary["durability"]["nines"]["analytic"] is None


def test_no_data_destroying_failure_no_block_and_no_nines():
    r = simulate(config(EXPONENTIAL, {"failures": {"node_mttf": 0}}))
    assert r.summary["durability"]["analytic"] is None
    n = r.summary["durability"]["nines"]
    assert n["exposure"] is None and n["exposure_95"] is None and n["analytic"] is None


def test_exposure_nines_are_a_chunks_annual_loss_at_the_runs_measured_rate_with_the_intervals_ends_swapped():
    r = simulate(config(INFLATED, {"run": {"duration": "3d"}}))
    x, n = r.summary["durability"]["exposure"], r.summary["durability"]["nines"]
    cs = n["stored_chunk_seconds"]
    nines = lambda e: -math.log10(-math.expm1(-e / cs * YEAR))  # noqa: E731
    assert n["exposure"] == pytest.approx(nines(x["expected_chunks_lost"]), rel=1e-5)
    lo, hi = x["expected_chunks_lost_95"]
    assert n["exposure_95"][0] == pytest.approx(nines(hi), rel=1e-5)
    assert n["exposure_95"][1] is None if lo == 0 else n["exposure_95"][1] == pytest.approx(nines(lo), rel=1e-5)
    # The chunk-seconds stored: the run's chunks less the ones lost, held over the run.
    chunks = r.summary["run"]["chunks"]
    assert chunks * 3 * DAY * 0.8 < cs <= chunks * 3 * DAY


def test_annual_chunk_loss_is_one_minus_exp_of_the_annualised_rate():
    assert d.annual_chunk_loss(0.0, 1.0) == 0.0
    # 1 loss in 100 chunk-years: 1 - exp(-0.01) a year per chunk.
    assert d.annual_chunk_loss(1.0, 100 * YEAR) == pytest.approx(-math.expm1(-0.01), rel=1e-12)
    assert d.nines(d.annual_chunk_loss(1e-9, YEAR)) == pytest.approx(9.0, abs=1e-6)
    with pytest.raises(ValueError, match="chunk_seconds"):
        d.annual_chunk_loss(1.0, 0.0)


def test_every_key_of_the_blocks_is_in_docs_results_md():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "results.md").read_text(encoding="utf-8")
    d = simulate(config(EXPONENTIAL)).summary["durability"]
    keys = set(d["analytic"]) | set(d["analytic"]["modes"]["erasure_coding"]) | set(d["nines"])
    assert sorted(k for k in keys if f"`{k}`" not in text) == []
