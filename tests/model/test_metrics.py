"""Summary helpers that avoid copying the run's tables give what the copying versions gave (issue 20)."""

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
