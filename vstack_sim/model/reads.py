"""The read path: views read chunks in order through the shared disk queues.

A single SimPy process (the pump) owns a heap of pending requests: view
arrivals and chunk requests, each at its own simulated time. When it wakes it
serves, in time order, every request due no later than the next other event
in the simulation (a failure, a repair step, a check). Nothing else can change
the state in between, so this is the same order an event per request would
give, at a fraction of the cost (docs/model.md: next-free-time queues inside one
arrival process). A request enters the disk queues at its own time; chunk
i+1 is requested when chunk i has arrived (or later, with playback pacing).

* Replicated chunk: one live replica, chosen by ``reads.replica_choice``
  (:mod:`.replica_choice`); ``oracle``, the one whose disk would start it
  soonest (ties broken from the ``reads`` stream), is inlined here.
* Erasure-coded chunk with its k data fragments up: read them in parallel;
  the disk part is the slowest; no decode (systematic).
* Degraded: some data fragment is down: read any k live fragments (data
  first), add decode time = bytes / decode throughput.
* Late binding (``late_binding_extra`` = d): request k + d live fragments, data
  first, and use the first k to arrive. All k + d move and cross the client
  link; the read is degraded (and pays decode) when one of the first k is parity.
* Fewer than needed: the read fails (``unavailable``, or ``lost``) and the
  viewer abandons the rest of the view; the view still counts.

Each fragment or replica read queues at the disk that holds the slot (a
drawn positioning time plus bytes / disk_bandwidth, see :mod:`.disks`), then
at its node's NIC (bytes / network_bandwidth, FIFO). Latency = time until the
slowest needed piece is out of its NIC + bytes / client_bandwidth +
network_latency + decode time. Every read is kept in compact columns; the
reads table may be a sample (every read of a rare kind, a uniform sample of the rest), but summaries use
every read.
"""

from __future__ import annotations

import heapq

from vstack_sim.model.cache import ChunkCache
from vstack_sim.model.read_anyk import AnyKReads
from vstack_sim.model.read_failover import NO_DEAD_NODES, ReadFailover, believes_up
from vstack_sim.model.read_hedge import HedgeDue, ReadHedges
from vstack_sim.model.read_holds import HOLD_EVENTS, ReadHolds
from vstack_sim.model.read_pump import PumpClock
from vstack_sim.model.read_tables import ReadTables
from vstack_sim.model.records import Table
from vstack_sim.model.replica_choice import ReplicaChooser
from vstack_sim.system.modes import MODE_ERASURE_CODING, MODE_REPLICATION

KINDS = ("replication", "erasure_coding", "degraded", "failed", "cache")
REASONS = ("none", "unavailable", "lost", "deleted")
MODES = ("replication", "erasure_coding")
INF = float("inf")
NAN = float("nan")


