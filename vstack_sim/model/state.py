"""Per-chunk and per-slot state as NumPy arrays (a struct of arrays).

A chunk has ``width`` slots: r replicas or k+m fragments (slot j of an
erasure-coded chunk is fragment j). ``slot_node[c, j]`` is the node that holds
slot j (-1: no such slot) and ``slot_has_data[c, j]`` says whether its bytes still
exist there. Counters per chunk are kept in step with every change so that a
node event touches only that node's slots, found with one vectorised query:

* ``exist``: slots whose data exists anywhere (up or down nodes);
* ``avail``: slots whose data sits on a node that is up;
* ``missing``: slots waiting for or undergoing a rebuild.

With ``catalog.chunk_weight`` W, each row stands for W chunks that share its
layout: ``mode_slot_bytes`` are the bytes one simulated slot holds (W slots'
worth), ``mode_request_bytes`` those of one real slot, the size of one I/O
request; ``counts`` and the byte totals count real chunks.

A chunk is **lost** when ``exist < need`` and **unavailable** while not lost
with ``avail < need`` (``need`` is 1 replica or k fragments). Unavailability is
integrated over time as chunk-seconds, whether anyone reads the chunk or not.

Run-wide totals (slots that exist per mode, chunks short of full
availability, unavailable chunks) are updated with each change as well, so a
timeline sample costs nothing however many chunks there are. So is a
histogram of chunks by mode and number of slots not available, integrated
over time (chunk-seconds at reduced redundancy), and the count of chunks one
slot loss away from being lost (``exist == need``) with its peak, kept by an
:class:`~vstack_sim.model.exposure.Exposure` that integrates it (exposure to loss).
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.model.exposure import Exposure

JOB_NONE, JOB_PENDING, JOB_RUNNING = 0, 1, 2


class ChunkState:
    """Slot layout and availability counters of every chunk."""

    def __init__(self, n_chunks: int, mode_width: tuple[int, int], mode_need: tuple[int, int],
                 mode_slot_bytes: tuple[int, int], weight: int = 1):
        if weight < 1:
            raise ValueError(f"weight: must be >= 1, got {weight}")
        self.n_chunks = n_chunks
        self.weight = int(weight)
        self.mode_width = np.asarray(mode_width, dtype=np.int16)
        self.mode_need = np.asarray(mode_need, dtype=np.int16)
        self.mode_request_bytes = np.asarray(mode_slot_bytes, dtype=np.int64)
        self.mode_slot_bytes = self.mode_request_bytes * self.weight
        self.width = int(self.mode_width.max())
        shape = (n_chunks, self.width)
        self.slot_node = np.full(shape, -1, dtype=np.int32)
        self.slot_has_data = np.zeros(shape, dtype=bool)
        self.job = np.zeros(shape, dtype=np.int8)
        self.job_failure = np.full(shape, -1, dtype=np.int32)   # the failure a slot's repair job belongs to
        self.mode = np.zeros(n_chunks, dtype=np.int8)
        self.lost = np.zeros(n_chunks, dtype=bool)
        self.exist = np.zeros(n_chunks, dtype=np.int16)
        self.avail = np.zeros(n_chunks, dtype=np.int16)
        self.missing = np.zeros(n_chunks, dtype=np.int16)
        self.unavail_since = np.full(n_chunks, np.nan)
        self.layout_time = np.zeros(n_chunks)   # when the chunk's current layout was written (ingest: 0)
        # Chunks not stored now: of videos still to be uploaded, or deleted. They also count as ``lost``, so every
        # path that skips a lost chunk (reads, repairs, conversions) skips them, but never as losses.
        self.absent = np.zeros(n_chunks, dtype=bool)
        self.n_absent = 0
        self.unavailable_seconds = 0.0
        # Run-wide totals, kept in step.
        self.existing_slots = [0, 0]      # slots whose data exists, per mode
        self.n_short = 0                  # chunks not lost with fewer than `width` slots available
        self.n_unavailable = 0
        self.n_lost = 0
        # Redundancy, integrated over time: chunks (not lost) per mode and number of slots not
        # available, and chunk-seconds in each cell; chunks one slot loss away from being lost.
        self.by_missing = np.zeros((2, self.width + 1), dtype=np.int64)
        self.by_missing_seconds = np.zeros((2, self.width + 1))
        self._t_hist = 0.0
        self.exposure = Exposure()
        self.margins = None               # chunks by margin, kept only under hazard scaling (Margins.attach)
        self.peak_critical = 0
        self.peak_critical_s = 0.0

    @property
    def n_critical(self) -> int:
        """Chunks one slot loss away from being lost (not lost, ``exist == need``)."""
        return self.exposure.n_critical

    # -- queries ---------------------------------------------------------------------------
    def slots_on(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunks, slots) of every slot that names ``node``: one vectorised scan."""
        flat = np.flatnonzero(self.slot_node.ravel() == node)
        return flat // self.width, flat % self.width

    def need(self, chunks) -> np.ndarray:
        return self.mode_need[self.mode[chunks]]

    def counts(self) -> dict[str, int]:
        """Live (fully redundant and up), degraded, unavailable and lost chunk counts (real chunks: x W)."""
        live = self.n_chunks - self.n_lost - self.n_absent - self.n_short
        w = self.weight
        return {"live_chunks": live * w, "degraded_chunks": (self.n_short - self.n_unavailable) * w,
                "unavailable_chunks": self.n_unavailable * w, "lost_chunks": self.n_lost * w}

    def held_slot_bytes(self) -> int:
        """Bytes of slots whose data exists (nominal layout, before stale copies and conversions)."""
        return int(self.existing_slots[0] * self.mode_slot_bytes[0] + self.existing_slots[1] * self.mode_slot_bytes[1])

    def recount(self) -> dict[str, int]:
        """The totals recomputed from the arrays (for tests of the incremental bookkeeping)."""
        width = self.mode_width[self.mode]
        need = self.mode_need[self.mode]
        ok = ~self.lost
        return {"existing_slots": [int(self.exist[self.mode == m].sum()) for m in (0, 1)],
                "n_short": int(np.count_nonzero(ok & (self.avail < width))),
                "n_unavailable": int(np.count_nonzero(ok & (self.avail < need))),
                "n_lost": int(np.count_nonzero(self.lost & ~self.absent))}

    # -- redundancy histogram ---------------------------------------------------------------------
    def _leave(self, chunks: np.ndarray, t: float) -> np.ndarray:
        """Take distinct ``chunks`` out of the histogram and the critical count before they change
        (time integrated up to ``t`` first); returns those that were counted (not lost)."""
        if t > self._t_hist:
            self.by_missing_seconds += self.by_missing * (t - self._t_hist)
            self.exposure.advance(t - self._t_hist)
            self._t_hist = t
        c = chunks[~self.lost[chunks]]
        if len(c):
            m = self.mode[c]
            np.subtract.at(self.by_missing, (m, self.mode_width[m] - self.avail[c]), 1)
            crit = self.exist[c] == self.mode_need[m]
            self.exposure.shift(m[crit], self.avail[c[crit]], -1)
            if self.margins is not None:
                self.margins.move(self.exist[c] - self.mode_need[m], -1)
        return c

    def _enter(self, chunks: np.ndarray, t: float) -> None:
        """Put chunks back after they changed (those lost meanwhile stay out)."""
        c = chunks[~self.lost[chunks]]
        if len(c):
            m = self.mode[c]
            np.add.at(self.by_missing, (m, self.mode_width[m] - self.avail[c]), 1)
            crit = self.exist[c] == self.mode_need[m]
            self.exposure.shift(m[crit], self.avail[c[crit]], +1)
            if self.margins is not None:
                self.margins.move(self.exist[c] - self.mode_need[m], +1)
            if self.n_critical > self.peak_critical:
                self.peak_critical, self.peak_critical_s = self.n_critical, t
        self.exposure.settle()
        self._settle_margins()

    def _leave_one(self, chunk: int, t: float) -> bool:
        """:meth:`_leave` for one chunk, with scalars (once per repair, where np.subtract.at is slow)."""
        if t > self._t_hist:
            self.by_missing_seconds += self.by_missing * (t - self._t_hist)
            self.exposure.advance(t - self._t_hist)
            self._t_hist = t
        if self.lost[chunk]:
            return False
        m = int(self.mode[chunk])
        self.by_missing[m, int(self.mode_width[m]) - int(self.avail[chunk])] -= 1
        if self.exist[chunk] == self.mode_need[m]:
            self.exposure.shift_one(m, int(self.avail[chunk]), -1)
        if self.margins is not None:
            self.margins.move_one(int(self.exist[chunk]) - int(self.mode_need[m]), -1)
        return True

    def _enter_one(self, chunk: int, t: float) -> None:
        """:meth:`_enter` for one chunk that :meth:`_leave_one` took out."""
        if self.lost[chunk]:
            return
        m = int(self.mode[chunk])
        self.by_missing[m, int(self.mode_width[m]) - int(self.avail[chunk])] += 1
        if self.exist[chunk] == self.mode_need[m]:
            self.exposure.shift_one(m, int(self.avail[chunk]), +1)
        if self.margins is not None:
            self.margins.move_one(int(self.exist[chunk]) - int(self.mode_need[m]), +1)
        if self.n_critical > self.peak_critical:
            self.peak_critical, self.peak_critical_s = self.n_critical, t
        self.exposure.settle()
        self._settle_margins()

    def _settle_margins(self) -> None:
        if self.margins is not None:
            self.margins.settle()

    def close_histogram(self, t: float) -> None:
        """End of run: integrate the histogram (and the exposure) up to ``t``; an episode under way closes."""
        self._leave(np.zeros(0, dtype=np.int64), t)
        self.exposure.close()

    # -- availability changes -------------------------------------------------------------------
    def _shift_avail(self, chunks: np.ndarray, delta: int, t: float) -> None:
        """Add ``delta`` to the available count of distinct ``chunks``, keeping the totals right."""
        if not len(chunks):
            return
        counted = self._leave(chunks, t)
        self._shift_avail_core(chunks, delta, t)
        self._enter(counted, t)

    def _shift_avail_core(self, chunks: np.ndarray, delta: int, t: float) -> None:
        width = self.mode_width[self.mode[chunks]]
        before = self.avail[chunks]
        after = before + delta
        self.avail[chunks] = after
        ok = ~self.lost[chunks]
        self.n_short += int(np.count_nonzero(ok & (before >= width) & (after < width)))
        self.n_short -= int(np.count_nonzero(ok & (before < width) & (after >= width)))
        if delta < 0:
            self._open_unavailable(chunks, t)
        else:
            self._close_unavailable(chunks, t)

    def _open_unavailable(self, chunks: np.ndarray, t: float) -> None:
        c = chunks[~self.lost[chunks] & (self.avail[chunks] < self.need(chunks)) & np.isnan(self.unavail_since[chunks])]
        self.unavail_since[c] = t
        self.n_unavailable += len(c)

    def _close_unavailable(self, chunks: np.ndarray, t: float, force: bool = False) -> None:
        since = self.unavail_since[chunks]
        ok = ~np.isnan(since)
        if not force:
            ok &= self.avail[chunks] >= self.need(chunks)
        c = chunks[ok]
        if len(c):
            self.unavailable_seconds += float((t - self.unavail_since[c]).sum())
            self.unavail_since[c] = np.nan
            self.n_unavailable -= len(c)

    def _avail_plus_one_core(self, c: int, t: float) -> None:
        """Scalar fast path of ``_shift_avail_core([c], +1)`` for the repair loop."""
        mode = self.mode[c]
        before = int(self.avail[c])
        self.avail[c] = before + 1
        if not self.lost[c]:
            if before + 1 == self.mode_width[mode]:
                self.n_short -= 1
            since = self.unavail_since[c]
            if not math.isnan(since) and before + 1 >= self.mode_need[mode]:
                self.unavailable_seconds += t - since
                self.unavail_since[c] = np.nan
                self.n_unavailable -= 1

    def close_all_unavailable(self, t: float) -> None:
        """End of run: count open unavailability up to ``t``."""
        self._close_unavailable(np.flatnonzero(~np.isnan(self.unavail_since)), t, force=True)

    # -- node events -----------------------------------------------------------------------
    def node_down(self, node: int, t: float) -> np.ndarray:
        """A node stops serving; returns the chunks with live data on it."""
        c, s = self.slots_on(node)
        c = c[self.slot_has_data[c, s]]
        self._shift_avail(c, -1, t)
        return c

    def node_up(self, node: int, t: float) -> np.ndarray:
        """A node serves again with whatever data it still has; returns those chunks."""
        c, s = self.slots_on(node)
        c = c[self.slot_has_data[c, s]]
        self._shift_avail(c, +1, t)
        return c

    def destroy(self, node: int, t: float) -> np.ndarray:
        """The node's data is gone (it must already be down). Returns chunks newly lost."""
        return self.destroy_slots(*self.slots_on(node), available=False, t=t)

    def destroy_slots(self, c: np.ndarray, s: np.ndarray, available: bool, t: float) -> np.ndarray:
        """These slots' data is gone (at most one slot per chunk: the slots of one node or one disk);
        ``available``: they were being served (their node is up), so availability drops too.
        Returns chunks newly lost."""
        keep = self.slot_has_data[c, s]
        c, s = c[keep], s[keep]
        counted = self._leave(np.unique(c), t)
        self.slot_has_data[c, s] = False
        self.exist[c] -= 1
        if available:
            self._shift_avail_core(c, -1, t)
        self._enter(counted, t)
        modes = self.mode[c]
        for m in (0, 1):
            self.existing_slots[m] -= int(np.count_nonzero(modes == m))
        return c[~self.lost[c] & (self.exist[c] < self.need(c))]

    def mark_lost(self, chunks: np.ndarray, t: float) -> None:
        """Lost chunks stop counting as unavailable or degraded and are never repaired."""
        chunks = chunks[~self.lost[chunks]]
        self._leave(chunks, t)
        self._close_unavailable(chunks, t, force=True)
        self.n_short -= int(np.count_nonzero(self.avail[chunks] < self.mode_width[self.mode[chunks]]))
        self.lost[chunks] = True
        self.n_lost += len(chunks)
        self.exposure.lose(len(chunks))
        self._settle_margins()

    # -- chunks that come and go (uploads, deletes) --------------------------------------------------
    def mark_absent(self, chunks: np.ndarray) -> None:
        """Chunks of videos uploaded later: not stored yet (never placed, so in no total)."""
        self.lost[chunks] = True
        self.absent[chunks] = True
        self.n_absent += len(chunks)

    def arrive(self, chunks: np.ndarray, mode: int) -> None:
        """Absent chunks about to be placed (an upload) in ``mode``; :meth:`place` puts them in the totals."""
        self.lost[chunks] = False
        self.absent[chunks] = False
        self.n_absent -= len(chunks)
        self.mode[chunks] = mode

    def remove(self, chunks: np.ndarray, t: float) -> None:
        """Stored chunks deleted at ``t``: out of every total (a lost one stops counting as lost; the losses table
        keeps it), their slots gone. The caller frees their bytes."""
        chunks = chunks[~self.absent[chunks]]
        self._leave(chunks, t)
        lost = self.lost[chunks]
        held = chunks[~lost]
        self._close_unavailable(held, t, force=True)
        self.n_short -= int(np.count_nonzero(self.avail[held] < self.mode_width[self.mode[held]]))
        self.n_lost -= int(np.count_nonzero(lost))
        for m in (0, 1):
            self.existing_slots[m] -= int(self.exist[chunks[self.mode[chunks] == m]].sum())
        self.slot_has_data[chunks] = False
        self.exist[chunks] = 0
        self.avail[chunks] = 0
        self.job[chunks] = JOB_NONE
        self.missing[chunks] = 0
        self.lost[chunks] = True
        self.absent[chunks] = True
        self.n_absent += len(chunks)
        self._settle_margins()

    # -- layouts and slot moves -------------------------------------------------------------------
    def place(self, chunks: np.ndarray, nodes: np.ndarray, node_up: np.ndarray, t: float | None = None) -> None:
        """Write a whole fresh layout of one mode (ingest, or an upload at ``t``): nodes is (len(chunks), width)."""
        if t is not None:                 # the histogram is integrated up to now before the new chunks join it
            self._leave(np.zeros(0, dtype=np.int64), t)
            self.layout_time[chunks] = t
        w = nodes.shape[1]
        self.slot_node[chunks, :w] = nodes
        self.slot_node[chunks, w:] = -1
        self.slot_has_data[chunks, :w] = True
        self.slot_has_data[chunks, w:] = False
        self.exist[chunks] = w
        avail = node_up[nodes].sum(axis=1)
        self.avail[chunks] = avail
        self.existing_slots[int(self.mode[chunks[0]])] += w * len(chunks) if len(chunks) else 0
        self.n_short += int(np.count_nonzero(avail < w))
        self._enter(chunks, self._t_hist)

    def replace_layout(self, c: int, mode: int, nodes: np.ndarray, live: np.ndarray, node_up: np.ndarray,
                       t: float) -> None:
        """A conversion completed: chunk ``c`` now has ``nodes`` in ``mode``; the old layout is gone."""
        old_mode = int(self.mode[c])
        chunk = np.array([c])
        counted = self._leave(chunk, t)
        self.existing_slots[old_mode] -= int(self.exist[c])
        if not self.lost[c] and self.avail[c] < self.mode_width[old_mode]:
            self.n_short -= 1
        width = len(nodes)
        self.mode[c] = mode
        self.layout_time[c] = t
        self.slot_node[c, :] = -1
        self.slot_has_data[c, :] = False
        self.slot_node[c, :width] = nodes
        self.slot_has_data[c, :width] = live
        self.exist[c] = int(live.sum())
        self.avail[c] = int((live & node_up[nodes]).sum())
        self.existing_slots[mode] += int(self.exist[c])
        if not self.lost[c] and self.avail[c] < width:
            self.n_short += 1
        self._close_unavailable(chunk, t)
        self._open_unavailable(chunk, t)
        self._enter(counted, t)

    def move_slot(self, chunk: int, slot: int, node: int, node_up: np.ndarray, t: float) -> bool:
        """A rebuilt slot now lives on ``node``. Returns True if an old copy existed (it is now stale)."""
        mode = int(self.mode[chunk])
        stale = bool(self.slot_has_data[chunk, slot])
        counted = self._leave_one(chunk, t)    # one change: a stale copy never counts as a dip
        if stale:
            self.exist[chunk] -= 1
            self.existing_slots[mode] -= 1
            if node_up[self.slot_node[chunk, slot]]:
                self._shift_avail_core(np.array([chunk]), -1, t)
        self.slot_node[chunk, slot] = node
        self.slot_has_data[chunk, slot] = True
        self.exist[chunk] += 1
        self.existing_slots[mode] += 1
        if node_up[node]:
            self._avail_plus_one_core(chunk, t)
        if counted:
            self._enter_one(chunk, t)
        return stale
