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
    where it would have been without it, so not submitting it is exact (``hedges.cancelled``). With a CPU
    stage (:mod:`.cpu`) the same holds at the CPU: a hedge the daemon would take only after the primary's
    response costs nothing, one it has taken spends its CPU time and is withdrawn before its disk.
  - *A losing primary* still waiting at its disk when the hedge answers is withdrawn, exactly, under
    ``reads.hedge_withdraw: exact`` (the default: :mod:`.read_pairs`, which hedges the read instead of this
    module). Under ``keep`` (this module) it is not: the disk queues (:mod:`.disks`) fix each request's finish
    when it is submitted, and requests submitted behind the primary since already hold their times, so its
    disk and NIC time are spent. The summary counts these (``hedges.primary_not_withdrawn``); the error is
    against hedging.
  - Every hedge that reaches its disk spends its disk and NIC time (``hedges.extra_bytes``), winner or loser.
* **A primary whose node is down** (sent there, the reader not knowing yet, or in flight when it failed) never
  answers: the hedge fires at ``hedge_after`` after the primary was sent, unless the timeout fires first. If
  it answers, it wins, and the read has failed over to it (:mod:`.read_failover`: the failover delay is the
  hedge's, and the view avoids the silent node from then on); if there is no other replica the reader
  believes up, or the hedge's node is down too, the read waits for its timeout as without hedging.
* **A hedge under way that was losing** to its primary wins after all if the primary's node or disk fails
  before the primary answers.
* A hedge due when its chunk is no longer replicated (a conversion finished meanwhile) is not sent.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from vstack_sim.model.disk_queue import CLIENT
from vstack_sim.model.read_failover import believes_up
from vstack_sim.scenario.reads_schema import hedge_percentile
from vstack_sim.system.modes import MODE_REPLICATION

WINDOW = 4096
"""Replicated reads whose latency the online percentile is taken over."""
EVERY = 1024
"""Replicated reads between two recomputations of the online percentile (and before the first)."""


class HedgeDue:
    """A pending hedge: the primary's slot, its service start at its disk and its response time at the reader
    (infinite for a primary that never answers), and when the primary was sent."""

    __slots__ = ("slot", "start", "response", "sent", "retry_at", "retry_of", "pair")

    def __init__(self, slot: int, start: float, response: float, sent: float, retry_at: float = math.inf,
                 retry_of: tuple | None = None):
        self.slot = slot
        self.start = start
        self.response = response
        self.sent = sent
        self.retry_at = retry_at        # a primary that never answers (its node is down): its timeout's retry
        self.retry_of = retry_of        # ... and the read's (row, first request time); None: the primary is up
        self.pair = None                # hedge_withdraw exact: the read's pair (read_holds.py)


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
        self._hedges_out: dict[int, tuple] = {}     # view -> (its read's sent time, response, out, slot) of a
        #                                             hedge under way that was losing to its primary

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
                "primary_not_withdrawn": self.hedge_primary_spent, "primary_withdrawn": self.hedge_primary_withdrawn,
                "withdraw": self.w.cfg.reads.hedge_withdraw, "extra_bytes": self.hedge_extra_bytes,
                "requests_held": self.holds.deferred if self.holds is not None else 0,
                "delay_ms_at_end": round(delay * 1000.0, 6) if delay < math.inf else None}

    def fire_hedge(self, vid: int, v: list, due: HedgeDue, t: float) -> None:
        """The primary of view ``vid``'s read has not answered by ``t``: send the hedge, then go on with the view
        when the first response is back (or, if the primary never answers and the hedge cannot, at its retry)."""
        if due.pair is not None:
            self.fire_pair(vid, v, due.pair, t)
            return
        w = self.w
        st, cl = w.state, w.cluster
        silent = due.retry_of is not None            # the primary's node is down: it never answers
        c = int(w.catalog.first_chunk[v[0]]) + v[1] - (0 if silent else 1)
        done = due.response
        others = []
        if st.mode[c] == MODE_REPLICATION:           # (a conversion may have finished meanwhile: no replica)
            others = [j for j in range(int(st.mode_width[MODE_REPLICATION]))
                      if j != due.slot and st.slot_node[c, j] >= 0 and st.slot_has_data[c, j]
                      and believes_up(cl.up, self.known_at, int(st.slot_node[c, j]), t, v[12])]
        answered = None
        if others:
            j = others[0] if len(others) == 1 else others[int(self._uniform() * len(others))]
            node = int(st.slot_node[c, j])
            self.hedges_sent += 1
            if not cl.up[node]:
                self.hedges_unanswered += 1
            else:
                answered = self._send_hedge(vid, c, j, node, t, done)
        if answered is not None:
            out, response = answered
            if silent:
                self.hedges_won += 1
                self._answer_silent(vid, v, due, c, j, out, response, t)
                return
            if response < done:
                if due.start > response:
                    self.hedge_primary_spent += 1
                done = response
                self._won(vid, v, out, j, response)
            else:
                self.hedges_lost += 1
                self._hedges_out[vid] = (due.sent, response, out, j)    # still under way: see hedge_answers
        if silent:                                   # no hedge answers: the read fails over at its timeout
            self._seq += 1
            v[6] = self._seq
            heapq.heappush(self.heap, (due.retry_at, self._seq, vid, due.retry_of))
            return
        self.observe(done - due.sent)
        self._go_on(vid, v, done)

    def _won(self, vid: int, v: list, out: float, j: int, response: float) -> None:
        """The hedge to slot ``j`` answered first, at ``response``: it is the read (its row's latency and the
        view's start-up latency, and what a failure of its node would interrupt)."""
        self.hedges_won += 1
        v[7], v[9] = out, j
        latency_ms = (response - v[10]) * 1000.0
        self.table.set("latency_ms", v[8], latency_ms)
        if v[1] == 1:
            self.startup[vid] = latency_ms

    def _go_on(self, vid: int, v: list, done: float) -> float:
        """The view's next chunk is requested when this one is back at ``done`` (or later, with playback
        pacing); returns when."""
        t_next = done
        if self.pacing:
            t_next = max(t_next, v[3] + v[1] * self.pacing)
        self._seq += 1
        v[6] = self._seq
        heapq.heappush(self.heap, (t_next, self._seq, vid, None))
        return t_next

    def _send_hedge(self, vid: int, c: int, j: int, node: int, t: float, done: float):
        """The hedge to slot ``j`` at ``t``: (out of its NIC, response at the reader), or None if it is cancelled
        before it starts at its disk (the primary answers at ``done`` first). Its CPU work, if begun by then,
        is spent."""
        w = self.w
        dk, S = w.cluster.disks, w.chunk_size
        disk = int(dk.slot_disk[c, j])
        cpu = dk.cpu
        if cpu is not None and cpu.start_time(node, t) > done:
            self.hedges_cancelled += 1               # withdrawn before its node's daemon took it
            return None
        ready = t if cpu is None else cpu.would_finish(node, t, S)
        if max(dk.free_at[disk][0], ready) > done:
            self.hedges_cancelled += 1               # withdrawn before it starts at its disk
            if cpu is not None:
                cpu.take(node, t, S)                 # its daemon had taken it: that CPU time is spent
            return None
        _, finish = dk.submit(disk, t, S)
        w.cluster.io.add(CLIENT, False, t, S)          # not in the reads' columns (io_ledger.py)
        out = dk.send(node, finish, S, t)
        response = out + S * self.client_per_byte + self.net_latency
        self.hedge_extra_bytes += S
        if self.chooser.tracks:
            self.chooser.sent_to(vid, (node,), response)
        return out, response

    def _answer_silent(self, vid: int, v: list, due: HedgeDue, c: int, j: int, out: float, response: float,
                       t: float) -> None:
        """The hedge of a read whose primary never answers has answered: the read fails over to it at ``t``,
        as a retry would (read_failover), and the view goes on from its response."""
        latency = response - t
        self._failed_over(vid, v, due.retry_of, t, 0, 0, latency, self.w.chunk_size)
        if self.cache is not None:
            self.cache.admit(c)
        v[7], v[9], v[11] = out, j, t
        v[1] += 1
        self._go_on(vid, v, response)

    def hedge_silent(self, vid: int, v: list, sent: float, slot: int, retry: float, retry_of: tuple) -> bool:
        """A replicated read sent at ``sent`` (from ``slot``, -1 if unknown) to a node that is down, the reader not
        knowing: it fails over at ``retry`` by its timeout, unless its hedge fires first, at ``sent`` +
        ``hedge_after``. True (and the hedge queued, the pump woken for it) if it does."""
        at = sent + self.hedge_delay
        if not at < retry or at < self.env.now:
            return False
        self._seq += 1
        v[6] = self._seq
        heapq.heappush(self.heap, (at, self._seq, vid, HedgeDue(slot, math.inf, math.inf, sent, retry, retry_of)))
        self.wake(at)
        return True

    def hedge_answers(self, vid: int, v: list, now: float) -> bool:
        """The primary of view ``vid``'s read failed before answering, after a hedge that was losing to it was
        sent: that hedge is still under way and now wins. True (and the view goes on from its response) if so."""
        out_ = self._hedges_out.pop(vid, None)
        if out_ is None or out_[0] != v[11] or out_[1] <= now:
            return False
        _, response, out, j = out_
        self.hedges_lost -= 1
        self._won(vid, v, out, j, response)
        self.wake(self._go_on(vid, v, response))
        return True
