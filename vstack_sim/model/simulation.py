"""One run, in an explicit lifecycle: build -> start -> run -> finalize -> collect.

``simulate(config)`` is the whole public story: it builds the world (catalog,
real manager, codec, ingest placement), starts the processes (failures,
viewers, popularity checks, timeline sampling), runs the clock to the
configured duration (or to the first loss), finalizes open accounts (open
unavailability, the payload audit) and collects a :class:`Result`: the
summary (docs/results.md), the tables as DataFrames, and the resolved config.
Wall-clock timings are kept apart from the summary so that the same config
and seed give an identical summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from vstack_sim.model.conversion_cost import replicated_fraction
from vstack_sim.model.disk_failures import DiskFailures
from vstack_sim.model.end_state import end_state_of
from vstack_sim.model.failures import FailureProcesses, replay_trace
from vstack_sim.model.hazard_plan import failure_bias, scaled_clock
from vstack_sim.model.lifecycle import Lifecycle
from vstack_sim.model.metrics import build_summary, read_latency_summary, timeline_table
from vstack_sim.model.migration import Migrator
from vstack_sim.model.reads import ReadPath
from vstack_sim.model.repair import RepairScheduler
from vstack_sim.model.workload import Workload
from vstack_sim.model.world import MODES, World
from vstack_sim.model.world_replications import Replications, replication_seed
from vstack_sim.scenario import limits
from vstack_sim.scenario.schema import Config

TABLE_NAMES = ("reads", "views", "failures", "repairs", "migrations", "storage_timeline", "losses",
               "videos", "node_events")


@dataclass
class Result:
    """What a run produced: ``summary`` (JSON-ready dict), ``tables`` (DataFrames) and ``config``."""

    config: Config
    summary: dict
    tables: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    audit: dict | None = None
    catalog: object | None = None   # model.end_state.EndState when outputs.catalog is on

    def __getattr__(self, name):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def reads_sampled(self) -> bool:
        """True when ``reads`` is a sample (``outputs.reads_table_sample``; every read of a rare kind, a uniform
        sample of the rest), not every chunk read.

        Summary statistics always use every read; :meth:`read_latency_summary` gives them by kind.
        """
        return len(self.tables.get("reads", ())) < self.summary["reads"]["count"]

    def read_latency_summary(self):
        """Read latency by kind over every read of the run (exact), as a DataFrame; see ``metrics``."""
        return read_latency_summary(self.summary)

    def __repr__(self) -> str:
        s = self.summary.get("storage", {})
        return (f"Result(name={self.config.name!r}, seed={self.config.run.seed}, "
                f"savings={s.get('storage_savings_percent')}%, tables={sorted(self.tables)})")


RARE_KIND_READS = 1000
"""A read kind with fewer reads than this in the run keeps every read in a sampled reads table."""


def sample_reads(kind: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted rows of the reads table to keep: every read of a rare kind (fewer than :data:`RARE_KIND_READS`
    in the run, e.g. degraded reads), and a uniform sample of the others to make up ``size``; so each kind's
    rows are a uniform sample of that kind, and a rare kind's curve is drawn from all of its reads."""
    codes, counts = np.unique(kind, return_counts=True)
    rare = np.isin(kind, codes[counts < RARE_KIND_READS])
    keep = np.flatnonzero(rare)
    if len(keep) >= size:
        return np.sort(rng.choice(keep, size=size, replace=False))
    common = np.flatnonzero(~rare)
    return np.sort(np.concatenate([keep, rng.choice(common, size=size - len(keep), replace=False)]))


