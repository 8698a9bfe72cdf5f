"""Result: the reads table says when it is a sample; read latency by kind always covers every read."""

from __future__ import annotations

import numpy as np

from tests.builders import config
from vstack_sim import simulate

SMALL = {
    "run": {"duration": "2h", "seed": 5},
    "catalog": {"videos": 40, "chunks_per_video": 4, "hot_fraction": 0.2},
    "cluster": {"nodes": 6, "racks": 3},
    "workload": {"view_rate": "1/s"},
    "failures": {"scheduled": [{"at": "30min", "node": 1, "kind": "transient", "duration": "20min"}]},
}


def test_read_latency_summary_is_exact_over_every_read_even_when_the_table_is_a_sample():
    full = simulate(config(SMALL, {"outputs": {"reads_table_sample": 0}}))
    sampled = simulate(config(SMALL, {"outputs": {"reads_table_sample": 200}}))
    assert not full.reads_sampled and full.reads.attrs["sample"] is False
    assert sampled.reads_sampled and len(sampled.reads) == 200
    assert sampled.reads.attrs == {"sample": True, "reads_in_run": full.summary["reads"]["count"]}

    summary = sampled.read_latency_summary()
    assert summary.equals(full.read_latency_summary())        # sampling the table changes nothing here
    ok = full.reads[full.reads["kind"] != "failed"]
    assert set(summary.index) == set(ok["kind"].unique()) | {"all"}
    for kind in summary.index:
        lat = ok["latency_ms"] if kind == "all" else ok.loc[ok["kind"] == kind, "latency_ms"]
        assert summary.loc[kind, "count"] == len(lat)
        assert np.isclose(summary.loc[kind, "p99"], np.percentile(lat, 99), rtol=0, atol=1e-6)
        assert np.isclose(summary.loc[kind, "max"], lat.max(), rtol=0, atol=1e-6)
    assert summary.loc["all", "count"] == full.summary["reads"]["count"] - full.summary["reads"]["failed"]


# -- simulate() makes the up-front checks of `vstack-sim run` (issue 19) ---------------------------------------

def test_simulate_refuses_what_run_refuses_before_allocating():
    import pytest

    from vstack_sim.scenario.limits import ResourceError

    # a replication factor of 33,000 overflowed the int16 per-chunk counters (OverflowError) before
    wide = config(SMALL, {"redundancy": {"policy": "replication", "replication_factor": 33_000},
                          "cluster": {"nodes": 33_000, "racks": 1}, "catalog": {"videos": 1, "chunks_per_video": 1}})
    with pytest.raises(ResourceError, match="redundancy.replication_factor: 33,000 slots"):
        simulate(wide)
    with pytest.raises(ResourceError, match="workload.view_rate"):
        simulate(config(SMALL, {"workload": {"view_rate": "1000/s"}, "run": {"duration": "10000d"}}))


def test_simulate_opts_out_with_check_false_and_lifts_the_estimate_limits_with_allow_huge(monkeypatch):
    import pytest

    from vstack_sim.scenario import limits

    monkeypatch.setattr(limits, "MAX_EVENTS", 10)   # every run is "huge" now
    small = config(SMALL, {"workload": {"view_rate": 0}})
    with pytest.raises(limits.ResourceError, match="over the limit of 1e\\+01"):
        simulate(small)
    assert simulate(small, allow_huge=True).summary == simulate(small, check=False).summary


def test_a_sampled_reads_table_keeps_every_read_of_a_rare_kind_and_a_uniform_sample_of_the_rest():
    # Issue 23: a 17-read staircase stood for 286 degraded reads; now all 286 are in the table.
    import numpy as np

    from vstack_sim.model.simulation import RARE_KIND_READS, sample_reads

    kind = np.array([0] * 50_000 + [2] * 286 + [1] * 30_000 + [3] * 5)
    rows = sample_reads(kind, 1_000, np.random.default_rng(1))
    assert len(rows) == 1_000 and np.all(np.diff(rows) > 0)
    kept = np.bincount(kind[rows], minlength=4)
    assert kept[2] == 286 and kept[3] == 5 and kept[0] + kept[1] == 709
    assert abs(kept[0] / (kept[0] + kept[1]) - 50_000 / 80_000) < 0.06       # the common kinds keep their shares
    assert RARE_KIND_READS == 1000
