"""The scenario schema: every setting of a run, with its unit, default and meaning.

Frozen pydantic models with ``extra="forbid"``; the docstring under each
attribute is its documentation (``vstack-sim scenario --schema`` prints it).
Every default of the model lives here and nowhere else: model code reads
``config.section.field`` and never ``get(key, default)``.

Fields with units accept plain numbers in base units (bytes, seconds, bytes/s,
events/s) or strings such as ``2MiB``, ``30d``, ``200MB/s`` and ``10/min``
(:mod:`vstack_sim.scenario.units`). Zero means "off" where a field says so.

Sections with rules of their own live in sibling modules (:mod:`.cluster_schema`, :mod:`.io_schema`,
:mod:`.reads_schema`, :mod:`.policy_schema` for ``redundancy`` and ``migration``, :mod:`.prices_schema` for
``prices``); they are imported here.

``Config()`` is the embedded default scenario: the V-Stack design's catalog (1,000
videos x 50 chunks of 2 MiB, 5 % hot) on a small cluster with failures.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from vstack_sim.scenario import units
from vstack_sim.scenario.cluster_schema import ClusterConfig, FailuresConfig, RepairConfig
from vstack_sim.scenario.io_schema import IoConfig
from vstack_sim.scenario.lifecycle_schema import AgingConfig, DeletesConfig, UploadsConfig, check_upload_keys
from vstack_sim.scenario.policy_schema import MigrationConfig, RedundancyConfig, policy_from_config
from vstack_sim.scenario.prices_schema import Prices
from vstack_sim.scenario.reads_schema import CacheConfig, ReadsConfig
from vstack_sim.scenario.sections import (
    MAX_VIEWS,
    Bytes,
    BytesPerSecond,
    FlashCrowd,
    PerSecond,
    ScheduledView,
    Seconds,
    Section,
)
from vstack_sim.scenario.stripe_checks import check_stripe_model
from vstack_sim.scenario.video_refs import check_video_refs
from vstack_sim.system.ledger import StorageLedger

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A name that becomes a folder (a scenario's, a sweep's); use ``fullmatch``: no control character, no slash."""

# Measured by `vstack-sim bench codec` (benchmarks/codec.py) on this machine kind,
# single core, 2 MiB chunks, CRC32C included. A run never measures anything itself.
MEASURED_ENCODE_THROUGHPUT = 3.4e9
MEASURED_DECODE_THROUGHPUT = 2.7e9



class RunConfig(Section):
    """How long to run and with which seed."""

    seed: int = Field(42, ge=0)
    """Root of the run's numpy SeedSequence; every random stream is a named child of it."""
    duration: Seconds = Field(7 * 86400.0, gt=0)
    """Simulated time to run (seconds; e.g. 30d)."""
    stop_at_first_loss: bool = False
    """End the run at the first chunk loss (for MTTDL experiments: no run ends before its loss)."""
    replications: int = Field(0, ge=0, le=1_000_000)
    ("0 (default): one run of the full world. N >= 2: N independent replications in one run, for P(loss within "
     "duration) with its interval (docs/model.md, rare-event simulation), of the model run.replication_model names.")
    replication_model: Literal["one_stripe", "world"] = "one_stripe"
    ("What each replication simulates. one_stripe (default): one stripe's slots, node failures and exponential "
     "repairs, as NumPy arrays (fast; the scenario must be one stripe with no viewers). world: the full world, "
     "every rule on (I/O-timed repair, disks, racks, viewers), one world after another: about as slow as N runs.")
    estimator: Literal["plain", "importance"] = "plain"
    ("How the replications estimate P(loss): plain Monte Carlo, or importance sampling, each replication weighted "
     "by its likelihood ratio; importance needs run.replications. The one-stripe model uses balanced failure "
     "biasing with exponential lifetimes and no detection delay and hazard scaling otherwise; the world always "
     "scales the hazard of its node and disk failures by how many slots its worst chunk has lost.")
    failure_bias: float | None = Field(None, gt=0, lt=1)
    ("Importance sampling: the probability that the next event of a degraded stripe is a failure (balanced "
     "failure biasing), or the one the hazard scaling aims at; unset: 0.5 under balanced failure biasing (the "
     "usual choice, Shahabuddin 1994), 0.2 under hazard scaling (where the weights' tails grow with it).")


