"""Hedged pairs whose loser is withdrawn exactly (``reads.hedge_withdraw: exact``; docs/model.md, "Reads").

A part of :class:`~vstack_sim.model.reads.ReadPath` (through :class:`~.read_holds.ReadHolds`), kept apart from the
pump's hot loop. A replicated read that may be hedged is a :class:`Pair`: its primary, then (``hedge_after`` later,
if the primary has not answered) its hedge to another replica, each an :class:`Attempt`. The first response wins;
the other is withdrawn if it has not started at its disk by then, and its disk and NIC time are given back
(:mod:`.disk_holds`). An attempt that has joined its disk but not started, and that may yet lose in time to be
withdrawn, *holds* its disk until it starts (:class:`HoldEnd`) or is withdrawn. So:

* **Decided when both are known.** Once both attempts have joined, the winner and the loser's fate are fixed:
  nothing can change a joined attempt's start but its own withdrawal. The loser is withdrawn at once (its disk
  is released, and the requests behind it join), although it leaves at the winner's response: those requests
  all start after it would have, so they see the same disk either way. The pair stays open until the winner's
  response (:class:`Answered`): if the winner's node fails first, a loser that was not withdrawn answers.
* **Tentative while one waits.** An attempt in a held disk's line starts no earlier than the release. If the
  other has joined, it is the winner unless the waiting one joins and answers first: an :class:`Answer` at its
  response withdraws a still-waiting attempt (it has not started) and ends the read.
* **Failures**: an attempt on a node or disk that fails never answers (a dead node's queue keeps what joined
  it); the other answers, or the pair's hedge fires when its primary is silent, or the read fails over at its
  timeout as an unhedged read does (:mod:`.read_failover`).
"""

from __future__ import annotations

import heapq
import math

from vstack_sim.model.disk_holds import Holder
from vstack_sim.model.disk_queue import CLIENT
from vstack_sim.model.read_failover import believes_up
from vstack_sim.model.read_hedge import HedgeDue
from vstack_sim.system.modes import MODE_REPLICATION

INF = math.inf
WAITING, JOINED, GONE = 0, 1, 2
"""An attempt waits in a held disk's line, has joined its disk, or is gone (withdrawn, cancelled, or never
sent); an attempt whose node or disk failed never answers (``answers`` False)."""


class Attempt:
    """One request of a pair (the primary or its hedge) to the replica in ``slot``."""

    __slots__ = ("slot", "node", "disk", "sent", "state", "start", "out", "response", "holder", "entry", "answers")

    def __init__(self, slot: int, node: int, disk: int, sent: float):
        self.slot, self.node, self.disk, self.sent = slot, node, disk, sent
        self.state = WAITING
        self.start = self.out = self.response = INF
        self.holder = self.entry = None
        self.answers = True


class Pair:
    """A replicated read of chunk ``chunk`` by view ``vid``, sent at ``sent``, hedged at ``hedge_at`` unless its
    primary has answered. ``retry_at``/``retry_of``: a silent primary's timeout and the read's (row, first request
    time); ``advance``: the view's chunk index still points at this chunk (a read that had timed out)."""

    __slots__ = ("vid", "chunk", "sent", "hedge_at", "primary", "hedge", "hedged", "done", "retry_at", "retry_of",
                 "advance", "answer_at", "winner")

    def __init__(self, vid: int, chunk: int, sent: float, hedge_at: float, primary: Attempt):
        self.vid, self.chunk, self.sent, self.hedge_at, self.primary = vid, chunk, sent, hedge_at, primary
        self.hedge = None
        self.hedged = self.done = self.advance = False
        self.retry_at = INF
        self.retry_of = None
        self.answer_at = INF
        self.winner = None


class HoldEnd:
    """At its start, a holding attempt has started: its disk is released (it can no longer be withdrawn)."""

    __slots__ = ("attempt",)

    def __init__(self, attempt: Attempt):
        self.attempt = attempt


class Answer:
    """At a joined attempt's response: if the other still waits in a line, it is withdrawn and the read ends."""

    __slots__ = ("pair",)

    def __init__(self, pair: Pair):
        self.pair = pair


class Answered:
    """At the winner's response: the pair is over (until then a failure of the winner's node hands the read to
    the other attempt, if it was not withdrawn)."""

    __slots__ = ("pair",)

    def __init__(self, pair: Pair):
        self.pair = pair


