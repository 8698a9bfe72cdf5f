"""The repair queue: which waiting repair job starts next, under the per-node stream caps.

The rule: **most endangered first, within the caps.** A job's key is its
chunk's surplus (available slots minus the slots needed to read it), then its
queue order: among equally endangered jobs, the one queued first goes first. A
job takes a new place in that order (behind its equals) when it is created,
when its chunk loses a slot while it waits (its key drops), when its key is
found to have risen, and when it restarts after a failed read or write. A job
starts when at least ``need`` of its chunk's live slots sit on up nodes with a
free source stream and the placement rules find it a target with a free
receive stream. A job that cannot start lets less endangered ones that can go
first, and is looked at again as soon as a stream it waits for frees.

Dispatch looks only at jobs that may start, so that a backlog behind busy
nodes costs nothing per dispatch:

* **ready**: a heap of jobs not looked at since they were queued or woken
  (a source node of theirs came back);
* **source waits** (:mod:`.repair_waits`): a job short of free source streams
  waits under each set of ``need`` of its live nodes, and is looked at when
  every node of one such set has a free stream;
* **target waits**, one heap per rack: a job with enough sources whose allowed
  targets (no copy of the chunk, rack not full) all receive
  ``streams_per_node`` jobs waits in the heap of each rack it may use, looked
  at when a receive stream in that rack frees, until one of them cannot start;
* **blocked**: jobs with too few live sources, or no node allowed to take the slot at
  all; they wait for a node to come back or join, or a rebuild of the chunk to end.

A dispatch merges the heads of the ready heap, of the source waits made
startable by the streams freed since the last search (heads found and not yet
taken are kept for the next dispatch, so none is searched for twice), and of the target wait
of racks where a receive stream freed, and takes the most endangered. Each job it looks
at starts or goes to a wait, so a job is looked at once when queued and once
per wake-up, and each job started costs O(log n) heap operations. Heap entries
are never removed from the middle: each waiting job holds a token, and an
entry whose token is not the job's current one is discarded when it comes up.
``examined`` counts the jobs dispatch looked at, ``dispatches`` the
dispatches; set ``log`` to a list to record (examined, started) per dispatch.
"""

from __future__ import annotations

import heapq

import numpy as np

from vstack_sim.model.kofn import choose
from vstack_sim.model.placement import rack_cap
from vstack_sim.model.repair_jobs import Streams
from vstack_sim.model.repair_waits import SourceWaits
from vstack_sim.model.source_choice import source_order
from vstack_sim.model.state import JOB_NONE, JOB_PENDING