class Simulation:
    """The lifecycle of one run. ``simulate()`` is the usual entry point."""

    def __init__(self, config: Config, progress: Callable[[float, float], None] | None = None, *,
                 check: bool = True, allow_huge: bool = False, seed: np.random.SeedSequence | None = None,
                 timeline: bool = True):
        self.config = config
        self.progress = progress
        self.check, self.allow_huge = check, allow_huge
        self.seed, self.sample_timeline = seed, timeline   # a replication's own seed; no timeline: nobody reads it
        self.timings: dict[str, float] = {}

    def build(self) -> "Simulation":
        t0 = time.perf_counter()
        if self.check:  # refuse, before anything is allocated, a run that cannot fit or cannot end
            limits.check(self.config, allow_huge=self.allow_huge)
        w = self.world = World(self.config, self.seed)
        w.repair = RepairScheduler(w)
        if self.config.codec.verify_payloads:
            from vstack_sim.model.payloads import PayloadStore  # needs the codec only when bytes are carried

            w.payloads = PayloadStore(w)
        w.ingest()
        if w.payloads is not None:
            w.payloads.ingest()
        self.reads = ReadPath(w)
        self.workload = Workload(w, self.reads)
        self.migrator = Migrator(w)
        self.failures = FailureProcesses(w)
        wl = self.config.workload
        self.lifecycle = Lifecycle(w) if (w.uploads is not None or wl.deletes.rate > 0) else None
        w.disk_failures = DiskFailures(w)
        run = self.config.run
        if run.estimator == "importance":    # replications of the world by hazard scaling (world_replications.py)
            w.clock = scaled_clock(w, failure_bias(run))
        self.storage_initial = w.storage_overhead()
        self.timeline = []
        self.timings["build_s"] = time.perf_counter() - t0
        return self

    def start(self) -> "Simulation":
        env = self.world.env
        self.failures.start()
        self.world.disk_failures.start()
        if self.config.failures.trace is not None:
            cl = self.world.cluster
            replay_trace(self.failures, self.config.failures.trace, cl.n_nodes, cl.n_racks)
        self.workload.start()
        self.migrator.start(self.reads)
        if self.lifecycle is not None:
            self.lifecycle.start()
        if self.sample_timeline:
            env.process(self._sample_timeline())
        env.process(self._end_of_run())
        if self.progress is not None:
            env.process(self._report_progress())
        return self

    def run(self) -> "Simulation":
        t0 = time.perf_counter()
        w = self.world
        w.env.run(until=w.stop_event)
        self.timings["run_s"] = time.perf_counter() - t0
        return self

    def finalize(self) -> "Simulation":
        t0 = time.perf_counter()
        w = self.world
        self.end_time = w.env.now
        self.reads.flush(self.end_time)
        w.state.close_all_unavailable(self.end_time)
        w.state.close_histogram(self.end_time)
        w.censor_open_recoveries(self.end_time)
        self._sample(self.end_time)
        self.audit = w.payloads.audit() if w.payloads is not None else None
        self.timings["finalize_s"] = time.perf_counter() - t0
        return self

    def collect(self) -> Result:
        t0 = time.perf_counter()
        w = self.world
        timeline = timeline_table(self.timeline)
        cat = w.catalog
        import pandas as pd

        videos = pd.DataFrame({
            "video_id": np.arange(cat.videos), "video_key": cat.keys(), "starting_views": cat.starting_views,
            "view_count": cat.view_count, "last_viewed": cat.last_viewed,
            "total_bytes_served": cat.total_bytes_served,
            "mode": pd.Categorical.from_codes(w.video_mode.astype(np.int64), categories=list(MODES))})
        if self.lifecycle is not None:   # a living catalog: when each video came, and whether it is stored at the end
            videos["uploaded_s"] = np.where(np.isfinite(w.video_uploaded_at), w.video_uploaded_at, np.nan)
            videos["stored"] = w.video_present
        sample = self.config.outputs.reads_table_sample
        n_reads = len(self.reads.table)
        rows = None
        if 0 < sample < n_reads:   # a sample of the reads table; the summary still uses every read
            rows = sample_reads(self.reads.column("kind"), sample, w.rng.outputs)
        tables = {
            "reads": self.reads.reads_frame(rows),
            "views": self.reads.views_frame(),
            "failures": w.failures.to_frame(),
            "repairs": w.repair.table.to_frame(),
            "migrations": self.migrator.table.to_frame(),
            "storage_timeline": timeline,
            "losses": w.losses.to_frame(),
            "videos": videos,
            "node_events": w.node_events.to_frame(),
        }
        summary = build_summary(self, tables)
        # The frame says it is a sample, so a groupby on it is not mistaken for the whole run.
        tables["reads"].attrs.update({"sample": rows is not None, "reads_in_run": n_reads})
        self.timings["collect_s"] = time.perf_counter() - t0
        end_state = None
        if self.config.outputs.catalog:
            end_state = end_state_of(self)
        return Result(config=self.config, summary=summary, tables=tables, timings=dict(self.timings),
                      audit=self.audit, catalog=end_state)

    # -- processes ------------------------------------------------------------------------------
    def _end_of_run(self):
        yield self.world.env.timeout(self.config.run.duration)
        if not self.world.stop_event.triggered:
            self.world.stop_event.succeed()

    def _sample(self, t: float) -> None:
        w = self.world
        storage = w.storage_overhead()
        row = {"time_s": t, **storage, "replicated_fraction": replicated_fraction(storage),
               "held_bytes": w.held_bytes(), **w.state.counts(),
               "nodes_up": w.cluster.nodes_up(), "reduced_redundancy_chunks": w.state.n_short * w.weight,
               "one_failure_from_loss_chunks": w.state.n_critical * w.weight}
        if self.timeline and self.timeline[-1]["time_s"] == t:
            self.timeline[-1] = row
        else:
            self.timeline.append(row)

    def _sample_timeline(self):
        env, step = self.world.env, self.config.outputs.timeline_interval
        while True:
            self._sample(env.now)
            yield env.timeout(step)

    def _report_progress(self):
        env, total = self.world.env, self.config.run.duration
        step = total / 200.0
        while True:
            self.progress(env.now, total)
            yield env.timeout(step)


