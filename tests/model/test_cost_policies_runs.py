"""Whole runs under the size, cost and predictive policies on a small catalog (hourly checks, fast
conversions): the world builds each from the scenario, and its decisions are the hand-computed ones."""

import numpy as np

from tests.model.test_migration_policies import conversions, run, small
from vstack_sim.model.offpeak import HOUR
from vstack_sim.model.simulation import Simulation, simulate

MIB = 2**20


def test_size_keeps_videos_under_min_ec_bytes_replicated_and_an_override_wins():
    # 8 videos of 2 chunks x 2 MiB, none above the threshold at ingest (5 % of 8 rounds to 0): the threshold
    # rule codes them all; under 4 MiB + 1 every video is small and replicated, except video 0, pinned to EC.
    cold = simulate(small(run={"duration": "1h"}, redundancy={"policy": "size", "min_ec_bytes": 4 * MIB}))
    assert cold.summary["storage_initial"]["replication_chunks"] == 0            # 4 MiB is not under 4 MiB
    r = simulate(small(run={"duration": "1h"}, redundancy={"policy": "size", "min_ec_bytes": 4 * MIB + 1,
                                                          "overrides": {0: "erasure_coding"}}))
    assert r.summary["storage_initial"]["replication_chunks"] == 14
    assert r.videos["mode"].tolist() == ["erasure_coding"] + ["replication"] * 7 and len(r.migrations) == 0


def test_cost_replicates_at_ingest_exactly_the_videos_above_the_shipped_prices_break_even():
    # Default prices, r = 3, RS(3, 2), 2 MiB chunks, a 7-day window: replication pays above 18.76 views in the
    # window (tests/system/test_cost_policies.py), whatever the chunks. 100 starting views split by Zipf over
    # 8 videos: 37, 19, 12, 9, ... so videos 0 and 1 (19, just above) are replicated, the others coded.
    cfg = small(run={"duration": "1h"}, catalog={"starting_views": "total", "total_views": 100},
                redundancy={"policy": "cost"}, migration={"popularity_measure": "windowed"})
    world = Simulation(cfg).build().world
    assert world.manager.policy_object.window == 7 * 86400.0
    counts = world.catalog.view_count
    r = run(cfg)
    hot = counts >= 19
    assert counts[:3].tolist() == [37, 19, 12] and hot.sum() == 2                  # both modes chosen
    assert r.videos["mode"].tolist() == np.where(hot, "replication", "erasure_coding").tolist()
    assert len(r.migrations) == 0                                                  # nothing pays a conversion


def test_predictive_converts_a_check_before_the_threshold_rule_and_counts_the_early_promotion():
    # Cumulative counts of video 0 at the hourly checks: 4 at 1 h, 8 at 2 h, 12 at 3 h (threshold 10). With
    # alpha = beta = 1 the forecast is 2 x count - previous: 12 at 2 h, above 10, so the predictive policy
    # replicates at 2 h, the threshold rule at 3 h.
    views = [{"at": (h + 0.5) * HOUR, "video": 0} for h in range(3) for _ in range(4)]
    layers = dict(run={"duration": "3.5h"}, catalog={"starting_views": "total", "total_views": 0},
                  workload={"scheduled_views": views})
    plain = run(small(**layers, redundancy={"policy": "threshold", "popularity_threshold": 10}))
    assert conversions(plain) == [(0, "replication", 3.0)]
    sim = Simulation(small(**layers, redundancy={"policy": "predictive", "popularity_threshold": 10,
                                                 "predictive_alpha": 1, "predictive_beta": 1})).build()
    r = sim.start().run().finalize().collect()
    assert conversions(r) == [(0, "replication", 2.0)]
    policy = sim.world.manager.policy_object
    assert (policy.early_promotions, policy.false_promotions) == (1, 0)
    assert r.summary["migrations"]["policy_counters"] == {"early_promotions": 1, "false_promotions": 0}
    assert "policy_counters" not in plain.summary["migrations"]       # the threshold rule counts nothing
