"""Hedged reads of replicated chunks (``reads.hedge_after``; docs/model.md, "Reads").

A part of :class:`~vstack_sim.model.reads.ReadPath`, kept apart from the pump's hot loop. "The Tail at Scale"
(Dean and Barroso, CACM 2013): when a replicated read's response has not come back ``hedge_after`` after it was
sent, the reader sends a second request to another live replica, and the first response wins. Cassandra's
``speculative_retry`` (a latency percentile, ``99p`` by default) and HDFS's hedged reads
(``dfs.client.hedged.read.threshold.millis``) do this.

* **The delay**: fixed, or a percentile of the replicated reads' request latency tracked online: over the last
  :data:`WINDOW` replicated reads, recomputed every :data:`EVERY` (no hedge before the first :data:`EVERY`), as
  Cassandra refreshes its speculative-retry threshold from a recent latency histogram.
* **The hedge** goes to another live replica the reader believes up, uniformly at random (from the ``reads``
  stream), whatever ``reads.replica_choice`` chose first. Sent to a node that is down without the reader
  knowing, it never answers.
* **The loser is cancelled if it has not started at its disk** when the winner's response reaches the reader.
  - *A losing hedge* that would start only after the primary's response is never sent to the disk: it would
    be withdrawn before it starts, and a request withdrawn before it starts leaves every request behind it
    where it would have been without it, so not submitting it is exact (``hedges.cancelled``).
  - *A losing primary* still waiting at its disk when the hedge answers would be withdrawn too. But the disk
    queues (:mod:`.disks`) fix each request's finish when it is submitted, and requests submitted behind the
    primary since (other reads, repairs, conversions) already hold their times, so it is not: its disk and NIC
    time are spent. The summary counts these (``hedges.primary_not_withdrawn``); the error is against hedging
    (the primary's disk stays busier than it would be). An event-driven disk for every class
    (:mod:`.disk_queue`, the mixed-load scheduler's) removes it.
  - Every hedge that reaches its disk spends its disk and NIC time (``hedges.extra_bytes``), winner or loser.
* **A primary sent to a node that is down** (the reader does not know yet) never answers: the hedge fires at
  ``hedge_after`` unless the timeout fires first, and is the read's failover (:mod:`.read_failover`): it
  avoids the silent node for the rest of the view, and counts as a hedge sent and won.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from vstack_sim.model.read_failover import believes_up
from vstack_sim.scenario.reads_schema import hedge_percentile

WINDOW = 4096
"""Replicated reads whose latency the online percentile is taken over."""
EVERY = 1024
"""Replicated reads between two recomputations of the online percentile (and before the first)."""


class HedgeDue:
    """A pending hedge: the primary's slot, its service start at its disk and the response time at the reader."""

    __slots__ = ("slot", "start", "response", "sent")

    def __init__(self, slot: int, start: float, response: float, sent: float):
        self.slot = slot
        self.start = start
        self.response = response
        self.sent = sent


class ReadHedges:
    """Hedged reads (mixed into ReadPath, whose state it uses)."""

    def init_hedges(self) -> None:
        cfg = self.w.cfg
        after = cfg.reads.hedge_after
        self.hedging = after is not None
        self.hedge_q = hedge_percentile(cfg)
        self.hedge_delay = math.inf if self.hedge_q is not None or after is None else float(after)
        self._window = np.zeros(WINDOW) if self.hedge_q is not None else None
        self._observed = 0
        self.hedges_sent = self.hedges_won = self.hedges_cancelled = self.hedges_lost = 0
        self.hedges_unanswered = self.hedge_primary_spent = self.hedge_extra_bytes = 0

    def observe(self, latency: float) -> None:
        """A replicated read's request latency, for the online percentile."""
        if self._window is None:
            return
        self._window[self._observed % WINDOW] = latency
        self._observed += 1
        if self._observed % EVERY == 0:
            self.hedge_delay = float(np.percentile(self._window[:min(self._observed, WINDOW)], self.hedge_q))

    def hedge_summary(self) -> dict:
        """``reads.hedges`` of the summary: counts, extra I/O and the delay in force at the end."""
        delay = self.hedge_delay
        return {"after": self.w.cfg.reads.hedge_after, "sent": self.hedges_sent, "won": self.hedges_won,
                "lost": self.hedges_lost, "cancelled": self.hedges_cancelled, "unanswered": self.hedges_unanswered,
                "primary_not_withdrawn": self.hedge_primary_spent, "extra_bytes": self.hedge_extra_bytes,
                "delay_ms_at_end": round(delay * 1000.0, 6) if delay < math.inf else None}

    def fire_hedge(self, vid: int, v: list, due: HedgeDue, t: float) -> None:
        """The primary of view ``vid``'s read has not answered by ``t``: send the hedge, then go on with the view
        when the first response is back."""
        w = self.w
        st, cl = w.state, w.cluster
        c = int(w.catalog.first_chunk[v[0]]) + v[1] - 1
        done = due.response
        others = [j for j in range(int(st.mode_width[st.mode[c]]))
                  if j != due.slot and st.slot_node[c, j] >= 0 and st.slot_has_data[c, j]
                  and believes_up(cl.up, self.known_at, int(st.slot_node[c, j]), t, v[12])]
        if others:
            j = others[0] if len(others) == 1 else others[int(self._uniform() * len(others))]
            node = int(st.slot_node[c, j])
            self.hedges_sent += 1
            if not cl.up[node]:
                self.hedges_unanswered += 1
            else:
                dk = cl.disks
                disk = int(dk.slot_disk[c, j])
                ready = t if dk.cpu is None else dk.cpu.would_finish(node, t, w.chunk_size)
                if max(dk.free_at[disk][0], ready) > done:
                    self.hedges_cancelled += 1      # it would start after the primary's response
                else:
                    S = w.chunk_size
                    _, finish = dk.submit(disk, t, S)
                    out = dk.send(node, finish, S, t)
                    response = out + S * self.client_per_byte + self.net_latency
                    self.hedge_extra_bytes += S
                    if self.chooser.tracks:
                        self.chooser.sent_to(vid, (node,), response)
                    if response < done:
                        self.hedges_won += 1
                        if due.start > response:
                            self.hedge_primary_spent += 1
                        done = response
                        v[7], v[9] = out, j
                        latency_ms = (done - v[10]) * 1000.0
                        self.table.set("latency_ms", v[8], latency_ms)
                        if v[1] == 1:
                            self.startup[vid] = latency_ms
                    else:
                        self.hedges_lost += 1
        self.observe(done - due.sent)
        t_next = done
        if self.pacing:
            t_next = max(t_next, v[3] + v[1] * self.pacing)
        self._seq += 1
        v[6] = self._seq
        heapq.heappush(self.heap, (t_next, self._seq, vid, None))

    def hedge_instead_of_timeout(self, sent: float, retry: float, now: float) -> float:
        """A replicated read sent at ``sent`` to a node that is down, the reader not knowing: it fails over at
        ``retry`` by its timeout, or when its hedge fires if that is sooner (no earlier than ``now``): the hedge
        is the failover."""
        at = sent + self.hedge_delay
        if at >= retry:
            return retry
        if at <= now:          # its hedge has fired already (and this read is its winner): fail over now
            return now
        self.hedges_sent += 1
        self.hedges_won += 1
        return at
