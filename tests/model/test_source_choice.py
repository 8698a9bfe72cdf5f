"""Repair source choice (repair.source_choice): which live replica a replica's rebuild reads."""

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.simulation import simulate

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
