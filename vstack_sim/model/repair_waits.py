"""Repair jobs waiting for source streams, indexed by the node sets that would let them start.

A repair job reads ``need`` of its chunk's live slots (1 replica, or k
fragments). Under ``source_streams_per_node`` it may find too few of them on
nodes with a free source stream. It then waits under every set of ``need`` of
its live nodes (sorted node ids): a replica under each of its copies' nodes, a
fragment under each k-set of its chunk's live fragments' nodes (4 sets for
RS(3,2) with one fragment missing). It can start as soon as every node of one
such set has a free stream.

Each set holds a busy node when the job waits under it (else the job could
have started), so a set can only become startable when one of its nodes frees
a stream. :meth:`SourceWaits.heads` therefore looks only at the sets that hold
a node freed since the last look and whose other nodes are free. To find them
without a scan of the waiting sets, each node keeps a trie of the sets holding
it: the set's other nodes in ascending order, one level per node. The search
walks only the branches whose nodes are free (at each level it intersects the
branch's keys with the free nodes, iterating the smaller side), so its cost is
bounded by the free nodes, ``|free|^(need-1)`` at worst, and not by the number
of jobs waiting; in practice it is a few set intersections per freed node.

Entries are never removed from the middle of a heap: a job that starts, or
waits again, leaves entries behind that the owner's ``live`` test rejects when
they reach the top, where each look at a set pops them.
"""

from __future__ import annotations

import heapq
from itertools import combinations
from typing import Callable

SWEEP_MIN = 4096  # sets below which no sweep runs
END = -1          # trie key of a one-node set (a replica's); node ids are >= 0


class SourceWaits:
    """Heaps of waiting jobs' entries (most endangered first), one per sorted node set."""

    def __init__(self, live: Callable[[tuple], bool]):
        self.sets: dict[tuple, list[tuple]] = {}   # never holds an empty heap
        self.trie: dict[int, dict] = {}             # node -> trie of the other nodes of the sets holding it
        self.live = live
        self.k = 0                                  # the size of the sets of more than one node
        self._sweep_at = SWEEP_MIN

    def add(self, item: tuple, live_nodes: list[int], need: int) -> bool:
        """The job (entry ``item``) waits under every ``need``-set of its sorted live nodes. True if the
        sets were swept (:meth:`sweep`): heads taken before then must be :meth:`refresh`-ed."""
        if need > 1 and need != self.k:
            if self.k:                 # the trie's leaves sit at depth k - 1: one k per run (one EC code)
                raise ValueError(f"need: the waits hold sets of 1 and of {self.k} nodes, got {need}")
            self.k = need
        sets = self.sets
        for nodes in combinations(live_nodes, need):
            q = sets.get(nodes)
            if q is None:
                sets[nodes] = [item]
                self._index(nodes)
            else:
                heapq.heappush(q, item)
        if len(sets) > self._sweep_at:
            self.sweep()
            return True
        return False

    def sweep(self) -> None:
        """Drop the sets whose entries all went stale. A job that starts under one of its sets leaves
        entries under the others, and a set is otherwise cleaned only when a search finds it free; a
        set that never is would stay for the run. Swept each time the sets double, so the cost is O(1)
        per set added and they never outnumber twice the live ones (plus SWEEP_MIN)."""
        for nodes in list(self.sets):
            self._clean(nodes)
        self._sweep_at = 2 * len(self.sets) + SWEEP_MIN

    def refresh(self, heads: list) -> None:
        """After a sweep: the (head, nodes) heap ``heads`` again holds each of its sets' current heads,
        once. A sweep pops stale tops, so an entry's head may no longer be its set's top, and a dispatch
        drops such entries (the set's new head would be lost until a node of the set frees again)."""
        sets = self.sets
        heads[:] = [(sets[nodes][0], nodes) for nodes in {nodes for _, nodes in heads} if nodes in sets]
        heapq.heapify(heads)

    def _index(self, nodes: tuple) -> None:
        """``nodes`` into the trie of each of its nodes: the other nodes in order, the last one's value the
        set itself (a set of one node sits under END)."""
        trie = self.trie
        for n in nodes:
            d = trie.get(n)
            if d is None:
                d = trie[n] = {}
            if len(nodes) == 1:
                d[END] = nodes
                continue
            rest = [m for m in nodes if m != n]
            for m in rest[:-1]:
                child = d.get(m)
                if child is None:
                    child = d[m] = {}
                d = child
            d[rest[-1]] = nodes

    def _unindex(self, nodes: tuple) -> None:
        trie = self.trie
        for n in nodes:
            rest = [m for m in nodes if m != n] or [END]
            path = [trie[n]]
            for m in rest[:-1]:
                path.append(path[-1][m])
            del path[-1][rest[-1]]
            for depth in range(len(rest) - 2, -1, -1):   # prune the branches left empty
                if path[depth + 1]:
                    break
                del path[depth][rest[depth]]
            if not path[0]:
                del trie[n]

    def next_head(self, nodes: tuple, heads: list) -> None:
        """After the head of ``nodes``' heap was taken: its next live head joins ``heads``."""
        if self._clean(nodes):
            heapq.heappush(heads, (self.sets[nodes][0], nodes))

    def _clean(self, nodes: tuple) -> bool:
        """Pop the stale entries off the top of ``nodes``' heap; False (and the set gone) if none is left.
        Each entry is popped once, so this costs O(log n) per entry over a run."""
        q = self.sets.get(nodes)
        if q is None:
            return False
        live = self.live
        while q and not live(q[0]):
            heapq.heappop(q)
        if q:
            return True
        del self.sets[nodes]
        self._unindex(nodes)
        return False

    def heads(self, woken: list[int], free: set[int]) -> list:
        """The live heads of the sets whose nodes are all in ``free``, one of them in ``woken``; as a
        heap of (head, nodes)."""
        keys: set = set()
        for n in woken:
            d = self.trie.get(n)
            if d is None:
                continue
            single = d.get(END)
            if single is not None:
                keys.add(single)
            stack = [d]
            while stack:
                d = stack.pop()
                for m in d.keys() & free:   # C-level: iterates the smaller of the branch and the free set
                    v = d[m]
                    if v.__class__ is tuple:   # a leaf: the set whose last other node is m
                        keys.add(v)
                    else:
                        stack.append(v)
        heads = [(self.sets[nodes][0], nodes) for nodes in keys if self._clean(nodes)]
        heapq.heapify(heads)
        return heads
