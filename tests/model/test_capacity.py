"""Node capacity holds at ingest, repair and conversion: used <= capacity at every timeline sample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import config
from vstack_sim.model.cluster import rows_that_fit
from vstack_sim.model.preflight import check
from vstack_sim.model.simulation import Simulation
from vstack_sim.model.world import World


def tight(layers: dict, fill: float) -> dict:
    """``layers`` with a node capacity at which the catalog as ingested fills ``fill`` of the cluster."""
    roomy = config(layers, {"cluster": {"node_capacity": "1PB"}})
    w = World(roomy)
    # Config's own check assumes the expected count in the dearest mode; the drawn catalog may need more.
    needed = max(w.ingest_bytes(w.initial_modes()), roomy.expected_chunks() * 3 * roomy.catalog.chunk_size)
    return {**layers, "cluster": {**layers["cluster"], "node_capacity": int(needed / (w.cluster.n_nodes * fill)) + 1}}


def run_checking_capacity(cfg) -> tuple[list[bool], Simulation]:
    sim = Simulation(cfg).build()
    w = sim.world
    assert (w.cluster.used <= w.cluster.capacity).all()
    held = []
    original = sim._sample

    def sample(t):
        held.append(bool((w.cluster.used <= w.cluster.capacity).all() and (w.cluster.used >= 0).all()))
        original(t)

    sim._sample = sample
    sim.start().run().finalize()
    return held, sim


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), fill=st.floats(0.85, 0.99), sigma=st.sampled_from([0.0, 0.8, 1.5]),
       mttf=st.sampled_from(["6h", "1d"]), views=st.sampled_from(["0.02/s", "0.1/s"]))
def test_used_never_exceeds_capacity_at_any_timeline_sample(seed, fill, sigma, mttf, views):
    # Everything starts replicated and cools down once the starting views leave the 6 h window, so
    # conversions to EC write new layouts on a nearly full cluster while failures keep repairs busy.
    size, videos, chunks, nodes = 3000, 30, 4, 8
    cfg = config(tight({
        "run": {"seed": seed, "duration": "1d"},
        "catalog": {"videos": videos, "chunks_per_video": chunks, "chunk_size": size, "hot_fraction": 1.0,
                    "chunk_count_distribution": "lognormal" if sigma else "fixed", "chunk_count_sigma": sigma or 0.8},
        "cluster": {"nodes": nodes, "racks": 4},
        "failures": {"node_mttf": mttf, "permanent_fraction": 0.5, "replacement_delay": "2h"},
        "workload": {"view_rate": views},
        "migration": {"check_interval": "1h", "popularity_measure": "windowed", "window": "6h"},
        "redundancy": {"popularity_threshold": 5},
        "outputs": {"timeline_interval": "30min"},
    }, fill))
    try:
        held, sim = run_checking_capacity(cfg)
    except ValueError as exc:  # the drawn catalog does not fit: refused at ingest, naming the capacity
        assert str(exc).startswith("cluster.node_capacity: the catalog needs")
        return
    assert len(held) > 45 and all(held)


def test_ingest_refuses_a_drawn_catalog_that_does_not_fit_naming_capacity_and_bytes():
    # 200 videos of 10 chunks on average fit as expected; seed 15 draws 3,059 chunks (19.2 GB as replicas)
    cfg = config({"run": {"seed": 15}, "catalog": {"videos": 200, "chunks_per_video": 10,
                                                  "chunk_count_distribution": "lognormal", "chunk_count_sigma": 2},
                  "redundancy": {"policy": "replication"}, "cluster": {"node_capacity": "650MB"}})
    with pytest.raises(ValueError) as info:
        Simulation(cfg).build()
    message = str(info.value)
    assert message.startswith("cluster.node_capacity: the catalog needs 19,245,563,904 bytes at ingest")
    assert "20 x 650,000,000 = 13,000,000,000 bytes" in message
    with pytest.raises(ValueError, match="the catalog needs 19,245,563,904 bytes"):
        check(cfg)   # validate says the same before anything runs


def test_ingest_fills_a_cluster_to_the_brim_without_overfilling_a_node():
    # Exactly the bytes of the catalog: every node ends full, none over.
    cfg = config({"catalog": {"videos": 8, "chunks_per_video": 5, "chunk_size": 1000},
                  "redundancy": {"policy": "replication"},
                  "cluster": {"nodes": 6, "racks": 3, "node_capacity": 8 * 5 * 3 * 1000 // 6 + 1000}})
    w = Simulation(cfg).build().world
    assert (w.cluster.used <= w.cluster.capacity).all()
    assert w.cluster.used.sum() == 8 * 5 * 3 * 1000


def test_rows_that_fit_cuts_at_the_first_overfilled_node():
    nodes = np.array([[0, 1], [0, 2], [0, 1], [1, 2]])
    assert rows_that_fit(nodes, 10, np.array([30, 30, 30])) == 4
    assert rows_that_fit(nodes, 10, np.array([20, 30, 30])) == 2     # the third row puts 30 on node 0
    assert rows_that_fit(nodes, 10, np.array([30, 10, 30])) == 2     # the third row puts 20 on node 1
    assert rows_that_fit(np.array([[0, 1], [-1, -1]]), 10, np.array([30, 30])) == 1


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**31), sigma=st.sampled_from([0.0, 0.8, 1.5]), policy=st.sampled_from(
       ["adaptive", "replication", "erasure_coding"]), fill=st.floats(0.8, 1.05))
def test_ingest_never_overfills_a_node_or_refuses_naming_the_capacity(seed, sigma, policy, fill):
    layers = {"run": {"seed": seed},
              "catalog": {"videos": 60, "chunks_per_video": 4, "chunk_size": 3000, "hot_fraction": 0.3,
                          "chunk_count_distribution": "lognormal" if sigma else "fixed",
                          "chunk_count_sigma": sigma or 0.8},
              "cluster": {"nodes": 8, "racks": 4}, "redundancy": {"policy": policy}}
    roomy = config(layers, {"cluster": {"node_capacity": "1PB"}})
    w = World(roomy)
    needed = max(w.ingest_bytes(w.initial_modes()), roomy.expected_chunks() * 3 * 3000)
    try:  # refused by the schema (expected count), or at ingest (drawn count, placement)
        built = Simulation(config(layers, {"cluster": {"node_capacity": int(needed / (8 * fill)) + 1}})).build().world
    except ValueError as exc:
        assert "cluster.node_capacity: the catalog needs" in str(exc)
        return
    assert (built.cluster.used <= built.cluster.capacity).all()
    assert int(built.cluster.used.sum()) == built.ingest_bytes(built.video_mode)


def test_a_conversion_that_does_not_fit_waits_and_goes_ahead_once_it_fits():
    # Video 0 (coded) turns hot; its replicated layout needs a whole chunk on 3 nodes. While every
    # node has less room than that, the conversion waits (retrying) instead of overfilling a node; it
    # goes ahead once room appears.
    from vstack_sim.model.migration import RETRY_UNAVAILABLE_S
    from vstack_sim.system.modes import MODE_ERASURE_CODING, MODE_REPLICATION

    size = 3000
    cfg = config({"run": {"duration": "1d"},
                  "catalog": {"videos": 4, "chunks_per_video": 2, "chunk_size": size, "hot_fraction": 0.0},
                  "cluster": {"nodes": 6, "racks": 3, "node_capacity": 100_000}})
    sim = Simulation(cfg).build().start()
    w = sim.world
    cl = w.cluster
    hog = cl.capacity - cl.used - (size - 1)          # leave each node one byte short of a replica
    cl.used += hog
    w.catalog.view_count[0] = 10**6
    assert list(sim.migrator.check()) == [0]
    w.env.run(until=10 * RETRY_UNAVAILABLE_S)
    assert len(sim.migrator.table) == 0 and w.video_mode[0] == MODE_ERASURE_CODING
    assert (w.state.mode[:2] == MODE_ERASURE_CODING).all()
    assert (cl.used <= cl.capacity).all() and (cl.reserved == 0).all()
    cl.used -= hog
    w.env.run(until=12 * RETRY_UNAVAILABLE_S)
    assert len(sim.migrator.table) == 1 and w.video_mode[0] == MODE_REPLICATION
    assert (w.state.mode[:2] == MODE_REPLICATION).all() and (cl.used <= cl.capacity).all()