def simulate(config: Config, progress: Callable[[float, float], None] | None = None, *, check: bool = True,
             allow_huge: bool = False) -> Result:
    """Run one scenario and return its :class:`Result` (summary, tables, config).

    First it makes the up-front checks of ``vstack-sim run`` (:func:`vstack_sim.scenario.limits.check`):
    a setup that cannot fit or cannot end raises :class:`~vstack_sim.scenario.limits.ResourceError` before
    anything is allocated. ``allow_huge=True`` lifts the memory and event limits (``--allow-huge``), never
    the hard ones; ``check=False`` skips the checks, for a caller that has just made them.

    With ``run.replications`` set it runs that many replications, for a durability estimate: of the one-stripe
    model (:mod:`vstack_sim.model.stripe_run`), with no world to check (its size is bounded by the schema's cap on
    ``run.replications``), or with ``run.replication_model: world`` of the world, one after another
    (:mod:`vstack_sim.model.world_replications`), each checked as one run.
    """
    if not isinstance(config, Config):
        raise TypeError(f"config must be a vstack_sim.scenario.schema.Config, got {type(config).__name__}")
    if config.run.replications and config.run.replication_model == "world":
        return _replicate_world(config, progress, check, allow_huge)
    if config.run.replications:   # the one-stripe durability model, not the world (docs/model.md)
        from vstack_sim.model.stripe_run import run_stripe

        summary, tables, timings = run_stripe(config)
        return Result(config=config, summary=summary, tables=tables, timings=timings)
    return Simulation(config, progress, check=check, allow_huge=allow_huge).build().start().run().finalize().collect()


def _replicate_world(config: Config, progress, check: bool, allow_huge: bool) -> Result:
    """``run.replications`` worlds, one after another, each from its own seed, with no timeline or summary of its own
    (:mod:`vstack_sim.model.world_replications`). Each is one run of the scenario, so the up-front checks are one
    run's."""
    t0 = time.perf_counter()
    run = config.run
    if check:
        limits.check(config, allow_huge=allow_huge)
    out = Replications(config)
    for r in range(run.replications):
        sim = Simulation(config, check=False, seed=replication_seed(run.seed, r), timeline=False)
        out.record(sim.build().start().run().world)
        if progress is not None:
            progress((r + 1) * run.duration / run.replications, run.duration)
    return Result(config=config, summary=out.summary(), tables={"replications": out.table()},
                  timings={"run_s": time.perf_counter() - t0})
