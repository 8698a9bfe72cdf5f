"""Per-chunk and per-slot state as NumPy arrays (a struct of arrays).

A chunk has ``width`` slots: r replicas or k+m fragments (slot j of an
erasure-coded chunk is fragment j). ``slot_node[c, j]`` is the node that holds
slot j (-1: no such slot) and ``slot_live[c, j]`` says whether its bytes still
exist there. Counters per chunk are kept in step with every change so that a
node event touches only that node's slots, found with one vectorised query:

* ``exist``: slots whose data exists anywhere (up or down nodes);
* ``avail``: slots whose data sits on a node that is up;
* ``missing``: slots waiting for or undergoing a rebuild.

A chunk is **lost** when ``exist < need`` and **unavailable** while not lost
with ``avail < need`` (``need`` is 1 replica or k fragments). Unavailability is
integrated over time as chunk-seconds, whether anyone reads the chunk or not.
"""

from __future__ import annotations

import numpy as np

JOB_NONE, JOB_PENDING, JOB_RUNNING = 0, 1, 2


class ChunkState:
    """Slot layout and availability counters of every chunk."""

    def __init__(self, n_chunks: int, mode_width: tuple[int, int], mode_need: tuple[int, int],
                 mode_slot_bytes: tuple[int, int]):
        self.n_chunks = n_chunks
        self.mode_width = np.asarray(mode_width, dtype=np.int16)
        self.mode_need = np.asarray(mode_need, dtype=np.int16)
        self.mode_slot_bytes = np.asarray(mode_slot_bytes, dtype=np.int64)
        self.width = int(self.mode_width.max())
        shape = (n_chunks, self.width)
        self.slot_node = np.full(shape, -1, dtype=np.int32)
        self.slot_live = np.zeros(shape, dtype=bool)
        self.job = np.zeros(shape, dtype=np.int8)
        self.mode = np.zeros(n_chunks, dtype=np.int8)
        self.lost = np.zeros(n_chunks, dtype=bool)
        self.exist = np.zeros(n_chunks, dtype=np.int16)
        self.avail = np.zeros(n_chunks, dtype=np.int16)
        self.missing = np.zeros(n_chunks, dtype=np.int16)
        self.unavail_since = np.full(n_chunks, np.nan)
        self.unavailable_seconds = 0.0

    # -- queries ---------------------------------------------------------------------------
    def slots_on(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunks, slots) of every slot that names ``node``: one vectorised scan."""
        flat = np.flatnonzero(self.slot_node.ravel() == node)
        return flat // self.width, flat % self.width

    def need(self, chunks) -> np.ndarray:
        return self.mode_need[self.mode[chunks]]

    def counts(self) -> dict[str, int]:
        """Live (fully redundant and up), degraded, unavailable and lost chunk counts."""
        lost = self.lost
        width = self.mode_width[self.mode]
        need = self.mode_need[self.mode]
        unavailable = int(np.count_nonzero(~lost & (self.avail < need)))
        live = int(np.count_nonzero(~lost & (self.avail >= width)))
        n_lost = int(np.count_nonzero(lost))
        return {"live_chunks": live, "degraded_chunks": self.n_chunks - live - unavailable - n_lost,
                "unavailable_chunks": unavailable, "lost_chunks": n_lost}

    def held_slot_bytes(self) -> int:
        """Bytes of slots whose data exists (nominal layout, before stale copies and conversions)."""
        per_mode = np.bincount(self.mode, weights=self.exist, minlength=2)
        return int(round(float(per_mode @ self.mode_slot_bytes[:2])))

    # -- unavailability accounting ----------------------------------------------------------
    def _open_unavailable(self, chunks: np.ndarray, t: float) -> None:
        c = chunks[~self.lost[chunks] & (self.avail[chunks] < self.need(chunks)) & np.isnan(self.unavail_since[chunks])]
        self.unavail_since[c] = t

    def _close_unavailable(self, chunks: np.ndarray, t: float, force: bool = False) -> None:
        since = self.unavail_since[chunks]
        ok = ~np.isnan(since)
        if not force:
            ok &= self.avail[chunks] >= self.need(chunks)
        c = chunks[ok]
        if len(c):
            self.unavailable_seconds += float((t - self.unavail_since[c]).sum())
            self.unavail_since[c] = np.nan

    def close_all_unavailable(self, t: float) -> None:
        """End of run: count open unavailability up to ``t``."""
        self._close_unavailable(np.flatnonzero(~np.isnan(self.unavail_since)), t, force=True)

    # -- node events -----------------------------------------------------------------------
    def node_down(self, node: int, t: float) -> np.ndarray:
        """A node stops serving; returns the chunks with live data on it."""
        c, s = self.slots_on(node)
        keep = self.slot_live[c, s]
        c = c[keep]
        self.avail[c] -= 1
        self._open_unavailable(c, t)
        return c

    def node_up(self, node: int, t: float) -> np.ndarray:
        """A node serves again with whatever data it still has; returns those chunks."""
        c, s = self.slots_on(node)
        keep = self.slot_live[c, s]
        c = c[keep]
        self.avail[c] += 1
        self._close_unavailable(c, t)
        return c

    def destroy(self, node: int, t: float) -> np.ndarray:
        """The node's data is gone (it must already be down). Returns chunks newly lost."""
        c, s = self.slots_on(node)
        keep = self.slot_live[c, s]
        c, s = c[keep], s[keep]
        self.slot_live[c, s] = False
        self.exist[c] -= 1
        newly = c[~self.lost[c] & (self.exist[c] < self.need(c))]
        return newly

    def mark_lost(self, chunks: np.ndarray, t: float) -> None:
        """Lost chunks stop counting as unavailable and are never repaired."""
        self._close_unavailable(chunks, t, force=True)
        self.lost[chunks] = True

    # -- slot moves --------------------------------------------------------------------------
    def place(self, chunks: np.ndarray, nodes: np.ndarray, node_up: np.ndarray) -> None:
        """Write a whole fresh layout (ingest): nodes is (len(chunks), width of their mode)."""
        w = nodes.shape[1]
        self.slot_node[chunks, :w] = nodes
        self.slot_node[chunks, w:] = -1
        self.slot_live[chunks, :w] = True
        self.slot_live[chunks, w:] = False
        self.exist[chunks] = w
        self.avail[chunks] = node_up[nodes].sum(axis=1)

    def move_slot(self, chunk: int, slot: int, node: int, node_up: np.ndarray, t: float) -> bool:
        """A rebuilt slot now lives on ``node``. Returns True if an old copy existed (it is now stale)."""
        stale = bool(self.slot_live[chunk, slot])
        if stale:
            self.exist[chunk] -= 1
            if node_up[self.slot_node[chunk, slot]]:
                self.avail[chunk] -= 1
        self.slot_node[chunk, slot] = node
        self.slot_live[chunk, slot] = True
        self.exist[chunk] += 1
        if node_up[node]:
            self.avail[chunk] += 1
        self._close_unavailable(np.array([chunk]), t)
        return stale
