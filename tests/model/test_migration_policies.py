"""Whole runs under the policies of real stores: each check's decisions, and so the conversions, follow the
policy, hand-computed on a small catalog (hourly checks, fast conversions)."""

import numpy as np

from tests.builders import config
from vstack_sim.model.offpeak import HOUR
from vstack_sim.model.simulation import Simulation, simulate


def small(**layers):
    return config({
        "catalog": {"videos": 8, "chunks_per_video": 2},
        "cluster": {"nodes": 8, "racks": 4},
        "migration": {"check_interval": "1h", "concurrent_videos": 8},   # every decided video starts at its check
    }, layers)


def conversions(result) -> list[tuple[int, str, float]]:
    """(video, to mode, start in hours) of every conversion, in start order."""
    m = result.migrations.sort_values(["start_s", "video_id"])
    rows = zip(m["video_id"], m["to_mode"], m["start_s"], strict=True)
    return [(int(v), str(to), s / HOUR) for v, to, s in rows]


def run(cfg, before_start=None):
    sim = Simulation(cfg).build()
    if before_start is not None:
        before_start(sim.world)
    return sim.start().run().finalize().collect()


def test_the_world_follows_the_scenario_settings_here():
    cfg = small(redundancy={"policy": "age", "age_threshold": "6h"})
    assert repr(Simulation(cfg).build().world.manager.policy_object) == "AgePolicy(age_threshold=21600.0)"


def test_age_replicates_the_young_and_codes_each_video_as_it_passes_the_age():
    # Video v was uploaded v hours before the run (the world's upload bookkeeping is another change, so its
    # ages are set after ingest: every video is coded at ingest as of unknown age). Age threshold 6 h: at
    # t = 0, videos 0-6 (at most 6 h old) are replicated; video v is older than 6 h from the check at
    # (7 - v) h. Video 7 (7 h old) is pinned to replication by an override, which wins throughout.
    cfg = small(run={"duration": "8.5h"}, redundancy={"policy": "age", "age_threshold": "6h",
                                                      "overrides": {7: "replication"}})

    def uploaded(world):
        world.video_uploaded_at[:] = -np.arange(8) * HOUR

    r = run(cfg, uploaded)
    expected = [(v, "replication", 0.0) for v in range(7)] + [(v, "erasure_coding", 7.0 - v) for v in range(6, -1, -1)]
    assert conversions(r) == sorted(expected, key=lambda c: (c[2], c[0]))
    assert r.videos["mode"].tolist() == ["erasure_coding"] * 7 + ["replication"]


def test_age_codes_a_catalog_of_unknown_age_at_ingest_and_leaves_it():
    r = simulate(small(run={"duration": "3h"}, redundancy={"policy": "age"}))
    assert r.summary["storage_initial"]["replication_chunks"] == 0 and len(r.migrations) == 0


def test_quiet_codes_what_has_not_been_viewed_for_quiet_for_and_replicates_it_again_when_viewed():
    # Everything is replicated at ingest (last read 0). quiet_for 3 h. Views: video 1 at 1.5 h, video 2 at
    # 2.5 h and 5.5 h, video 3 at 4.5 h (it was coded at 3 h: replicated at 5 h, coded again at 8 h).
    views = [(1.5, 1), (2.5, 2), (4.5, 3), (5.5, 2)]
    cfg = small(run={"duration": "9.5h"}, redundancy={"policy": "quiet", "quiet_for": "3h"},
                workload={"scheduled_views": [{"at": t * HOUR, "video": v} for t, v in views]})
    r = run(cfg)
    assert r.summary["storage_initial"]["erasure_coded_chunks"] == 0
    assert conversions(r) == [
        (0, "erasure_coding", 3.0), (3, "erasure_coding", 3.0), (4, "erasure_coding", 3.0),
        (5, "erasure_coding", 3.0), (6, "erasure_coding", 3.0), (7, "erasure_coding", 3.0),
        (1, "erasure_coding", 5.0), (3, "replication", 5.0),     # 1.5 + 3 = 4.5 -> the check at 5 h
        (3, "erasure_coding", 8.0),                               # 4.5 + 3 = 7.5 -> 8 h
        (2, "erasure_coding", 9.0),                               # 5.5 + 3 = 8.5 -> 9 h
    ]


READS_VIEWS = [(1.1, 4), (1.2, 4), (1.3, 4), (1.4, 4),          # video 4: 4 views, then none
               (1.5, 5), (1.6, 5), (1.7, 5), (3.5, 5), (3.6, 5),  # video 5: 3, then 2 while replicated
               (1.5, 6), (1.6, 6)]                               # video 6: 2 while coded


def reads_run(policy: dict):
    return run(small(
        run={"duration": "6.5h"},
        catalog={"starting_views": "total", "total_views": 0},
        redundancy=policy,
        migration={"popularity_measure": "windowed", "window": "2h", "window_resolution": "1h"},
        workload={"scheduled_views": [{"at": t * HOUR, "video": v} for t, v in READS_VIEWS]}))


def test_reads_promotes_demotes_and_holds_between_with_a_two_hour_window():
    # Counts at the checks (the window's 1 h buckets reach back two full hours): at 2 h 4, 3, 2 for videos 4,
    # 5, 6; at 4 h 0, 2, 0; at 5 h 0, 2, 0; at 6 h all 0. Promote 3, demote 1.
    r = reads_run({"policy": "reads", "reads_promote": 3, "reads_demote": 1})
    assert conversions(r) == [(4, "replication", 2.0), (5, "replication", 2.0),
                              (4, "erasure_coding", 4.0), (5, "erasure_coding", 6.0)]
    # The plain threshold rule at the same promotion point (more than 2 views) drops video 5 at 4 h.
    plain = reads_run({"policy": "threshold", "popularity_threshold": 2})
    assert (5, "erasure_coding", 4.0) in conversions(plain)


def test_reads_bound_replicates_only_the_hottest_share_of_the_bytes():
    # 8 equal videos; an eighth of the bytes is one video: video 4 (4 views) is replicated, video 5 (3) is not.
    r = reads_run({"policy": "reads", "reads_promote": 3, "reads_demote": 1, "reads_max_replicated": 0.125})
    assert conversions(r) == [(4, "replication", 2.0), (4, "erasure_coding", 4.0)]


def test_threshold_is_adaptive_under_a_new_name():
    crowd = {"run": {"duration": "6h"}, "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0.1},
             "workload": {"flash_crowds": [{"video": 10, "start": "1h", "duration": "2h", "view_rate": "0.5/s"}]}}
    old = simulate(small(**crowd))
    new = simulate(small(**crowd, redundancy={"policy": "threshold"}))
    assert len(old.migrations) == 1 and old.migrations.equals(new.migrations)
    assert old.summary["run"].pop("policy") == "adaptive" and new.summary["run"].pop("policy") == "threshold"
    assert old.summary == new.summary
