"""The redundancy policy's sections of the scenario schema: which policy decides each video's mode and its
settings (``redundancy``), when it re-decides and how videos convert (``migration``), and
:func:`policy_from_config`, which builds the real policy object from the ``redundancy`` section.

Part of :class:`~vstack_sim.scenario.schema.Config` (which also checks what spans sections: the cluster can
hold the assignable modes, the ``reads`` and ``cost`` policies have a windowed count). The policies themselves
and the real systems they follow are in :mod:`vstack_sim.system.policies`, :mod:`vstack_sim.system.store_policies`,
:mod:`vstack_sim.system.cost_policies` and :mod:`vstack_sim.system.predictive_policy`; the cost policy's prices
are the ``prices`` section (:mod:`.prices_schema`). docs/model.md ("Policies", "Migration") describes them.
"""

from __future__ import annotations

import numbers
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from vstack_sim.scenario.prices_schema import Prices
from vstack_sim.scenario.sections import MAX_VIEWS, Bytes, BytesPerSecond, ModeName, Seconds, Section, VideoRef
from vstack_sim.system.cost_policies import DEFAULT_COST_HORIZON, DEFAULT_MIN_EC_BYTES
from vstack_sim.system.manager import RedundancyManager
from vstack_sim.system.policies import Policy, make_policy
from vstack_sim.system.predictive_policy import DEFAULT_PREDICTIVE_ALPHA, DEFAULT_PREDICTIVE_BETA
from vstack_sim.system.store_policies import (
    DEFAULT_AGE_THRESHOLD,
    DEFAULT_QUIET_FOR,
    DEFAULT_READS_DEMOTE,
    DEFAULT_READS_MAX_REPLICATED,
    DEFAULT_READS_PROMOTE,
)


def _hour(value):
    # YAML's yes/no are booleans and "22:00" is text: an hour of the day is a plain number here.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"expected an hour of the day (a number 0-24), got {value!r}")
    return value


Hour = Annotated[float, BeforeValidator(_hour)]
"""An hour of the day, 0-24 (fractions allowed: 22.5 is 22:30)."""