class HedgedPairs:
    """The pairs of the read path (mixed into ReadPath, whose state it uses)."""

    def pair_event(self, event, t: float) -> None:
        """An :class:`Answer` or :class:`Answered` from the pump's heap."""
        pair = event.pair
        if event.__class__ is Answered:
            if self._pairs.get(pair.vid) is pair:
                del self._pairs[pair.vid]
            return
        if pair.done or t < pair.answer_at:
            return
        for a in (pair.primary, pair.hedge):
            if a is not None and a.state == WAITING:
                self._withdraw_waiting(pair, a)
        self._settle(pair)

    def _withdraw_waiting(self, pair: Pair, a: Attempt) -> None:
        """``a`` is still in a held disk's line when the other answers: withdrawn before it starts."""
        a.entry.live = False
        a.state = GONE
        H = pair.hedge
        if a is H:
            self.hedges_cancelled += 1
            return
        self.hedge_primary_withdrawn += 1
        if H is not None and H.state == JOINED:       # the hedge's bytes are the read's, not extra
            self.w.cluster.io.add(CLIENT, False, H.sent, -self.w.chunk_size)
            self.hedge_extra_bytes -= self.w.chunk_size

    def pair_sent(self, vid: int, v: list, c: int, j: int, node: int, disk: int, t: float, start: float,
                  finish: float, out: float, response: float, free_before: float, xfer_before: float) -> None:
        """The primary of view ``vid`` joined its disk at ``t`` and answers after ``hedge_after``: a pair, holding
        the disk if the hedge fires before the primary starts."""
        a = Attempt(j, node, disk, t)
        a.state, a.start, a.out, a.response = JOINED, start, out, response
        pair = Pair(vid, c, t, t + self.hedge_delay, a)
        self._pairs[vid] = pair
        if start > pair.hedge_at:
            nic = self.w.chunk_size * self.w.cluster.disks.nic_per_byte_of[node]
            self._hold(a, Holder(disk, free_before, xfer_before, finish, node, out, nic))
        self._seq += 1
        v[6] = self._seq
        heapq.heappush(self.heap, (pair.hedge_at, self._seq, vid, self._due(pair)))

    def _hold(self, a: Attempt, holder: Holder) -> None:
        a.holder = holder
        self.holds.hold(holder)
        self._push(a.start, -1, HoldEnd(a))

    def pair_silent(self, vid: int, v: list, c: int, sent: float, slot: int, retry: float, retry_of) -> bool:
        """A replicated read sent at ``sent`` to a node that is down, the reader not knowing: its hedge fires at
        ``sent`` + ``hedge_after`` if that comes before its retry at ``retry``. True (and the hedge queued) if so."""
        at = sent + self.hedge_delay
        if not at < retry or at < self.env.now:
            return False
        a = Attempt(slot, -1, -1, sent)
        a.state, a.answers = GONE, False
        pair = Pair(vid, c, sent, at, a)
        pair.retry_at, pair.retry_of, pair.advance = retry, retry_of, True
        self._pairs[vid] = pair
        self._seq += 1
        v[6] = self._seq
        heapq.heappush(self.heap, (at, self._seq, vid, self._due(pair)))
        self.wake(at)
        return True

    def fire_pair(self, vid: int, v: list, pair: Pair, t: float) -> None:
        """The pair's primary has not answered by ``t``: its hedge goes to another replica the reader believes up."""
        self.holds.now = t
        pair.hedged = True
        w = self.w
        st, cl, c, P = w.state, w.cluster, pair.chunk, pair.primary
        others = []
        if st.mode[c] == MODE_REPLICATION:
            others = [j for j in range(int(st.mode_width[MODE_REPLICATION]))
                      if j != P.slot and st.slot_node[c, j] >= 0 and st.slot_has_data[c, j]
                      and believes_up(cl.up, self.known_at, int(st.slot_node[c, j]), t, v[12])]
        if others:
            j = others[0] if len(others) == 1 else others[int(self._uniform() * len(others))]
            node = int(st.slot_node[c, j])
            disk = int(cl.disks.slot_disk[c, j])
            self.hedges_sent += 1
            H = pair.hedge = Attempt(j, node, disk, t)
            if not cl.up[node]:
                self.hedges_unanswered += 1
                H.state, H.answers = GONE, False
            elif (P.state == JOINED and self.holds.held[disk] is None
                  and max(cl.disks.free_at[disk][0], t) > P.response):
                self.hedges_cancelled += 1           # it would start after the primary answers: never sent
                #                                      (on a held disk it waits: its holder may yet leave)
                H.state = GONE
            else:
                pos = cl.disks.device_of_disk[disk].positioning.take()
                H.entry = self.holds.submit(disk, t, w.chunk_size, pos, lambda s, f: self._joined(pair, H, s, f))
                if H.state == JOINED:
                    return                           # _joined settled the pair
        self._settle(pair)

    def _joined(self, pair: Pair, a: Attempt, start: float, finish: float) -> None:
        """Attempt ``a`` of ``pair`` joins its disk (at once, or when the disk's holder is released)."""
        holds, dk, S = self.holds, self.w.cluster.disks, self.w.chunk_size
        before = holds.before
        now = holds.now
        a.state, a.start, a.entry = JOINED, start, None
        nic = S * dk.nic_per_byte_of[a.node]
        a.out = dk.reserve(a.node, finish, nic, now)
        a.response = a.out + S * self.client_per_byte + self.net_latency
        if a is pair.hedge:
            self.w.cluster.io.add(CLIENT, False, a.sent, S)     # not in the reads' columns (io_ledger.py)
            self.hedge_extra_bytes += S
        if self.chooser.tracks:                       # (a primary joins here only if it waited in a line)
            self.chooser.sent_to(pair.vid, (a.node,), a.response)
        other = pair.hedge if a is pair.primary else pair.primary
        if other is None:
            may_lose = not pair.hedged and pair.hedge_at < start
        else:
            may_lose = other.answers and (other.state == WAITING or (other.state == JOINED and other.response < start))
        if start > now and may_lose:
            self._hold(a, Holder(a.disk, before[0], before[1], finish, a.node, a.out, nic))
        self._settle(pair)

    def _settle(self, pair: Pair) -> None:
        """Decide what is known: the winner once no waiting attempt can beat the best joined one."""
        if pair.done:
            return
        P, H = pair.primary, pair.hedge
        if not pair.hedged:
            if P.state == JOINED and P.response <= pair.hedge_at:
                self._finish(pair, P, None)          # it answered before its hedge was due
            return
        live = [a for a in (P, H) if a is not None and a.answers and a.state != GONE]
        joined = [a for a in live if a.state == JOINED]
        if not joined:
            if not live:
                self._unanswered(pair)
            return
        win = min(joined, key=lambda a: a.response)
        if len(joined) < len(live):                  # the other waits: it wins only if it joins and answers first
            if win.response != pair.answer_at:
                pair.answer_at = win.response
                self._push(win.response, -1, Answer(pair))
            return
        lose = next((a for a in joined if a is not win), None)
        if lose is not None and lose.start > win.response and lose.holder is not None and lose.holder.active:
            self.holds.withdraw(lose.holder)          # it has not started when the winner answers
            lose.state = GONE
        elif lose is not None and lose.holder is not None and lose.holder.active:
            self.holds.release(lose.holder)           # it starts before: its disk time is spent
        if win.holder is not None and win.holder.active:
            self.holds.release(win.holder)
        self._finish(pair, win, lose)

    def _finish(self, pair: Pair, win: Attempt, lose: Attempt | None) -> None:
        pair.done = True
        pair.winner = win
        self._push(win.response, -1, Answered(pair))
        S = self.w.chunk_size
        H = pair.hedge
        for a in (pair.primary, H):
            if a is not None and a.state == WAITING:  # still in a line: withdrawn before it starts
                self._withdraw_waiting(pair, a)
        if lose is not None and lose.state == GONE:   # withdrawn after it joined: its bytes were never read
            self.w.cluster.io.add(CLIENT, False, H.sent, -S)
            self.hedge_extra_bytes -= S
            if lose is H:
                self.hedges_cancelled += 1
            else:
                self.hedge_primary_withdrawn += 1
        elif lose is not None and lose is H:
            self.hedges_lost += 1
        v = self.active.get(pair.vid)
        if v is None:
            return
        if win is H:
            self.hedges_won += 1
        self.observe(win.response - pair.sent)
        if pair.advance:                              # a read that had timed out: it fails over to the hedge
            self._failed_over(pair.vid, v, pair.retry_of, win.sent, 0, 0, win.response - win.sent, S)
            if self.cache is not None:
                self.cache.admit(pair.chunk)
            v[11] = win.sent
            v[1] += 1
        self._answered(pair.vid, v, win.out, win.slot, win.response)

    def _unanswered(self, pair: Pair) -> None:
        """No attempt will answer: the read fails over at its timeout, as an unhedged read does."""
        pair.done = True
        if self._pairs.get(pair.vid) is pair:
            del self._pairs[pair.vid]
        v = self.active.get(pair.vid)
        if v is None or pair.retry_of is None:
            return
        if not pair.advance:
            v[1] -= 1
        self._seq += 1
        v[6] = self._seq
        heapq.heappush(self.heap, (pair.retry_at, self._seq, pair.vid, pair.retry_of))

    # -- failures -----------------------------------------------------------------------------------------
    def holds_failed(self, vid: int, v: list, where, place: int, node: int, t: float) -> bool | None:
        """A node or disk failed at ``t``: the read of view ``vid`` if it is a pair or waits behind a held disk.
        None: neither (the caller's rule applies); True: handled here; False: the read fails over by the caller's
        rule, without a hedge (its pair, if any, is over)."""
        self.holds.now = t
        p = self._pending.get(vid)
        if p is not None:
            return None
        pair = self._pairs.get(vid)
        if pair is None:
            return None
        if pair.done:
            return self._winner_failed(vid, v, pair, where, place, t)
        hit = False
        for a in (pair.primary, pair.hedge):
            if a is None or a.state == GONE or not a.answers:
                continue
            if int(where[pair.chunk, a.slot]) == place and (a.state == WAITING or a.out > t):
                hit = True
                a.answers = False
                pair.answer_at = INF                  # an Answer queued for it is void (see pair_event)
                if a is pair.hedge:
                    self.hedges_unanswered += 1       # it never answers
                if a.state == WAITING:
                    a.entry.live = False
                    a.state = GONE
                elif a.holder is not None and a.holder.active:
                    self.holds.release(a.holder)      # a failed node's queue keeps what joined it
        if not hit:
            return True
        P = pair.primary
        if node >= 0:
            v[12] = v[12] | {node}
        if pair.advance:                              # its primary had timed out already: its retry stands
            if any(a is not None and a.answers and a.state != GONE for a in (P, pair.hedge)):
                self._settle(pair)
            else:
                self._unanswered(pair)
            return True
        retry = t
        if node >= 0:
            retry = max(t, min(P.sent + self.failure_timeout, self.known_at[node]))
            if self.chooser.tracks:
                self.chooser.sent_to(vid, (node,), retry)
        pair.retry_at, pair.retry_of = retry, (v[8], v[10])
        if any(a is not None and a.answers and a.state != GONE for a in (P, pair.hedge)):
            self._settle(pair)
            return True
        if not pair.hedged and t <= pair.hedge_at < retry:
            return True                               # its primary is silent: the hedge fires when due
        pair.done = True
        del self._pairs[vid]
        return False

    def _winner_failed(self, vid: int, v: list, pair: Pair, where, place: int, t: float) -> bool:
        """A failure before the decided winner has answered: if it hits the winner, the other attempt answers
        instead when it joined its disk and was not withdrawn; else the read fails over (False)."""
        win = pair.winner
        if int(where[pair.chunk, win.slot]) != place or win.out <= t or v[9] != win.slot:
            return True
        win.answers = False
        other = pair.hedge if win is pair.primary else pair.primary
        del self._pairs[vid]
        if other is None or other.state != JOINED or not other.answers or other.response <= t:
            return False
        if other is pair.hedge:
            self.hedges_won += 1
            self.hedges_lost -= 1
        else:
            self.hedges_won -= 1
            self.hedges_unanswered += 1               # the winning hedge never answers
        self._answered(vid, v, other.out, other.slot, other.response)
        self.wake(other.response)
        return True

    def _due(self, pair: Pair) -> HedgeDue:
        a = pair.primary
        due = HedgeDue(a.slot, a.start, a.response, pair.sent)
        due.pair = pair
        return due

