"""Dollars at the scenario's prices: storage integrated over the run, read requests and traffic, by hand."""

from __future__ import annotations

import pytest

from tests.builders import config
from vstack_sim.model.dollars import storage_gb_months
from vstack_sim.model.simulation import simulate

MB = 10**6


def run(**layers):
    return simulate(config({
        "run": {"duration": "3d"},
        "catalog": {"videos": 10, "chunks_per_video": 2, "chunk_size": 3 * MB, "hot_fraction": 0.2},
        "cluster": {"nodes": 6, "racks": 3},
        "prices": {"storage_per_gb_month_by_mode": {"replication": 0.05, "erasure_coding": 0.01},
                   "request": 1e-6, "moved_per_gb": 0.02},
    }, layers))


def test_the_storage_of_a_fixed_catalog_costs_its_bytes_times_price_times_time():
    cost = run().summary["cost"]
    # 2 hot videos x 2 chunks x 3 replicas x 3 MB = 36 MB replicated; 8 x 2 x 5 fragments x 1 MB = 80 MB coded,
    # for 3 days = 0.1 month.
    assert cost["storage_gb_months"]["replication"] == pytest.approx(0.036 * 0.1, rel=1e-9)
    assert cost["storage_gb_months"]["erasure_coding"] == pytest.approx(0.080 * 0.1, rel=1e-9)
    assert cost["storage_dollars"]["replication"] == pytest.approx(0.036 * 0.1 * 0.05, rel=1e-6)
    assert cost["storage_dollars"]["erasure_coding"] == pytest.approx(0.080 * 0.1 * 0.01, rel=1e-6)
    assert cost["read_requests"] == 0 and cost["traffic_dollars"] == 0
    assert cost["total_dollars"] == pytest.approx(0.036 * 0.1 * 0.05 + 0.080 * 0.1 * 0.01, rel=1e-6)


def test_a_replicated_read_is_one_request_and_a_coded_read_k():
    # Video 0 is hot (2 replicated chunks), video 9 cold (2 coded chunks of k = 3 fragments).
    r = run(workload={"scheduled_views": [{"at": "1h", "video": 0}, {"at": "2h", "video": 9}]})
    cost = r.summary["cost"]
    assert cost["read_requests"] == 2 * 1 + 2 * 3
    assert cost["read_request_dollars"] == pytest.approx(8e-6)


def test_repair_traffic_is_priced_per_gb_moved():
    r = run(failures={"scheduled": [{"at": "1h", "node": 0, "kind": "permanent", "duration": "1d"}],
                      "detection_timeout": "10min"})
    rec, cost = r.summary["recovery"], r.summary["cost"]
    moved = (rec["repair_bytes_read"] + rec["repair_bytes_written"]) / 1e9
    assert moved > 0 and cost["moved_gb"]["repair"] == pytest.approx(moved)
    assert cost["traffic_dollars"] == pytest.approx(moved * 0.02)


def test_a_series_holds_each_sample_until_the_next():
    import numpy as np

    month = 30 * 86400.0
    assert storage_gb_months(np.array([0.0, month]), np.array([2e9, 4e9]), 2 * month) == pytest.approx(6.0)
    assert storage_gb_months(np.array([]), np.array([]), 10.0) == 0.0
