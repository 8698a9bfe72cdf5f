"""RedundancyManager: the seed's threshold rule, overrides, hysteresis, policies and JSON shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import (
    MODE_ERASURE_CODING,
    MODE_REPLICATION,
    RedundancyMode,
    mode_code,
    mode_from_code,
    parse_mode,
)

REP, EC = RedundancyMode.REPLICATION, RedundancyMode.ERASURE_CODING
SEED_EC_CONFIG = {
    "mode": "erasure_coding",
    "data_shards": 3,
    "parity_shards": 2,
    "total_shards": 5,
    "min_shards_for_recovery": 3,
}


@pytest.fixture(autouse=True)
def _no_env_threshold(monkeypatch):
    # A threshold exported in the developer's shell must not change these tests.
    monkeypatch.delenv("POPULARITY_THRESHOLD", raising=False)


# -- modes and codes -----------------------------------------------------------


def test_mode_values_and_codes_round_trip():
    assert REP.value == "replication" and EC.value == "erasure_coding"
    assert (MODE_REPLICATION, MODE_ERASURE_CODING) == (0, 1)
    for mode in RedundancyMode:
        assert mode_from_code(mode_code(mode)) is mode
        assert parse_mode(mode.value.upper()) is mode
    assert mode_code("Erasure_Coding") == MODE_ERASURE_CODING
    assert parse_mode(np.int8(0)) is REP


@pytest.mark.parametrize("bad", ["ec", "replicate", "", None, 2, True, 1.0])
def test_unknown_mode_names_the_argument(bad):
    with pytest.raises(ValueError, match=r"^mode:"):
        parse_mode(bad)


def test_unknown_code_names_the_argument():
    with pytest.raises(ValueError, match=r"^code:"):
        mode_from_code(-1)


# -- the threshold rule --------------------------------------------------------


@pytest.mark.parametrize("views, expected", [(0, EC), (999, EC), (1000, EC), (1001, REP), (5000, REP)])
def test_threshold_rule_at_the_boundary(views, expected):
    mode, config = RedundancyManager(popularity_threshold=1000).determine_redundancy_mode("v", views)
    assert mode is expected
    assert config["mode"] == expected.value


def test_default_threshold_is_1000():
    assert RedundancyManager().popularity_threshold == 1000


def test_env_threshold_is_read_at_construction(monkeypatch):
    monkeypatch.setenv("POPULARITY_THRESHOLD", "50")
    manager = RedundancyManager()
    monkeypatch.setenv("POPULARITY_THRESHOLD", "5000")
    assert manager.popularity_threshold == 50
    assert manager.determine_redundancy_mode("v", 51)[0] is REP
    assert manager.determine_redundancy_mode("v", 50)[0] is EC


def test_explicit_threshold_beats_env(monkeypatch):
    monkeypatch.setenv("POPULARITY_THRESHOLD", "50")
    manager = RedundancyManager(popularity_threshold=1000)
    assert manager.popularity_threshold == 1000
    assert manager.determine_redundancy_mode("v", 500)[0] is EC


@pytest.mark.parametrize("raw", ["abc", "-1", "10.5", "1e3"])
def test_bad_env_threshold_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("POPULARITY_THRESHOLD", raw)
    with pytest.raises(ValueError, match="POPULARITY_THRESHOLD"):
        RedundancyManager()


# -- overrides -----------------------------------------------------------------


def test_override_with_enum_and_string_wins_then_clears():
    manager = RedundancyManager(popularity_threshold=1000)
    manager.set_manual_override("hot", EC)
    manager.set_manual_override("cold", "REPLICATION")
    assert manager.get_manual_override("cold") is REP
    assert manager.determine_redundancy_mode("hot", 10**6) == (EC, SEED_EC_CONFIG)
    assert manager.determine_redundancy_mode("cold", 0)[0] is REP
    assert dict(manager.overrides) == {"hot": EC, "cold": REP}

    manager.clear_manual_override("hot")
    manager.clear_manual_override("never-set")  # clearing nothing is not an error
    assert manager.get_manual_override("hot") is None
    assert manager.determine_redundancy_mode("hot", 10**6)[0] is REP


def test_overrides_mapping_is_read_only():
    manager = RedundancyManager()
    manager.set_manual_override(7, EC)
    with pytest.raises(TypeError):
        manager.overrides[8] = REP  # type: ignore[index]


def test_numpy_and_python_ids_are_the_same_video():
    manager = RedundancyManager()
    manager.set_manual_override(np.int64(7), REP)
    assert manager.get_manual_override(7) is REP
    assert list(manager.overrides) == [7] and type(next(iter(manager.overrides))) is int


# -- the batch call ----------------------------------------------------------


def test_decide_modes_matches_scalar_rule_on_random_arrays():
    rng = np.random.default_rng(20240601)
    manager = RedundancyManager(popularity_threshold=1000)
    ids = np.arange(5000)
    counts = rng.integers(0, 2500, size=ids.size)
    for vid in rng.choice(ids, size=40, replace=False):
        manager.set_manual_override(int(vid), rng.choice(["replication", "erasure_coding"]))
    codes = manager.decide_modes(ids, counts)
    assert codes.dtype == np.int8
    expected = [mode_code(manager.determine_redundancy_mode(int(v), int(c))[0])
                for v, c in zip(ids, counts, strict=False)]
    assert codes.tolist() == expected
    # Both modes and at least one override against the rule actually occur.
    assert set(codes.tolist()) == {0, 1}
    plain = RedundancyManager(popularity_threshold=1000).decide_modes(ids, counts)
    assert (plain != codes).any()


def test_decide_modes_with_hysteresis_matches_scalar_rule():
    rng = np.random.default_rng(7)
    manager = RedundancyManager(popularity_threshold=1000, hysteresis=0.25)
    ids = np.arange(3000)
    counts = rng.integers(0, 2000, size=ids.size)
    current = rng.integers(0, 2, size=ids.size).astype(np.int8)
    codes = manager.decide_modes(ids, counts, current)
    expected = [
        mode_code(manager.determine_redundancy_mode(int(v), int(c), current_mode=int(m))[0])
        for v, c, m in zip(ids, counts, current, strict=False)
    ]
    assert codes.tolist() == expected


def test_decide_modes_honours_string_ids_overrides():
    manager = RedundancyManager(popularity_threshold=1000)
    manager.set_manual_override("b", EC)
    manager.set_manual_override(3, REP)  # an int id cannot match a string array
    codes = manager.decide_modes(np.array(["a", "b", "c"]), np.array([5000, 5000, 10]))
    assert codes.tolist() == [MODE_REPLICATION, MODE_ERASURE_CODING, MODE_ERASURE_CODING]


def test_decide_modes_override_cache_follows_changes():
    manager = RedundancyManager(popularity_threshold=1000)
    ids, counts = np.arange(3), np.array([0, 0, 0])
    manager.set_manual_override(1, REP)
    assert manager.decide_modes(ids, counts).tolist() == [1, 0, 1]
    manager.clear_manual_override(1)
    manager.set_manual_override(2, REP)
    assert manager.decide_modes(ids, counts).tolist() == [1, 1, 0]


def test_hysteresis_keeps_hot_videos_replicated_down_to_the_cold_threshold():
    manager = RedundancyManager(popularity_threshold=1000, hysteresis=0.2)
    assert manager.cold_threshold == 800
    ids = np.arange(5)
    counts = np.array([900, 800, 801, 1000, 1001])
    current = np.array([MODE_REPLICATION, MODE_REPLICATION, MODE_REPLICATION, MODE_ERASURE_CODING, MODE_ERASURE_CODING])
    codes = manager.decide_modes(ids, counts, current)
    # 900 hot stays hot; 800 is "at or below" 800 -> EC; 801 stays; EC at 1000 stays EC; 1001 goes hot.
    assert codes.tolist() == [0, 1, 0, 1, 0]
    # At ingest there is no current mode, so the plain rule applies.
    assert manager.decide_modes(ids, counts).tolist() == [1, 1, 1, 1, 0]


def test_zero_hysteresis_is_the_plain_rule():
    rng = np.random.default_rng(3)
    manager = RedundancyManager(popularity_threshold=1000)
    counts = rng.integers(0, 2000, size=2000)
    current = rng.integers(0, 2, size=counts.size)
    ids = np.arange(counts.size)
    assert (manager.decide_modes(ids, counts, current) == manager.decide_modes(ids, counts)).all()


def test_cold_threshold_is_exact_for_decimal_hysteresis():
    # 1000 x (1 - 0.3) is 699.999... in floats; the rule must use 700.
    assert RedundancyManager(popularity_threshold=1000, hysteresis=0.3).cold_threshold == 700
    assert RedundancyManager(popularity_threshold=999, hysteresis=0.5).cold_threshold == 499


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(view_counts=np.array([1, 2])), r"^view_counts:.*shape"),
        (dict(view_counts=np.array([1, -2, 3])), r"^view_counts:.*non-negative"),
        (dict(view_counts=np.array([1.0, np.nan, 3.0])), r"^view_counts:.*finite"),
        (dict(view_counts=np.array([True, False, True])), r"^view_counts:"),
        (dict(view_counts=np.array([1, 2, 3]), current_modes=np.array([0, 1])), r"^current_modes:"),
        (dict(view_counts=np.array([1, 2, 3]), current_modes=np.array([0, 1, -1])), r"^current_modes:"),
    ],
)
def test_decide_modes_rejects_bad_arrays(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RedundancyManager().decide_modes(np.arange(3), **kwargs)


def test_decide_modes_on_empty_arrays():
    codes = RedundancyManager().decide_modes(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    assert codes.shape == (0,) and codes.dtype == np.int8


# -- policies ----------------------------------------------------------------


@pytest.mark.parametrize("policy, code", [("replication", MODE_REPLICATION), ("erasure_coding", MODE_ERASURE_CODING)])
def test_fixed_policies_ignore_views_but_not_overrides(policy, code):
    manager = RedundancyManager(policy=policy)
    other = mode_from_code(1 - code)
    manager.set_manual_override(2, other)
    codes = manager.decide_modes(np.arange(4), np.array([0, 10**6, 10**6, 1000]))
    assert codes.tolist() == [code, code, mode_code(other), code]
    assert manager.determine_redundancy_mode("x", 0)[0] is mode_from_code(code)
    assert manager.determine_redundancy_mode("x", 10**6)[0] is mode_from_code(code)


# -- validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(erasure_data_shards=0), "erasure_data_shards"),
        (dict(erasure_parity_shards=-1), "erasure_parity_shards"),
        (dict(erasure_data_shards=200, erasure_parity_shards=56), "erasure_parity_shards"),
        (dict(replication_factor=0), "replication_factor"),
        (dict(popularity_threshold=-1), "popularity_threshold"),
        (dict(popularity_threshold=1000.5), "popularity_threshold"),
        (dict(popularity_threshold=True), "popularity_threshold"),
        (dict(hysteresis=1.0), "hysteresis"),
        (dict(hysteresis=-0.1), "hysteresis"),
        (dict(hysteresis=float("nan")), "hysteresis"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(policy="random"), "policy"),
    ],
)
def test_bad_settings_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        RedundancyManager(**kwargs)


def test_largest_code_is_accepted():
    assert RedundancyManager(erasure_data_shards=200, erasure_parity_shards=55).total_shards == 255


@pytest.mark.parametrize("views", [-1, 1.5, True, "10", None])
def test_bad_view_count_names_the_argument(views):
    with pytest.raises(ValueError, match=r"^view_count:"):
        RedundancyManager().determine_redundancy_mode("v", views)


# -- geometry ----------------------------------------------------------------


def test_geometry_accepts_enum_string_and_code():
    manager = RedundancyManager()
    for rep in (REP, "replication", MODE_REPLICATION):
        assert manager.slots_per_chunk(rep) == 3
        assert manager.min_slots_to_read(rep) == 1
        assert manager.failures_tolerated(rep) == 2
        assert manager.physical_bytes_per_chunk(rep) == 3 * 2 * 2**20
    for ec in (EC, "erasure_coding", MODE_ERASURE_CODING):
        assert manager.slots_per_chunk(ec) == 5
        assert manager.min_slots_to_read(ec) == 3
        assert manager.failures_tolerated(ec) == 2
        # ceil(2,097,152 / 3) = 699,051; x 5 fragments.
        assert manager.physical_bytes_per_chunk(ec) == 3_495_255
    assert manager.fragment_size() == 699_051
    assert manager.fragment_size(10) == 4  # ceil(10 / 3)
    assert manager.physical_bytes_per_chunk(EC, chunk_size=10) == 20


# -- the seed's JSON shapes ---------------------------------------------------


def test_recommend_shape_matches_seed_example():
    body = RedundancyManager().recommend("abc123", 500)
    assert body == {
        "video_id": "abc123",
        "view_count": 500,
        "recommended_mode": "erasure_coding",
        "config": SEED_EC_CONFIG,
    }
    json.dumps(body)  # plain Python values only


def test_recommend_for_a_hot_video():
    body = RedundancyManager().recommend("v", 1001)
    assert body["recommended_mode"] == "replication"
    assert body["config"] == {"mode": "replication", "replication_factor": 3, "min_replicas_for_recovery": 1}


def test_override_shape_matches_seed_example_and_sets_it():
    manager = RedundancyManager()
    body = manager.override("abc123", "replication")
    assert body == {
        "status": "ok",
        "video_id": "abc123",
        "override_mode": "replication",
        "message": "Manual override set to replication",
    }
    assert manager.recommend("abc123", 0)["recommended_mode"] == "replication"


def test_efficiency_matches_seed_example():
    assert RedundancyManager().efficiency() == {
        "efficiency": {
            "replication_overhead_factor": 3.0,
            "erasure_coding_overhead_factor": 1.67,
            "storage_savings_percent": 44.4,
        },
        "mode_comparison": {
            # the design's *_mb key holds MiB; *_mib and *_bytes name what they hold (issue 23)
            "replication": {"storage_per_chunk_mb": 6.0, "storage_per_chunk_mib": 6.0,
                            "storage_per_chunk_bytes": 3 * 2 * 2**20, "nodes_required": 3, "failures_tolerated": 2},
            "erasure_coding": {"storage_per_chunk_mb": 3.33, "storage_per_chunk_mib": 3.33,
                               "storage_per_chunk_bytes": 5 * 699_051, "nodes_required": 5,
                               "failures_tolerated": 2},
        },
    }


def test_efficiency_for_r2_rs63_1mib():
    # A configuration the seed never shows: r = 2, RS(6,3), 1 MiB = 1,048,576 B chunks.
    size = 1_048_576
    fragment = 174_763  # ceil(1,048,576 / 6): 6 x 174,762 = 1,048,572, 4 bytes short
    ec_bytes = 9 * fragment  # 1,572,867
    assert ec_bytes == 1_572_867
    manager = RedundancyManager(
        replication_factor=2, erasure_data_shards=6, erasure_parity_shards=3, chunk_size=size
    )
    assert manager.fragment_size() == fragment
    body = manager.efficiency()
    assert body["efficiency"] == {
        "replication_overhead_factor": 2.0,  # 2,097,152 / 1,048,576
        "erasure_coding_overhead_factor": 1.5,  # 1,572,867 / 1,048,576 = 1.500003 -> 1.5
        "storage_savings_percent": 25.0,  # 1 - 1,572,867 / 2,097,152 = 24.99986 % -> 25.0
    }
    assert body["mode_comparison"] == {
        "replication": {"storage_per_chunk_mb": 2.0, "storage_per_chunk_mib": 2.0,
                        "storage_per_chunk_bytes": 2 * size, "nodes_required": 2, "failures_tolerated": 1},
        "erasure_coding": {"storage_per_chunk_mb": 1.5, "storage_per_chunk_mib": 1.5,
                           "storage_per_chunk_bytes": ec_bytes, "nodes_required": 9, "failures_tolerated": 3},
    }
    assert manager.recommend("v", 0)["config"] == {
        "mode": "erasure_coding",
        "data_shards": 6,
        "parity_shards": 3,
        "total_shards": 9,
        "min_shards_for_recovery": 6,
    }


def test_a_new_policy_is_a_subclass_that_the_manager_holds_with_the_overrides():
    from vstack_sim.system.modes import RedundancyMode
    from vstack_sim.system.policies import Policy, VideoView

    class ShortVideosReplicated(Policy):
        """Replicate videos of at most 4 MiB whatever their views (a newcomer's policy)."""

        name = "short-replicated"

        def modes(self):
            return frozenset(RedundancyMode)

        def decide(self, videos, now):
            return np.where(videos.sizes <= 4 * 2**20, np.int8(MODE_REPLICATION), np.int8(MODE_ERASURE_CODING))

    manager = RedundancyManager(policy=ShortVideosReplicated())
    manager.set_manual_override(2, "erasure_coding")
    view = VideoView.of(np.arange(4), np.array([0, 5000, 0, 0]), sizes=np.array([2, 8, 2, 8]) * 2**20)
    assert manager.policy == "short-replicated"
    assert manager.decide(view, now=0.0).tolist() == [MODE_REPLICATION, MODE_ERASURE_CODING,
                                                       MODE_ERASURE_CODING, MODE_ERASURE_CODING]


@pytest.mark.parametrize("name,modes", [("adaptive", {"replication", "erasure_coding"}),
                                        ("replication", {"replication"}), ("erasure_coding", {"erasure_coding"})])
def test_the_three_shipped_policies_say_which_modes_they_assign(name, modes):
    from vstack_sim.system.policies import make_policy

    assert {m.value for m in make_policy(name, 1000).modes()} == modes
    assert RedundancyManager(policy=name).policy == name
