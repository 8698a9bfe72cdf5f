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
