"""Reads that meet a failed node or disk: client timeouts and failover (docs/model.md, "Reads").

A part of :class:`~vstack_sim.model.reads.ReadPath`, kept apart from the pump's hot loop: it works on the
pump's in-flight views and heap, and records the failed-over reads in its table.

* Readers learn that a node is down ``reads.failure_detection`` after its failure (no later than
  ``failures.detection_timeout``): a heartbeat grace, then a new cluster map. Until then they keep sending
  reads there. A read that timed out avoids that node in its retries and in the rest of its view, and so
  every node its view timed out on (as an HDFS input stream keeps its own set of dead nodes), but other
  views do not learn from it. :func:`believes_up` is that rule, for every choice of the read path.
* A request to a node that is down fails over when its timeout fires, ``reads.failure_timeout`` after it
  was sent, or when the reader learns of the failure, whichever comes first, and never before the
  failure. A read in flight when its node fails counts from its sending; a read sent to a node already
  down counts from then. A failed disk answers at once (an I/O error): its reads fail over at the failure.
* The retry reads the chunk afresh (another replica, or k fragments, degraded) and its latency counts
  from the first request; the interrupted attempt's bytes go to the I/O ledger (:mod:`.io_ledger`), the
  row keeping the retry's. With either delay 0 a read fails over at once, losing no time (the rule before
  issue 21); with ``failure_detection`` 0 readers also send nothing to a failed node.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from vstack_sim.model.disk_queue import CLIENT
from vstack_sim.scenario.reads_schema import effective_failure_detection
from vstack_sim.system.modes import MODE_REPLICATION

NO_DEAD_NODES: frozenset = frozenset()
"""The nodes a view has timed out on, before it has timed out anywhere."""


def believes_up(up, known, n: int, t: float, dead) -> bool:
    """Whether a reader believes node ``n`` up at ``t``: it is (``up[n]``), or it is down and readers learn of
    it only at ``known[n]``, later, and it is not one of ``dead``, the nodes this view timed out on."""
    return up[n] or (t < known[n] and n not in dead)


class ReadFailover:
    """Timeouts and failing over of the read path's reads (mixed into ReadPath, whose state it uses)."""

    def init_timeouts(self) -> None:
        cfg = self.w.cfg
        self.failure_timeout = cfg.reads.failure_timeout
        self.failure_detection = effective_failure_detection(cfg)
        # node -> the time readers learn that it is down (meaningful while it is down)
        self.known_at: list[float] = [-math.inf] * self.w.cluster.n_nodes
        self.timed_out_reads = 0
        self._pump_proc = None
        self._pump_wake = math.inf

    def node_failed(self, node: int) -> None:
        """Reads whose pieces from ``node`` have not left it yet are requested again, after their timeout.

        The retry reads the chunk afresh and its latency counts from the first request. Pieces already
        received from other nodes are read again (a small overcount of load); a piece counts as not yet
        received unless the read's last piece had left its NIC before the failure.
        """
        t = self.env.now
        self.known_at[node] = t + self.failure_detection
        self._requeue_reads_from(self.w.state.slot_node, node, node)

    def disk_failed(self, disk: int) -> None:
        """Reads whose pieces from ``disk`` have not left its node yet are requested again now."""
        self._requeue_reads_from(self.w.cluster.disks.slot_disk, disk, -1)

    def _requeue_reads_from(self, where: np.ndarray, place: int, node: int) -> None:
        """Reads in flight with a piece on ``place`` (a node or a disk: ``where`` maps (chunk, slot) to it)."""
        t = self.env.now
        if not self.active:
            return
        first_chunk = self.w.catalog.first_chunk
        k = self.w.k
        hit = []
        unhedged = set()                            # pairs that are over: they fail over without a hedge
        for vid, v in list(self.active.items()):
            if self.exact:
                handled = self.holds_failed(vid, v, where, place, node, t)
                if handled is not None:
                    if not handled:
                        hit.append(vid)
                        unhedged.add(vid)
                    continue
            if v[7] <= t or v[8] < 0:
                continue
            spec = v[9]
            if spec == -2:                          # a cache hit: it reads no node and no disk
                continue
            c = int(first_chunk[v[0]]) + v[1] - 1
            if spec == -1:
                places = where[c, :k].tolist()
            elif isinstance(spec, tuple):
                places = where[c, list(spec)].tolist()
            else:
                places = [int(where[c, spec])]
            if place in places:
                hit.append(vid)
        later = math.inf
        for vid in hit:
            v = self.active[vid]
            replica = self.hedging and type(v[9]) is int and v[9] >= 0
            if self.exact:
                self.pending_failed(vid)
            if replica and not self.exact and self.hedge_answers(vid, v, t):
                continue                             # its hedge, under way, answers instead (read_hedge.py)
            # The interrupted attempt's disk bytes were spent; its row will hold the retry's.
            self.w.cluster.io.add(CLIENT, False, v[11], self.table.get("bytes", v[8]))
            v[1] -= 1
            v[7] = t
            retry = t
            if node >= 0:
                retry = max(t, min(v[11] + self.failure_timeout, self.known_at[node]))
                v[12] = v[12] | {node}
                if self.chooser.tracks:              # its request to the node stays out until the retry
                    self.chooser.sent_to(vid, (node,), retry)
                if replica and vid not in unhedged and (
                        self.pair_silent(vid, v, int(first_chunk[v[0]]) + v[1], v[11], v[9], retry, (v[8], v[10]))
                        if self.exact else self.hedge_silent(vid, v, v[11], v[9], retry, (v[8], v[10]))):
                    continue                         # the primary never answers: its hedge fires first
                later = min(later, retry) if retry > t else later
            self._seq += 1
            v[6] = self._seq
            heapq.heappush(self.heap, (retry, self._seq, vid, (v[8], v[10])))
        if hit:
            self.serve_until(t)
        if later < math.inf:
            self.wake(later)
        if self.exact and self.heap:                  # a pair decided here may have queued its events
            self.wake(self.heap[0][0])

    def timed_out(self, vid: int, v: list, retry_of, t: float, c: int, idx: int, mode: int, node: int) -> int:
        """A read sent at ``t`` to ``node``, down without the reader knowing: it fails over when its timeout
        fires or the reader learns of the failure. Nothing is read; the read's row is written now and
        completed by the retry. Returns the number of rows of the reads table."""
        retry = min(t + self.failure_timeout, self.known_at[node])
        v[12] = v[12] | {node}
        if self.chooser.tracks:                      # least_loaded: a request out to the node until it times out
            self.chooser.sent_to(vid, (node,), retry)
        self.timed_out_reads += 1
        if retry_of is None:
            S = self.w.chunk_size
            self.table.append(t, vid, v[0], c, idx, mode, 0, 0, float("nan"), 0, 1)
            self.w.catalog.total_bytes_served[v[0]] += S     # as for a read; the failover takes it back
            v[4] += 1
            v[5] += S
            if idx == 0:
                self.startup[vid] = float("nan")
            retry_of = (len(self.table) - 1, t)
            v[8], v[10] = retry_of
        v[7] = t
        if self.hedging and mode == MODE_REPLICATION and (
                self.pair_silent(vid, v, c, t, -1, retry, retry_of) if self.exact
                else self.hedge_silent(vid, v, t, -1, retry, retry_of)):
            return len(self.table)                   # its hedge fires before the timeout (read_hedge.py)
        self._seq += 1
        v[6] = self._seq
        heapq.heappush(self.heap, (retry, self._seq, vid, retry_of))
        self.wake(retry)
        return len(self.table)

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