class RedundancyConfig(Section):
    """The real RedundancyManager's settings."""

    policy: Literal["adaptive", "threshold", "age", "reads", "quiet", "size", "cost", "predictive", "replication",
                    "erasure_coding"] = "adaptive"
    ("adaptive or threshold: the V-Stack design's rule on the migration's popularity measure (one rule, two names: "
     "adaptive, the default, is its older one, kept for older scenarios and summaries); age: by upload age (f4); "
     "reads: windowed reads with hysteresis (HACFS); "
     "quiet: by time since the last view (S3 Intelligent-Tiering); size: small videos replicated, the others by "
     "the threshold rule; cost: the cheaper mode a month under the prices section; predictive: the threshold rule "
     "on a forecast one check ahead; replication or erasure_coding: a baseline that "
     "stores everything in one mode. Each policy reads its own settings below and ignores the others' "
     "(docs/model.md, 'Policies').")
    popularity_threshold: int = Field(1000, ge=0, lt=MAX_VIEWS)
    ("Views above which a video is hot (replicated); passed explicitly, so POPULARITY_THRESHOLD never changes a run "
     "(below 2^53, the most starting views of a video).")
    replication_factor: int = Field(3, ge=1)
    """Replicas r of a hot chunk."""
    data_shards: int = Field(3, ge=1)
    """Reed-Solomon data fragments k of a cold chunk."""
    parity_shards: int = Field(2, ge=0)
    """Reed-Solomon parity fragments m of a cold chunk."""
    hysteresis: float = Field(0.0, ge=0, lt=1)
    """h: a hot video returns to erasure coding only at or below threshold x (1 - h)."""
    upload_grace: Seconds = Field(0.0, ge=0)
    ("A video uploaded during the run keeps its upload mode for this long whatever the policy says (0 = the policy "
     "decides from the next check), as f4 keeps new BLOBs in its hot tier before moving them.")
    overrides: dict[VideoRef, ModeName] = Field(default_factory=dict)
    ("Manual overrides, video -> mode (the video's key, or its id: an integer); they win over the automatic "
     "choice.")
    age_threshold: Seconds = Field(DEFAULT_AGE_THRESHOLD, gt=0)
    ("age policy: a video older than this is erasure-coded, a younger one replicated; a video of unknown age (in "
     "the catalog before the run) is old. Default 30d: f4 (OSDI'14) moves volumes to its erasure-coded warm tier "
     "once they are one to three months old.")
    reads_promote: int = Field(DEFAULT_READS_PROMOTE, ge=1, lt=MAX_VIEWS)
    ("reads policy: a video whose views in migration.window reach this many is replicated. Default: the design's "
     "1,000 views (HACFS publishes no single count; an assumption).")
    reads_demote: int = Field(DEFAULT_READS_DEMOTE, ge=0, lt=MAX_VIEWS)
    ("reads policy: a replicated video whose views in migration.window fall to this many or below is erasure-coded; "
     "in between a video keeps its mode. Must be below reads_promote. Default: half of 1,000 (an assumption).")
    reads_max_replicated: float = Field(DEFAULT_READS_MAX_REPLICATED, gt=0, le=1)
    ("reads policy: the largest share of the catalog's logical bytes that may be replicated, hottest videos first, "
     "as HACFS bounds its storage overhead by down-coding the least-read files (1 = no bound).")
    quiet_for: Seconds = Field(DEFAULT_QUIET_FOR, gt=0)
    ("quiet policy: a video not viewed for this long is erasure-coded, one viewed since replicated (the starting "
     "catalog's clock starts at t = 0). Default 30d: S3 Intelligent-Tiering moves an object to its Infrequent "
     "Access tier after 30 consecutive days without access.")
    min_ec_bytes: Bytes = Field(DEFAULT_MIN_EC_BYTES, ge=0)
    ("size policy: a video smaller than this stays replicated; larger ones follow the threshold rule (threshold, "
     "hysteresis). Default 128KiB: S3 Intelligent-Tiering neither monitors nor tiers objects under 128 KB.")
    cost_horizon: Seconds = Field(DEFAULT_COST_HORIZON, gt=0)
    ("cost policy: a conversion's price (its bytes moved x prices.moved_per_gb) is spread over this long, so a "
     "video leaves its mode only when the other is cheaper by that share a month (30d: this simulator's choice).")
    predictive_alpha: float = Field(DEFAULT_PREDICTIVE_ALPHA, gt=0, le=1)
    ("predictive policy: Holt's smoothing of the count's level (1 = the latest count; 0.5: this simulator's "
     "choice).")
    predictive_beta: float = Field(DEFAULT_PREDICTIVE_BETA, ge=0, le=1)
    ("predictive policy: Holt's smoothing of the count's trend per check (0 = no trend: the threshold rule; 0.5: "
     "this simulator's choice).")

    @model_validator(mode="after")
    def _stripe_fits_gf256(self):
        if self.data_shards + self.parity_shards > 255:
            raise ValueError("redundancy.parity_shards: data_shards + parity_shards must be <= 255")
        return self

    @model_validator(mode="after")
    def _reads_hysteresis(self):
        # Checked only for the policy that reads them, as every policy-specific setting is ignored by the others.
        if self.policy == "reads" and self.reads_demote >= self.reads_promote:
            raise ValueError(f"redundancy.reads_demote: {self.reads_demote} must be below redundancy.reads_promote "
                             f"({self.reads_promote})")
        return self


