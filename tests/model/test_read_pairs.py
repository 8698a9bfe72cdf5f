"""Hedged pairs with exact withdrawal (reads.hedge_withdraw: exact) over whole loaded runs: every read held
behind a disk ends, the counters add up, the same seed gives the same run, and background I/O waits its turn.
The hand-computed cases are in test_read_hedge.py and test_disk_holds.py."""

import math

import numpy as np
import pytest

from tests.builders import config, fail
from vstack_sim.model.simulation import simulate

S = 2 * 2**20


def loaded(**reads) -> dict:
    """Eight one-slot HDD nodes under heavy replicated and coded reads (primaries queue well past their hedge),
    a transient and a permanent node failure with I/O-timed repair, a disk failure, and conversions."""
    return {
        "run": {"duration": 900, "seed": 3},
        "catalog": {"videos": 40, "chunks_per_video": 4, "hot_fraction": 0.3},
        "cluster": {"nodes": 8, "racks": 4, "io_slots": 1, "disks_per_node": 2},
        "reads": {"hedge_after": "p80", **reads},
        "workload": {"view_rate": 18},
        "migration": {"check_interval": 120},
        "repair": {"time_model": "io"},
        "failures": {"detection_timeout": 60, "scheduled": [
            fail(200.0, 1, "transient", 120), fail(400.0, 2), {"at": 500.0, "node": 3, "disk": 1}]}}


@pytest.fixture(scope="module")
def exact_run():
    return simulate(config(loaded()))


def test_every_read_held_behind_a_disk_ends(exact_run):
    r = exact_run
    h = r.summary["reads"]["hedges"]
    assert h["requests_held"] > 100 and h["primary_withdrawn"] > 10      # the run does hold and withdraw
    reads = r.reads
    ok = reads["kind"] != "failed"
    assert not reads.loc[ok, "latency_ms"].isna().any()                  # each got its latency when it ended
    assert (reads.loc[ok, "latency_ms"] > 0).all()
    assert not r.views["failed"].any() or (reads["kind"] == "failed").any()


def test_the_hedge_counters_add_up(exact_run):
    h = exact_run.summary["reads"]["hedges"]
    assert h["sent"] == h["won"] + h["lost"] + h["cancelled"] + h["unanswered"]
    assert h["primary_not_withdrawn"] == 0
    assert h["extra_bytes"] <= (h["won"] + h["lost"]) * S


def test_the_same_seed_gives_the_same_run(exact_run):
    again = simulate(config(loaded()))
    assert again.summary == exact_run.summary


def test_exact_withdraws_what_keep_spends():
    keep = simulate(config(loaded(hedge_withdraw="keep"))).summary["reads"]["hedges"]
    assert keep["primary_not_withdrawn"] > 0 and keep["primary_withdrawn"] == 0 and keep["requests_held"] == 0


def test_without_hedging_nothing_is_held():
    r = simulate(config(loaded(hedge_after=None)))
    assert "hedges" not in r.summary["reads"] and r.summary["reads"]["latency_ms"]["all"]["count"] > 1000
    assert math.isfinite(r.summary["reads"]["latency_ms"]["all"]["p99"])
    assert not np.isnan(r.reads.loc[r.reads["kind"] != "failed", "latency_ms"]).any()


@pytest.mark.parametrize("io", [{"io": {"scheduler": "priority"}}, {"io": {"scheduler": "mclock"}},
                                {"repair": {"time_model": "io", "budget": 0.2}}])
def test_the_io_scheduler_admits_background_io_behind_holds(io):
    # The scheduler holds repair and conversion requests before their disk; one it lets join a held disk waits in
    # the hold's line like any other request. Every read still ends and the counters add up.
    r = simulate(config(loaded(), io))
    h = r.summary["reads"]["hedges"]
    assert h["requests_held"] > 100 and h["primary_withdrawn"] > 0
    assert h["sent"] == h["won"] + h["lost"] + h["cancelled"] + h["unanswered"]
    reads = r.reads
    assert not reads.loc[reads["kind"] != "failed", "latency_ms"].isna().any()
    assert r.summary["io"]["repair"]["requests"] > 0
