"""Summary helpers: those that avoid copying the run's tables give what the copying versions gave (issue 20), and the
rebuild and conversion points of the frontiers (issue 22) on hand-made tables."""

import numpy as np
import pandas as pd
import pytest

from vstack_sim.model.metrics import wasted_repair


def wasted_repair_by_rows(failures: pd.DataFrame, repairs: pd.DataFrame, weight: int) -> dict:
    """wasted_repair as it was before issue 20: the repairs of those failures selected as rows."""
    returned = failures[(failures["kind"] == "transient") & failures["declared"].astype(bool)
                        & np.isfinite(failures["back_s"].to_numpy(dtype=np.float64))]
    done = repairs[repairs["failure_id"].isin(returned["failure_id"])]
    return {"failures": int(len(returned)), "slots": int(len(done)) * weight,
            "bytes_read": int(done["bytes_read"].sum()), "bytes_written": int(done["bytes_written"].sum())}


@pytest.mark.parametrize("n_repairs", [0, 1, 5000])
@pytest.mark.parametrize("weight", [1, 4])
def test_wasted_repair_equals_the_sums_over_the_selected_rows(n_repairs, weight):
    rng = np.random.default_rng(n_repairs + weight)
    n = 40
    failures = pd.DataFrame({
        "failure_id": np.arange(n),
        "kind": pd.Categorical.from_codes(rng.integers(0, 2, n), categories=["transient", "permanent"]),
        "declared": rng.random(n) < 0.7,
        "back_s": np.where(rng.random(n) < 0.6, rng.uniform(0, 1e6, n), np.nan)})
    repairs = pd.DataFrame({
        "failure_id": rng.integers(0, n, n_repairs),
        "bytes_read": rng.integers(0, 2**40, n_repairs), "bytes_written": rng.integers(0, 2**32, n_repairs),
        "source_nodes": [str(i) for i in range(n_repairs)]})
    expected = wasted_repair_by_rows(failures, repairs, weight)
    assert wasted_repair(failures, repairs, weight) == expected
    assert n_repairs < 5000 or expected["slots"] > 0


def test_rebuild_interference_splits_reads_at_the_first_failure_and_the_repair_window():
    from vstack_sim.model.metrics import rebuild_interference

    times = np.array([1.0, 2.0, 5.0, 6.0, 7.0, 9.0, 12.0])
    lat = np.array([10.0, 20.0, 99.0, 30.0, np.nan, 50.0, 70.0])        # NaN: a failed read, left out
    failures = pd.DataFrame({"time_s": [4.0, 8.0]})
    repairs = pd.DataFrame({"start_s": [6.0, 7.5], "end_s": [9.5, 10.0]})
    out = rebuild_interference(times, lat, failures, repairs)
    assert out["window_s"] == 4.0 and out["start_s"] == 6.0 and out["end_s"] == 10.0
    assert out["read_latency_before_ms"]["count"] == 2 and out["read_latency_before_ms"]["max"] == 20.0
    assert out["read_latency_during_ms"]["count"] == 2 and out["read_latency_during_ms"]["mean"] == 40.0
    assert rebuild_interference(times, lat, failures, repairs.iloc[:0]) is None


def test_conversion_interference_takes_the_first_converting_check_and_its_wave():
    from vstack_sim.model.metrics import conversion_interference

    times = np.array([50.0, 150.0, 250.0, 350.0, 401.0, 450.0])
    lat = np.array([5.0, 6.0, 7.0, 40.0, 80.0, 1.0])
    ec = np.array([True, True, True, True, True, False])
    migr = pd.DataFrame({"start_s": [300.0, 300.0, 550.0, 700.0], "end_s": [420.0, 610.0, 650.0, 800.0]})
    out = conversion_interference(times, lat, ec, migr, check_interval=400.0, unfinished=1)
    # The check at 300 s started the videos starting before 700 s (the next check): three, the last ending at 650.
    assert out["at_s"] == 300.0 and out["videos"] == 3 and out["finish_s"] == 350.0
    assert out["span_s"] == 300.0 and out["unfinished_at_end"] == 1
    assert out["ec_read_latency_before_ms"]["count"] == 3 and out["ec_read_latency_before_ms"]["max"] == 7.0
    assert out["ec_read_latency_after_ms"]["count"] == 2 and out["ec_read_latency_after_ms"]["max"] == 80.0
    assert conversion_interference(times, lat, ec, migr.iloc[:0], 400.0, 0) is None
