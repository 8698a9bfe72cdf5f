"""The world: one run's clock, real system objects, state arrays and event handlers.

``World`` owns what every part of the model shares: the SimPy environment,
the configuration, the random streams, the real ``RedundancyManager``,
``StorageLedger`` and ``ErasureCoder``, the catalog, the chunk state and the
cluster. It carries out the node events (down, up, destroyed, declared dead,
replaced) on the state arrays and keeps the records that follow from them:
failures, recoveries and losses. Processes that let time pass live in their
own modules (failures, repair, workload, migration).
"""

from __future__ import annotations

import numpy as np
import simpy

from vstack_sim.model.catalog import build_catalog
from vstack_sim.model.cluster import Cluster, rows_that_fit
from vstack_sim.model.hazard_clock import PlainClock
from vstack_sim.model.io_arbiter import background_io
from vstack_sim.model.lifecycle import draw_uploads, extend_catalog
from vstack_sim.model.lifetimes import Lifetime
from vstack_sim.model.placement import Placement
from vstack_sim.model.rackpolicy import RackOutagePolicy
from vstack_sim.model.records import Table
from vstack_sim.model.recoveries import Recoveries, Recovery
from vstack_sim.model.state import JOB_NONE, JOB_PENDING, ChunkState
from vstack_sim.model.streams import RandomStreams
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.video_refs import resolve_video_refs
from vstack_sim.system.ledger import StorageLedger
from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.modes import MODE_ERASURE_CODING, MODE_REPLICATION
from vstack_sim.system.policies import VideoView

MODES = ("replication", "erasure_coding")
FAILURE_KINDS = ("transient", "permanent")
FAILURE_SOURCES = ("random", "rack", "scheduled")
COMPONENTS = ("node", "disk")
NODE_EVENTS = ("down", "up", "declared", "replaced")
INGEST_BATCH = 65536


