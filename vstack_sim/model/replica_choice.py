"""Which replica a replicated read goes to (``reads.replica_choice``), as a client can know it.

* ``primary``: the first live replica in placement order (slot order), as Ceph reads from a placement
  group's primary OSD; when it is down the next one in the acting set serves.
* ``random``: uniform among the live replicas, from the ``reads`` stream, as an HDFS client reads a block
  whose replicas are all at the same network distance (the NameNode shuffles equally distant locations).
* ``nearest``: a live replica in the reader's rack, random among those; if none, random among all. The
  reader model: one reader (a front-end) per rack, and view v is read by the reader in rack v mod R
  (``cluster.racks``; node i is in rack i mod R). No cross-rack latency or bandwidth is modelled, so what
  changes is only where the load goes.
* ``least_loaded``: the replica whose node has the fewest of the reader's own requests in flight (sent, its
  response not yet back), ties random. A client knows its own outstanding requests exactly and nothing
  else without extra messages, so this is the rule a client library can run (as the in-flight count of
  a "least outstanding requests" load balancer); the same readers as ``nearest``.
* ``oracle``: the replica whose disk would start it soonest, which needs every disk queue's future. It is
  an idealised upper bound (the rule before issue 21) and is inlined in the pump (:mod:`.reads`).
"""

from __future__ import annotations

import heapq

from vstack_sim.model.read_failover import believes_up


class ReplicaChooser:
    """The non-oracle replica choices of the read path; ``uniform`` draws U[0, 1) from the ``reads`` stream."""

    def __init__(self, world, uniform, known: list[float]):
        self.choice = world.cfg.reads.replica_choice
        self.racks = world.cfg.cluster.racks
        self.uniform = uniform
        self.w = world
        self.known = known         # node -> when readers learn that it is down (while it is down)
        self.tracks = self.choice == "least_loaded"
        self.inflight: list[dict[int, list]] = [{} for _ in range(self.racks)]   # reader -> node -> done times

    def pick(self, node_mv, live_mv, up_mv, base: int, width: int, t: float, vid: int, dead) -> int:
        """The slot to read among the chunk's ``width`` replica slots starting at flat index ``base``, or -1.
        Candidates are the live replicas on nodes the reader believes up (:func:`.read_failover.believes_up`;
        ``dead``: the nodes this view timed out on)."""
        live = []
        known = self.known
        for j in range(width):
            n = node_mv[base + j]
            if n >= 0 and live_mv[base + j] and believes_up(up_mv, known, n, t, dead):
                live.append(j)
        if not live:
            return -1
        choice = self.choice
        if choice == "primary":
            return live[0]
        if choice == "nearest":
            rack = vid % self.racks
            near = [j for j in live if node_mv[base + j] % self.racks == rack]
            if near:
                live = near
        elif choice == "least_loaded":
            own = self.inflight[vid % self.racks]
            counts = [self.in_flight(own, node_mv[base + j], t) for j in live]
            low = min(counts)
            live = [j for j, n in zip(live, counts, strict=True) if n == low]
        if len(live) == 1:
            return live[0]
        return live[int(self.uniform() * len(live))]

    @staticmethod
    def in_flight(own: dict, node: int, t: float) -> int:
        """The reader's requests to ``node`` whose responses are not back at ``t``."""
        h = own.get(node)
        if not h:
            return 0
        while h and h[0] <= t:
            heapq.heappop(h)
        return len(h)

    def sent(self, vid: int, chunk: int, spec, done: float) -> None:
        """least_loaded: the reader of view ``vid`` has a request out to each node of ``spec`` until ``done``
        (``spec``: a replica's slot, -1 for the k data fragments, or a tuple of slots)."""
        where = self.w.state.slot_node
        if spec == -2:                       # a cache hit: no request to the store
            return
        if spec == -1:
            nodes = where[chunk, :self.w.k].tolist()
        elif isinstance(spec, tuple):
            nodes = where[chunk, list(spec)].tolist()
        else:
            nodes = [int(where[chunk, spec])]
        self.sent_to(vid, nodes, done)

    def sent_to(self, vid: int, nodes, done: float) -> None:
        """least_loaded: the reader of view ``vid`` has a request out to each of ``nodes`` until ``done`` (also
        a request to a node down that it does not know of: out until the request times out)."""
        own = self.inflight[vid % self.racks]
        for n in nodes:
            heapq.heappush(own.setdefault(n, []), done)
