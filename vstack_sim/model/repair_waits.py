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
a stream. :meth:`SourceWaits.heads` therefore looks only at the sets made of
free nodes that hold a node freed since the last look. It picks the cheapest
of three equivalent enumerations: the k-sets of the free nodes, those holding
a freed node, or the waiting sets holding a freed node (an index per node).
With few free nodes the first two try few sets; with many, the index holds
few sets per node.

Entries are never removed from the middle of a heap: a job that starts, or
waits again, leaves entries behind that the owner's ``live`` test rejects when
they reach the top, where each look at a set pops them.
"""

from __future__ import annotations

import heapq
import math
from itertools import combinations
from typing import Callable


class SourceWaits:
    """Heaps of waiting jobs' entries (most endangered first), one per sorted node set."""

    def __init__(self, live: Callable[[tuple], bool]):
        self.sets: dict[tuple, list[tuple]] = {}   # never holds an empty heap
        self.of_node: dict[int, set[tuple]] = {}    # node -> the sets holding it
        self.live = live

    def add(self, item: tuple, live_nodes: list[int], need: int) -> None:
        """The job (entry ``item``) waits under every ``need``-set of its sorted live nodes."""
        sets = self.sets
        for nodes in combinations(live_nodes, need):
            q = sets.get(nodes)
            if q is None:
                sets[nodes] = [item]
                for n in nodes:
                    self.of_node.setdefault(n, set()).add(nodes)
            else:
                heapq.heappush(q, item)

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
        for n in nodes:
            self.of_node[n].discard(nodes)
        return False

    def heads(self, woken: list[int], free: list[int], sizes: list[int]) -> list:
        """The live heads of the sets whose nodes are all in ``free`` (sorted), one of them in
        ``woken``; as a heap of (head, nodes)."""
        sets, of_node = self.sets, self.of_node
        wk = set(woken)
        keys: set = set()
        indexed = sum(len(of_node.get(n, ())) for n in woken)
        for k in sizes:
            if k == 1:
                keys.update((n,) for n in woken if (n,) in sets)
                continue
            every = math.comb(len(free), k)
            by_woken = len(woken) * math.comb(len(free) - 1, k - 1)
            if every <= min(by_woken, indexed):
                keys.update(nodes for nodes in combinations(free, k) if nodes in sets and not wk.isdisjoint(nodes))
            elif by_woken <= indexed:
                for n in woken:            # the sorted k-sets of free nodes holding n: a below it, the rest above
                    lower = [m for m in free if m < n]
                    higher = [m for m in free if m > n]
                    for a in range(min(k, len(lower) + 1)):
                        for lo in combinations(lower, a):
                            for hi in combinations(higher, k - 1 - a):
                                nodes = lo + (n,) + hi
                                if nodes in sets:
                                    keys.add(nodes)
            else:                          # many free nodes: the sets holding a woken node and no busy one
                free_set = frozenset(free)
                for n in woken:            # filter with a C predicate: a Python-level test per set costs 10x
                    keys.update(filter(free_set.issuperset, of_node.get(n, ())))
        heads = [(sets[nodes][0], nodes) for nodes in keys if self._clean(nodes)]
        heapq.heapify(heads)
        return heads
