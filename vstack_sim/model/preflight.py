"""The pre-run checks that need the catalog as drawn: what ``vstack-sim validate`` asks of the model.

A run makes these checks itself, once, when it builds its world (``World.ingest`` checks the capacity,
``PayloadStore`` the payload budget), so ``run`` never builds a world twice. ``validate`` runs no
simulation, so it builds the world here, draws the catalog and asks the same two questions with the
same code, and so refuses exactly what ``run`` would.
"""

from __future__ import annotations

from vstack_sim.model.payloads import check_payload_budget
from vstack_sim.model.world import World
from vstack_sim.scenario import limits
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.video_refs import check_video_refs


def check(config: Config, allow_huge: bool = False, memory: int | None = None) -> limits.Estimate:
    """The config-only limits (:func:`vstack_sim.scenario.limits.check`), then the world's own checks."""
    estimate = limits.check(config, allow_huge=allow_huge, memory=memory)
    # Overrides change the modes at ingest; a key not in the starting catalog is resolved by the world.
    drawn = (config.catalog.chunk_count_distribution != "fixed" or bool(config.redundancy.overrides)
             or bool(check_video_refs(config)))
    if not drawn:  # the config already checked the exact count against the most expensive mode
        if config.codec.verify_payloads:
            check_payload_budget(config.expected_chunks(), config.catalog.chunk_size)
        return estimate
    world = World(config)
    if config.codec.verify_payloads:
        check_payload_budget(world.catalog.chunks, config.catalog.chunk_size)
    world.check_capacity(world.initial_modes())
    return estimate
