"""Storage accounting: how many bytes a mix of replicated and coded chunks costs.

The ledger answers the seed's ``GET /storage/overhead``: given how many
chunks are in each mode, the logical bytes, the physical bytes of the
*nominal* layout (r x size per replicated chunk, ceil(size / k) x (k + m) per
coded chunk) and the savings against storing the same chunks all replicated.

It holds no arithmetic of its own: every per-chunk figure comes from the
:class:`~vstack_sim.system.manager.RedundancyManager`'s geometry, so the ledger,
the simulator and the efficiency endpoint cannot disagree. The seed's own
example figures are off (it mixes decimal GB with binary chunk sizes and
rounds 5/3 to 1.67); see ``tests/test_ledger.py`` for both side by side.

The module also records the seed's two database tables as plain-Python
record shapes, for code that writes them out as CSV or rows.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import (
    MODE_ERASURE_CODING,
    MODE_REPLICATION,
    RedundancyMode,
)

__all__ = [
    "StorageLedger",
    "OVERHEAD_KEYS",
    "CHUNK_FRAGMENTS_COLUMNS",
    "VIDEO_STATS_COLUMNS",
    "CHUNKS_REDUNDANCY_MODE_DEFAULT",
    "FRAGMENT_STATUS_DEFAULT",
    "ChunkFragmentRecord",
    "VideoStatsRecord",
]

#: Keys of ``GET /storage/overhead``, in the seed's order.
OVERHEAD_KEYS = (
    "replication_chunks",
    "erasure_coded_chunks",
    "total_logical_bytes",
    "total_physical_bytes",
    "storage_savings_percent",
    "replication_overhead_bytes",
    "erasure_overhead_bytes",
)

#: Columns of the seed's ``chunk_fragments`` table, one row per stored RS fragment.
#: ``fragment_id`` TEXT primary key; ``chunk_id`` TEXT; ``fragment_index``
#: INTEGER (0 .. k+m-1; below k are the systematic data fragments);
#: ``node_url`` TEXT; ``size_bytes`` INTEGER; ``checksum`` TEXT;
#: ``status`` TEXT (default ``'active'``); ``created_at`` TIMESTAMP.
CHUNK_FRAGMENTS_COLUMNS = (
    "fragment_id",
    "chunk_id",
    "fragment_index",
    "node_url",
    "size_bytes",
    "checksum",
    "status",
    "created_at",
)

#: Columns of the seed's ``video_stats`` table, one row per video:
#: ``video_id`` TEXT primary key; ``view_count`` INTEGER (default 0);
#: ``last_viewed`` TIMESTAMP (None if never viewed);
#: ``total_bytes_served`` INTEGER (default 0).
VIDEO_STATS_COLUMNS = ("video_id", "view_count", "last_viewed", "total_bytes_served")

#: The seed's ``ALTER TABLE chunks ADD COLUMN redundancy_mode TEXT DEFAULT 'replication'``.
CHUNKS_REDUNDANCY_MODE_DEFAULT = RedundancyMode.REPLICATION.value

#: Default of ``chunk_fragments.status``.
FRAGMENT_STATUS_DEFAULT = "active"


class ChunkFragmentRecord(TypedDict):
    """One ``chunk_fragments`` row; keys are :data:`CHUNK_FRAGMENTS_COLUMNS`.

    ``created_at`` is whatever timestamp the writer uses: seconds of
    simulated time in the simulator, an ISO string in the seed's database.
    """

    fragment_id: str
    chunk_id: str
    fragment_index: int
    node_url: str
    size_bytes: int
    checksum: str
    status: str
    created_at: float | str


class VideoStatsRecord(TypedDict):
    """One ``video_stats`` row; keys are :data:`VIDEO_STATS_COLUMNS`."""

    video_id: str | int
    view_count: int
    last_viewed: float | str | None
    total_bytes_served: int


def _count(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}: must be a non-negative integer, got {value!r}")
    return int(value)


class StorageLedger:
    """Storage accounting in the seed's ``/storage/overhead`` shape, for one manager's geometry."""

    def __init__(self, manager: RedundancyManager) -> None:
        if not isinstance(manager, RedundancyManager):
            raise ValueError(f"manager: must be a RedundancyManager, got {type(manager).__name__}")
        self._manager = manager

    @classmethod
    def for_settings(cls, redundancy, chunk_size: int) -> "StorageLedger":
        """The ledger of a scenario's ``redundancy`` section (anything with replication_factor,
        data_shards and parity_shards) at ``chunk_size``: for config checks, reports and plots."""
        return cls(RedundancyManager(
            popularity_threshold=0, replication_factor=redundancy.replication_factor,
            erasure_data_shards=redundancy.data_shards, erasure_parity_shards=redundancy.parity_shards,
            chunk_size=chunk_size))

    @property
    def manager(self) -> RedundancyManager:
        return self._manager

    def physical_bytes_per_chunk(self, mode: RedundancyMode | str | int, chunk_size: int | None = None) -> int:
        """Stored bytes of one chunk in ``mode``: r x size, or ceil(size / k) x (k + m)."""
        return self._manager.physical_bytes_per_chunk(mode, chunk_size)

    def savings_percent(self, physical_bytes: int, n_chunks: int, chunk_size: int | None = None) -> float:
        """Savings of ``physical_bytes`` against all ``n_chunks`` replicated (unrounded; 0.0 with no chunks)."""
        baseline = self.all_replication_bytes(n_chunks, chunk_size)
        return (baseline - physical_bytes) / baseline * 100 if baseline else 0.0

    def per_chunk_savings_percent(self, chunk_size: int | None = None) -> float:
        """Savings of one erasure-coded chunk against one replicated chunk (unrounded)."""
        return self.savings_percent(self.all_erasure_coding_bytes(1, chunk_size), 1, chunk_size)

    def all_replication_bytes(self, n_chunks: int, chunk_size: int | None = None) -> int:
        """Physical bytes if all ``n_chunks`` chunks were replicated."""
        n = _count("n_chunks", n_chunks)
        return n * self._manager.physical_bytes_per_chunk(RedundancyMode.REPLICATION, chunk_size)

    def all_erasure_coding_bytes(self, n_chunks: int, chunk_size: int | None = None) -> int:
        """Physical bytes if all ``n_chunks`` chunks were erasure coded."""
        n = _count("n_chunks", n_chunks)
        return n * self._manager.physical_bytes_per_chunk(RedundancyMode.ERASURE_CODING, chunk_size)

    def overhead(self, replication_chunks: int, erasure_coded_chunks: int, chunk_size: int | None = None) -> dict:
        """``GET /storage/overhead`` for this many chunks in each mode.

        ``storage_savings_percent`` compares with all-replication of the same
        chunks (2 decimals; 0.0 with no chunks). The two ``*_overhead_bytes``
        are the physical bytes of each mode and sum to ``total_physical_bytes``.
        """
        n_rep = _count("replication_chunks", replication_chunks)
        n_ec = _count("erasure_coded_chunks", erasure_coded_chunks)
        size = self._manager.resolve_chunk_size(chunk_size)
        rep_bytes = self.all_replication_bytes(n_rep, size)
        ec_bytes = self.all_erasure_coding_bytes(n_ec, size)
        total = rep_bytes + ec_bytes
        baseline = self.all_replication_bytes(n_rep + n_ec, size)
        savings = round((baseline - total) / baseline * 100, 2) if baseline else 0.0
        return {
            "replication_chunks": n_rep,
            "erasure_coded_chunks": n_ec,
            "total_logical_bytes": (n_rep + n_ec) * size,
            "total_physical_bytes": total,
            "storage_savings_percent": float(savings),
            "replication_overhead_bytes": rep_bytes,
            "erasure_overhead_bytes": ec_bytes,
        }

    def overhead_from_modes(self, mode_codes, chunk_size: int | None = None, weight: int = 1) -> dict:
        """:meth:`overhead` from an array of per-chunk mode codes.

        Codes other than ``MODE_REPLICATION`` and ``MODE_ERASURE_CODING``
        (say -1 for a lost or absent chunk) are not counted. Each code stands
        for ``weight`` chunks of that mode (a simulator's chunk weight).
        """
        weight = _count("weight", weight)
        codes = np.asarray(mode_codes)
        return self.overhead(
            int(np.count_nonzero(codes == MODE_REPLICATION)) * weight,
            int(np.count_nonzero(codes == MODE_ERASURE_CODING)) * weight,
            chunk_size,
        )
