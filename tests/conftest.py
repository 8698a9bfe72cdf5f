"""Shared fixtures: a small hand-made run in the shape of a simulation Result
(the table contract of docs/results.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from vstack_sim.scenario.schema import Config


@dataclass
class FakeResult:
    """What results/plots/report need from a ``Result``: config, summary, tables, timings."""

    config: Config
    summary: dict
    tables: dict
    timings: dict = field(default_factory=lambda: {"build": 0.1, "run": 1.0, "finalize": 0.2})

    def __getattr__(self, name):
        if name != "tables" and name in self.__dict__.get("tables", {}):
            return self.tables[name]
        raise AttributeError(name)


def _stats(values) -> dict | None:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    return {"mean": float(values.mean()), "p50": float(np.percentile(values, 50)),
            "p95": float(np.percentile(values, 95)), "p99": float(np.percentile(values, 99))}


def make_fake_result(config: Config | None = None) -> FakeResult:
    """A deterministic two-day run of 4 videos on 6 nodes, with a failure, repairs and a migration."""
    cfg = config or Config(name="fake", run={"duration": 2 * 86400, "seed": 3}, catalog={"videos": 4,
                           "chunks_per_video": 3}, cluster={"nodes": 6, "racks": 3},
                           outputs={"timeline_interval": 21600})
    size = cfg.catalog.chunk_size
    frag = -(-size // 3)
    rng = np.random.default_rng(0)
    n = 60
    kinds = np.array(["replication", "erasure_coding", "degraded", "failed"])[rng.integers(0, 4, n)]
    latency = np.where(kinds == "failed", np.nan, rng.uniform(5, 80, n).round(3))
    reads = pd.DataFrame({
        "time_s": np.sort(rng.uniform(0, 2 * 86400, n)).round(3), "view_id": np.arange(n) // 3,
        "video_id": (np.arange(n) // 3) % 4, "chunk_id": np.arange(n) % 12, "chunk_index": np.arange(n) % 3,
        "mode": np.where(kinds == "replication", "replication", "erasure_coding"), "kind": kinds,
        "reason": np.where(kinds == "failed", "unavailable", ""), "latency_ms": latency,
        "bytes": np.where(kinds == "replication", size, 3 * frag)})
    views = pd.DataFrame({
        "view_id": np.arange(20), "time_s": np.sort(rng.uniform(0, 2 * 86400, 20)).round(3),
        "video_id": np.arange(20) % 4, "chunks_requested": 3, "chunks_read": 3,
        "startup_latency_ms": rng.uniform(5, 50, 20).round(3), "failed": False, "bytes_served": 3 * size})
    failures = pd.DataFrame({
        "failure_id": [0, 1], "time_s": [3600.0, 90000.0], "node": [2, 4], "rack": [2, 1],
        "kind": ["permanent", "transient"], "source": ["scheduled", "random"], "declared": [True, False],
        "declared_s": [4500.0, np.nan], "back_s": [np.nan, 90300.0], "recovery_end_s": [9000.0, np.nan],
        "recovery_time_s": [5400.0, np.nan], "chunks_affected": [5, 0], "stale_slots_dropped": [0, 0]})
    repairs = pd.DataFrame({
        "chunk_id": [0, 1, 2], "slot": [1, 0, 4], "mode": ["replication", "erasure_coding", "erasure_coding"],
        "failure_id": [0, 0, 0], "target_node": [5, 0, 1], "start_s": [4500.0, 4600.0, 4700.0],
        "end_s": [5000.0, 7000.0, 9000.0], "bytes_read": [size, 3 * frag, 3 * frag],
        "bytes_written": [size, frag, frag]})
    migrations = pd.DataFrame({
        "video_id": [1], "start_s": [7200.0], "end_s": [7300.0], "duration_s": [100.0],
        "from_mode": ["erasure_coding"], "to_mode": ["replication"], "chunks": [3], "bytes_read": [9 * frag],
        "bytes_written": [9 * size]})
    t = np.arange(0, 2 * 86400 + 1, 21600.0)
    rep_chunks = np.where(t < 7300, 3, 6)
    ec_chunks = 12 - rep_chunks
    rep_b, ec_b = rep_chunks * 3 * size, ec_chunks * 5 * frag
    timeline = pd.DataFrame({
        "time_s": t, "replication_chunks": rep_chunks, "erasure_coded_chunks": ec_chunks,
        "total_logical_bytes": 12 * size, "total_physical_bytes": rep_b + ec_b,
        "storage_savings_percent": (100 * (1 - (rep_b + ec_b) / (36 * size))).round(6),
        "replication_overhead_bytes": rep_b, "erasure_overhead_bytes": ec_b, "held_bytes": rep_b + ec_b,
        "live_chunks": 12, "degraded_chunks": 0, "unavailable_chunks": 0, "lost_chunks": 0, "nodes_up": 6})
    losses = pd.DataFrame(columns=["time_s", "chunk_id", "video_id", "bytes"])
    videos = pd.DataFrame({
        "video_id": [0, 1, 2, 3], "starting_views": [5000, 900, 300, 100], "view_count": [5008, 1004, 304, 104],
        "last_viewed": [172000.0, 171000.0, 160000.0, np.nan], "total_bytes_served": [8 * 3 * size, 0, 0, 0],
        "mode": ["replication", "replication", "erasure_coding", "erasure_coding"]})
    node_events = pd.DataFrame({
        "time_s": [3600.0, 4500.0, 18000.0, 90000.0, 90300.0], "node": [2, 2, 2, 4, 4], "rack": [2, 2, 2, 1, 1],
        "event": ["down", "declared", "replaced", "down", "up"]})

    def storage(i):
        row = timeline.iloc[i]
        return {k: (float(row[k]) if k == "storage_savings_percent" else int(row[k]))
                for k in ("replication_chunks", "erasure_coded_chunks", "total_logical_bytes",
                          "total_physical_bytes", "storage_savings_percent", "replication_overhead_bytes",
                          "erasure_overhead_bytes")}

    ok = reads[reads["kind"] != "failed"]
    summary = {
        "run": {"scenario": cfg.name, "seed": cfg.run.seed, "duration_s": cfg.run.duration},
        "storage": storage(-1), "storage_initial": storage(0),
        "storage_mean_savings_percent": float(timeline["storage_savings_percent"].mean()),
        "reads": {"count": n, "failed": int((kinds == "failed").sum()),
                  "failed_unavailable": int((kinds == "failed").sum()), "failed_lost": 0,
                  "latency_ms": {k: _stats(ok.loc[ok["kind"] == k, "latency_ms"])
                                 for k in ("replication", "erasure_coding", "degraded")}
                  | {"all": _stats(ok["latency_ms"])},
                  "startup_latency_ms": _stats(views["startup_latency_ms"])},
        "recovery": {"node_failures": 1, "transient_failures": 1, "repairs": 3,
                     "time_s": {"mean": 5400.0, "p50": 5400.0, "p95": 5400.0, "max": 5400.0}, "unfinished": 0,
                     "repair_bytes_read": int(repairs["bytes_read"].sum()),
                     "repair_bytes_written": int(repairs["bytes_written"].sum())},
        "durability": {"chunks_lost": 0, "bytes_lost": 0, "unavailable_chunk_seconds": 0.0},
        "migrations": {"to_replication": 1, "to_erasure_coding": 0, "bytes_read": 9 * frag,
                       "bytes_written": 9 * size},
        "views": {"count": 20, "failed": 0},
    }
    tables = {"reads": reads, "views": views, "failures": failures, "repairs": repairs, "migrations": migrations,
              "storage_timeline": timeline, "losses": losses, "videos": videos, "node_events": node_events}
    return FakeResult(cfg, summary, tables)


@pytest.fixture
def fake_result() -> FakeResult:
    return make_fake_result()


@pytest.fixture
def fake_simulate():
    """A stand-in for ``simulation.simulate`` that returns the fake run for any config."""

    def simulate(config, progress=None):
        if progress is not None:
            progress(config.run.duration / 2, config.run.duration)
            progress(config.run.duration, config.run.duration)
        return make_fake_result(config)

    return simulate