class World(Recoveries):
    """Shared state and node-event handling of one run."""

    def __init__(self, config: Config, seed: int | np.random.SeedSequence | None = None):
        self.cfg = config
        self.env = simpy.Environment()
        self.rng = RandomStreams(config.run.seed if seed is None else seed)
        red = config.redundancy
        self.manager = RedundancyManager(
            popularity_threshold=red.popularity_threshold, replication_factor=red.replication_factor,
            erasure_data_shards=red.data_shards, erasure_parity_shards=red.parity_shards,
            chunk_size=config.catalog.chunk_size, hysteresis=red.hysteresis, policy=config.policy_object(),
            upload_grace=red.upload_grace)
        self.ledger = StorageLedger(self.manager)
        self.catalog = build_catalog(config.catalog, red.popularity_threshold, self.rng.catalog)
        self.starting_videos, self.starting_chunks = self.catalog.videos, self.catalog.chunks
        self.uploads = draw_uploads(config, self.catalog.videos, self.rng.uploads)
        if self.uploads is not None:   # the uploads' videos and chunks exist from the start, absent until they arrive
            self.catalog = extend_catalog(self.catalog, self.uploads)
        # The videos the scenario names (by key or id), as ids of this catalog (uploads included).
        self.videos = resolve_video_refs(config, self.catalog.keys)
        for video, mode in self.videos.overrides.items():
            self.manager.set_manual_override(video, mode)
        # When each video arrived (-inf: there before the run, age unknown) and whether it is stored now.
        self.video_uploaded_at = np.full(self.catalog.videos, -np.inf)
        self.video_present = np.ones(self.catalog.videos, dtype=bool)
        if self.uploads is not None:
            self.video_uploaded_at[self.starting_videos:] = self.uploads.times
            self.video_present[self.starting_videos:] = False
        self.cluster = Cluster(config.cluster, self.rng.service, config.outputs.timeline_interval)
        self.cluster.arbiter = background_io(self.env, self.cluster.disks, config)
        m = self.manager
        modes = (MODE_REPLICATION, MODE_ERASURE_CODING)
        self.state = ChunkState(
            self.catalog.chunks,
            mode_width=tuple(m.slots_per_chunk(x) for x in modes),
            mode_need=tuple(m.min_slots_to_read(x) for x in modes),
            mode_slot_bytes=tuple(m.slot_bytes(x) for x in modes), weight=config.catalog.chunk_weight)
        self.cluster.disks.attach(self.catalog.chunks, self.state.width)
        self.state.mark_absent(np.arange(self.starting_chunks, self.catalog.chunks))
        self.weight = config.catalog.chunk_weight
        self.k = red.data_shards
        self.chunk_size = config.catalog.chunk_size
        self.fragment_bytes = m.fragment_size()
        self.stop_event = self.env.event()
        fl = config.failures       # when nodes and disks fail: the real lives (importance sampling swaps the clock)
        self.clock = PlainClock(self.env, {"node": Lifetime.node(fl), "disk": Lifetime.disk(fl)}, fl.start_new)
        # Node bookkeeping beyond the cluster's flags.
        n = self.cluster.n_nodes
        self.epoch = np.zeros(n, dtype=np.int64)        # bumped when a node's data is destroyed
        self.stale_slots = np.zeros(n, dtype=np.int64)  # copies rebuilt elsewhere while the node was down
        self.stale_bytes = np.zeros(n, dtype=np.int64)
        self.last_failure = np.full(n, -1, dtype=np.int64)
        self.node_back: list = [None] * n               # event fired when a down node is back
        self.failure_kind: list = [None] * n            # kind of the open failure of a down node
        self.down_until = np.zeros(n)                   # a down node is back no earlier than this
        self.down_count = np.zeros(n, dtype=np.int64)   # failures of each node so far (a read in flight checks it)
        self.conversion_bytes = 0                       # new layouts being written by conversions
        self.recoveries: list[Recovery] = []
        self.on_chunks_redundant = []                   # hooks: payload store, migration
        self.on_node_failed = []                        # hooks called with a node that just went down: reads
        self.on_disk_failed = []                        # hooks called with a disk that just failed: reads
        self.on_video_deleted = []                      # hooks called with (video, its chunks) just deleted
        self.repair = None                              # set by the simulation (RepairScheduler)
        self.disk_failures = None                       # set by the simulation (DiskFailures)
        self.payloads = None                            # set when verify_payloads is on
        self.failures = Table("failures", {
            "failure_id": "i", "time_s": "f", "node": "i", "rack": "i", "kind": FAILURE_KINDS,
            "source": FAILURE_SOURCES, "declared": "b", "declared_s": "f", "back_s": "f",
            "recovery_end_s": "f", "recovery_time_s": "f", "chunks_affected": "i", "stale_slots_dropped": "i",
            "detection_s": "f", "repair_s": "f", "censored": "b", "component": COMPONENTS, "disk": "i"})
        self.losses = Table("losses", {"time_s": "f", "chunk_id": "i", "video_id": "i", "chunks": "i", "bytes": "i"})
        self.node_events = Table("node_events", {"time_s": "f", "node": "i", "rack": "i", "event": NODE_EVENTS})
        self.transient_failures = 0
        self.placement = Placement(self.cluster, self.rng.placement)
        self.rack_policy = RackOutagePolicy(self)

    # -- ingest ------------------------------------------------------------------------------
    def ingest(self) -> None:
        """Decide every video's mode with the real manager and place every chunk within capacity."""
        cat = self.catalog
        self.video_mode = self.initial_modes()
        self.state.mode[:] = self.video_mode[cat.chunk_video]
        self.check_capacity(self.video_mode)
        for mode in (MODE_REPLICATION, MODE_ERASURE_CODING):
            chunks = np.flatnonzero(self.state.mode[:self.starting_chunks] == mode)
            self.place_new_layouts(chunks, mode)

    def video_view(self, counts: np.ndarray, current_modes: np.ndarray | None) -> VideoView:
        """What the policy sees of the catalog now: ids, this popularity measure, modes, sizes (0 for a video not
        stored now: still to be uploaded, refused or deleted, so a bound on a share of the catalog's bytes counts
        the stored ones only)."""
        cat = self.catalog
        uploaded = self.video_uploaded_at
        last_read = np.where(np.isnan(cat.last_viewed), np.maximum(uploaded, 0.0), cat.last_viewed)
        sizes = np.where(self.video_present, cat.chunks_per_video * self.chunk_size, 0)
        return VideoView(ids=np.arange(cat.videos), view_counts=counts, current_modes=current_modes,
                         sizes=sizes, uploaded_at=uploaded, last_read=last_read)

    def initial_modes(self) -> np.ndarray:
        """Every video's mode at ingest (int8 codes), decided by the real manager on the starting views."""
        cat = self.catalog
        return self.manager.decide(self.video_view(cat.view_count, None), self.env.now).astype(np.int8)

    def ingest_bytes(self, video_modes: np.ndarray) -> int:
        """Physical bytes of the catalog as ingested in ``video_modes`` (the ledger's arithmetic)."""
        chunk_modes = video_modes[self.catalog.chunk_video[:self.starting_chunks]]
        overhead = self.ledger.overhead_from_modes(chunk_modes, self.chunk_size, weight=self.weight)
        return int(overhead["total_physical_bytes"])

    def check_capacity(self, video_modes: np.ndarray, placed: int | None = None) -> None:
        """Refuse a catalog the cluster cannot hold (``validate`` asks this too, via vstack_sim.scenario.limits).

        ``placed`` is given when placement itself ran out of room (rack spreading, fragmentation).
        """
        cfg = self.cfg.cluster
        needed = self.ingest_bytes(video_modes)
        total = int(self.cluster.capacity.sum())
        if needed <= total and placed is None:
            return
        msg = (f"cluster.node_capacity: the catalog needs {needed:,} bytes at ingest "
               f"({self.starting_chunks * self.weight:,} chunks as drawn), "
               f"the cluster holds {f'{cfg.nodes} x {cfg.node_capacity:,}' if not cfg.pools else 'its pools'} = "
               f"{total:,} bytes")
        if placed is not None:
            msg += f"; placement ran out of room after {placed:,} bytes (copies of a chunk need distinct nodes)"
        raise ValueError(msg)

    def place_new_layouts(self, chunks: np.ndarray, mode: int) -> None:
        """Place fresh layouts of ``mode`` for ``chunks`` in batches, rebalancing by free space.

        A batch is drawn against the free space before it, so it is cut at the first layout that
        would overfill a node; the rest is drawn again against the space then left.
        """
        width = int(self.state.mode_width[mode])
        slot_bytes = int(self.state.mode_slot_bytes[mode])
        cl = self.cluster
        start, size = 0, INGEST_BATCH
        while start < len(chunks):
            batch = chunks[start:start + size]
            nodes = self.placement.fresh(len(batch), width, slot_bytes, mode)
            fits = rows_that_fit(nodes, slot_bytes, cl.capacity - cl.used)
            if fits == 0:
                self.check_capacity(self.video_mode, placed=int(cl.used.sum()))
            self.state.place(batch[:fits], nodes[:fits], cl.up)
            cl.disks.assign_fresh(batch[:fits], nodes[:fits], slot_bytes)
            cl.used += np.bincount(nodes[:fits].ravel(), minlength=cl.n_nodes) * slot_bytes
            start += fits
            size = INGEST_BATCH if fits == len(batch) else max(1, fits)

    # -- node events ---------------------------------------------------------------------------
    def fail_node(self, node: int, kind: str, source: str, duration: float) -> simpy.Event | None:
        """A node goes down now; returns an event fired when it (or its replacement) is back."""
        cl, t = self.cluster, self.env.now
        if cl.failed[node]:
            self._hold_down(node, kind, t + duration)
            return None
        fid = len(self.failures)
        self.failures.append(fid, t, node, int(cl.node_rack[node]), FAILURE_KINDS.index(kind),
                             FAILURE_SOURCES.index(source), False, np.nan, np.nan, np.nan, np.nan, 0, 0,
                             np.nan, np.nan, False, 0, -1)
        self.node_events.append(t, node, int(cl.node_rack[node]), 0)
        cl.version += 1
        cl.up[node] = False
        cl.failed[node] = True
        cl.failure_id[node] = fid
        self.last_failure[node] = fid
        self.down_count[node] += 1
        self.rack_policy.node_down(node)
        affected = self.state.node_down(node, t)
        self.repair.target_failed(node)
        self.repair.source_failed(node)
        self.repair.reprioritise(affected)
        if kind == "permanent":
            self.destroy_node_data(node)
        back = self.env.event()
        self.node_back[node] = back
        self.failure_kind[node] = kind
        self.down_until[node] = t + duration
        detect = self.env.timeout(self.cfg.failures.detection_timeout)
        detect.callbacks.append(lambda _e, n=node, f=fid: self._detected(n, f))
        ret = self.env.timeout(duration)
        ret.callbacks.append(lambda _e, n=node, f=fid, b=back: self._node_back(n, f, b))
        for hook in self.on_node_failed:
            hook(node)
        return back

    def _hold_down(self, node: int, kind: str, until: float) -> None:
        """A node already down is hit again (say by its rack's outage): it is up only when neither
        failure holds it down any more, and a permanent one destroys what it still held."""
        if kind == "permanent" and self.failure_kind[node] != "permanent":
            self.failure_kind[node] = "permanent"
            self.failures.set("kind", int(self.cluster.failure_id[node]), FAILURE_KINDS.index("permanent"))
            self.destroy_node_data(node)
        if until > self.down_until[node]:
            self.down_until[node] = until
            fid = int(self.cluster.failure_id[node])
            ret = self.env.timeout(until - self.env.now)
            ret.callbacks.append(lambda _e, n=node, f=fid, b=self.node_back[node]: self._node_back(n, f, b))

    def destroy_node_data(self, node: int) -> None:
        t = self.env.now
        lost = self.state.destroy(node, t)
        # writes under way (conversions, repairs) release their bytes when they end
        self.cluster.used[node] = self.cluster.reserved[node] + self.cluster.repairing[node]
        self.cluster.disks.clear_node(node)
        self.epoch[node] += 1
        self.repair.node_destroyed(node)
        self.stale_slots[node] = 0
        self.stale_bytes[node] = 0
        if self.payloads is not None:
            self.payloads.destroy_node(node)
        if len(lost):
            self.lose(lost)

    def _detected(self, node: int, fid: int) -> None:
        cl = self.cluster
        if cl.failure_id[node] == fid and cl.failed[node] and not cl.dead[node]:
            if not self.rack_policy.defer(node, fid):
                self.declare(node, fid)

    def declare(self, node: int, fid: int) -> None:
        """The node is declared dead: each of its slots becomes a repair job."""
        t, st = self.env.now, self.state
        self.cluster.dead[node] = True
        self.cluster.version += 1
        self.node_events.append(t, node, int(self.cluster.node_rack[node]), 2)
        self.declare_slots(fid, *st.slots_on(node))

    def declare_slots(self, fid: int, c: np.ndarray, s: np.ndarray) -> None:
        """Failure ``fid`` is declared now: these slots (of a dead node or a failed disk) become repair
        jobs, except those of lost chunks or already queued; its recovery lasts until they are all rebuilt."""
        st, t = self.state, self.env.now
        self.failures.set("declared", fid, True)
        self.failures.set("declared_s", fid, t)
        self.failures.set("detection_s", fid, t - self.failures.get("time_s", fid))
        keep = ~st.lost[c] & (st.job[c, s] == JOB_NONE)
        c, s = c[keep], s[keep]
        self.failures.set("chunks_affected", fid, len(c) * self.weight)
        t_fail = self.failures.get("time_s", fid)
        if len(c) == 0:  # nothing to rebuild: recovered when declared (detection, then a repair of 0)
            self._close_recovery(fid, t_fail, t)
        else:
            self.recoveries.append(Recovery(fid, t_fail, st.n_chunks, np.unique(c)))
        self.repair.enqueue(c, s, fid)

    def _node_back(self, node: int, fid: int, back: simpy.Event) -> None:
        cl, t, st = self.cluster, self.env.now, self.state
        if cl.failure_id[node] != fid or t < self.down_until[node]:
            return                       # another failure still holds the node down
        kind = self.failure_kind[node]
        if kind == "permanent" and not cl.dead[node]:
            self.declare(node, fid)      # an empty replacement shows the data is gone
        was_dead = bool(cl.dead[node])
        cl.version += 1
        cl.up[node] = True
        cl.failed[node] = False
        cl.dead[node] = False
        cl.failure_id[node] = -1
        self.failures.set("back_s", fid, t)
        self.node_events.append(t, node, int(cl.node_rack[node]), 3 if kind == "permanent" else 1)
        if kind == "transient" and not was_dead:
            self.transient_failures += 1
        st.node_up(node, t)
        if kind == "transient":
            self.failures.set("stale_slots_dropped", fid, int(self.stale_slots[node]))
            cl.used[node] -= self.stale_bytes[node]
            self.stale_slots[node] = 0
            self.stale_bytes[node] = 0
            if was_dead:
                self.repair.cancel_pending_on(node)
        self.repair.node_changed()
        self.rack_policy.node_up(node)
        back.succeed()

    def source_marks(self, chunk: int, sources) -> np.ndarray:
        """The failure counts of the sources' nodes and disks now, for [(slot, node)] of ``chunk``: a
        read started now completed if the marks have not changed by the time its data is due."""
        nodes = [n for _, n in sources]
        disks = self.cluster.disks.slot_disk[chunk, [j for j, _ in sources]]
        return self.down_count[nodes] + self.cluster.disks.failures[disks]

    def count_stale_dropped(self, node: int) -> None:
        """Count, on the node's last failure, a stale copy dropped at once (its node is up again).

        Only the record: the caller releases the copy's bytes."""
        fid = int(self.last_failure[node])
        if fid >= 0:
            self.failures.set("stale_slots_dropped", fid, self.failures.get("stale_slots_dropped", fid) + 1)

    # -- chunk outcomes -----------------------------------------------------------------------
    def lose(self, chunks: np.ndarray) -> None:
        """Record lost chunks; they are never repaired."""
        t, st, cat = self.env.now, self.state, self.catalog
        for c in chunks.tolist():   # a simulated chunk is W chunks: all lost together
            self.losses.append(t, c, int(cat.chunk_video[c]), self.weight, self.chunk_size * self.weight)
        st.mark_lost(chunks, t)
        pending = st.job[chunks] == JOB_PENDING
        st.job[chunks] = np.where(pending, JOB_NONE, st.job[chunks])
        st.missing[chunks] = 0
        self.chunks_settled(chunks)
        if self.cfg.run.stop_at_first_loss and not self.stop_event.triggered:
            self.stop_event.succeed()

    # -- accounting -----------------------------------------------------------------------------
    def held_bytes(self) -> int:
        """Physical bytes actually held: live slots, stale copies and layouts being converted."""
        return self.state.held_slot_bytes() + int(self.stale_bytes.sum()) + int(self.conversion_bytes)

    def storage_overhead(self) -> dict:
        """The ledger's /storage/overhead dict for the chunks' current modes."""
        st = self.state
        # A lost chunk is no longer stored: code -1 keeps it out of the ledger.
        return self.ledger.overhead_from_modes(np.where(st.lost, -1, st.mode), self.chunk_size, weight=self.weight)
