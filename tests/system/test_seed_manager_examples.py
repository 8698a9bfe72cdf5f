"""The seed's usage example runs as written against the package's top-level names."""

from __future__ import annotations

import pytest

from vstack_sim import RedundancyManager, RedundancyMode


@pytest.fixture(autouse=True)
def _no_env_threshold(monkeypatch):
    monkeypatch.delenv("POPULARITY_THRESHOLD", raising=False)


def test_seed_usage_example():
    manager = RedundancyManager(popularity_threshold=1000)

    # Hot video - uses replication
    mode, config = manager.determine_redundancy_mode("video1", view_count=5000)
    assert mode is RedundancyMode.REPLICATION
    assert config["mode"] == "replication" and config["replication_factor"] == 3

    # Cold video - uses erasure coding
    mode, config = manager.determine_redundancy_mode("video2", view_count=100)
    assert mode is RedundancyMode.ERASURE_CODING
    assert config == {
        "mode": "erasure_coding",
        "data_shards": 3,
        "parity_shards": 2,
        "total_shards": 5,
        "min_shards_for_recovery": 3,
    }

    # Force replication for specific video
    manager.set_manual_override("video3", RedundancyMode.REPLICATION)
    assert manager.determine_redundancy_mode("video3", view_count=0)[0] is RedundancyMode.REPLICATION

    # Clear override (return to automatic)
    manager.clear_manual_override("video3")
    assert manager.determine_redundancy_mode("video3", view_count=0)[0] is RedundancyMode.ERASURE_CODING


def test_seed_pseudocode_return_values():
    # The seed's sketch returns ("replication", 3) and ("erasure_coding", (5, 3));
    # the same facts are in the mode (a str) and the config.
    manager = RedundancyManager(popularity_threshold=1000)
    mode, config = manager.determine_redundancy_mode("hot", 1001)
    assert (mode, config["replication_factor"]) == ("replication", 3)
    mode, config = manager.determine_redundancy_mode("cold", 1000)
    assert (mode, (config["total_shards"], config["data_shards"])) == ("erasure_coding", (5, 3))