class ReadPath(PumpClock, ReadFailover, ReadHedges, ReadHolds, AnyKReads, ReadTables):
    """The pump process and the read records."""

    def __init__(self, world):
        self.w = world
        cfg = world.cfg
        self.env = world.env
        self.heap: list = []
        self.sources = []
        self._seq = 0
        self.client_per_byte = 1.0 / cfg.cluster.client_bandwidth
        self.net_latency = cfg.cluster.network_latency
        self.decode_per_byte = 1.0 / cfg.codec.decode_throughput
        self.pacing = cfg.workload.chunk_playback_time
        self.extra = cfg.workload.late_binding_extra
        self.late_extra_fragments = 0           # fragments read beyond k by late binding (read_anyk.py)
        self.rng = world.rng.reads
        self._rand = []
        self.oracle = cfg.reads.replica_choice == "oracle"
        self.init_timeouts()
        self.init_hedges()
        self.init_holds()
        self.chooser = ReplicaChooser(world, self._uniform, self.known_at)
        cc = cfg.cache
        self.cache = ChunkCache(cc.capacity, world.chunk_size) if cc.capacity > 0 else None
        self.cache_latency = cc.hit_latency + world.chunk_size / cc.bandwidth
        # Views in flight: view id -> [video, next chunk index, end index, start time, chunks read, bytes,
        # seq of its live heap entry, then of the read in flight: when its last piece leaves a NIC, its
        # row, the slots it reads (a replica's slot, -1 for the k data fragments, or a tuple), the
        # time it was first requested, the time this attempt was sent, and the down nodes its reader does
        # not know of but this view does (its reads timed out there; HDFS's per-stream dead nodes)].
        self.active: dict[int, list] = {}
        self.n_views = 0
        self.views_dropped = 0                  # arrivals for a video not stored at that moment
        self.table = Table("reads", {
            "time_s": "f", "view_id": "i", "video_id": "i", "chunk_id": "i", "chunk_index": "i", "mode": MODES,
            "kind": KINDS, "reason": REASONS, "latency_ms": "f", "bytes": "i", "failed_over": "b"})
        self.views = Table("views", {
            "view_id": "i", "time_s": "f", "video_id": "i", "chunks_requested": "i", "chunks_read": "i",
            "startup_latency_ms": "f", "failed": "b", "bytes_served": "i"})
        self.startup = {}
        self.popularity = None    # set by the migrator: records each view for windowed counts
        self.failover_ms: list[float] = []   # per failed-over read: time lost to the node that failed
        world.on_node_failed.append(self.node_failed)
        world.on_disk_failed.append(self.disk_failed)
        if self.cache is not None:
            world.on_video_deleted.append(lambda _video, chunks: self.cache.discard(chunks))

    # -- the hot loop ------------------------------------------------------------------------------
    def serve_until(self, horizon: float) -> None:
        """Serve every pending request due at or before ``horizon``, in time order."""
        w = self.w
        heap, active = self.heap, self.active
        st, cl, cat = w.state, w.cluster, w.catalog
        width = st.width
        mode_mv = memoryview(st.mode)
        lost_mv = memoryview(st.lost)
        node_mv = memoryview(st.slot_node.reshape(-1))
        live_mv = memoryview(st.slot_has_data.reshape(-1))
        up_mv = memoryview(cl.up)
        dk = cl.disks
        disk_mv = memoryview(dk.slot_disk.reshape(-1))
        free_at, xfer = dk.free_at, dk.xfer_free
        nic = dk.reserve
        nic_end = dk.nic_end
        nic_start = dk.nic_start
        # Every slot of a chunk is on its mode's pool (cluster.pools): replicas on one device, fragments on another.
        rd, ed = dk.device_for(MODE_REPLICATION), dk.device_for(MODE_ERASURE_CODING)
        shared, e_shared = rd.shared, ed.shared
        take, block, fixed, pos0 = (rd.positioning.take, rd.positioning.block, rd.positioning.deterministic,
                                    rd.positioning.mean)
        e_take, e_block, e_fixed, e_pos0 = (ed.positioning.take, ed.positioning.block, ed.positioning.deterministic,
                                            ed.positioning.mean)
        pop, e_pop = block.pop, e_block.pop
        cpu = dk.cpu.take if dk.cpu is not None else None
        cpu_would = dk.cpu.would_finish if dk.cpu is not None else None
        first_chunk = cat.first_chunk
        S = w.chunk_size
        F = w.fragment_bytes
        k = w.k
        r_width = int(st.mode_width[MODE_REPLICATION])
        rep_xfer, frag_xfer = S * rd.per_byte, F * ed.per_byte
        rep_nic, frag_nic = S * rd.nic_per_byte, F * ed.nic_per_byte    # NIC time of a replica, a fragment
        rep_net = S * self.client_per_byte + self.net_latency
        ec_net = k * F * self.client_per_byte + self.net_latency
        extra = self.extra
        pacing = self.pacing
        oracle, pick, track = self.oracle, self.chooser.pick, self.chooser.tracks
        known, read_any_k = self.known_at, self.read_any_k
        cache, cache_latency = self.cache, self.cache_latency
        hedging = self.hedging
        holds = self.holds
        held = holds.held if holds is not None else None
        began = x0 = 0.0
        inf = INF
        c_time, c_view, c_video, c_chunk, c_idx, c_mode, c_kind, c_reason, c_lat, c_bytes, c_over = (
            self.table.appender(x) for x in self.table.columns)
        row = len(self.table)
        kind = nbytes = 0
        latency = out = 0.0
        heappop, heappush, heapreplace = heapq.heappop, heapq.heappush, heapq.heapreplace
        view_count, last_viewed, served = cat.view_count, cat.last_viewed, cat.total_bytes_served
        popularity = self.popularity
        present_mv = memoryview(w.video_present)
        while heap and heap[0][0] <= horizon:
            t, seq, item, arrival = heappop(heap)
            if item < 0:                                   # a view arrives
                if arrival.__class__ in HOLD_EVENTS:       # a held disk's event (read_holds.py)
                    self.hold_event(arrival, t)
                    horizon = min(horizon, self.env.peek())    # a released request's continuation runs at t
                    continue
                src = -1 - item
                nxt = self.sources[src].next()
                if nxt is not None:
                    self._seq += 1
                    heappush(heap, (nxt[0], self._seq, item, nxt))
                _, video, watched = arrival
                if not present_mv[video]:                  # not uploaded yet, refused or deleted: no view
                    self.views_dropped += 1
                    continue
                vid = self.n_views
                self.n_views += 1
                view_count[video] += 1
                last_viewed[video] = t
                if popularity is not None:
                    popularity.record(video, t)
                self._seq += 1
                active[vid] = [video, 0, watched, t, 0, 0, self._seq, t, -1, -1, t, t, NO_DEAD_NODES]
                heappush(heap, (t, self._seq, vid, None))
                continue
            vid = item
            v = active.get(vid)
            if v is None or seq != v[6]:                   # superseded by a failover, or ended
                continue
            if arrival is not None and arrival.__class__ is HedgeDue:
                self.fire_hedge(vid, v, arrival, t)        # the primary has not answered: hedge (read_hedge.py)
                if holds is not None:                      # (a release's continuations run at t: stop there)
                    horizon = min(horizon, self.env.peek())
                continue
            video, idx = v[0], v[1]
            if idx >= v[2]:                                # its last chunk has arrived
                self._end_view(vid, failed=False)
                continue
            c = int(first_chunk[video]) + idx
            mode = mode_mv[c]
            base = c * width
            reason, dead = 0, -1
            if cache is not None and arrival is None and cache.lookup(c, mode):
                kind, nbytes, latency, out, spec = 4, S, cache_latency, t, -2
            elif mode == MODE_REPLICATION:
                if oracle:
                    best, best_j, best_free, ties = -1, -1, 0.0, 0
                    for j in range(r_width):
                        n = node_mv[base + j]
                        if n >= 0 and live_mv[base + j] and believes_up(up_mv, known, n, t, v[12]):
                            free = free_at[disk_mv[base + j]][0]
                            if free < t:
                                free = t
                            if cpu is not None:            # it reaches the disk after its node's CPU
                                ready = cpu_would(n, t, S)
                                if ready > free:
                                    free = ready
                            if best < 0 or free < best_free:
                                best, best_j, best_free, ties = n, j, free, 1
                            elif free == best_free:
                                ties += 1
                                if self._uniform() * ties < 1.0:
                                    best, best_j = n, j
                else:
                    best_j = pick(node_mv, live_mv, up_mv, base, r_width, t, vid, v[12])
                    best = node_mv[base + best_j] if best_j >= 0 else -1
                if best < 0:
                    reason = (3 if st.absent[c] else 2) if lost_mv[c] else 1
                elif not up_mv[best]:                      # down, the reader does not know yet: it times out
                    dead = best
                elif held is not None and held[disk_mv[base + best_j]] is not None:
                    # Its disk is held by a request that may be withdrawn: it waits in line (read_holds.py).
                    self.defer_replica(vid, v, c, best, best_j, disk_mv[base + best_j], t,
                                       pos0 if fixed else (pop() if block else take()))
                    kind, nbytes, latency, out, spec = 0, S, NAN, inf, best_j
                else:
                    d = disk_mv[base + best_j]
                    h = free_at[d]
                    ready = t if cpu is None else cpu(best, t, S)   # the node's daemon first (cpu.py)
                    began = start = h[0] if h[0] > ready else ready
                    start += pos0 if fixed else (pop() if block else take())
                    if shared:
                        x0 = xfer[d]
                        if x0 > start:
                            start = x0
                        finish = xfer[d] = start + rep_xfer
                    else:
                        finish = start + rep_xfer
                    heapreplace(h, finish)
                    # The NIC (Disks.reserve), inline for its two usual cases.
                    e = nic_end[best]
                    last = e[-1]
                    if last <= t:                          # the NIC is idle now: reuse the last interval
                        out = e[-1] = finish + rep_nic
                        nic_start[best][-1] = finish
                    elif finish >= last and len(e) < 32:   # nothing promised after this arrival
                        out = finish + rep_nic
                        if finish == last:
                            e[-1] = out
                        else:
                            e.append(out)
                            nic_start[best].append(finish)
                    else:
                        out = nic(best, finish, rep_nic, t)
                    latency = out - t + rep_net
                    kind, nbytes, spec = 0, S, best_j
            else:
                data_up = 0
                for j in range(k):
                    n = node_mv[base + j]
                    if live_mv[base + j] and believes_up(up_mv, known, n, t, v[12]):
                        data_up += 1
                        if not up_mv[n]:
                            dead = n
                if held is not None and holds.count and data_up == k and dead < 0:   # a data disk held?
                    for j in range(k):
                        if held[disk_mv[base + j]] is not None:
                            data_up = -1                   # read through read_any_k, which waits for it
                            break
                if data_up == k and not extra and dead < 0:
                    slowest = t
                    for j in range(k):
                        d = disk_mv[base + j]
                        h = free_at[d]
                        ready = t if cpu is None else cpu(node_mv[base + j], t, F)
                        start = h[0] if h[0] > ready else ready
                        start += e_pos0 if e_fixed else (e_pop() if e_block else e_take())
                        if e_shared and xfer[d] > start:
                            start = xfer[d]
                        finish = start + frag_xfer
                        if e_shared:
                            xfer[d] = finish
                        heapreplace(h, finish)
                        n = node_mv[base + j]
                        e = nic_end[n]
                        last = e[-1]
                        if last <= t:
                            out = e[-1] = finish + frag_nic
                            nic_start[n][-1] = finish
                        elif finish >= last and len(e) < 32:
                            out = finish + frag_nic
                            if finish == last:
                                e[-1] = out
                            else:
                                e.append(out)
                                nic_start[n].append(finish)
                        else:
                            out = nic(n, finish, frag_nic, t)
                        if out > slowest:
                            slowest = out
                    out = slowest
                    latency = slowest - t + ec_net
                    kind, nbytes, spec = 1, k * F, -1
                elif data_up < k or extra:
                    reason, kind, nbytes, latency, out, spec, dead = read_any_k(c, mode, t, v[12], vid)
            if dead >= 0:
                row = self.timed_out(vid, v, arrival, t, c, idx, mode, dead)
                continue
            if cache is not None and not reason and spec != -2:
                cache.admit(c)                             # the store read succeeds: the chunk is cached
            if track and not reason and out < inf:
                self.chooser.sent(vid, c, spec, t + latency)
            if arrival is not None:                        # a failover: this read's row is updated
                self._failed_over(vid, v, arrival, t, reason, kind, latency, nbytes)
                if reason:
                    continue
                latency += t - arrival[1]
            else:
                c_time(t)
                c_view(vid)
                c_video(video)
                c_chunk(c)
                c_idx(idx)
                c_mode(mode)
                c_over(0)
                if reason:
                    c_kind(3)
                    c_reason(reason)
                    c_lat(float("nan"))
                    c_bytes(0)
                    row += 1
                    if idx == 0:
                        self.startup[vid] = float("nan")
                    self._end_view(vid, failed=True)
                    continue
                c_kind(kind)
                c_reason(0)
                c_lat(latency * 1000.0)
                c_bytes(nbytes)
                served[video] += S
                v[4] += 1
                v[5] += S
                if idx == 0:
                    self.startup[vid] = latency * 1000.0
                v[8] = row
                v[10] = t
                row += 1
            v[7] = out
            v[9] = spec
            v[11] = t
            idx += 1
            v[1] = idx
            if out == inf:                                 # it waits behind a held disk (read_holds.py)
                continue
            if hedging and kind == 0:                      # a replica read: hedged if it answers too late
                sent_latency = out - t + rep_net
                if sent_latency > self.hedge_delay:
                    if holds is not None:                  # a pair: its loser is withdrawn exactly
                        self.pair_sent(vid, v, c, spec, best, d, t, began, finish, out, t + sent_latency, began, x0)
                        continue
                    self._seq += 1
                    v[6] = self._seq
                    heappush(heap, (t + self.hedge_delay, self._seq, vid, HedgeDue(spec, began, t + sent_latency, t)))
                    continue
                self.observe(sent_latency)
            t_next = v[10] + latency
            if pacing:
                due = v[3] + idx * pacing
                if due > t_next:
                    t_next = due
            self._seq += 1
            v[6] = self._seq
            heappush(heap, (t_next, self._seq, vid, None))
