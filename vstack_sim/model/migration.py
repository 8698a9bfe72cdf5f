"""Migration: periodic popularity checks and chunk-by-chunk conversions between modes.

A check hands the real manager's ``decide`` a view of the catalog (current
counts, modes and sizes); the policy, its hysteresis and the overrides are
honoured there, never here. The count is
``cumulative`` (every view, starting views included: the seed's rule) or
``windowed`` (views in the last W, kept in a ring of time buckets; starting
views are spread evenly over the buckets before t = 0, so a check at t = 0
gives back the ingest modes exactly).

A changed decision converts the video's chunks one by one, ``concurrent_videos``
videos at a time:

* EC -> replication reads k fragments (degraded if need be), decodes and writes r replicas;
* replication -> EC reads one replica, encodes and writes k+m fragments.

A chunk's conversion places its new layout first and reserves those bytes in
the nodes' ``used`` (so later placements see them), then reads, then sends
the new layout over the network (at ``conversion_rate``, and no faster than
each target's link) and writes it through the disk queues. Until the new
layout is complete the old one serves reads, and both count in
``held_bytes``. A source that fails before its read finished sends the chunk
back to reading; a chunk lost while it converts stays lost (the losses table
and the reads agree) and its new layout is dropped. A video being converted
is not re-decided; a decision that flipped meanwhile is taken up at the next check.
With ``catalog.chunk_weight`` W a chunk converts as W rounds of chunk-sized
requests (:mod:`.background`); its sources are checked between rounds.

With ``migration.windows`` (off-peak hours, :mod:`.offpeak`) a converter starts
a video, and each of its chunks, only inside a window; outside one it waits
for the next (a chunk under way finishes). Checks run at their interval regardless.

The records of what conversions cost (:mod:`.conversion_cost`): when the check decided each video
(``decided_s`` in the migrations table) and how long each chunk spent mid-conversion.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from vstack_sim.model.background import BackgroundJob
from vstack_sim.model.conversion_cost import ConversionClock
from vstack_sim.model.disk_queue import CONVERSION
from vstack_sim.model.io_arbiter import Join
from vstack_sim.model.kofn import choose, decode_time
from vstack_sim.model.offpeak import next_opening
from vstack_sim.model.records import Table
from vstack_sim.model.source_choice import source_order
from vstack_sim.model.state import JOB_NONE
from vstack_sim.system.modes import MODE_REPLICATION

RETRY_UNAVAILABLE_S = 300.0


class WindowedCounter:
    """Views per video in time buckets; the count over the last ``window`` at a check.

    The sum over the buckets in the window is kept as buckets come and go, so a check costs one pass over the
    videos however many buckets the window holds."""

    EMPTY = -10**12

    def __init__(self, n_videos: int, window: float, resolution: float, starting_views: np.ndarray):
        self.res = resolution
        self.n_buckets = max(1, int(math.ceil(window / resolution)))
        self.counts = np.zeros((self.n_buckets + 1, n_videos), dtype=np.int64)
        self.epoch = np.full(self.n_buckets + 1, self.EMPTY, dtype=np.int64)
        # Starting views spread evenly over buckets -B .. -1 (the remainder to the latest ones).
        base, rest = np.divmod(starting_views, self.n_buckets)
        for i, a in enumerate(range(-self.n_buckets, 0)):
            row = self._row(a)
            row += base
            row += rest > (self.n_buckets - 1 - i)
        self.total = self.counts.sum(axis=0)   # the sum of the buckets not yet expired, kept as they come and go

    def _row(self, a: int) -> np.ndarray:
        slot = a % len(self.epoch)
        if self.epoch[slot] != a:
            self._drop(slot)
            self.epoch[slot] = a
        return self.counts[slot]

    def _drop(self, slot: int) -> None:
        if self.epoch[slot] != self.EMPTY:
            self.total -= self.counts[slot]
            self.counts[slot] = 0
            self.epoch[slot] = self.EMPTY

    def record(self, video: int, t: float) -> None:
        a = int(t // self.res)
        slot = a % len(self.epoch)
        if self.epoch[slot] != a:
            self._drop(slot)
            self.epoch[slot] = a
        self.counts[slot, video] += 1
        self.total[video] += 1

    def window_counts(self, t: float) -> np.ndarray:
        """Views in buckets now - B .. now, i.e. the last window up to this instant."""
        a_now = int(t // self.res)
        for slot in np.flatnonzero((self.epoch != self.EMPTY) & (self.epoch < a_now - self.n_buckets)).tolist():
            self._drop(slot)
        return self.total.copy()


class Migrator:
    """Popularity checks (a process) and conversion workers (processes while they convert)."""

    def __init__(self, world):
        self.w = world
        cfg = world.cfg.migration
        self.cfg = cfg
        self.encode_per_byte = 1.0 / world.cfg.codec.encode_throughput
        self.decode_per_byte = 1.0 / world.cfg.codec.decode_throughput
        self.transfer_per_byte = 1.0 / cfg.conversion_rate if cfg.conversion_rate > 0 else 0.0
        self.net_per_byte = [world.cluster.disks.device_for(m).nic_per_byte for m in (0, 1)]   # by target mode
        self.net_latency = world.cfg.cluster.network_latency
        n_videos = world.catalog.videos
        self.busy = np.zeros(n_videos, dtype=bool)
        self.queue: deque = deque()
        self.workers = 0
        self.bytes_read = 0
        self.bytes_written = 0
        self.counter = None
        if cfg.popularity_measure == "windowed":
            self.counter = WindowedCounter(n_videos, cfg.window, cfg.window_resolution,
                                           world.catalog.starting_views)
        self.decided_at = np.full(n_videos, np.nan)     # when the check queued each video's conversion
        self.clock = ConversionClock()                   # chunk-seconds mid-conversion
        self.table = Table("migrations", {
            "video_id": "i", "decided_s": "f", "start_s": "f", "end_s": "f", "duration_s": "f",
            "from_mode": ("replication", "erasure_coding"), "to_mode": ("replication", "erasure_coding"),
            "chunks": "i", "bytes_read": "i", "bytes_written": "i"})
        self.checks = 0
        world.on_video_deleted.append(self.video_deleted)

    def unfinished(self) -> int:
        """Videos waiting for a converter or being converted."""
        return len(self.queue) + self.workers

    def start(self, read_path=None) -> None:
        if read_path is not None and self.counter is not None:
            read_path.popularity = self.counter
        if self.cfg.check_interval > 0:
            self.w.env.process(self._checks())

    def popularity(self, t: float) -> np.ndarray:
        if self.counter is None:
            return self.w.catalog.view_count
        return self.counter.window_counts(t)

    def check(self) -> np.ndarray:
        """One popularity check: returns the videos whose conversion it queued."""
        w = self.w
        counts = self.popularity(w.env.now)
        decided = w.manager.decide(w.video_view(counts, w.video_mode), w.env.now)
        changed = np.flatnonzero((decided != w.video_mode) & ~self.busy & w.video_present)
        self.checks += 1
        for v in changed.tolist():
            self.busy[v] = True
            self.decided_at[v] = w.env.now
            self.queue.append((v, int(decided[v])))
        # One worker per queued video at most: a worker takes its first video only when it starts, so a
        # loop on ``self.queue`` alone would start concurrent_videos workers (a billion, if asked) for one video.
        for _ in range(min(len(self.queue), self.cfg.concurrent_videos - self.workers)):
            self.workers += 1
            w.env.process(self._worker())
        return changed

    def video_deleted(self, video: int, _chunks=None) -> None:
        """A deleted video's conversion still queued is dropped: no conversion happens (one under way stops at its
        next chunk, :meth:`_convert_video`)."""
        if self.busy[video]:
            for item in self.queue:
                if item[0] == video:
                    self.queue.remove(item)
                    self.busy[video] = False
                    break

    def _checks(self):
        env = self.w.env
        while True:
            self.check()
            yield env.timeout(self.cfg.check_interval)

    # -- conversion ---------------------------------------------------------------------------------
    def _worker(self):
        while self.queue:
            video, target = self.queue.popleft()
            # Off-peak windows: the video's conversion (its start_s) begins when its first chunk may.
            yield from self._until_window()
            if self.w.video_present[video]:            # not deleted while it waited for a window
                yield from self._convert_video(video, target)
            self.busy[video] = False
        self.workers -= 1

    def _convert_video(self, video: int, target: int):
        w = self.w
        env, cat, st = w.env, w.catalog, w.state
        start = env.now
        source = int(w.video_mode[video])
        first = int(cat.first_chunk[video])
        n = int(cat.chunks_per_video[video])
        slot_bytes = int(st.mode_slot_bytes[target])          # what a slot of the new layout holds (x W)
        write_bytes = slot_bytes * int(st.mode_width[target])
        moved_read = moved_written = converted = 0
        for c in range(first, first + n):
            while True:
                if st.lost[c] or st.mode[c] == target:
                    break
                if not self._in_window():              # the window closed: wait for the next, then look again
                    yield from self._until_window()
                    continue
                nodes = self._place(target)
                if nodes is None:                      # no room for the new layout now
                    yield env.timeout(RETRY_UNAVAILABLE_S)
                    continue
                self._reserve(nodes, slot_bytes)
                self.clock.begin(c, env.now)
                outcome = yield from self._convert_chunk(c, source, target, nodes)
                self._release(nodes, slot_bytes)
                if outcome == "unavailable":           # try again later
                    yield env.timeout(RETRY_UNAVAILABLE_S)
                    continue
                if outcome == "again":                 # a source failed before its read finished: read again
                    continue
                if outcome == "lost":                  # lost while it was read or written: the losses table stands
                    break
                epochs, data, read_bytes, disks, disk_marks = outcome
                self._commit(c, target, nodes, epochs, data, disks, disk_marks)
                moved_read += read_bytes
                moved_written += write_bytes
                converted += st.weight
                break
            self.clock.end(c, env.now)
        self.bytes_read += moved_read
        self.bytes_written += moved_written
        if not w.video_present[video]:                 # deleted mid-way: a row for what it converted, if anything
            if converted:
                self.table.append(video, self.decided_at[video], start, env.now, env.now - start, source, target,
                                  converted, moved_read, moved_written)
            return
        w.video_mode[video] = target
        self.table.append(video, self.decided_at[video], start, env.now, env.now - start, source, target, converted,
                          moved_read, moved_written)

    def _in_window(self) -> bool:
        return not self.cfg.windows or next_opening(self.w.env.now, self.cfg.windows) == self.w.env.now

    def _until_window(self):
        """Wait (a timeout) until an off-peak window is open; no event at all when one is, or none are set,
        so a run without windows has exactly the events it had before them."""
        env = self.w.env
        while not self._in_window():
            # now + (opening - now) can land a rounding short of the opening: the loop asks again.
            yield env.timeout(next_opening(env.now, self.cfg.windows) - env.now)

    def _reserve(self, nodes: np.ndarray, slot_bytes: int) -> None:
        """The new layout's bytes are taken on its nodes from the start, so placement sees them."""
        cl = self.w.cluster
        np.add.at(cl.reserved, nodes, slot_bytes)
        np.add.at(cl.used, nodes, slot_bytes)
        self.w.conversion_bytes += slot_bytes * len(nodes)

    def _release(self, nodes: np.ndarray, slot_bytes: int) -> None:
        cl = self.w.cluster
        np.subtract.at(cl.reserved, nodes, slot_bytes)
        np.subtract.at(cl.used, nodes, slot_bytes)
        self.w.conversion_bytes -= slot_bytes * len(nodes)

    def _convert_chunk(self, c: int, source: int, target: int, nodes: np.ndarray):
        """Read chunk ``c``, encode or decode it, and write its new layout to ``nodes``, as W rounds of
        chunk-sized requests (model/background.py). Returns (epochs, payload, bytes read, disks, their
        failure counts) when every round is written, or "unavailable", "again" (a source failed: read
        again) or "lost"."""
        w = self.w
        env, st, cl, t = w.env, w.state, w.cluster, w.env.now
        mode = int(st.mode[c])
        width = int(st.mode_width[mode])
        old = st.slot_node[c, :width].tolist()
        usable = [j for j in range(width) if st.slot_has_data[c, j] and cl.up[old[j]]]
        need = int(st.mode_need[mode])
        if len(usable) < need:
            return "unavailable"
        preferred = (source_order(w, c, [(j, old[j]) for j in usable], t) if mode == MODE_REPLICATION
                     else None)                          # a coded chunk reads its data fragments (no decode)
        chosen = choose(mode, usable, need, preferred=preferred)
        sources = [(j, old[j]) for j in chosen]
        marks = w.source_marks(c, sources)
        unit = int(st.mode_request_bytes[mode])
        round_read = unit * len(chosen)
        write_unit = int(st.mode_request_bytes[target])
        round_write = write_unit * len(nodes)
        outcome = env.event()
        kept = {}
        disks: list[int] = []

        def failed() -> str | None:
            if st.lost[c]:
                return "lost"
            if (w.source_marks(c, sources) != marks).any():
                return "again"
            return None

        def read(now, then):
            join = Join(len(chosen), now, lambda _first, ready: then(now, ready))
            for j in chosen:
                cl.read_slot(c, j, now, unit, False, CONVERSION, join.add)

        def move(ready):
            if source == MODE_REPLICATION:
                ready += w.chunk_size * self.encode_per_byte
            else:
                ready += decode_time(source, chosen, w.k, round_read, self.decode_per_byte)
            ready += round_read * self.transfer_per_byte
            # The round's new layout crosses the network (the converter's rate, each target's link).
            into = write_unit * self.net_per_byte[target]
            return ready + max(round_write * self.transfer_per_byte, into) + self.net_latency

        def write(now, then):
            if job.issued_writes == job.rounds:           # the last round: the reads must all have finished
                why = failed()
                if why is not None:
                    job.cancel()
                    outcome.succeed(why)
                    then(now)
                    return
                kept["epochs"] = w.epoch[nodes].copy()
                kept["data"] = w.payloads.chunk_bytes(c, source, chosen) if w.payloads else None
            if not disks:                                  # every round goes to the same disk of each node
                disks.extend(cl.disks.pick(node) for node in nodes.tolist())
                kept["disk_marks"] = cl.disks.failures[disks]
            join = Join(len(disks), now, lambda _first, done: then(done))
            for disk in disks:
                cl.write(disk, now, write_unit, CONVERSION, join.add)

        def check(now):
            why = failed()
            if why is not None:
                outcome.succeed(why)
                return False
            return True

        def done(_first, _end):
            outcome.succeed("lost" if st.lost[c] else
                            (kept["epochs"], kept["data"], int(st.mode_slot_bytes[mode]) * len(chosen),
                             np.array(disks), kept["disk_marks"]))

        job = BackgroundJob(env, st.weight, read, move, write, done, check).start()
        return (yield outcome)

    def _place(self, target: int):
        w = self.w
        slot_bytes = int(w.state.mode_slot_bytes[target])
        width = int(w.state.mode_width[target])
        nodes = w.placement.fresh(1, width, slot_bytes, target)[0]
        return None if nodes[0] < 0 else nodes

    def _commit(self, c: int, target: int, nodes: np.ndarray, epochs: np.ndarray, data, disks: np.ndarray,
                disk_marks: np.ndarray) -> None:
        """The new layout is complete: it replaces the old one, which is dropped. A slot written to a
        node whose data was destroyed meanwhile, or to a disk that failed meanwhile, is not live."""
        w = self.w
        st, cl, t = w.state, w.cluster, w.env.now
        old_mode = int(st.mode[c])
        old_width = int(st.mode_width[old_mode])
        old_nodes = st.slot_node[c, :old_width]
        old_live = st.slot_has_data[c, :old_width]
        np.subtract.at(cl.used, old_nodes[old_live], int(st.mode_slot_bytes[old_mode]))
        if w.payloads is not None:
            w.payloads.convert(c, target, data)
        # Jobs on the old layout are moot: cancel waiting ones; running ones see it when they finish.
        st.job[c, :] = JOB_NONE
        st.missing[c] = 0
        live = (w.epoch[nodes] == epochs) & (cl.disks.failures[disks] == disk_marks)
        cl.disks.replace_layout(c, old_live.copy(), int(st.mode_slot_bytes[old_mode]), disks, live,
                                int(st.mode_slot_bytes[target]))
        st.replace_layout(c, target, nodes, live, cl.up, t)
        np.add.at(cl.used, nodes[live], int(st.mode_slot_bytes[target]))
        chunk = np.array([c])
        if st.exist[c] < st.need(chunk)[0]:
            w.lose(chunk)
            return
        dead = np.flatnonzero(cl.dead[nodes] | ~live)
        if len(dead):
            w.repair.enqueue(np.full(len(dead), c), dead, w.last_failure[nodes[dead]])
        else:
            w.chunks_settled(chunk)