class CatalogConfig(Section):
    """The videos: how many, how long, and how popular."""

    videos: int = Field(1000, ge=1)
    """Number of videos V."""
    chunks_per_video: int = Field(50, ge=1)
    """Chunks per video (the mean when chunk_count_distribution is lognormal)."""
    chunk_count_distribution: Literal["fixed", "lognormal"] = "fixed"
    """fixed: every video has chunks_per_video chunks; lognormal: drawn with that mean (at least 1)."""
    chunk_count_sigma: float = Field(0.8, ge=0)
    """Sigma of the lognormal chunk-count distribution (log space)."""
    chunk_size: Bytes = Field(2 * 2**20, ge=1)
    """Bytes per chunk S (e.g. 2MiB)."""
    zipf_alpha: float = Field(1.0, ge=0)
    """Zipf exponent of popularity over rank; video 0 is rank 1, the most popular."""
    starting_views: Literal["hot_fraction", "total"] = "hot_fraction"
    ("How starting view counts are set: hot_fraction (Zipf scaled so that that fraction is above the threshold) or "
     "total (Zipf shares of total_views).")
    hot_fraction: float = Field(0.05, ge=0, le=1)
    """Fraction of videos above the popularity threshold at ingest (the V-Stack design's 5 %)."""
    total_views: int = Field(0, ge=0, le=MAX_VIEWS)
    """Total starting views split by Zipf share, when starting_views is total (at most 2^53)."""
    source: str | None = None
    ("CSV file of your own videos (video_id, views, chunks or bytes; optional uploaded_at, size_class) instead of the "
     "Zipf catalog; views during the run pick videos in proportion to the file's views. A relative path is relative to "
     "the scenario file; videos is set from the file.")

    @model_validator(mode="before")
    @classmethod
    def _videos_from_source(cls, data):
        # The file decides how many videos there are, so every size check downstream counts its rows.
        if isinstance(data, dict) and data.get("source") is not None:
            from vstack_sim.scenario.catalog_source import load_videos_csv

            rows = load_videos_csv(data["source"]).videos
            if data.get("videos") is not None and data["videos"] != rows:
                raise ValueError(f"catalog.videos: {data['videos']} but catalog.source has {rows} videos; "
                                 f"leave catalog.videos out")
            data = {**data, "videos": rows}
        return data
    chunk_weight: int = Field(1, ge=1)
    ("W: each simulated chunk stands for W chunks with its placement and mode (like a Ceph placement group); storage, "
     "repair, conversion and losses count W, and background I/O goes out as W chunk-sized requests; views read the "
     "simulated chunks only (docs/production-scale.md).")


class CodecConfig(Section):
    """The real erasure codec in the loop."""

    encode_throughput: BytesPerSecond = Field(MEASURED_ENCODE_THROUGHPUT, gt=0)
    """Encode speed (chunk bytes/s); a schema constant from benchmarks/codec.py, never measured during a run."""
    decode_throughput: BytesPerSecond = Field(MEASURED_DECODE_THROUGHPUT, gt=0)
    """Degraded decode speed (bytes read/s)."""
    verify_payloads: bool = False
    ("Carry real bytes: encode at ingest, really rebuild at repair, degraded reads and conversions, audit at the end.")


class WorkloadConfig(Section):
    """Viewers."""

    view_rate: PerSecond = Field(0.05, ge=0)
    """Mean view arrivals per second over the catalog (Poisson; 0 = no views)."""
    daily_cycle: float = Field(0.0, ge=0, lt=1)
    """Relative amplitude of a sinusoidal daily cycle of the view rate (0 = flat)."""
    peak_hour: float = Field(20.0, ge=0, lt=24)
    """Hour of day when the daily cycle peaks."""
    age_decay_half_life: Seconds = Field(0.0, ge=0)
    """Half-life of every video's view intensity as the catalog ages (0 = no decay)."""
    flash_crowds: tuple[FlashCrowd, ...] = ()
    """Videos that go viral: extra views at view_rate from start for duration."""
    scheduled_views: tuple[ScheduledView, ...] = ()
    """Views at fixed times (at, video), in addition to the Poisson ones."""
    watch_distribution: Literal["fixed", "uniform"] = "fixed"
    """fixed: each viewer watches watch_fraction of the video; uniform: a fraction drawn from U(0, watch_fraction]."""
    watch_fraction: float = Field(1.0, gt=0, le=1)
    """Fraction of a video watched (at least one chunk)."""
    chunk_playback_time: Seconds = Field(0.0, ge=0)
    ("Playback pacing: chunk i is requested no earlier than i x this after the view starts (0 = as soon as chunk i-1 "
     "arrives).")
    late_binding_extra: int = Field(0, ge=0)
    """EC-Cache late binding: request k + this many fragments and use the first k to arrive."""
    uploads: UploadsConfig = UploadsConfig()
    """New videos during the run (off by default): each is ingested at upload in the policy's upload mode."""
    deletes: DeletesConfig = DeletesConfig()
    """Videos removed during the run, by age or at a rate (off by default)."""
    aging: AgingConfig = AgingConfig()
    """How an uploaded video's views follow its age (the starting catalog follows age_decay_half_life)."""


