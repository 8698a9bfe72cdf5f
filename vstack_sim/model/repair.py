"""Repair: rebuilding the slots of declared-dead nodes, most endangered first.

Each slot of a declared-dead node is a job. A replica is copied from a live
replica (chunk bytes read, the same written); a fragment is rebuilt from k live
fragments (k x fragment bytes read, decode time, one fragment written). Which
waiting job starts when is :mod:`.repair_queue`'s: most endangered first (the
chunk's surplus, available slots minus slots needed to read), within the caps.
This module is the jobs' I/O once started.

The caps are per node and in both directions, like Ceph's ``osd_max_backfills``
(counted by the queue): a job holds its streams from the moment it starts until
its data has arrived (sources) or its write is done (target). Each receive
stream moves data at ``bandwidth / streams_per_node`` (and no faster than the
network), so a node's incoming repair traffic never exceeds ``bandwidth``.

A job is a chain of callbacks, not a SimPy process: the reads enter the disk
queues when the job starts. A source that fails (down or destroyed) before the
job's data has arrived sends the job back to the queue at once: it restarts
from other sources (a chunk left with too few is lost by then), and the data's
arrival checks the sources again. The repairs table records, per job, its
start and end (which include queueing for disks), its transfer interval
(source reads begin to data arrived at the target), its target and its source
nodes. No I/O is booked ahead.

With ``io_model: serial`` the sources' NICs send once their disks are done,
the transfer starts when every source is read, the decode follows, and the
write enters the target's queue when the data has arrived. ``pipelined`` (the
default, as HDFS and Ceph recovery stream) overlaps the stages: the NICs send
while the disks read, the transfer and the decode run from the first byte
read, and the write enters the target's queue when the data still to come
takes as long as writing it; the job ends when both the write and the last
byte are done.

With ``catalog.chunk_weight`` W > 1 a slot holds W chunks' worth of bytes. It
is rebuilt as W rounds of chunk-sized requests (:mod:`.background`): a read
from each source (its NIC overlapping the disk when pipelined), the move
across the job's stream with the decode, and a write to one disk of the
target, three rounds in flight at most, so views' reads interleave with the
rebuild in the same queues and never wait behind a W-sized request. The job
holds its streams for all W rounds.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.model.background import BackgroundJob
from vstack_sim.model.disk_queue import REPAIR
from vstack_sim.model.io_arbiter import Join
from vstack_sim.model.kofn import decode_time
from vstack_sim.model.records import Table
from vstack_sim.model.repair_jobs import Job, Running
from vstack_sim.model.repair_queue import RepairQueue
from vstack_sim.model.repair_rules import COMPLETE, RESUME, ExponentialTimes, OnFailure, Resumes, payload_sources
from vstack_sim.model.source_choice import sources_now
from vstack_sim.model.state import JOB_NONE, JOB_PENDING, JOB_RUNNING

HELD, ARRIVED = object(), object()
"""A pipelined job's write the I/O scheduler still holds, without or with the job's data arrived."""


class RepairScheduler:
    """Execution of repair jobs; which job starts when is the queue's (:mod:`.repair_queue`)."""

    def __init__(self, world):
        self.w = world
        cfg = world.cfg
        self.queue = RepairQueue(world, self._start)
        self.streams = self.queue.streams
        rate = cfg.repair.bandwidth / self.streams if (cfg.repair.bandwidth > 0 and self.streams > 0) else \
            cfg.repair.bandwidth
        # A stream is capped by the target node's NIC (its pool's, with cluster.pools): bytes/s per target node.
        nic = [keys["network_bandwidth"] for *_, keys in cfg.cluster.pool_list()]
        self.stream_rate = [min(rate, nic[p]) if rate > 0 else nic[p] for p in world.cluster.node_pool.tolist()]
        self.decode_per_byte = 1.0 / cfg.codec.decode_throughput
        self.exponential = cfg.repair.time_model == "exponential"
        self.times = ExponentialTimes(world.rng.repairs, cfg.repair.mttr, cfg.repair.exponential_per)
        self.pipelined = cfg.repair.io_model == "pipelined"
        self.complete = cfg.repair.restart == COMPLETE     # repair.restart (model/repair_rules.py)
        self.resumes = self.queue.resumes = Resumes(world) if cfg.repair.restart == RESUME else None
        on = OnFailure(self, cfg.repair.restart, self.exponential)
        self.target_failed, self.source_failed, self.disk_failed = on.target_failed, on.source_failed, on.disk_failed
        self.node_destroyed = on.node_destroyed
        self.running = 0
        self.jobs = Running()                                # which running jobs use which node
        self._job_ids = 0
        self._write_disk: dict[int, tuple[int, int]] = {}    # job id -> (the disk its write went to, its token)
        self._write_end: dict[int, object] = {}               # job id -> its pipelined write's end, HELD or ARRIVED
        self.bytes_read = 0
        self.bytes_written = 0
        self.dispatch = self.queue.dispatch
        self._slot_bytes = [int(b) for b in world.state.mode_slot_bytes]
        self.table = Table("repairs", {
            "chunk_id": "i", "slot": "i", "mode": ("replication", "erasure_coding"), "failure_id": "i",
            "target_node": "i", "start_s": "f", "end_s": "f", "bytes_read": "i", "bytes_written": "i",
            "transfer_start_s": "f", "transfer_end_s": "f", "source_nodes": "ids"})

    # -- queue (model/repair_queue.py) ----------------------------------------------------------
    def enqueue(self, chunks: np.ndarray, slots: np.ndarray, failure_ids) -> None:
        """New jobs for these (chunk, slot) pairs, rebuilding after ``failure_ids``."""
        self.queue.enqueue(chunks, slots, failure_ids)

    def reprioritise(self, chunks: np.ndarray) -> None:
        """Chunks that just lost availability: their waiting jobs move up the queue."""
        self.queue.reprioritise(chunks)

    def cancel_pending_on(self, node: int) -> None:
        """A declared-dead node is back with its data: its jobs not yet started are cancelled."""
        self.queue.cancel_pending_on(node)

    def node_changed(self) -> None:
        """A node came back or joined: waiting jobs may now have sources or a target."""
        self.queue.node_changed()

    def _requeue(self, c: int, s: int) -> None:
        """The job is back in the queue, to start again from the top (new sources, new target)."""
        self.w.state.job[c, s] = JOB_PENDING
        self.queue.push(np.array([c]), np.array([s]))

    # -- execution ----------------------------------------------------------------------------------
    def _start(self, c: int, s: int, mode: int, target: int, sources) -> None:
        w, st, env = self.w, self.w.state, self.w.env
        t = env.now
        st.job[c, s] = JOB_RUNNING
        self.running += 1
        slot_bytes = self._slot_bytes[mode]
        self._job_ids += 1
        job = Job(self._job_ids, c, s, mode, target, int(w.epoch[target]), int(st.job_failure[c, s]), t,
                  slot_bytes, sources, self._marks(c, sources))
        self._take_streams(job)
        # The rebuilt slot's bytes are taken on the target from the start, as conversions do, so that
        # placements meanwhile see them; _release_target gives them back and _finish takes them for good.
        w.cluster.repairing[target] += slot_bytes
        w.cluster.used[target] += slot_bytes
        if self.exponential:
            delay = self.times.delay(t, c * st.width + s, job.failure_id)
            job.transfer_end = t + delay
            env.timeout(delay).callbacks.append(lambda _e: self._finish(job, t + delay))
            return
        if st.weight > 1:
            kept = self.resumes.take(c, s, target) if self.resumes is not None else None
            if kept is not None:          # resume: go on from the next round, on the disk holding the rest
                job.done_rounds = kept.rounds
                self._write_disk[job.id] = w.cluster.disks.reserve_space(target, slot_bytes, kept.disk)
            self._start_rounds(job)
            return
        join = Join(len(sources), t, lambda first, last: self._read_in(job, first, last))
        for j, _ in sources:
            w.cluster.read_slot(c, j, t, slot_bytes, self.pipelined, REPAIR, join.add)

    def _read_in(self, job: Job, first_start: float, last_finish: float) -> None:
        """W = 1: every source's read has joined its queue (at once, unless the I/O scheduler held one)."""
        if job.id < 0:
            return
        w, env = self.w, self.w.env
        t = env.now
        slot_bytes = job.slot_bytes
        job.transfer_start = first_start
        rebuild = decode_time(job.mode, [j for j, _ in job.sources], self.w.k, job.read_bytes, self.decode_per_byte,
                              rebuild=True)
        if self.pipelined:
            job.transfer_end = max(last_finish, first_start + job.read_bytes / self.stream_rate[job.target])
            arrive = max(job.transfer_end, first_start + rebuild)
            write_at = max(t, arrive - slot_bytes * w.cluster.disks.device_of_node[job.target].per_byte)
            env.timeout(write_at - t).callbacks.append(lambda _e: self._begin_write(job))
        else:
            job.transfer_end = last_finish + job.read_bytes / self.stream_rate[job.target]
            arrive = job.transfer_end + rebuild
        env.timeout(arrive - t).callbacks.append(lambda _e: self._write(job))

    def _start_rounds(self, job: Job) -> None:
        """W > 1: W rounds of one chunk-sized read per source and one write to the target's disk."""
        w, st = self.w, self.w.state
        cl, c, s, mode = w.cluster, job.chunk, job.slot, job.mode
        unit = int(st.mode_request_bytes[mode])
        round_bytes = unit * len(job.sources)
        slots = [j for j, _ in job.sources]

        def read(now, then):
            join = Join(len(slots), now, then)
            for j in slots:
                cl.read_slot(c, j, now, unit, self.pipelined, REPAIR, join.add)

        def move(ready):
            job.transfer_end = ready + round_bytes / self.stream_rate[job.target]
            return job.transfer_end + decode_time(mode, slots, self.w.k, round_bytes, self.decode_per_byte,
                                                  rebuild=True)

        def write(now, then):
            if bg.issued_writes == bg.rounds and not self._rebuilt(job):
                then(now)                            # the last round: a source failed, the job went back
                return
            if not self._writable(job):
                then(now)
                return
            if job.id not in self._write_disk:       # every round goes to the same disk of the target
                self._write_disk[job.id] = cl.disks.reserve_space(job.target, job.slot_bytes)
            cl.write(self._write_disk[job.id][0], now, unit, REPAIR, lambda _start, finish: then(finish))

        def check(now):
            if st.job[c, s] != JOB_RUNNING or st.lost[c]:
                self._finish(job, now)               # cancelled meanwhile: stop now, not after W rounds
                return False
            return True

        def done(_first, end):
            if job.id >= 0:
                self._finish(job, end)

        bg = job.background = BackgroundJob(w.env, st.weight - job.done_rounds, read, move, write, done, check,
                                            self.dispatch)
        bg.start()
        job.transfer_start = bg.first_start

    def _take_streams(self, job: Job) -> None:
        self.queue.take(job.chunk, job.target, [n for _, n in job.sources])
        self.jobs.add(job)

    def _release_sources(self, job: Job) -> None:
        if job.serving:
            job.serving = False
            self.queue.release_sources([n for _, n in job.sources])
            self.jobs.done_reading(job)

    def _release_target(self, job: Job) -> None:
        target = job.target
        cl = self.w.cluster
        cl.repairing[target] -= job.slot_bytes
        cl.used[target] -= job.slot_bytes
        self.running -= 1
        self.jobs.done_writing(job)
        self.queue.release_target(job.chunk, target)
        if self.queue.blocked:          # a job of the chunk may have found no node while this one held its target
            self.queue.unblock(job.chunk)

    def _retry(self, job: Job) -> None:
        """Back to the queue, unless it was cancelled meanwhile (chunk lost or converted)."""
        st = self.w.state
        if st.job[job.chunk, job.slot] == JOB_RUNNING and not st.lost[job.chunk]:
            self._requeue(job.chunk, job.slot)

    def restart(self, jobs: list[Job]) -> None:
        """These running jobs' reads or writes failed: free their streams and queue them again now (which
        failures do that is repair.restart's: model/repair_rules.py)."""
        for job in jobs:
            self._release_sources(job)
            self._release_target(job)
            self._unreserve(job)
            self._write_end.pop(job.id, None)
            job.stop()
            self._retry(job)
        if jobs:
            self.dispatch()

    def write_disk(self, job: Job) -> int | None:
        """The disk of the target that the job's write went to, once it has gone."""
        return self._write_disk.get(job.id, (None,))[0]

    def _marks(self, c: int, sources) -> list[int]:
        """world.source_marks as plain ints: twice per repair, where NumPy's fancy indexing of a few
        elements costs more than reading them one by one."""
        down, dk = self.w.down_count, self.w.cluster.disks
        failures, slot_disk = dk.failures, dk.slot_disk
        return [int(down[n]) + int(failures[slot_disk[c, j]]) for j, n in sources]

    def _sources_intact(self, job: Job) -> bool:
        """No source (node or disk) failed since the job started, so every read completed."""
        return self._marks(job.chunk, job.sources) == job.marks

    def _begin_write(self, job: Job) -> None:
        """Pipelined: the write enters the target's queue while the data still streams in."""
        if job.id < 0:
            return
        w = self.w
        if self._writable(job):
            self._write_end[job.id] = HELD
            self._reserve_write(job, w.env.now, lambda finish: self._write_in(job, finish))

    def _write_in(self, job: Job, finish: float) -> None:
        """Pipelined: the write has joined the target's queue (at once, unless the I/O scheduler held it)."""
        if job.id < 0:
            return
        if self._write_end.get(job.id) is ARRIVED:   # the data came first: the job ends with its write
            del self._write_end[job.id]
            self._end_at(job, finish)
        else:
            self._write_end[job.id] = finish

    def _reserve_write(self, job: Job, t: float, then) -> None:
        """The job's write is issued to one disk of its target at ``t``, its bytes reserved there now;
        ``then(finish)`` once it has joined the disk's queue."""
        cl = self.w.cluster
        self._write_disk[job.id] = disk, token = cl.disks.reserve_space(job.target, job.slot_bytes)
        cl.write(disk, t, job.slot_bytes, REPAIR, lambda _start, finish: then(finish))

    def _unreserve(self, job: Job) -> None:
        """The job will not finish its write: the bytes reserved on its disk are free again."""
        held = self._write_disk.pop(job.id, None)
        if held is not None:
            self.w.cluster.disks.release_space(held[0], job.slot_bytes, held[1])

    def _rebuilt(self, job: Job) -> bool:
        """The job's data has all arrived: free its sources; False (and the job queued again) if a read
        did not finish because its source failed; else rebuild the payload, when payloads are carried."""
        w = self.w
        self._release_sources(job)
        st = w.state
        if st.job[job.chunk, job.slot] == JOB_RUNNING and not st.lost[job.chunk] and not self.complete \
                and not self._sources_intact(job):
            self._release_target(job)    # a read did not finish: start again from other sources
            self._unreserve(job)
            job.stop()
            self._retry(job)
            self.dispatch()
            return False
        if w.payloads is not None and st.job[job.chunk, job.slot] == JOB_RUNNING and not st.lost[job.chunk]:
            sources = payload_sources(w, job.chunk, job.slot, job.mode, job.sources) if self.complete else job.sources
            job.fragment = w.payloads.rebuild_slot(job.chunk, job.slot, job.mode, sources)
        return True

    def _write(self, job: Job) -> None:
        if job.id < 0:
            return
        w = self.w
        t = w.env.now
        if not self._rebuilt(job):
            return
        if self.pipelined:                # the write began already; it ends no earlier than its data
            end = self._write_end.pop(job.id, t)
            if end is HELD:               # the I/O scheduler still holds the write: the job ends with it
                self._write_end[job.id] = ARRIVED
            else:
                self._end_at(job, max(end, t))
        elif self._writable(job):
            self._reserve_write(job, t, lambda finish: self._end_at(job, finish))
        else:
            self._end_at(job, t)
        self.dispatch()                  # its sources' streams are free

    def _writable(self, job: Job) -> bool:
        """The job's write goes to its target: up, or (complete) down with its data (its going down stops nothing)."""
        return bool(self.w.cluster.up[job.target]) or self.complete

    def _end_at(self, job: Job, end: float) -> None:
        env = self.w.env
        env.timeout(end - env.now).callbacks.append(lambda _e: self._finish(job, end))

    def _finish(self, job: Job, t_end: float) -> None:
        if job.id < 0:
            return
        c, s, mode, target = job.chunk, job.slot, job.mode, job.target
        w, st = self.w, self.w.state
        self._release_sources(job)
        self._release_target(job)
        if st.job[c, s] != JOB_RUNNING or st.lost[c]:
            self._unreserve(job)         # cancelled meanwhile (chunk lost or converted): its write is not placed
            self.dispatch()
            return
        if w.epoch[target] != job.epoch or not (w.cluster.up[target] or self.complete):
            self._unreserve(job)
            self._requeue(c, s)          # the target failed under the write: try again elsewhere
            self.dispatch()
            return
        if self.exponential:
            # Memoryless repair time (the Markov model): the job reads whatever slots exist as it ends.
            job.sources = sources_now(w, c, s, mode)
            if len(job.sources) < int(st.mode_need[mode]):
                self._requeue(c, s)
                self.dispatch()
                return
            if w.payloads is not None:
                job.fragment = w.payloads.rebuild_slot(c, s, mode, job.sources)
        old = int(st.slot_node[c, s])
        slot_bytes = job.slot_bytes
        if w.payloads is not None:
            w.payloads.store_slot(c, s, job.fragment)
        stale = st.move_slot(c, s, target, w.cluster.up, w.env.now)
        disk, token = self._write_disk.pop(job.id, (None, None))
        dk = w.cluster.disks
        dk.place_slot(c, s, dk.pick(target) if disk is None else disk, slot_bytes, stale, token)
        if stale:
            if w.cluster.up[old]:
                w.count_stale_dropped(old)
                w.cluster.used[old] -= slot_bytes
            else:
                w.stale_slots[old] += 1
                w.stale_bytes[old] += slot_bytes
        w.cluster.used[target] += slot_bytes
        st.job[c, s] = JOB_NONE
        st.missing[c] -= 1
        self.times.finished(c * st.width + s)
        self.bytes_read += job.read_bytes
        self.bytes_written += slot_bytes
        self.table.append(c, s, mode, job.failure_id, target, job.start, t_end, job.read_bytes, slot_bytes,
                          job.transfer_start, job.transfer_end, [n for _, n in job.sources])
        if st.missing[c] == 0:
            w.chunk_settled(c)
        self.dispatch()
