"""Running repair jobs: the record of one job, the streams each node has in use, and which
running jobs use each node.

A job holds a source stream on each of its source nodes until its data has
arrived, and a receive stream on its target until its write is done
(:class:`Streams` counts them against the caps, and notes which nodes freed one,
for the queue). A node or disk that fails fails exactly the jobs using it at
that moment, and only those go back to the queue: :class:`Running` finds them
without a scan of every running job.
"""

from __future__ import annotations


class Job:
    """One running repair job."""

    __slots__ = ("id", "chunk", "slot", "mode", "target", "epoch", "failure_id", "start", "read_bytes",
                 "slot_bytes", "sources", "marks", "serving", "transfer_start", "transfer_end", "fragment",
                 "background", "done_rounds")

    def __init__(self, job_id, chunk, slot, mode, target, epoch, failure_id, start, slot_bytes, sources, marks):
        self.id = job_id                 # < 0 once aborted: its pending callbacks do nothing
        self.chunk, self.slot, self.mode, self.target, self.epoch = chunk, slot, mode, target, epoch
        self.failure_id, self.start, self.slot_bytes = failure_id, start, slot_bytes
        self.sources = sources           # [(slot, node)]
        self.marks = marks               # the sources' failure counts when the job started
        self.read_bytes = slot_bytes * len(sources)
        self.serving = True              # holds its source streams
        self.transfer_start = self.transfer_end = start
        self.fragment = None             # the rebuilt bytes, when payloads are carried
        self.background = None           # its W rounds of I/O when chunk_weight > 1 (model/background.py)
        self.done_rounds = 0             # rounds an earlier attempt brought to this target (repair.restart resume)

    def stop(self) -> None:
        """Abort: pending callbacks and rounds do nothing more."""
        self.id = -1
        if self.background is not None:
            self.background.cancel()


class Running:
    """The running jobs writing to each node, and those still reading from each node."""

    def __init__(self):
        self.to: dict[int, dict[int, Job]] = {}          # target node -> its running jobs
        self.reading: dict[int, dict[int, Job]] = {}     # source node -> jobs whose data has not arrived

    def add(self, job: Job) -> None:
        self.to.setdefault(job.target, {})[job.id] = job
        for _, n in job.sources:
            self.reading.setdefault(n, {})[job.id] = job

    def done_reading(self, job: Job) -> None:
        for _, n in job.sources:
            self.reading[n].pop(job.id, None)

    def done_writing(self, job: Job) -> None:
        self.to.get(job.target, {}).pop(job.id, None)

    def writing_to(self, node: int) -> list[Job]:
        """The jobs whose target is ``node`` (forgotten here: they are restarted elsewhere)."""
        return list(self.to.pop(node, {}).values())

    def reading_from(self, node: int) -> list[Job]:
        return list(self.reading.get(node, {}).values())

    def using_disk(self, disk: int, disks, write_disk) -> list[Job]:
        """The jobs still reading a slot on ``disk``, or whose write went to it (``write_disk(job)``)."""
        node = int(disks.disk_node[disk])
        jobs = {j.id: j for j in self.reading.get(node, {}).values()
                if any(disks.slot_disk[j.chunk, s] == disk for s, _ in j.sources)}
        jobs.update((j.id, j) for j in self.to.get(node, {}).values() if write_disk(j) == disk)
        return list(jobs.values())


class Streams:
    """The repair streams each node has in use; a cap of 0 is no cap."""

    def __init__(self, n_nodes: int, streams: int, source_streams: int, node_group: list[int],
                 node_pool: list[int] | None = None):
        # node_group: each node's target-wait group, pool x racks + rack (the rack without cluster.pools)
        self.streams, self.source_streams, self.node_group = streams, source_streams, node_group
        self.node_pool = node_pool or [0] * n_nodes
        self.full_in_pool = [0] * (max(self.node_pool) + 1)   # full targets per pool: len(full_targets), split
        # Plain lists: dispatch reads and updates them one node at a time, where NumPy scalars are slow.
        self.receiving = [0] * n_nodes      # jobs each node receives now
        self.serving = [0] * n_nodes        # repair reads each node serves now
        self.full_targets: set[int] = set()
        self.free_sources = set(range(n_nodes))          # nodes serving fewer than source_streams reads
        self.chunk_targets: dict[int, list[int]] = {}    # chunk -> targets of its running jobs
        self.woken: set[int] = set()        # nodes whose source streams were all taken, then one freed
        self.racks_freed: set[int] = set()  # groups of nodes whose receive streams were all taken, then one freed

    def take(self, chunk: int, target: int, source_nodes) -> None:
        self.receiving[target] += 1
        if self.streams and self.receiving[target] >= self.streams and target not in self.full_targets:
            self.full_targets.add(target)
            self.full_in_pool[self.node_pool[target]] += 1
        cap = self.source_streams
        for n in source_nodes:
            self.serving[n] += 1
            if self.serving[n] == cap:
                self.free_sources.discard(n)
        self.chunk_targets.setdefault(chunk, []).append(target)

    def release_sources(self, source_nodes) -> None:
        cap = self.source_streams
        for n in source_nodes:
            if self.serving[n] == cap:
                self.woken.add(n)
                self.free_sources.add(n)
            self.serving[n] -= 1

    def release_target(self, chunk: int, target: int) -> None:
        self.receiving[target] -= 1
        if target in self.full_targets:
            self.full_targets.discard(target)
            self.full_in_pool[self.node_pool[target]] -= 1
            self.racks_freed.add(self.node_group[target])
        targets = self.chunk_targets[chunk]
        targets.remove(target)
        if not targets:
            del self.chunk_targets[chunk]
