"""Exposure to loss (issue 26, part 2): chunk-seconds one data-destroying failure from loss, and the losses they
imply, checked by hand on one stripe and against the direct count at inflated failure rates."""

import math

import numpy as np
import pytest

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.exposure import Z95, slot_hazard
from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config

DAY = 86400.0


def test_slot_hazard_is_permanent_node_failures_plus_disk_failures():
    f = Config.model_validate({"failures": {"node_mttf": "10d", "permanent_fraction": 0.25,
                                            "disk_mttf": "5d"}}).failures
    h = slot_hazard(f)
    assert h["node_permanent"] == pytest.approx(0.25 / (10 * DAY))
    assert h["disk"] == pytest.approx(1 / (5 * DAY))
    assert h["total"] == pytest.approx(h["node_permanent"] + h["disk"])
    off = slot_hazard(Config.model_validate({"failures": {"node_mttf": 0}}).failures)
    assert off == {"node_permanent": 0.0, "disk": 0.0, "total": 0.0}


def test_two_destroyed_fragments_expose_the_stripe_until_repair_and_a_transient_outage_only_lowers_the_risk():
    base = one_stripe(7)
    nodes = layout(config(base))
    sched = [fail(DAY, nodes[0]), fail(DAY + 60, nodes[3]), fail(DAY + 120, nodes[1], "transient", "600s")]
    r = simulate(config(base, {"failures": {"scheduled": sched, "replacement_delay": "30d", "disk_mttf": "1000d"}}))
    x = r.summary["durability"]["exposure"]
    # RS(3,2) at 3 surviving fragments from the second failure to the first rebuild's end.
    first_rebuilt = float(r.repairs["end_s"].min())
    exposed = first_rebuilt - (DAY + 60)
    assert x["one_failure_from_loss_chunk_seconds"] == {"replication": 0.0, "erasure_coding": pytest.approx(exposed)}
    # 3 slots at risk, but 2 for the 600 s the third node is down (a down node neither fails nor loses its disks).
    assert x["slot_seconds_at_risk"] == pytest.approx(3 * exposed - 600, abs=1e-3)
    assert x["episodes"] == 1
    hazard = 1 / (1000 * DAY)
    assert x["expected_chunks_lost"] == pytest.approx(x["slot_seconds_at_risk"] * hazard, rel=1e-5)
    # One episode: the interval is the estimate +- 1.96 x itself, cut at 0.
    assert x["expected_chunks_lost_95"] == [0.0, pytest.approx((1 + Z95) * x["expected_chunks_lost"], rel=1e-5)]
    assert x["chunks_lost_95"] is None                     # no loss: the direct count has no interval


def test_transient_outages_expose_nothing():
    base = one_stripe(5, failures={"detection_timeout": "30d", "disk_mttf": "100000d"})
    nodes = layout(config(base))
    sched = [fail(DAY, nodes[0], "transient", "3h"), fail(DAY + 3600, nodes[1], "transient", "3h")]
    d = simulate(config(base, {"failures": {"scheduled": sched}})).summary["durability"]
    assert d["reduced_redundancy_chunk_seconds"]["erasure_coding"]["2"] > 0
    x = d["exposure"]
    assert x["slot_seconds_at_risk"] == 0.0 and x["episodes"] == 0
    assert x["expected_chunks_lost"] == 0.0 and x["expected_chunks_lost_95"] is None


def test_a_replicated_chunk_is_exposed_at_one_replica_and_a_lost_chunk_no_longer():
    base = one_stripe(5, policy="replication")
    nodes = layout(config(base))
    assert len(nodes) == 3
    sched = [fail(DAY, nodes[0]), fail(DAY + 60, nodes[1]), fail(DAY + 100, nodes[2])]
    r = simulate(config(base, {"failures": {"scheduled": sched, "replacement_delay": "30d",
                                            "detection_timeout": "1h"}}))
    d = r.summary["durability"]
    assert d["chunks_lost"] == 1 and list(r.losses["time_s"]) == [DAY + 100]
    x = d["exposure"]
    assert x["one_failure_from_loss_chunk_seconds"] == {"replication": 40.0, "erasure_coding": 0.0}
    assert x["slot_seconds_at_risk"] == 40.0 and x["episodes"] == 1
    assert x["chunks_lost_95"] == [0.0, pytest.approx(1 + Z95, rel=1e-5)]


