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


@pytest.mark.parametrize(("sets", "fragment"), [
    (["catalog.chunk_weight=1000"], "catalog.chunk_weight: each erasure_coding slot is 699,051,000 bytes"),
    (["catalog.chunk_size=2GB", "redundancy.policy=replication"],
     "catalog.chunk_size: each replication slot is 2,000,000,000 bytes"),
])
def test_a_slot_larger_than_a_disk_is_refused(sets, fragment):
    # 1 GB nodes of 12 disks: 83,333,333 bytes a disk. Such a slot could never be placed or rebuilt (before this
    # check, its repair waited for a target for the rest of the run).
    base = ["cluster.node_capacity=1GB", "cluster.disks_per_node=12", "catalog.videos=1", "catalog.chunks_per_video=1"]
    config = load_scenario(None, base + sets)
    with pytest.raises(ResourceError, match=fragment):
        check(config, allow_huge=True, memory=MACHINE)
    check(load_scenario(None, base), memory=MACHINE)


def test_estimate_grows_with_what_it_counts():
    small, big = estimate(Config()), estimate(load_scenario(None, ["workload.view_rate=1/s"]))
    assert big.events > 10 * small.events and big.memory_bytes > small.memory_bytes


# -- run.stop_at_first_loss: the estimate covers about the time to the first loss, not the cap -----------------

def _stripe(policy: str, ratio: float, duration: float = 1e15) -> Config:
    """The MTTDL tests' stripe (tests/model/test_theory_mttdl.py): a 1e15 s cap that the first loss ends."""
    width = 3 if policy == "replication" else 5
    return Config.model_validate({
        "run": {"duration": duration, "stop_at_first_loss": True},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
        "cluster": {"nodes": width + 3, "racks": 1}, "redundancy": {"policy": policy},
        "migration": {"check_interval": 0}, "workload": {"view_rate": 0},
        "failures": {"node_mttf": ratio * 3600.0, "permanent_fraction": 1.0, "detection_timeout": 0,
                     "replacement_delay": 0},
        "repair": {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": 3600.0},
        "outputs": {"timeline_interval": 1e15}})


@pytest.mark.parametrize("policy", ["replication", "erasure_coding"])
@pytest.mark.parametrize("ratio", [5, 10, 30])
def test_mttdl_runs_that_end_at_the_first_loss_pass_without_allow_huge(policy, ratio):
    from vstack_sim.analysis.theory import stripe_mttdl
    from vstack_sim.scenario.horizon import FIRST_LOSS_MULTIPLE, horizon

    config = _stripe(policy, ratio)
    assert horizon(config) == pytest.approx(FIRST_LOSS_MULTIPLE * stripe_mttdl(config))
    assert check(config, memory=MACHINE).events < MAX_EVENTS / 1000
    # without stop_at_first_loss the same 1e15 s are simulated in full, and refused
    with pytest.raises(ResourceError, match="simulation events|GiB of memory"):
        check(config.model_copy(update={"run": config.run.model_copy(update={"stop_at_first_loss": False})}),
              memory=MACHINE)


def test_a_first_loss_that_practically_never_comes_is_refused():
    # 100,000 years, stop_at_first_loss, rare permanent failures and quick repairs: the first loss is millions
    # of years away, so the run would simulate the whole cap (issue 19: it ran until killed in a sweep).
    config = load_scenario(None, ["run.stop_at_first_loss=true", "run.duration=36500000d", "workload.view_rate=0"])
    with pytest.raises(ResourceError, match="simulation events|GiB of memory"):
        check(config, memory=MACHINE)


def test_first_loss_estimate_of_a_catalog_lies_between_the_stripe_and_the_node_chains():
    from vstack_sim.scenario.horizon import expected_first_loss

    chain = ["failures.permanent_fraction=1", "failures.node_mttf=2h", "repair.time_model=exponential",
             "repair.mttr=1h", "repair.streams_per_node=0", "failures.detection_timeout=0"]
    fast = load_scenario(None, chain)
    few = load_scenario(None, chain + ["catalog.videos=1", "catalog.chunks_per_video=1"])
    assert 0 < expected_first_loss(fast) < expected_first_loss(few) < 1e7
    only_transient = load_scenario(None, ["failures.permanent_fraction=0"])
    assert expected_first_loss(only_transient) == float("inf")


def test_memory_estimate_counts_the_repairs_table():
    # issue 19: 50 M chunks, 200 nodes, node MTTF 60 d, 30 days was estimated at 5.9 GiB; runs at 5 M and 10 M
    # chunks grow linearly to 15-17 GiB at 50 M, the repairs table being most of it (benchmarks/limits_memory.py)
    def issue(videos, mttf="60d"):
        return load_scenario(None, [f"catalog.videos={videos}", "catalog.chunks_per_video=50", "cluster.nodes=200",
                                    "cluster.racks=10", f"failures.node_mttf={mttf}", "run.duration=30d",
                                    "workload.view_rate=0", "migration.check_interval=0"])

    big = estimate(issue(1_000_000))
    assert 14 * GIB <= big.memory_bytes <= 18 * GIB and big.biggest(big.memory_parts) == "repairs table"
    assert 1.4 * GIB <= estimate(issue(100_000)).memory_bytes <= 2 * GIB
    assert estimate(issue(1_000_000, mttf="0")).memory_parts["repairs table"] == 0
    with pytest.raises(ResourceError, match=r"^failures.node_mttf: .* GiB of memory \(mostly repairs table"):
        check(issue(1_000_000), memory=24 * GIB)


def test_uploads_count_in_the_estimate_and_too_many_are_refused_naming_the_rate():
    from vstack_sim.scenario import limits

    quiet = Config.model_validate({"run": {"duration": "90d"}})
    busy = Config.model_validate({"run": {"duration": "90d"}, "workload": {"uploads": {"rate": "10000/d"}}})
    assert limits.estimate(busy).memory_parts["chunk state"] > 10 * limits.estimate(quiet).memory_parts["chunk state"]
    huge = Config.model_validate({"run": {"duration": "90d"}, "workload": {"uploads": {"rate": "1000/s"}}})
    with pytest.raises(limits.ResourceError, match=r"^workload\.uploads\.rate: about"):
        limits.check(huge)