class OutputsConfig(Section):
    """What a run records."""

    timeline_interval: Seconds = Field(3600.0, gt=0)
    """Time between samples of the storage timeline."""
    reads_table_sample: int = Field(100_000, ge=0)
    """Rows kept in the reads table (0 = every read): every read of a kind with fewer than 1,000, a uniform sample of the rest; summaries always use every read."""  # noqa: E501 (the reference's text)
    figures: bool = True
    """Draw the figures of the results folder (false: summary, tables and reports only, e.g. in large sweeps)."""
    catalog: bool = True
    ("Write catalog.sqlite (the design's chunk_fragments, video_stats and chunks tables at the end of the run); off "
     "for huge runs, 'vstack-sim catalog' builds it later.")


class Config(Section):
    """A whole scenario."""

    name: str = "default"
    """Scenario name; also the results folder name, so letters, digits, '.', '_' and '-' only."""
    description: str = ""
    """Free text shown in the report."""
    run: RunConfig = RunConfig()
    """Seed and duration."""
    catalog: CatalogConfig = CatalogConfig()
    """Videos and popularity."""
    cluster: ClusterConfig = ClusterConfig()
    """Nodes, racks, disks and links."""
    redundancy: RedundancyConfig = RedundancyConfig()
    """The redundancy policy."""
    migration: MigrationConfig = MigrationConfig()
    """Popularity checks and conversions."""
    prices: Prices = Prices()
    """What storage, requests and conversions cost (the cost policy's price table)."""
    failures: FailuresConfig = FailuresConfig()
    """Node and rack failures."""
    repair: RepairConfig = RepairConfig()
    """Rebuilding lost slots."""
    codec: CodecConfig = CodecConfig()
    """The erasure codec in the loop."""
    workload: WorkloadConfig = WorkloadConfig()
    """Viewers."""
    reads: ReadsConfig = ReadsConfig()
    """The client's side of a read: which replica it reads."""
    cache: CacheConfig = CacheConfig()
    """A cache in front of the store (off by default)."""
    io: IoConfig = IoConfig()
    """How client reads, repairs and conversions share each disk."""
    outputs: OutputsConfig = OutputsConfig()
    """What is recorded."""

    @model_validator(mode="after")
    def _possible(self):
        if not SAFE_NAME.fullmatch(self.name):
            raise ValueError(f"name: {self.name!r} is not a safe folder name (letters, digits, '.', '_', '-')")
        cl, red, cat = self.cluster, self.redundancy, self.catalog
        if cl.racks > cl.nodes:
            raise ValueError(f"cluster.racks: {cl.racks} racks but only {units.plural(cl.nodes, 'node')}")
        modes = self.assignable_modes()
        where = {m: (cl.mode_nodes(m), f"cluster.pools[{cl.mode_pools[m]!r}] has" if cl.pools else "cluster.nodes is")
                 for m in modes}
        if "replication" in modes and red.replication_factor > where["replication"][0]:
            raise ValueError(f"redundancy.replication_factor: {red.replication_factor} replicas need "
                             f"{red.replication_factor} distinct nodes, {where['replication'][1]} "
                             f"{where['replication'][0]}")
        width = red.data_shards + red.parity_shards
        if "erasure_coding" in modes and width > where["erasure_coding"][0]:
            raise ValueError(f"redundancy.data_shards: RS({red.data_shards},{red.parity_shards}) needs {width} "
                             f"distinct nodes, {where['erasure_coding'][1]} {where['erasure_coding'][0]}")
        needed = self.ingest_physical_bytes()
        if needed > cl.total_capacity():
            held = f"{cl.nodes} x {cl.node_capacity:,}" if not cl.pools else "its pools"
            raise ValueError(f"cluster.node_capacity: the catalog needs about {needed:,} bytes, the cluster holds "
                             f"{held} = {cl.total_capacity():,} bytes")
        for i, f in enumerate(self.failures.scheduled):
            if f.node is not None and f.node >= cl.nodes:
                raise ValueError(f"failures.scheduled.{i}.node: node {f.node} does not exist "
                                 f"({units.plural(cl.nodes, 'node')})")
            if f.disk is not None and f.disk >= cl.disks_per_node:
                raise ValueError(f"failures.scheduled.{i}.disk: disk {f.disk} does not exist "
                                 f"({units.plural(cl.disks_per_node, 'disk')} a node)")
            if f.rack is not None and f.rack >= cl.racks:
                raise ValueError(f"failures.scheduled.{i}.rack: rack {f.rack} does not exist "
                                 f"({units.plural(cl.racks, 'rack')})")
        check_video_refs(self)
        check_stripe_model(self)
        if self.workload.uploads.rate > 0 and cat.source is not None:
            from vstack_sim.scenario.catalog_source import load_videos_csv

            check_upload_keys(load_videos_csv(cat.source).keys)
        if red.policy in ("reads", "cost") and self.migration.popularity_measure != "windowed":
            raise ValueError(f"migration.popularity_measure: the {red.policy} policy counts views in "
                             f"migration.window, so it needs windowed, got {self.migration.popularity_measure}")
        if self.reads.hedge_after is not None and self.reads.hedge_withdraw == "exact":
            if cl.cpu_cores_per_node > 0:
                raise ValueError("reads.hedge_withdraw: exact withdraws a losing request at its disk, which needs "
                                 "no CPU stage (cluster.cpu_cores_per_node 0); set reads.hedge_withdraw: keep")
        if self.workload.late_binding_extra > red.parity_shards:
            raise ValueError("workload.late_binding_extra: cannot exceed redundancy.parity_shards")
        if 0 < self.cache.capacity < cat.chunk_size:
            raise ValueError(f"cache.capacity: {self.cache.capacity:,} bytes hold no whole chunk (catalog.chunk_size "
                             f"is {cat.chunk_size:,} bytes); 0 turns the cache off")
        if self.workload.uploads.rate > 0 and self.codec.verify_payloads:
            raise ValueError("workload.uploads.rate: codec.verify_payloads carries the bytes of the starting catalog "
                             "only, so it needs no uploads")
        if cat.chunk_weight > 1 and self.codec.verify_payloads:
            raise ValueError("catalog.chunk_weight: codec.verify_payloads carries the bytes of each simulated "
                             "chunk, so it needs chunk_weight 1")
        return self

    def assignable_modes(self) -> set[str]:
        """Modes the policy (asked, not guessed) or an override can give a video."""
        red = self.redundancy
        modes = {m.value for m in self.policy_object().modes()}
        return modes | set(red.overrides.values())

    def policy_object(self):
        """The redundancy policy object of this scenario, built with every setting it reads
        (:func:`~vstack_sim.scenario.policy_schema.policy_from_config`)."""
        return policy_from_config(self.redundancy, self.migration, self.effective_prices(), self.catalog.chunk_size)

    def effective_prices(self) -> Prices:
        """The run's prices: the ``prices`` section, with the storage price of each mode's pool where the pool
        names one (``cluster.pools``)."""
        return self.prices.with_mode_prices(self.cluster.pool_prices())

    def _physical_per_chunk(self, mode: str) -> int:
        return StorageLedger.for_settings(self.redundancy, self.catalog.chunk_size).physical_bytes_per_chunk(mode)

    def ingest_physical_bytes(self) -> int:
        """Physical bytes of the layout placed at ingest (about, when chunk counts are drawn).

        Exact in mix when it is known before the run: one mode for a one-mode policy, and for
        the adaptive policy with hot_fraction starting views, round(hot_fraction x videos) hot
        videos replicated and the rest coded. Otherwise (total starting views, overrides) every
        chunk is priced at the costlier assignable mode.
        """
        cat, red = self.catalog, self.redundancy
        chunks = self.expected_chunks() * cat.chunk_weight
        if red.policy in ("adaptive", "threshold") and cat.starting_views == "hot_fraction" and not red.overrides:
            hot = round(cat.hot_fraction * cat.videos) * cat.chunks_per_video * cat.chunk_weight
            return hot * self._physical_per_chunk("replication") + \
                (chunks - hot) * self._physical_per_chunk("erasure_coding")
        return chunks * max(self._physical_per_chunk(m) for m in self.assignable_modes())

    def expected_chunks(self) -> int:
        """Chunks in the catalog (the expectation when chunk counts are drawn; exact for a catalog.source)."""
        if self.catalog.source is not None:
            from vstack_sim.scenario.catalog_source import load_videos_csv

            # Summed exactly (each row is at most 2^31 - 1): an int64 sum could wrap to a small number.
            return load_videos_csv(self.catalog.source).total_chunks(self.catalog.chunk_size)
        return self.catalog.videos * self.catalog.chunks_per_video

    @model_validator(mode="after")
    def _trace_fits(self):
        # The trace is read (cached) here so that a bad line is a validation error before anything runs.
        if self.failures.trace is not None:
            from vstack_sim.scenario.failure_trace import load_trace

            load_trace(self.failures.trace, self.cluster.nodes, self.cluster.racks, self.cluster.disks_per_node)
        return self
