"""Up-front resource checks: huge or never-ending setups are refused in one line, before allocating."""

from __future__ import annotations

import pytest

from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.limits import MAX_EVENTS, ResourceError, check, estimate
from vstack_sim.scenario.schema import Config

GIB = 2**30
MACHINE = 8 * GIB   # the checks take the machine's memory as an argument, so the tests do not depend on it


def refused(sets: list[str], memory: int = MACHINE) -> str:
    config = load_scenario(None, sets)
    with pytest.raises(ResourceError) as info:
        check(config, memory=memory)
    check(config, allow_huge=True, memory=memory)  # the flag lifts the estimate limits
    return str(info.value)


def test_the_default_and_shipped_sizes_pass():
    est = check(Config(), memory=MACHINE)
    assert est.events < MAX_EVENTS / 100 and est.memory_bytes < GIB


@pytest.mark.parametrize("sets, key, what", [
    (["catalog.videos=1000000000", "catalog.chunks_per_video=1", "cluster.node_capacity=1PB"], "catalog.videos",
     "memory"),
    (["cluster.io_slots=1000000000"], "cluster.io_slots", "memory"),
    # Each disk costs memory of its own (its queue, capacity and counters): 2^31 - 1 disks went out of memory.
    (["cluster.disks_per_node=100000000", "cluster.node_capacity=1PB"], "cluster.disks_per_node", "memory"),
    (["outputs.timeline_interval=1us", "run.duration=365d"], "outputs.timeline_interval", "events"),
    (["migration.popularity_measure=windowed", "migration.window_resolution=1ms"], "migration.window_resolution",
     "memory"),
    (["run.duration=1000000000000d", "failures.node_mttf=0", "workload.view_rate=0"], "outputs.timeline_interval",
     "events"),
    (["workload.view_rate=1000/s", "run.duration=365d"], "workload.view_rate", "events"),
    (["failures.disk_mttf=1ms"], "failures.disk_mttf", "events"),
    (["catalog.chunk_weight=100000", "cluster.node_capacity=1PB", "failures.node_mttf=1h"], "failures.node_mttf",
     "events"),
])
def test_huge_setups_name_the_key_the_estimate_and_the_limit(sets, key, what):
    message = refused(sets)
    assert message.startswith(key + ":") and "--allow-huge" in message
    if what == "memory":
        assert "GiB of memory" in message and "over the limit of 4.0 GiB" in message
    else:  # so many events also need memory for their records: either limit may be the first to say no
        assert ("simulation events" in message and "over the limit of 1e+09" in message) or "GiB of memory" in message


@pytest.mark.parametrize("sets, fragment", [
    (["catalog.videos=100000000", "catalog.chunks_per_video=100", "cluster.node_capacity=1PB", "cluster.nodes=100"],
     "chunk ids"),
    (["redundancy.policy=replication", "redundancy.replication_factor=40000", "cluster.nodes=40000",
      "cluster.racks=1", "catalog.videos=1", "catalog.chunks_per_video=1"], "per-chunk counters"),
    (["catalog.chunk_size=4611686018427387904", "catalog.videos=1", "catalog.chunks_per_video=1",
      "cluster.node_capacity=9223372036854775807"], "byte counters"),
    (["cluster.disks_per_node=2147483647", "cluster.node_capacity=1PB"],
     "cluster.disks_per_node: 20 nodes x 2,147,483,647 disks = 42,949,672,940 disks; disk ids hold at most"),
])
def test_setups_the_arrays_cannot_represent_are_refused_even_with_allow_huge(sets, fragment):
    config = load_scenario(None, sets)
    with pytest.raises(ResourceError, match=fragment):
        check(config, allow_huge=True, memory=MACHINE)


def test_stop_at_first_loss_without_a_failure_source_never_ends():
    config = load_scenario(None, ["run.stop_at_first_loss=true", "failures.node_mttf=0"])
    with pytest.raises(ResourceError, match="no loss can end the run"):
        check(config, allow_huge=True, memory=MACHINE)


def test_estimate_grows_with_what_it_counts():
    small, big = estimate(Config()), estimate(load_scenario(None, ["workload.view_rate=1/s"]))
    assert big.events > 10 * small.events and big.memory_bytes > small.memory_bytes
