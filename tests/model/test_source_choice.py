"""Repair source choice (repair.source_choice): which live replica a replica's rebuild reads."""

from types import SimpleNamespace

import numpy as np

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.simulation import simulate
from vstack_sim.model.source_choice import source_order

DAY = 86400.0


def rebuild_source(choice: str, seed: int = 42) -> tuple[list[int], int]:
    """Slot 0's node of a 3-replica chunk on 5 nodes is destroyed; the node its rebuild read from."""
    base = one_stripe(5, "replication", run={"seed": seed}, repair={"source_choice": choice})
    nodes = layout(config(base))
    r = simulate(config(base, {"failures": {"scheduled": [fail(DAY, nodes[0])], "replacement_delay": "30d"}}))
    assert len(r.repairs) == 1 and r.summary["durability"]["chunks_lost"] == 0
    return nodes, int(r.repairs["source_nodes"].iloc[0])


def test_primary_reads_the_first_live_replica_in_placement_order():
    for seed in range(4):
        nodes, source = rebuild_source("primary", seed)
        assert source == nodes[1]


def test_random_and_least_loaded_read_either_live_replica():
    for choice in ("random", "least_loaded"):
        seen = set()
        for seed in range(12):
            nodes, source = rebuild_source(choice, seed)
            assert source in nodes[1:3]
            seen.add(nodes.index(source))
        assert seen == {1, 2}, choice                 # ties broken at random from the sources stream


# -- the rule itself, on a stand-in world: the order each choice gives three usable copies

def order(choice: str, serving=(0, 0, 0), waits=(0.0, 0.0, 0.0), seed: int = 0) -> list[int]:
    nodes = [10, 11, 12]
    world = SimpleNamespace(
        cfg=SimpleNamespace(repair=SimpleNamespace(source_choice=choice)),
        rng=SimpleNamespace(sources=np.random.default_rng(seed)),
        repair=SimpleNamespace(queue=SimpleNamespace(serving={n: s for n, s in zip(nodes, serving, strict=True)})),
        cluster=SimpleNamespace(slot_wait=lambda chunk, j, t: waits[j]))
    return source_order(world, 0, [(j, n) for j, n in enumerate(nodes)], 0.0)


def test_least_loaded_reads_the_nodes_serving_fewest_repair_reads_first_whatever_the_draws():
    for seed in range(8):
        assert order("least_loaded", serving=(2, 0, 1), seed=seed) == [1, 2, 0]


def test_oracle_reads_the_disks_that_would_start_soonest_first():
    assert order("oracle", waits=(0.5, 0.1, 0.3)) == [1, 2, 0]


def test_random_orders_by_the_sources_streams_draws_and_primary_keeps_placement_order():
    for seed in range(8):
        draws = np.random.default_rng(seed).random(3)
        assert order("random", seed=seed) == list(np.argsort(draws))
    assert order("primary") is None