def test_chunk_weight_multiplies_the_exposure():
    base = one_stripe(7, failures={"disk_mttf": "1000d"})
    nodes = layout(config(base))
    over = {"failures": {"scheduled": [fail(DAY, nodes[0]), fail(DAY + 60, nodes[3])], "replacement_delay": "30d"},
            "codec": {"verify_payloads": False}}
    one = simulate(config(base, over)).summary["durability"]["exposure"]
    five = simulate(config(base, over, {"catalog": {"chunk_weight": 5}})).summary["durability"]["exposure"]
    assert one["slot_seconds_at_risk"] > 0
    assert five["episodes"] == one["episodes"]
    # W = 5 moves five rounds through the rebuild, so compare the rate the exposure implies, per exposed second.
    for key in ("slot_seconds_at_risk", "expected_chunks_lost"):
        per_one = one[key] / one["one_failure_from_loss_chunk_seconds"]["erasure_coding"]
        per_five = five[key] / five["one_failure_from_loss_chunk_seconds"]["erasure_coding"]
        assert per_five == pytest.approx(per_one, rel=1e-5)


# -- the estimate against the direct count ----------------------------------------------------------------

INFLATED = {
    "run": {"duration": "10d"},
    "catalog": {"videos": 50, "chunks_per_video": 4, "chunk_size": 65536, "hot_fraction": 0.3},
    "cluster": {"nodes": 24, "racks": 4, "disks_per_node": 2},
    # Node failures every 2 days (30 % permanent, the rest back after 3 h on average, declared after 4 h), disk
    # failures every 4 days: about 100 node failures, 28 disk failures and 46 chunks lost per run.
    "failures": {"node_mttf": "2d", "permanent_fraction": 0.3, "transient_downtime": "3h",
                 "detection_timeout": "4h", "replacement_delay": "6h", "disk_mttf": "4d",
                 "disk_replacement_delay": "6h"},
}
SEEDS = range(15)


def variance(interval, point) -> float:
    """The variance a 95 % interval stands for (its upper half: the lower end may be cut at 0)."""
    return ((interval[1] - point) / Z95) ** 2 if interval else 0.0


def test_the_estimate_and_the_direct_count_agree_at_inflated_rates():
    """Issue 26's validation: 15 runs with transient node failures and disk failures on lose about 700 chunks.
    The per-run difference (direct count - estimate) has mean zero (the estimate is the count's compensator);
    over the runs it is inside its 99 % t interval, and each total is inside the other's 95 % interval."""
    lost, expected, var_lost, var_expected, diff = 0, 0.0, 0.0, 0.0, []
    transient = disks = 0
    for seed in SEEDS:
        r = simulate(config(INFLATED, {"run": {"seed": seed}}))
        s = r.summary
        d, x = s["durability"], s["durability"]["exposure"]
        transient += s["recovery"]["node_failure_outcomes"]["transient_undeclared"]
        disks += s["recovery"]["disk_failures"]
        lost += d["chunks_lost"]
        expected += x["expected_chunks_lost"]
        var_lost += variance(x["chunks_lost_95"], d["chunks_lost"])
        var_expected += variance(x["expected_chunks_lost_95"], x["expected_chunks_lost"])
        diff.append(d["chunks_lost"] - x["expected_chunks_lost"])
    assert transient > 100 and disks > 100 and lost >= 100
    diff = np.asarray(diff)
    t99 = 2.977                                          # t quantile 0.995, 14 degrees of freedom
    assert abs(diff.mean()) <= t99 * diff.std(ddof=1) / math.sqrt(len(diff))
    assert abs(lost - expected) <= Z95 * math.sqrt(var_lost)
    assert abs(lost - expected) <= Z95 * math.sqrt(var_expected)
