"""Client timeouts (reads.failure_timeout, reads.failure_detection): hand-computed failovers and the latency
spike of a node failure."""

import numpy as np
import pytest

from tests.builders import config, fail, layout
from vstack_sim.model.simulation import simulate

S = 2 * 2**20
DISK_BW, REQ_LAT, CLIENT_BW, NET_LAT, NIC_BW = 50e6, 0.004, 1.25e8, 0.0005, 1.25e9
FRESH = REQ_LAT + S / DISK_BW + S / NIC_BW + S / CLIENT_BW + NET_LAT


def primary_reads(views, timeout=2.0, detection=10.0):
    """Three replicas on three nodes in three racks (reader of view v: rack v mod 3); primary reads; the
    primary's node fails at 10.02 s."""
    base = {"run": {"duration": 3600},
            "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
            "cluster": {"nodes": 3, "racks": 3, "client_bandwidth": CLIENT_BW},
            "redundancy": {"policy": "replication"},
            "reads": {"replica_choice": "primary", "failure_timeout": timeout, "failure_detection": detection}}
    primary = layout(config(base))[0]
    return simulate(config(base, {
        "failures": {"detection_timeout": "30d", "scheduled": [fail(10.02, primary, "transient", "1h")]},
        "workload": {"scheduled_views": [{"at": t, "video": 0} for t in views]}}))


def test_reads_to_a_failed_node_wait_for_their_timeout_or_the_readers_detection():
    r = primary_reads([10.0, 11.0, 19.0, 21.0])
    reads = r.reads.sort_values("view_id")
    lost = [2.0, 2.0, 1.02, 0.0]
    # view 0 (reader 0): in flight at the failure, its timeout fires 2 s after sending it (12.0 s);
    # view 1 (reader 1): sent to the failed node at 11 s, times out at 13 s;
    # view 2 (reader 2): sent at 19 s, its reader learns at 20.02 s (before its timeout at 21 s);
    # view 3 (reader 0): its reader learned at 12 s: straight to the next replica.
    assert list(reads["latency_ms"] / 1000.0) == pytest.approx([x + FRESH for x in lost], abs=1e-9)
    assert list(reads["failed_over"]) == [True, True, True, False]
    assert r.summary["reads"]["failover_lost_ms"]["max"] == pytest.approx(2000.0)


def test_zero_delays_are_the_instant_failover():
    r = primary_reads([10.0, 11.0], timeout=0.0, detection=0.0)
    reads = r.reads.sort_values("view_id")
    assert list(reads["latency_ms"] / 1000.0) == pytest.approx([0.02 + FRESH, FRESH], abs=1e-9)


def test_a_node_failure_is_a_latency_spike_until_readers_learn_of_it():
    timeout, detection, at = 1.0, 10.0, 600.0
    cfg = config({
        "run": {"duration": "20min", "seed": 5},
        "catalog": {"videos": 50, "chunks_per_video": 10, "hot_fraction": 1.0},
        "cluster": {"nodes": 6, "racks": 3},
        "redundancy": {"policy": "replication"},
        "reads": {"replica_choice": "random", "failure_timeout": timeout, "failure_detection": detection},
        "failures": {"detection_timeout": "30d", "scheduled": [fail(at, 2, "transient", "1h")]},
        "workload": {"view_rate": "2/s"}, "outputs": {"reads_table_sample": 0}})
    reads = simulate(cfg).reads
    t, lat = reads["time_s"].to_numpy(), reads["latency_ms"].to_numpy()

    def p999(lo, hi):
        return float(np.percentile(lat[(t >= lo) & (t < hi)], 99.9))

    baseline = p999(0.0, at)
    assert p999(at, at + 60.0) > timeout * 1000.0                  # the minute after the failure
    assert p999(at + detection + timeout, 1200.0) < 1.5 * baseline  # readers know: back near baseline
    assert baseline < 500.0
