"""Repair: rebuilding the slots of declared-dead nodes, most endangered first.

Each slot of a declared-dead node is a job. A replica is copied from a live
replica (chunk bytes read, the same written); a fragment is rebuilt from k live
fragments (k x fragment bytes read, decode time, one fragment written). Jobs
wait in a heap keyed by the chunk's surplus (available slots minus slots
needed to read), so the most endangered chunks go first; a chunk whose surplus
drops while it waits is pushed again with the new key.

The cap: each node that is up and not declared dead contributes
``streams_per_node`` concurrent repair streams (0: no cap, every job runs at
once, as in the Markov model with parallel repair). A stream moves data at
``bandwidth / streams_per_node`` (and no faster than the target's network).

A job is a chain of callbacks, not a SimPy process: the reads enter the disk
queues when the job starts, the write enters the target's queue later, and
the job's recorded start and end are the moments its I/O really began and
finished. No I/O is booked ahead. With ``io_model: serial`` the sources' NICs
send once their disks are done, the transfer starts when every source is read
and the write enters the queue when the data has arrived. ``pipelined`` (the
default) overlaps the stages as the data streams: the NICs send while the
disks read, the transfer (and decode) run from the first byte read, and the
write enters the target's queue when the data still to come takes as long as
writing it; the job ends when both the write and the last byte are done.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from ..redundancy import MODE_REPLICATION
from .records import Table
from .state import JOB_NONE, JOB_PENDING, JOB_RUNNING


class RepairScheduler:
    """Queue, cap and execution of repair jobs."""

    def __init__(self, world):
        self.w = world
        cfg = world.cfg
        self.streams = cfg.repair.streams_per_node
        rate = cfg.repair.bandwidth / self.streams if (cfg.repair.bandwidth > 0 and self.streams > 0) else \
            cfg.repair.bandwidth
        rate = min(rate, cfg.cluster.network_bandwidth) if rate > 0 else cfg.cluster.network_bandwidth
        self.stream_rate = rate
        self.decode_rate = cfg.codec.decode_throughput
        self.exponential = cfg.repair.time_model == "exponential"
        self.mttr = cfg.repair.mttr
        self.pipelined = cfg.repair.io_model == "pipelined"
        self.rng = world.rng.repairs
        self.heap: list[tuple[int, int, int, int]] = []
        self.blocked: list[tuple[int, int]] = []
        self.running = 0
        self.running_to: dict[int, dict[int, list]] = {}   # target node -> running jobs writing to it
        self._job_ids = 0
        self._cap_version = -1
        self._cap = 0
        self.chunk_targets: dict[int, list[int]] = {}        # chunk -> targets of its running jobs
        self._seq = 0
        self._write_disk: dict[int, int] = {}                 # job id -> the disk its write went to
        self.bytes_read = 0
        self.bytes_written = 0
        self.table = Table("repairs", {
            "chunk_id": "i", "slot": "i", "mode": ("replication", "erasure_coding"), "failure_id": "i",
            "target_node": "i", "start_s": "f", "end_s": "f", "bytes_read": "i", "bytes_written": "i"})

    # -- queue ------------------------------------------------------------------------------------
    def enqueue(self, chunks: np.ndarray, slots: np.ndarray) -> None:
        """New jobs for these (chunk, slot) pairs; then start what the cap allows."""
        st = self.w.state
        if len(chunks):
            st.job[chunks, slots] = JOB_PENDING
            np.add.at(st.missing, chunks, 1)
            self._push(chunks, slots)
        self.dispatch()

    def _push(self, chunks: np.ndarray, slots: np.ndarray) -> None:
        st = self.w.state
        surplus = (st.avail[chunks] - st.need(chunks)).tolist()
        seq0 = self._seq
        self._seq += len(surplus)
        entries = list(zip(surplus, range(seq0, seq0 + len(surplus)), chunks.tolist(), slots.tolist()))
        if len(entries) > len(self.heap):
            self.heap.extend(entries)
            heapq.heapify(self.heap)
        else:
            for e in entries:
                heapq.heappush(self.heap, e)

    def reprioritise(self, chunks: np.ndarray) -> None:
        """Chunks that just lost availability: their waiting jobs move up the queue."""
        st = self.w.state
        c, s = np.nonzero(st.job[chunks] == JOB_PENDING)
        if len(c):
            self._push(chunks[c], s)

    def cancel_pending_on(self, node: int) -> None:
        """A declared-dead node is back with its data: its jobs not yet started are cancelled."""
        st = self.w.state
        c, s = st.slots_on(node)
        pend = st.job[c, s] == JOB_PENDING
        c, s = c[pend], s[pend]
        st.job[c, s] = JOB_NONE
        np.subtract.at(st.missing, c, 1)
        done = np.unique(c[st.missing[c] == 0])
        if len(done):
            self.w.chunks_settled(done)

    def node_changed(self) -> None:
        """A node came back or joined: blocked jobs may now have sources or a target."""
        if self.blocked:
            blocked, self.blocked = self.blocked, []
            c = np.array([b[0] for b in blocked], dtype=np.int64)
            s = np.array([b[1] for b in blocked], dtype=np.int64)
            keep = self.w.state.job[c, s] == JOB_PENDING
            self._push(c[keep], s[keep])
        self.dispatch()

    def capacity(self) -> float:
        """Concurrent jobs allowed: streams_per_node for each node that is up and not declared dead."""
        if self.streams == 0:
            return math.inf
        cl = self.w.cluster
        if self._cap_version != cl.version:
            self._cap_version = cl.version
            self._cap = self.streams * int(np.count_nonzero(cl.up & ~cl.dead))
        return self._cap

    # -- dispatch -----------------------------------------------------------------------------------
    def dispatch(self) -> None:
        """Start the most endangered waiting jobs while streams are free."""
        w, st, heap = self.w, self.w.state, self.heap
        cap = self.capacity()
        while heap and self.running < cap:
            surplus, _, c, s = heapq.heappop(heap)
            if st.job[c, s] != JOB_PENDING or st.lost[c]:
                continue
            current = int(st.avail[c]) - int(st.mode_need[st.mode[c]])
            if current > surplus:          # less endangered than when queued: requeue in order
                self._seq += 1
                heapq.heappush(heap, (current, self._seq, c, s))
                continue
            if current < 0:                # too few sources up: wait for a node to return
                self.blocked.append((c, s))
                continue
            mode = int(st.mode[c])
            width = int(st.mode_width[mode])
            # The copies that will exist: slots not being rebuilt, plus the targets of running rebuilds.
            jobs = st.job[c, :width].tolist()
            held = [n for j, n in enumerate(st.slot_node[c, :width].tolist()) if jobs[j] == JOB_NONE and j != s]
            held.extend(self.chunk_targets.get(c, ()))
            target = w.repair_sampler(int(st.mode_slot_bytes[mode])).draw(w.rng.placement, held, width)
            if target < 0:                 # no eligible node: wait until one joins
                self.blocked.append((c, s))
                continue
            self._start(c, s, mode, target)

    # -- execution ----------------------------------------------------------------------------------
    def _sources(self, c: int, s: int, mode: int, t: float) -> list[int]:
        """Live slots on up nodes to read from, least queued first (1 replica or k fragments)."""
        st, cl = self.w.state, self.w.cluster
        width = int(st.mode_width[mode])
        live = st.slot_live[c, :width].tolist()
        up = cl.up
        cands = [(cl.slot_wait(c, j, t), j, n) for j, n in enumerate(st.slot_node[c, :width].tolist())
                 if j != s and live[j] and up[n]]
        cands.sort()
        need = int(st.mode_need[mode])
        return [(j, n) for _, j, n in cands[:need]]

    def _start(self, c: int, s: int, mode: int, target: int) -> None:
        w, st, env = self.w, self.w.state, self.w.env
        t = env.now
        st.job[c, s] = JOB_RUNNING
        self.running += 1
        sources = self._sources(c, s, mode, t)
        slot_bytes = int(st.mode_slot_bytes[mode])
        read_bytes = slot_bytes * len(sources)
        fid = int(w.cluster.failure_id[st.slot_node[c, s]]) if st.slot_node[c, s] >= 0 else -1
        self._job_ids += 1
        job = [c, s, mode, target, int(w.epoch[target]), fid, t, read_bytes, slot_bytes, sources, self._job_ids]
        self.running_to.setdefault(target, {})[self._job_ids] = job
        self.chunk_targets.setdefault(c, []).append(target)
        if self.exponential:
            delay = self.rng.exponential(self.mttr)
            env.timeout(delay).callbacks.append(lambda _e: self._finish(job, t + delay))
            return
        first_start, last_finish = math.inf, t
        for j, _ in sources:
            begin, end = w.cluster.read_slot(c, j, t, slot_bytes, self.pipelined)
            first_start = min(first_start, begin)
            last_finish = max(last_finish, end)
        job[6] = first_start
        if self.pipelined:
            arrive = max(last_finish, first_start + read_bytes / self.stream_rate)
            if mode != MODE_REPLICATION:
                arrive = max(arrive, first_start + read_bytes / self.decode_rate)
            write_at = max(t, arrive - slot_bytes * w.cluster.disks.per_byte)
        else:
            arrive = last_finish + read_bytes / self.stream_rate
            if mode != MODE_REPLICATION:
                arrive += read_bytes / self.decode_rate
            write_at = arrive
        env.timeout(write_at - t).callbacks.append(lambda _e: self._write(job, arrive))

    def target_failed(self, node: int) -> None:
        """The node receiving these jobs went down: their writes fail, so they go back to the queue now."""
        jobs = self.running_to.pop(node, {})
        st = self.w.state
        for job in jobs.values():
            c, s = job[0], job[1]
            job[10] = -1                 # the pending callbacks of an aborted job do nothing
            self.running -= 1
            self._forget_target(c, node)
            if st.job[c, s] == JOB_RUNNING and not st.lost[c]:
                st.job[c, s] = JOB_PENDING
                self._push(np.array([c]), np.array([s]))
        if jobs:
            self.dispatch()

    def _forget_target(self, c: int, target: int) -> None:
        targets = self.chunk_targets[c]
        targets.remove(target)
        if not targets:
            del self.chunk_targets[c]

    def _write(self, job, arrive: float) -> None:
        if job[10] < 0:
            return
        w = self.w
        t = w.env.now
        if w.cluster.up[job[3]]:
            self._write_disk[job[10]], end = w.cluster.write_slot(job[3], t, job[8])
        else:
            end = t
        end = max(end, arrive)              # a pipelined write cannot finish before its data arrives
        w.env.timeout(end - t).callbacks.append(lambda _e: self._finish(job, end))

    def _finish(self, job, t_end: float) -> None:
        c, s, mode, target, epoch, fid, t_start, read_bytes, slot_bytes, sources, job_id = job
        if job_id < 0:
            return
        w, st = self.w, self.w.state
        self.running -= 1
        self.running_to[target].pop(job_id, None)
        self._forget_target(c, target)
        if st.job[c, s] != JOB_RUNNING or st.lost[c]:
            self.dispatch()              # cancelled meanwhile (chunk lost or converted)
            return
        if not w.cluster.up[target] or w.epoch[target] != epoch:
            st.job[c, s] = JOB_PENDING   # the target failed under the write: try again elsewhere
            self._push(np.array([c]), np.array([s]))
            self.dispatch()
            return
        old = int(st.slot_node[c, s])
        if w.payloads is not None:
            w.payloads.rebuild_slot(c, s, mode, sources)
        stale = st.move_slot(c, s, target, w.cluster.up, w.env.now)
        disk = self._write_disk.pop(job_id, None)
        w.cluster.disks.place_slot(c, s, w.cluster.disks.pick(target) if disk is None else disk, slot_bytes, stale)
        if stale:
            if w.cluster.up[old]:
                w.drop_stale_now(old)
            else:
                w.stale_slots[old] += 1
                w.stale_bytes[old] += slot_bytes
        w.cluster.used[target] += slot_bytes
        st.job[c, s] = JOB_NONE
        st.missing[c] -= 1
        self.bytes_read += read_bytes
        self.bytes_written += slot_bytes
        self.table.append(c, s, mode, fid, target, t_start, t_end, read_bytes, slot_bytes)
        if st.missing[c] == 0:
            w.chunk_settled(c)
        self.dispatch()