class RepairQueue:
    """Waiting repair jobs and the dispatch that starts them."""

    def __init__(self, world, start):
        self.w = world
        self.start = start                  # start(chunk, slot, mode, target, sources): the I/O side
        cfg = world.cfg.repair
        self.streams = cfg.streams_per_node
        src = cfg.source_streams_per_node
        self.source_streams = self.streams if src is None or self.streams == 0 else src
        cl = world.cluster
        use = self.use = Streams(cl.n_nodes, self.streams, self.source_streams,   # target waits per (pool, rack)
                                 (cl.node_pool * cl.n_racks + cl.node_rack).tolist(), cl.node_pool.tolist())
        self.take, self.release_sources, self.release_target = use.take, use.release_sources, use.release_target
        # The same objects as use's, updated in place: dispatch reads them often.
        self.serving, self.free_sources, self.full_targets = use.serving, use.free_sources, use.full_targets
        self.chunk_targets, self._woken, self._racks_freed = use.chunk_targets, use.woken, use.racks_freed
        self.node_group = use.node_group
        self.ready: list[tuple] = []        # entries (surplus, order, token, chunk, slot)
        self.waits = SourceWaits(self._live)                # jobs short of free source streams
        # The source waits' heads found startable and not yet taken, kept from one dispatch to the next (a
        # dispatch that ends with every target busy leaves them for the next, which need not search again).
        self.heads: list[tuple] = []
        self._need_of = [int(k) for k in world.state.mode_need]
        self._width_of = [int(k) for k in world.state.mode_width]
        self._slot_bytes = [int(b) for b in world.state.mode_slot_bytes]
        self.target_wait: list[list[tuple]] = [[] for _ in range(cl.n_pools * cl.n_racks)]   # per group
        self.blocked: list[tuple[int, int]] = []
        self.entry: dict[int, tuple[int, int, int]] = {}  # chunk * width + slot -> (surplus, order, token)
        self._count = 0                     # source of orders and tokens
        self._up_seen = world.cluster.up.copy()
        self._downs_seen = world.down_count.copy()
        self._elig_version = -1
        self._eligible: list[int] = []
        self._mode_pool = cl.mode_pool
        self._pool_groups = [list(range(p * cl.n_racks, (p + 1) * cl.n_racks)) for p in range(cl.n_pools)]
        self._busy = False
        self._allowed_racks: list[int] = []
        self._viewed = None
        self._mv: tuple = ()
        self.examined = 0
        self.dispatches = 0
        self.log: list | None = None
        self.resumes = None                 # repair.restart resume: jobs keep their target (model/repair_rules.py)

    # -- queueing ------------------------------------------------------------------------------------
    def enqueue(self, chunks: np.ndarray, slots: np.ndarray, failure_ids) -> None:
        """New jobs for these (chunk, slot) pairs, rebuilding after ``failure_ids``, queued in that
        order; then start what the caps allow."""
        st = self.w.state
        if len(chunks):
            st.job[chunks, slots] = JOB_PENDING
            st.job_failure[chunks, slots] = failure_ids
            np.add.at(st.missing, chunks, 1)
            self.push(chunks, slots)
        self.dispatch()

    def reprioritise(self, chunks: np.ndarray) -> None:
        """Chunks that just lost availability: their waiting jobs are queued anew with their new key."""
        st = self.w.state
        c, s = np.nonzero(st.job[chunks] == JOB_PENDING)
        if len(c):
            self.push(chunks[c], s)

    def cancel_pending_on(self, node: int) -> None:
        """A declared-dead node is back with its data: its jobs not yet started are cancelled."""
        st = self.w.state
        c, s = st.slots_on(node)
        pend = st.job[c, s] == JOB_PENDING
        c, s = c[pend], s[pend]
        st.job[c, s] = JOB_NONE
        self.forget(c, s)
        np.subtract.at(st.missing, c, 1)
        done = np.unique(c[st.missing[c] == 0])
        if len(done):
            self.w.chunks_settled(done)

    def push(self, chunks: np.ndarray, slots: np.ndarray) -> None:
        """Queue these pending jobs anew (new order, keyed by their surplus now)."""
        st = self.w.state
        surplus = (st.avail[chunks] - st.need(chunks)).tolist()
        row, entry = st.width, self.entry
        n0 = self._count
        self._count += len(surplus)
        items = []
        for i, (sp, c, s) in enumerate(zip(surplus, chunks.tolist(), slots.tolist(), strict=False), n0):
            entry[c * row + s] = (sp, i, i)
            items.append((sp, i, i, c, s))
        if len(items) > len(self.ready):
            self.ready.extend(items)
            heapq.heapify(self.ready)
        else:
            for e in items:
                heapq.heappush(self.ready, e)

    def wake(self, chunks: np.ndarray) -> None:
        """Waiting jobs of these chunks back to the ready heap, in their place (a source came back)."""
        st = self.w.state
        rows, cols = np.nonzero(st.job[chunks] == JOB_PENDING)
        row, entry = st.width, self.entry
        for c, s in zip(chunks[rows].tolist(), cols.tolist(), strict=True):
            e = entry.get(c * row + s)
            if e is not None:
                self._count += 1
                entry[c * row + s] = (e[0], e[1], self._count)
                heapq.heappush(self.ready, (e[0], e[1], self._count, c, s))

    def node_changed(self) -> None:
        """A node came back or joined: blocked jobs may have sources or a target now, jobs waiting
        for a busy source may read from it, and jobs waiting for a target may write to it."""
        cl, st = self.w.cluster, self.w.state
        self.unblock()
        # Up now, and down at the last look or failed since (a node can fail and return in between).
        came_up = np.flatnonzero(cl.up & (~self._up_seen | (self.w.down_count != self._downs_seen)))
        self._up_seen = cl.up.copy()
        self._downs_seen = self.w.down_count.copy()
        if self.entry and len(came_up):
            self._racks_freed.update(range(len(self.target_wait)))
            for n in came_up.tolist():
                self.wake(np.unique(st.slots_on(n)[0]))
        self.dispatch()

    def unblock(self, chunk: int | None = None) -> None:
        """Blocked jobs (of ``chunk``; None: all) look again at the next dispatch: a node came back or joined, or a
        rebuild of the chunk let go of its target (a node that may take another of its slots)."""
        out = [b for b in self.blocked if chunk is None or b[0] == chunk]
        if out:
            self.blocked = [b for b in self.blocked if chunk is not None and b[0] != chunk]
            c, s = np.array(out, dtype=np.int64).T
            keep = self.w.state.job[c, s] == JOB_PENDING
            self.push(c[keep], s[keep])

    def forget(self, chunks, slots) -> None:
        """These jobs left the queue (cancelled): their entries are discarded when they come up."""
        row = self.w.state.width
        for c, s in zip(chunks.tolist(), slots.tolist(), strict=False):
            self.entry.pop(c * row + s, None)

    def _targets_exhausted(self) -> bool:
        """Every node that could receive a job already receives streams_per_node of them."""
        if self.streams == 0 or not self.full_targets:
            return False
        return all(full >= n for full, n in zip(self.use.full_in_pool, self._eligible_in_pools(), strict=True))

    def _eligible_in_pools(self) -> list[int]:
        """Nodes up and not declared dead, per pool (cluster.pools; one pool without)."""
        cl = self.w.cluster
        if self._elig_version != cl.version:
            self._elig_version = cl.version
            self._eligible = np.bincount(cl.node_pool[cl.up & ~cl.dead], minlength=cl.n_pools).tolist()
        return self._eligible

    # -- dispatch ------------------------------------------------------------------------------------
    def dispatch(self) -> None:
        """Start the most endangered jobs that can start now (module docstring)."""
        if self._busy:                     # started from within a dispatch: the running one carries on
            return
        if (not self.ready and not self._woken and not self._racks_freed and not self.heads) \
                or self._targets_exhausted():
            self.dispatches += 1           # nothing new may start (most dispatches when uncapped), or
                                           # every target is busy: what was freed is looked at later
            if self.log is not None:
                self.log.append((0, 0))
            return
        self._busy = True
        try:
            self._dispatch()
        finally:
            self._busy = False

    def _dispatch(self) -> None:
        w, st = self.w, self.w.state
        heappop, heappush = heapq.heappop, heapq.heappush
        ready, entry, free = self.ready, self.entry, self.free_sources
        t = w.env.now
        job_mv, lost_mv, avail_mv, mode_mv, node_mv, live_mv, up = self._views()
        row, capped = st.width, self.source_streams > 0
        need_of, width_of = self._need_of, self._width_of
        later = []                         # jobs waiting for a target: back in the target waits at the end
        racks = self._racks_freed
        examined = started = 0
        self.dispatches += 1
        # The heads of the source waits whose nodes all have a free stream now, one of them freed since
        # the last search (the others were found then, and are still in the heap unless taken or a node
        # of theirs is busy again): (head entry, its node set).
        heads = self.heads
        if self._woken:
            if self.waits.sets:
                for found in self._free_heads(up):
                    heappush(heads, found)
            self._woken.clear()
        finished = False
        while not self._targets_exhausted():
            best, heap = ready[0] if ready else None, ready
            from_rack = -1
            for r in list(racks):
                q = self.target_wait[r]
                if not q:
                    racks.discard(r)
                elif best is None or q[0] < best:
                    best, heap, from_rack = q[0], q, r
            src_nodes = None
            while heads:
                head, nodes = heads[0]
                q = self.waits.sets.get(nodes)
                if not q or q[0] is not head or not free.issuperset(nodes):
                    heappop(heads)         # taken, or a node of the set is busy again
                    continue
                if best is None or head < best:
                    best, heap, src_nodes = head, q, nodes
                break
            if best is None:
                finished = True
                break
            heappop(heap)
            if src_nodes is not None:
                heappop(heads)
                self.waits.next_head(src_nodes, heads)
            surplus, order, token, c, s = best
            key = c * row + s
            e = entry.get(key)
            if e is None or e[2] != token:
                continue                   # a stale entry: the job was queued again, or left
            if job_mv[key] != JOB_PENDING or lost_mv[c]:
                del entry[key]
                continue
            examined += 1
            mode = mode_mv[c]
            need = need_of[mode]
            current = avail_mv[c] - need
            if current > surplus:          # less endangered than when queued: queued anew, in order
                self._count += 1
                entry[key] = (current, self._count, self._count)
                heappush(ready, (current, self._count, self._count, c, s))
                continue
            if current < 0:                # too few sources up: wait for a node to return
                del entry[key]
                self.blocked.append((c, s))
                continue
            width = width_of[mode]
            base = c * row
            usable, live = [], []
            for j in range(width):
                if j != s and live_mv[base + j]:
                    n = node_mv[base + j]
                    if up[n]:
                        live.append(n)
                        if not capped or n in free:
                            usable.append((j, n))
            if len(usable) < need:
                if len(live) < need:       # cannot happen while surplus >= 0; kept safe
                    del entry[key]
                    self.blocked.append((c, s))
                    continue
                self._count += 1
                entry[key] = (surplus, order, self._count)
                if self.waits.add((surplus, order, self._count, c, s), sorted(live), need):
                    self.waits.refresh(heads)   # swept: the heads kept point at sets' old tops
                continue
            pool = self._mode_pool[mode]
            target = self._target(c, s, mode, width) if self.use.full_in_pool[pool] < \
                self._eligible_in_pools()[pool] or self.streams == 0 else -3      # -3: its pool's targets are all busy
            if target == -3:
                later.append((surplus, order, c, s, self._pool_groups[pool]))
                if from_rack >= 0:
                    racks.discard(from_rack)
            elif target < 0:
                if target == -2:           # a node could take it once one of its streams frees
                    later.append((surplus, order, c, s, self._allowed_racks))
                    if from_rack >= 0:     # the freed stream was taken: this rack's other waiters wait too
                        racks.discard(from_rack)
                else:
                    del entry[key]
                    self.blocked.append((c, s))   # no eligible node: wait until one joins
                continue
            del entry[key]
            self.start(c, s, mode, target, self._sources(c, mode, need, usable, t))
            started += 1
        if finished:
            racks.clear()
        for surplus, order, c, s, allowed in later:
            self._count += 1
            entry[c * row + s] = (surplus, order, self._count)
            for r in allowed:
                heappush(self.target_wait[r], (surplus, order, self._count, c, s))
        self.examined += examined
        if self.log is not None:
            self.log.append((examined, started))

    def _views(self) -> tuple:
        """Flat memoryviews of the state arrays dispatch reads one element at a time (NumPy scalar
        indexing costs more than the rest of a look at a job); made again if an array was replaced."""
        st, cl = self.w.state, self.w.cluster
        if self._viewed is None or self._viewed[0] is not st.job or self._viewed[1] is not cl.up:
            self._viewed = (st.job, cl.up)
            self._mv = (memoryview(st.job.reshape(-1)), memoryview(st.lost), memoryview(st.avail),
                        memoryview(st.mode), memoryview(st.slot_node.reshape(-1)),
                        memoryview(st.slot_has_data.reshape(-1)), memoryview(cl.up))
        return self._mv

    def _live(self, item: tuple) -> bool:
        """The entry is the job's current one (not superseded by a later queueing or wait)."""
        e = self.entry.get(item[3] * self.w.state.width + item[4])
        return e is not None and e[2] == item[2]

    def _free_heads(self, up) -> list:
        """The waits' heads that may start now: their nodes all up with a free source stream, one of
        them freed since the last search (sets found then are in ``self.heads`` already)."""
        free = self.free_sources
        woken = [n for n in self._woken if n in free and up[n]]
        if not woken:
            return []
        return self.waits.heads(woken, {n for n in free if up[n]})

    def _sources(self, c: int, mode: int, need: int, usable: list, t: float) -> list[tuple[int, int]]:
        """``need`` of the usable (slot, node) pairs, in ``repair.source_choice``'s order
        (:mod:`.source_choice`; 1 replica or k fragments)."""
        if len(usable) == need and need == 1:
            return usable
        node_of = dict(usable)
        return [(j, node_of[j]) for j in choose(mode, node_of, need, preferred=source_order(self.w, c, usable, t))]

    def _target(self, c: int, s: int, mode: int, width: int) -> int:
        """A target for slot ``s`` of chunk ``c`` with a free receive stream; -2 if the only nodes the
        placement rules allow receive all they may, -1 if they allow none."""
        w = self.w
        job_mv, node_mv, data_mv, base = self._mv[0], self._mv[4], self._mv[5], c * self.w.state.width
        # The copies that will exist: slots not being rebuilt, slots being rebuilt whose old node came back with
        # their data (it still holds them, so it must not take another slot), plus the targets of running rebuilds.
        held = [node_mv[base + j] for j in range(width)
                if j != s and (job_mv[base + j] == JOB_NONE or data_mv[base + j])]
        held.extend(self.chunk_targets.get(c, ()))
        slot_bytes = self._slot_bytes[mode]
        kept = self.resumes and self.resumes.target(c, s, held, width, self.full_targets, slot_bytes, self.node_group)
        if kept:                           # repair.restart resume: the target holding the job's rounds
            target, self._allowed_racks = kept
            return target
        target = w.placement.repair_target(slot_bytes, mode, held, width, self.full_targets)   # room for it now
        if target == -2:                   # it waits on the racks it may use (the rack caps: placement.py)
            per_rack: dict[int, int] = {}
            for n in held:
                per_rack[self.node_group[n]] = per_rack.get(self.node_group[n], 0) + 1
            cap, racks = rack_cap(width, w.cluster.n_racks), w.cluster.n_racks
            first = w.cluster.mode_pool[mode] * racks      # the groups of the racks of the chunk's pool
            self._allowed_racks = [g for g in range(first, first + racks) if per_rack.get(g, 0) < cap]
        return target
