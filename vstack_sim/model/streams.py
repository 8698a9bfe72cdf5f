"""Named random streams: one SeedSequence per run, one child generator per purpose.

Each random choice draws from its own stream, so a draw added in one part of
the model never shifts another. Children are derived by a fixed position per
name (not by creation order), so two policies run with the same seed see the
same views and failures: common random numbers. No module-level random state
is used anywhere.
"""

from __future__ import annotations

import numpy as np

# New names go at the end: a child is derived from its position, so the others keep their numbers.
STREAM_NAMES = ("catalog", "workload", "failures", "repairs", "placement", "reads", "payloads", "outputs",
                "service", "disk_failures", "sources", "uploads", "deletes", "upload_views", "durability")


class RandomStreams:
    """The run's generators, as attributes named in :data:`STREAM_NAMES`."""

    def __init__(self, seed: int | np.random.SeedSequence):
        self.seed_sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self._children = dict(zip(STREAM_NAMES, self.seed_sequence.spawn(len(STREAM_NAMES)), strict=False))
        for name, child in self._children.items():
            setattr(self, name, np.random.Generator(np.random.PCG64(child)))

    def substreams(self, name: str, n: int) -> list[np.random.Generator]:
        """``n`` independent generators under stream ``name`` (e.g. one per node), stable in n's order."""
        seq = np.random.SeedSequence(self._children[name].entropy,
                                     spawn_key=self._children[name].spawn_key + (1_000_003,))
        return [np.random.Generator(np.random.PCG64(s)) for s in seq.spawn(n)]

    def __repr__(self) -> str:
        return f"RandomStreams(entropy={self.seed_sequence.entropy}, streams={STREAM_NAMES})"
