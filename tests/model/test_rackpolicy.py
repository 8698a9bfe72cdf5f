"""The rack-outage repair policy: rebuild at once, or wait while the whole rack is down."""

import numpy as np

from tests.builders import config
from vstack_sim.model.simulation import simulate

DAY = 86400.0
H = 3600.0


def rack_outage(policy: str, **failures):
    """12 nodes in 4 racks, 40 small EC chunks; rack 2 (nodes 2, 6, 10) is down from day 1 for 3 h."""
    sched = failures.pop("scheduled", [{"at": DAY, "rack": 2, "duration": "3h"}])
    return config({"run": {"duration": "2d"},
                   "catalog": {"videos": 10, "chunks_per_video": 4, "chunk_size": 4096, "hot_fraction": 0},
                   "cluster": {"nodes": 12, "racks": 4},
                   "failures": {"scheduled": sched, "rack_outage_repair": policy, **failures}})


def test_rebuild_declares_a_wholly_down_rack_after_the_detection_timeout():
    r = simulate(rack_outage("rebuild"))
    f = r.failures
    assert f["declared"].all() and (f["declared_s"] == DAY + 900).all()
    assert len(r.repairs) > 0 and (r.repairs["start_s"] >= DAY + 900).all()


def test_wait_does_not_rebuild_a_rack_that_returns_before_the_timeout():
    r = simulate(rack_outage("wait", rack_wait_timeout="1d"))
    f = r.failures
    assert len(f) == 3 and not f["declared"].any()
    assert len(r.repairs) == 0 and r.summary["recovery"]["repair_bytes_written"] == 0
    assert list(r.node_events["event"]) == ["down"] * 3 + ["up"] * 3
    assert r.summary["durability"]["chunks_lost"] == 0


def test_wait_rebuilds_after_the_rack_wait_timeout():
    r = simulate(rack_outage("wait", rack_wait_timeout="1h"))
    f = r.failures
    assert f["declared"].all() and (f["declared_s"] == DAY + H).all()
    assert len(r.repairs) > 0 and r.repairs["start_s"].min() == DAY + H


def test_wait_timeout_shorter_than_detection_changes_nothing():
    a = simulate(rack_outage("rebuild"))
    b = simulate(rack_outage("wait", rack_wait_timeout="5min"))
    assert a.summary == b.summary


def test_when_one_node_of_the_rack_returns_the_others_are_declared_at_once():
    nodes = [2, 6, 10]
    sched = [{"at": DAY, "node": n, "kind": "transient", "duration": d}
             for n, d in zip(nodes, ["1h", "3h", "3h"], strict=False)]
    r = simulate(rack_outage("wait", rack_wait_timeout="1d", scheduled=sched))
    f = r.failures.set_index("node")
    assert not f.loc[2, "declared"]                      # back before anything was declared
    assert f.loc[[6, 10], "declared"].all() and (f.loc[[6, 10], "declared_s"] == DAY + H).all()
    rep = r.repairs
    assert len(rep) > 0 and rep["start_s"].min() == DAY + H
    assert set(rep["failure_id"]) <= set(f.loc[[6, 10], "failure_id"])


def test_wait_leaves_single_node_failures_alone():
    sched = [{"at": DAY, "node": 2, "kind": "transient", "duration": "3h"}]
    a = simulate(rack_outage("rebuild", scheduled=sched))
    b = simulate(rack_outage("wait", scheduled=sched))
    assert a.summary == b.summary and bool(b.failures["declared"].iloc[0])


def test_a_rack_that_goes_down_node_by_node_waits_from_its_last_node():
    # Node 2 fails at day 1 and is declared; nodes 6 and 10 follow at +2h: the rack is wholly down from then.
    sched = [{"at": DAY, "node": 2, "kind": "transient", "duration": "10h"},
             {"at": DAY + 2 * H, "rack": 2, "kind": "transient", "duration": "5h"}]
    r = simulate(rack_outage("wait", rack_wait_timeout="2h", scheduled=sched))
    f = r.failures.set_index("node")
    assert f.loc[2, "declared_s"] == DAY + 900            # alone, an ordinary failure
    assert np.allclose(f.loc[[6, 10], "declared_s"], DAY + 4 * H)