class MigrationConfig(Section):
    """Periodic popularity checks and conversions between modes."""

    check_interval: Seconds = Field(3600.0, ge=0)
    """Time between popularity checks (0 = never re-decide after ingest)."""
    popularity_measure: Literal["cumulative", "windowed"] = "cumulative"
    ("cumulative: all views, starting views included (the V-Stack design's rule); windowed: views in the last "
     "`window`.")
    window: Seconds = Field(7 * 86400.0, gt=0)
    """Length W of the popularity window (windowed measure)."""
    window_resolution: Seconds = Field(3600.0, gt=0)
    """Bucket length of the windowed counter; starting views are spread evenly over the buckets before t = 0."""
    conversion_rate: BytesPerSecond = Field(100e6, ge=0)
    """Transfer rate of one chunk conversion (bytes read per second; 0 = not capped)."""
    concurrent_videos: int = Field(4, ge=1)
    """Videos converted at the same time; each converts its chunks one by one."""
    budget: float = Field(1.0, gt=0, le=1)
    ("Share of each disk's time conversions may take over io.budget_window while the disk has no free server "
     "(client reads waiting), as PACEMAKER (OSDI'20) caps transition I/O; a disk with a free server takes them "
     "regardless. 1 = no budget.")
    windows: tuple[tuple[Hour, Hour], ...] = ()
    ("Off-peak windows [start_hour, end_hour) of the day (t = 0 is midnight) in which a conversion may start a "
     "chunk, e.g. [[22, 6]] (a window whose start is after its end wraps midnight); a chunk under way finishes, "
     "and checks still run and queue videos, whose converters wait for the next window. As Ceph's "
     "osd_scrub_begin_hour / osd_scrub_end_hour confine scrubbing. Empty = any time.")

    @model_validator(mode="after")
    def _window_buckets_countable(self):
        # ceil(window / resolution) buckets: beyond 2^53 the count is not even a float (1e-300 overflowed).
        if not self.window / self.window_resolution <= 2.0**53:
            raise ValueError(f"migration.window_resolution: {self.window_resolution!r} s splits migration.window "
                             f"({self.window!r} s) into more than 2^53 buckets")
        return self

    @field_validator("windows")
    @classmethod
    def _windows_in_the_day(cls, windows):
        for i, (start, end) in enumerate(windows):
            if not 0 <= start < 24:
                raise ValueError(f"migration.windows.{i}: the start hour must be in [0, 24), got {start!r}")
            if not 0 <= end <= 24:
                raise ValueError(f"migration.windows.{i}: the end hour must be in [0, 24], got {end!r}")
            if start == end:
                # Ceph reads begin == end as the whole day; an empty list says that here, without the ambiguity.
                raise ValueError(f"migration.windows.{i}: start and end are both {start!r}; leave migration.windows "
                                 f"empty to convert at any time")
        return windows


def policy_from_config(redundancy: RedundancyConfig, migration: MigrationConfig | None = None,
                       prices: Prices | None = None, chunk_size: int | None = None) -> Policy:
    """The :class:`~vstack_sim.system.policies.Policy` a scenario's ``redundancy`` section asks for, with all its
    settings (the world hands it to the :class:`~vstack_sim.system.manager.RedundancyManager`).

    The cost policy also reads the migration's window (its counts' span), the ``prices`` and the chunk size
    (the geometry it prices: a manager of the same r, k, m and chunk size); left out, their defaults.
    """
    red = redundancy
    migration = MigrationConfig() if migration is None else migration
    prices = Prices() if prices is None else prices
    geometry = None
    if red.policy == "cost":
        size = {} if chunk_size is None else {"chunk_size": chunk_size}
        geometry = RedundancyManager(popularity_threshold=0, replication_factor=red.replication_factor,
                                     erasure_data_shards=red.data_shards, erasure_parity_shards=red.parity_shards,
                                     policy="replication", **size)
    return make_policy(red.policy, red.popularity_threshold, red.hysteresis, age_threshold=red.age_threshold,
                       reads_promote=red.reads_promote, reads_demote=red.reads_demote,
                       reads_max_replicated=red.reads_max_replicated, quiet_for=red.quiet_for,
                       min_ec_bytes=red.min_ec_bytes, geometry=geometry, window=migration.window,
                       prices=prices.table(), cost_horizon=red.cost_horizon, predictive_alpha=red.predictive_alpha,
                       predictive_beta=red.predictive_beta)
