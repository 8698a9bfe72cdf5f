"""The end of a run as the metadata catalog needs it: the world's own arrays, handed up, never reached for.

:func:`end_state_of` is called by the run's lifecycle (``Simulation.collect``) when ``outputs.catalog`` is
on; :mod:`vstack_sim.results.catalog_db` turns the :class:`EndState` into ``catalog.sqlite``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from vstack_sim.system.manager import RedundancyManager


@dataclass
class EndState:
    """What the catalog needs from the end of a run (arrays are the world's own, not copies)."""

    manager: RedundancyManager
    chunk_size: int
    slot_node: np.ndarray
    slot_live: np.ndarray
    mode: np.ndarray
    lost: np.ndarray
    layout_time: np.ndarray
    mode_width: np.ndarray
    chunk_video: np.ndarray
    chunk_index: np.ndarray
    chunks_per_video: np.ndarray
    starting_views: np.ndarray
    video_keys: np.ndarray
    node_rack: np.ndarray
    node_up: np.ndarray
    end_time: float
    checksums: Mapping | None = None
    uploaded_at: np.ndarray | None = None
    size_class: np.ndarray | None = None
    absent: np.ndarray | None = None   # chunks not stored at the end: deleted, or of a refused upload
    meta: dict = field(default_factory=dict)


def end_state_of(sim) -> EndState:
    """The :class:`EndState` of a finished :class:`~vstack_sim.model.simulation.Simulation`."""
    w, cfg = sim.world, sim.config
    st, cat = w.state, w.catalog
    checksums = None
    if w.payloads is not None:
        checksums = {key: frag.checksum for key, frag in w.payloads.slots.items()}
    red = cfg.redundancy
    meta = {"scenario": cfg.name, "seed": str(cfg.run.seed), "policy": red.policy,
            "popularity_threshold": str(red.popularity_threshold), "hysteresis": repr(red.hysteresis),
            "replication_factor": str(red.replication_factor), "data_shards": str(red.data_shards),
            "parity_shards": str(red.parity_shards), "chunk_size": str(cfg.catalog.chunk_size),
            "catalog_source": cfg.catalog.source or "",
            # With W > 1 each row stands for W chunks of identical placement: multiply counts and bytes by W.
            "chunk_weight": str(cfg.catalog.chunk_weight),
            # Every setting the policy reads, so the service rebuilds the run's own policy (overrides: its own).
            "policy_settings": json.dumps({
                "redundancy": red.model_dump(mode="json", exclude={"overrides"}),
                "migration": {"window": cfg.migration.window},
                "prices": cfg.effective_prices().model_dump(mode="json")},
                sort_keys=True)}
    return EndState(
        manager=w.manager, chunk_size=w.chunk_size, slot_node=st.slot_node, slot_live=st.slot_has_data,
        mode=st.mode, lost=st.lost, layout_time=st.layout_time, mode_width=st.mode_width,
        chunk_video=cat.chunk_video, chunk_index=cat.chunk_index, chunks_per_video=cat.chunks_per_video,
        starting_views=cat.starting_views, video_keys=cat.keys(), node_rack=w.cluster.node_rack,
        node_up=w.cluster.up.copy(), end_time=float(sim.end_time), checksums=checksums,
        uploaded_at=cat.uploaded_at, size_class=cat.size_class, absent=st.absent if st.n_absent else None, meta=meta)
