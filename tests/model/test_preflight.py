"""The pre-run checks that need the catalog as drawn (what validate asks; a run makes them when it builds)."""

from __future__ import annotations

import pytest

from vstack_sim.model.catalog import build_catalog
from vstack_sim.model.preflight import check
from vstack_sim.model.simulation import Simulation
from vstack_sim.model.streams import RandomStreams
from vstack_sim.scenario.files import load_scenario

MACHINE = 64 * 2**30


def test_payload_limit_uses_the_drawn_chunk_counts_like_run():
    # lognormal counts: the expected total fits the payload budget, the drawn one need not
    sets = ["codec.verify_payloads=true", "catalog.chunk_size=1MiB", "catalog.videos=20",
            "catalog.chunk_count_distribution=lognormal", "catalog.chunk_count_sigma=2"]
    for seed in range(30):
        config = load_scenario(None, sets + [f"catalog.chunks_per_video={25}"], seed=seed)
        drawn = build_catalog(config.catalog, 1000, RandomStreams(seed).catalog).chunks
        if drawn * 2**20 > 512 * 2**20:
            with pytest.raises(ValueError, match="codec.verify_payloads"):
                check(config, memory=MACHINE)
            with pytest.raises(ValueError, match="codec.verify_payloads"):
                Simulation(config).build()   # the run refuses it too, when it builds its world
            return
    pytest.fail("no seed drew a catalog over the payload limit")
