"""Reads in flight when a node or a disk fails: they are requested again, and their latency counts from
the first request (docs/model.md, "Reads").

A part of :class:`~vstack_sim.model.reads.ReadPath`, kept apart from the pump's hot loop: it works on the
pump's in-flight views and heap, and records the failed-over reads in its table.
"""

from __future__ import annotations

import heapq

import numpy as np


class ReadFailover:
    """Failing over the read path's reads in flight (mixed into ReadPath, whose state it uses)."""

    def node_failed(self, node: int) -> None:
        """Reads whose pieces from ``node`` have not left it yet are requested again now.

        The retry reads the chunk afresh (another replica, or k fragments, degraded) and its
        latency counts from the first request. Pieces already received from other nodes are read
        again (a small overcount of load); a piece counts as not yet received unless the read's
        last piece had left its NIC before the failure.
        """
        self._requeue_reads_from(self.w.state.slot_node, node)

    def disk_failed(self, disk: int) -> None:
        """Reads whose pieces from ``disk`` have not left its node yet are requested again now (as for a node)."""
        self._requeue_reads_from(self.w.cluster.disks.slot_disk, disk)

    def _requeue_reads_from(self, where: np.ndarray, place: int) -> None:
        """Reads in flight with a piece on ``place`` (a node or a disk: ``where`` maps (chunk, slot) to it)."""
        t = self.env.now
        if not self.active:
            return
        first_chunk = self.w.catalog.first_chunk
        k = self.w.k
        hit = []
        for vid, v in self.active.items():
            if v[7] <= t or v[8] < 0:
                continue
            c = int(first_chunk[v[0]]) + v[1] - 1
            spec = v[9]
            if spec == -1:
                places = where[c, :k].tolist()
            elif isinstance(spec, tuple):
                places = where[c, list(spec)].tolist()
            else:
                places = [int(where[c, spec])]
            if place in places:
                hit.append(vid)
        for vid in hit:
            v = self.active[vid]
            v[1] -= 1
            v[7] = t
            self._seq += 1
            v[6] = self._seq
            heapq.heappush(self.heap, (t, self._seq, vid, (v[8], v[10])))
        if hit:
            self.serve_until(t)

    def _failed_over(self, vid: int, v: list, retry, t: float, reason: int, kind: int, latency: float,
                     nbytes: int) -> None:
        row, t_first = retry
        tab = self.table
        tab.set("failed_over", row, 1)
        self.failover_ms.append((t - t_first) * 1000.0)
        if reason:
            tab.set("kind", row, 3)
            tab.set("reason", row, reason)
            tab.set("latency_ms", row, float("nan"))
            tab.set("bytes", row, 0)
            self.w.catalog.total_bytes_served[v[0]] -= self.w.chunk_size
            v[4] -= 1
            v[5] -= self.w.chunk_size
            if v[1] == 0:
                self.startup[vid] = float("nan")
            self._end_view(vid, failed=True)
            return
        total = latency + (t - t_first)
        tab.set("kind", row, kind)
        tab.set("latency_ms", row, total * 1000.0)
        tab.set("bytes", row, nbytes)
        if v[1] == 0:
            self.startup[vid] = total * 1000.0
