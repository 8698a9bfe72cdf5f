"""Repair semantics as choices: what a running rebuild does when a source or its target fails
(``repair.restart``), and what one exponential repair time covers (``repair.exponential_per``).

Peers differ here, and the difference moves durability figures (issue 26), so each reading is an option:

* ``restart`` (the default, and the only rule before issue 26): a job whose read or write fails goes back to
  the queue and starts over, new sources, new target, as HDFS schedules a block whose copy did not complete
  again from a source chosen afresh;
* ``resume``: a source's failure keeps the rounds (``catalog.chunk_weight`` W) whose data has reached the
  target; the job goes back to the queue keeping that target (:meth:`Resumes.target`), and starts again
  from the next round, from other sources, as a Ceph backfill resumes from the target's ``last_backfill``.
  A round in flight is read again. At W = 1 a job is one round, so it restarts; a target's failure loses
  what the target held, so the job starts over there too;
* ``complete``: a source's failure, or its target going down, does not stop the job: it ends when it would
  have, reading data that may no longer exist (SimEDC's rule, kept for comparisons; idealised). A target
  whose data is destroyed cannot hold the slot, so that job starts over.

:class:`ExponentialTimes` draws the time of a job under ``time_model: exponential``: one Exp(mttr) per job,
or one per failure that every job of that failure shares (the Markov model's and SimEDC's reading).
"""

from __future__ import annotations

from vstack_sim.model.placement import rack_cap

RESTART, RESUME, COMPLETE = "restart", "resume", "complete"


class OnFailure:
    """What the running jobs under a failed node or disk do, by ``repair.restart`` (module docstring); the
    exponential time model reads and writes as a job ends, so there only a target's failure matters."""

    def __init__(self, scheduler, rule: str, exponential: bool):
        self.r, self.rule, self.exponential = scheduler, rule, exponential

    def target_failed(self, node: int) -> None:
        """The node receiving these jobs went down: their writes fail, so they go back to the queue now
        (complete: they carry on, unless the node's data is destroyed: :meth:`node_destroyed`)."""
        if self.rule != COMPLETE:
            self.r.restart(self.r.jobs.writing_to(node))

    def node_destroyed(self, node: int) -> None:
        """The node's data is gone: jobs still writing to it (complete: they outlived its going down) start over."""
        self.r.restart(self.r.jobs.writing_to(node))

    def source_failed(self, node: int) -> None:
        """A node some jobs still read from went down: their reads fail."""
        if not self.exponential:
            self._sources_failed(self.r.jobs.reading_from(node))

    def disk_failed(self, disk: int) -> None:
        """A disk failed under running jobs: those writing to it start over; those reading one of its slots
        lost a source."""
        if self.exponential:
            return
        jobs = self.r.jobs.using_disk(disk, self.r.w.cluster.disks, self.r.write_disk)
        used = self.r.w.cluster.used
        for job in jobs:
            if self.r.write_disk(job) == disk:
                # Cluster.fail_disk took the disk's bytes off its node, this job's reserved write among them;
                # restarting the job gives its reservation back again, so it is counted back once here.
                used[job.target] += job.slot_bytes
        if self.rule == RESTART:
            self.r.restart(jobs)           # all at once, in this order: the queue order of the rule before issue 26
            return
        writing = [j for j in jobs if self.r.write_disk(j) == disk]
        self.r.restart(writing)
        self._sources_failed([j for j in jobs if j not in writing])

    def _sources_failed(self, jobs: list) -> None:
        """restart: they start over; resume: they keep the rounds whose data reached the target, then go back
        to the queue (to start again after them); complete: they carry on."""
        if self.rule == COMPLETE:
            return
        if self.rule == RESUME:
            for job in jobs:
                if job.background is not None:
                    self.r.resumes.keep(job, job.done_rounds + job.background.issued_writes, self.r.write_disk(job))
        self.r.restart(jobs)


