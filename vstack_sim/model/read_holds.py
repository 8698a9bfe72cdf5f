"""Reads that wait behind a held disk (``reads.hedge_withdraw: exact``; docs/model.md, "Reads").

A part of :class:`~vstack_sim.model.reads.ReadPath`, kept apart from the pump's hot loop. A hedged pair's attempt
that may yet be withdrawn holds its disk (:mod:`.disk_holds`, :mod:`.read_pairs`); a read sent to a held disk
waits in its line. A replica read that may be hedged becomes a pair; any other (a coded read's fragments, a
replica read sent before the online percentile has an estimate) is a :class:`Pending` read: its row is written
when it is sent, its latency when its last piece is out (for k fragments, the first k, as late binding uses).
The pump serves the holds' events (:data:`HOLD_EVENTS`) from its own heap, in time order.
"""

from __future__ import annotations

import heapq
import math

from vstack_sim.model.disk_holds import DiskHolds
from vstack_sim.model.kofn import decode_time
from vstack_sim.model.read_pairs import JOINED, Answer, Answered, Attempt, HedgedPairs, HoldEnd, Pair
from vstack_sim.system.codec import needs_decode
from vstack_sim.system.modes import MODE_REPLICATION

INF = math.inf

class Pending:
    """A read whose pieces wait (some of them) behind held disks: ``need`` of them make it (1 replica, or k
    fragments: the first k to be out, as late binding uses)."""

    __slots__ = ("vid", "t", "chunk", "mode", "need", "outs", "left", "pieces", "entries", "due")

    def __init__(self, vid: int, t: float, chunk: int, mode: int, need: int, pieces: int):
        self.vid, self.t, self.chunk, self.mode, self.need = vid, t, chunk, mode, need
        self.outs: list[tuple[float, int]] = []
        self.left = self.pieces = pieces
        self.entries: list = []
        self.due = INF


class PiecesOut:
    """At the time the first ``need`` pieces of a :class:`Pending` read that have joined are out: pieces still
    waiting then start later, so they are not among the first ``need``, and the read is back (late binding)."""

    __slots__ = ("pending",)

    def __init__(self, pending: Pending):
        self.pending = pending


HOLD_EVENTS = (HoldEnd, Answer, Answered, PiecesOut)