class ExponentialTimes:
    """Exp(mttr) repair times from the repair stream: one per job, or one per failure."""

    def __init__(self, rng, mttr: float, per: str):
        self.rng, self.mttr = rng, mttr
        self.per_failure = per == "failure"
        self._end: dict[int, float] = {}       # failure id -> when its jobs end
        self._begun: dict[int, int] = {}       # job key -> the failure it started for (a second start is a restart)

    def delay(self, t: float, key: int, failure_id: int) -> float:
        """How long the job ``key`` (chunk x width + slot) started at ``t`` for ``failure_id`` runs."""
        if not self.per_failure:
            return self.rng.exponential(self.mttr)     # the one draw per job of the rule before issue 26
        if self._begun.get(key) == failure_id:
            # A restart (its target failed, or too few sources at its end): the failure's time has been spent
            # on it already, so it draws its own rather than ending at once.
            return self.rng.exponential(self.mttr)
        self._begun[key] = failure_id
        end = self._end.get(failure_id)
        if end is None:
            end = self._end[failure_id] = t + self.rng.exponential(self.mttr)
        return max(0.0, end - t)

    def finished(self, key: int) -> None:
        """The job ``key`` has rebuilt its slot."""
        self._begun.pop(key, None)


class Kept:
    """The rounds an interrupted rebuild had brought to its target, on the disk that holds them."""

    __slots__ = ("failure_id", "mode", "target", "epoch", "disk", "disk_epoch", "rounds")

    def __init__(self, failure_id, mode, target, epoch, disk, disk_epoch, rounds):
        self.failure_id, self.mode, self.target, self.epoch = failure_id, mode, target, epoch
        self.disk, self.disk_epoch, self.rounds = disk, disk_epoch, rounds


class Resumes:
    """``resume``: each interrupted rebuild's kept rounds, until it starts again (or they are found gone)."""

    def __init__(self, world):
        self.w = world
        self.kept: dict[tuple[int, int], Kept] = {}

    def keep(self, job, rounds: int, disk: int | None) -> None:
        """The job's sources failed with ``rounds`` rounds (earlier attempts' too) on ``disk`` of its target."""
        if rounds > 0 and disk is not None:
            dk = self.w.cluster.disks
            self.kept[job.chunk, job.slot] = Kept(job.failure_id, job.mode, job.target, job.epoch, disk,
                                                  int(dk.epoch[disk]), rounds)

    def _valid(self, c: int, s: int) -> Kept | None:
        """The kept rounds of (c, s), if they are still there: the same job (failure and mode), its target up
        with its data, the disk not failed or replaced since; else they are forgotten."""
        k = self.kept.get((c, s))
        if k is None:
            return None
        w, st = self.w, self.w.state
        dk = w.cluster.disks
        if (k.failure_id == int(st.job_failure[c, s]) and k.mode == int(st.mode[c]) and w.cluster.up[k.target]
                and int(w.epoch[k.target]) == k.epoch and int(dk.epoch[k.disk]) == k.disk_epoch):
            return k
        del self.kept[c, s]
        return None

    def target(self, c: int, s: int, held: list[int], width: int, full_targets, slot_bytes: int,
               node_group) -> tuple[int, list[int]] | None:
        """For the queue: the target that holds (c, s)'s kept rounds, or -2 and its rack while its receive
        streams are all taken (the job waits for it, as a backfill waits for its target's reservation); None
        when nothing is kept, or the target may no longer take the slot (the placement rules choose then)."""
        k = self._valid(c, s)
        if k is None:
            return None
        dk = self.w.cluster.disks
        rack = node_group[k.target]                 # its (pool, rack) group: held copies are all in its pool
        # While the job waited, another of the chunk's rebuilds may have taken the node or filled its rack
        # (``held``: the copies that will exist), or the disk may have filled: start over where placement says.
        if (k.target in held or sum(node_group[n] == rack for n in held) >= rack_cap(width, self.w.cluster.n_racks)
                or dk.capacity[k.disk] - dk.used[k.disk] < slot_bytes):
            del self.kept[c, s]
            return None
        if k.target in full_targets:
            return -2, [rack]
        return k.target, []

    def take(self, c: int, s: int, target: int) -> Kept | None:
        """The kept rounds of (c, s) as its job starts on ``target`` (None if it starts elsewhere)."""
        k = self._valid(c, s)
        if k is not None:
            del self.kept[c, s]
            if k.target != target:
                return None
        return k


def payload_sources(world, c: int, s: int, mode: int, sources) -> list[tuple[int, int]]:
    """``complete``: the slots whose real bytes rebuild slot s. The job's own sources while they all still hold
    data; else ``need`` of the chunk's slots that do (a chunk with fewer is lost, and its job cancelled)."""
    st = world.state
    if all(st.slot_has_data[c, j] for j, _ in sources):
        return sources
    width, need = int(st.mode_width[mode]), int(st.mode_need[mode])
    nodes = st.slot_node[c, :width].tolist()
    return [(j, nodes[j]) for j in range(width) if j != s and st.slot_has_data[c, j]][:need]