class ReadHolds(HedgedPairs):
    """Exact withdrawal for the read path (mixed into ReadPath, whose state it uses)."""

    def init_holds(self) -> None:
        w = self.w
        self.exact = self.hedging and w.cfg.reads.hedge_withdraw == "exact"
        self.holds = DiskHolds(w.cluster.disks, w.env) if self.exact else None
        w.cluster.holds = self.holds
        if w.cluster.arbiter is not None:
            w.cluster.arbiter.holds = self.holds
        self._pairs: dict[int, Pair] = {}
        self._pending: dict[int, Pending] = {}
        self.hedge_primary_withdrawn = 0

    # -- the pump's events ------------------------------------------------------------------------
    def hold_event(self, event, t: float) -> None:
        self.holds.now = t
        if event.__class__ is HoldEnd:
            a = event.attempt
            if a.holder is not None and a.holder.active:
                self.holds.release(a.holder)       # it has started: it can no longer be withdrawn
            return
        if event.__class__ is PiecesOut:
            p = event.pending
            if t >= p.due and self._pending.get(p.vid) is p:
                self._pieces_back(p)
            return
        self.pair_event(event, t)

    def flush_holds(self, t_end: float) -> None:
        """End of run: what still holds a disk is taken as served, so the requests behind it get their times and
        the reads their latencies, as the reads that joined their disks have theirs beyond the end."""
        holds = self.holds
        holds.now = t_end
        while holds.count:
            for holder in [h for h in holds.held if h is not None]:
                holds.release(holder)
        for pair in list(self._pairs.values()):       # a primary whose hedge would fire after the end
            P = pair.primary
            if not pair.done and not pair.hedged and P.state == JOINED and P.answers:
                self._finish(pair, P, None)

    def _push(self, at: float, vid: int, event) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (at, self._seq, vid, event))

    # -- reads sent to a held disk ----------------------------------------------------------------
    def defer_replica(self, vid: int, v: list, c: int, node: int, j: int, disk: int, t: float,
                      positioning: float) -> None:
        """The replica read of view ``vid`` goes to a held disk at ``t``: a pair if it may be hedged."""
        holds = self.holds
        holds.now = t
        S = self.w.chunk_size
        if self.hedge_delay < INF:
            a = Attempt(j, node, disk, t)
            pair = Pair(vid, c, t, t + self.hedge_delay, a)
            self._pairs[vid] = pair
            a.entry = holds.submit(disk, t, S, positioning, lambda s, f: self._joined(pair, a, s, f))
            self._seq += 1
            v[6] = self._seq
            heapq.heappush(self.heap, (pair.hedge_at, self._seq, vid, self._due(pair)))
            return
        p = Pending(vid, t, c, MODE_REPLICATION, 1, 1)
        self._pending[vid] = p
        nic = S * self.w.cluster.disks.nic_per_byte_of[node]
        p.entries.append(holds.submit(disk, t, S, positioning, lambda _s, f: self._piece_out(p, j, node, f, nic)))

    def defer_pieces(self, vid: int, c: int, mode: int, t: float, chosen: list[int], positionings: list[float],
                     nbytes: float) -> None:
        """The fragments ``chosen`` of chunk ``c`` are requested at ``t``, some behind held disks."""
        holds = self.holds
        holds.now = t
        dk = self.w.cluster.disks
        p = Pending(vid, t, c, mode, self.w.k, len(chosen))
        self._pending[vid] = p
        nodes = self.w.state.slot_node[c]
        for j, pos in zip(chosen, positionings, strict=True):
            node = int(nodes[j])
            nic = nbytes * dk.nic_per_byte_of[node]
            p.entries.append(holds.submit(int(dk.slot_disk[c, j]), t, nbytes, pos,
                                          lambda _s, f, j=j, node=node, nic=nic: self._piece_out(p, j, node, f, nic)))

    def _piece_out(self, p: Pending, j: int, node: int, finish: float, nic: float) -> None:
        p.outs.append((self.w.cluster.disks.reserve(node, finish, nic, self.holds.now), j))
        p.left -= 1
        if self._pending.get(p.vid) is not p:
            return
        if p.left:
            if len(p.outs) >= p.need:              # the read is back when its first pieces are, if no other beats them
                due = sorted(p.outs)[p.need - 1][0]
                if due < p.due:
                    p.due = due
                    self._push(due, -1, PiecesOut(p))
            return
        self._pieces_back(p)

    def _pieces_back(self, p: Pending) -> None:
        """The first ``need`` pieces of ``p`` to be out are known: the read is back (pieces still waiting move
        later, and cross the client link, as every piece requested does)."""
        del self._pending[p.vid]
        v = self.active.get(p.vid)
        if v is None:
            return
        w = self.w
        p.outs.sort()
        first = p.outs[:p.need]
        slowest = first[-1][0]
        if p.mode == MODE_REPLICATION:
            kind, spec = 0, first[0][1]
            response = slowest + w.chunk_size * self.client_per_byte + self.net_latency
        else:
            used = [j for _, j in first]
            parity_used = needs_decode(used, w.k)
            kind, spec = (2 if parity_used else 1), tuple(used)
            F = w.fragment_bytes
            response = slowest + p.pieces * F * self.client_per_byte + self.net_latency
            response += decode_time(p.mode, used, w.k, w.k * F, self.decode_per_byte)
            if w.payloads is not None and parity_used:
                w.payloads.degraded_read(p.chunk, used)
        self.table.set("kind", v[8], kind)
        self._answered(p.vid, v, slowest, spec, response)
        if self.chooser.tracks:
            self.chooser.sent(p.vid, p.chunk, spec, response)

    def _answered(self, vid: int, v: list, out: float, spec, response: float) -> None:
        """The read of view ``vid`` is back at ``response``: its row's latency, and the view goes on."""
        latency_ms = (response - v[10]) * 1000.0
        self.table.set("latency_ms", v[8], latency_ms)
        if v[1] == 1:
            self.startup[vid] = latency_ms
        v[7], v[9] = out, spec
        self._go_on(vid, v, response)

    # -- pairs ------------------------------------------------------------------------------------------
    def pending_failed(self, vid: int) -> None:
        """A read waiting behind held disks is failed over: its pieces still waiting are withdrawn."""
        p = self._pending.pop(vid, None)
        if p is not None:
            for e in p.entries:
                if e is not None:
                    e.live = False

