"""From event records to the run summary (docs/results.md lists every key).

Every number in ``summary.json`` is computed here from the model's records
(all reads, not the sampled table) and rounded to fixed decimals, so the same
config and seed give a byte-identical summary. Chunk counts and bytes are real
chunks: with ``catalog.chunk_weight`` W, each simulated chunk counts W (the
tables keep one row per simulated chunk or job, with its bytes already x W).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vstack_sim.model.conversion_cost import conversion_summary
from vstack_sim.model.dollars import cost_summary
from vstack_sim.model.durability_figures import analytic_block, nines_block, stored_chunks
from vstack_sim.model.exposure import exposure_summary

STAT_KEYS = ("mean", "p50", "p95", "p99")


def _r(x: float, nd: int = 6) -> float | None:
    if x is None or not np.isfinite(x):
        return None
    return round(float(x), nd)


def _rounded(block, nd: int):
    """A block with every float in it (nested too) rounded by :func:`_r`; ints, text and None as they are."""
    if isinstance(block, dict):
        return {k: _rounded(v, nd) for k, v in block.items()}
    return _r(block, nd) if isinstance(block, float) else block


def latency_stats(values: np.ndarray) -> dict | None:
    """count, mean, p50, p95, p99 and max of latencies in ms, exact (numpy percentiles); None when empty."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"count": int(len(values)), "mean": _r(values.mean()), "p50": _r(p50), "p95": _r(p95), "p99": _r(p99),
            "max": _r(values.max())}


LATENCY_KINDS = ("replication", "erasure_coding", "degraded", "cache", "all")


def cache_stats(cache) -> dict:
    """Hits, misses, hit ratio and byte hit ratio of the cache in front of the store, in all and by the chunk's
    mode (every chunk has the same size, so the byte hit ratio equals the hit ratio)."""
    def block(hits: int, misses: int) -> dict:
        ratio = _r(hits / (hits + misses), 6) if hits + misses else None
        return {"hits": int(hits), "misses": int(misses), "hit_ratio": ratio, "byte_hit_ratio": ratio}

    out = block(sum(cache.hits), sum(cache.misses))
    out["by_mode"] = {m: block(cache.hits[i], cache.misses[i]) for i, m in enumerate(("replication", "erasure_coding"))}
    return out


def read_latency_summary(summary: dict) -> pd.DataFrame:
    """Chunk read latency by kind over every read of the run (not the reads table, which may be a sample).

    The statistics are exact: ``build_summary`` computes them from the full latency array of all reads
    before the table is sampled. Rows are kinds with reads; columns count, mean, p50, p95, p99, max (ms).
    """
    blocks = summary["reads"]["latency_ms"]
    rows = {kind: blocks[kind] for kind in LATENCY_KINDS if blocks.get(kind)}
    columns = ["count", "mean", "p50", "p95", "p99", "max"]
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    frame.index.name = "kind"
    return frame


def time_stats(values: np.ndarray) -> dict | None:
    """mean, p50, p95, max of durations in seconds; None when empty."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    p50, p95 = np.percentile(values, [50, 95])
    return {"mean": _r(values.mean()), "p50": _r(p50), "p95": _r(p95), "max": _r(values.max())}


def failure_outcomes(failures: pd.DataFrame) -> dict:
    """Node failures by outcome: permanent (data gone), transient but declared (rebuilt, then the node came
    back and its copies were stale), and transient within the detection timeout (never declared)."""
    node = failures[failures["component"] == "node"] if "component" in failures else failures
    transient = node["kind"] == "transient"
    declared = node["declared"].astype(bool)
    return {"permanent": int(np.count_nonzero(node["kind"] == "permanent")),
            "transient_declared": int(np.count_nonzero(transient & declared)),
            "transient_undeclared": int(np.count_nonzero(transient & ~declared))}


def wasted_repair(failures: pd.DataFrame, repairs: pd.DataFrame, weight: int) -> dict:
    """Repair work done for failures whose node came back with its data: slots rebuilt, bytes read and written
    for nothing (the returning copies were there all along; the model keeps the rebuilt ones)."""
    returned = failures[(failures["kind"] == "transient") & failures["declared"].astype(bool)
                        & np.isfinite(failures["back_s"].to_numpy(dtype=np.float64))]
    # A mask, not the rows: a copy of every column of those rows was the largest temporary of the summary.
    done = repairs["failure_id"].isin(returned["failure_id"]).to_numpy()
    return {"failures": int(len(returned)), "slots": int(np.count_nonzero(done)) * weight,
            "bytes_read": int(repairs["bytes_read"].to_numpy()[done].sum()),
            "bytes_written": int(repairs["bytes_written"].to_numpy()[done].sum())}


def timeline_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def time_weighted_mean(times: np.ndarray, values: np.ndarray, t_end: float) -> float:
    """Mean of a step function that holds values[i] from times[i] to times[i+1] (the last to t_end)."""
    if len(times) == 0:
        return float("nan")
    spans = np.diff(np.append(times, t_end))
    total = spans.sum()
    if total <= 0:
        return float(values[-1])
    return float((values * spans).sum() / total)


def _recovery_split(declared: pd.DataFrame) -> dict:
    """Declared failures of one component: how many, and detection, repair and total times of those
    whose recovery finished (the censored ones are counted apart)."""
    done = declared[~declared["censored"]]
    return {"declared": int(len(declared)), "censored": int(declared["censored"].sum()),
            "detection_s": time_stats(done["detection_s"].to_numpy(dtype=np.float64)),
            "repair_s": time_stats(done["repair_s"].to_numpy(dtype=np.float64)),
            "total_s": time_stats(done["recovery_time_s"].to_numpy(dtype=np.float64))}


def rebuild_interference(times: np.ndarray, lat: np.ndarray, failures: pd.DataFrame,
                         repairs: pd.DataFrame) -> dict | None:
    """One point of the recovery frontier: the rebuild's window (the first repair job's start to the last one's end:
    the exposure window, a lower bound when repairs are still running at the end) and the read latency before the
    first failure and during that window. None when nothing was repaired."""
    if not len(repairs):
        return None
    start, end = float(repairs["start_s"].min()), float(repairs["end_s"].max())
    first = float(failures["time_s"].min())
    return {"window_s": _r(end - start), "start_s": _r(start), "end_s": _r(end),
            "read_latency_before_ms": latency_stats(lat[times < first]),
            "read_latency_during_ms": latency_stats(lat[(times >= start) & (times < end)])}


CONVERSION_SPAN_S = 300.0
"""The span before and after the first converting check over which its effect on EC reads is measured."""


def conversion_interference(times: np.ndarray, lat: np.ndarray, ec: np.ndarray, migr: pd.DataFrame,
                            check_interval: float, unfinished: int) -> dict | None:
    """One point of the conversion frontier: the first popularity check that converted videos (the earliest
    conversion's start), how long the conversions it started took, and erasure-coded read latency in the
    ``span_s`` before and after it (span: 5 minutes, or the check interval if shorter). None without a finished
    conversion."""
    if not len(migr):
        return None
    at = float(migr["start_s"].min())
    span = min(CONVERSION_SPAN_S, check_interval) if check_interval > 0 else CONVERSION_SPAN_S
    wave = migr[migr["start_s"] < at + (check_interval if check_interval > 0 else np.inf)]
    return {"at_s": _r(at), "videos": int(len(wave)), "finish_s": _r(float(wave["end_s"].max()) - at),
            "unfinished_at_end": int(unfinished), "span_s": _r(span),
            "ec_read_latency_before_ms": latency_stats(lat[ec & (times >= at - span) & (times < at)]),
            "ec_read_latency_after_ms": latency_stats(lat[ec & (times >= at) & (times < at + span)])}


def build_summary(sim, tables: dict) -> dict:
    w = sim.world
    cfg = sim.config
    reads = sim.reads
    kind = reads.column("kind")
    reason = reads.column("reason")
    lat = reads.column("latency_ms")
    times = reads.column("time_s")
    failures = tables["failures"]
    declared = failures[failures["declared"]]
    done = declared[~declared["censored"]]
    censored = declared[declared["censored"]]
    rec_times = done["recovery_time_s"].to_numpy(dtype=np.float64)
    tl = tables["storage_timeline"]
    startup = tables["views"]["startup_latency_ms"].to_numpy(dtype=np.float64)
    repairs = tables["repairs"]
    losses = tables["losses"]
    migr = tables["migrations"]
    summary = {
        "run": {
            "name": cfg.name, "seed": cfg.run.seed, "policy": cfg.redundancy.policy,
            "duration_s": _r(cfg.run.duration), "ended_s": _r(sim.end_time),
            "stopped_at_first_loss": bool(cfg.run.stop_at_first_loss and len(losses) > 0),
            "videos": w.starting_videos, "chunks": w.starting_chunks * w.weight, "chunk_weight": w.weight,
            "nodes": w.cluster.n_nodes,
        },
        "storage": w.storage_overhead(),
        "storage_initial": sim.storage_initial,
        "storage_mean_savings_percent": _r(time_weighted_mean(
            tl["time_s"].to_numpy(), tl["storage_savings_percent"].to_numpy(dtype=np.float64), sim.end_time), 4),
        "held_bytes_end": int(tl["held_bytes"].iloc[-1]),
        "reads": {
            "count": int(len(kind)),
            "failed": int(np.count_nonzero(kind == 3)),
            "failed_unavailable": int(np.count_nonzero(reason == 1)),
            "failed_lost": int(np.count_nonzero(reason == 2)),
            "failed_over": int(len(reads.failover_ms)),
            "failover_lost_ms": latency_stats(np.asarray(reads.failover_ms)),   # the failover delay's distribution
            "timed_out": int(reads.timed_out_reads),    # requests sent to a node down that the reader did not know of
            "latency_ms": {
                "replication": latency_stats(lat[kind == 0]),
                "erasure_coding": latency_stats(lat[kind == 1]),
                "degraded": latency_stats(lat[kind == 2]),
                "all": latency_stats(lat[kind != 3]),
                **({"cache": latency_stats(lat[kind == 4])} if reads.cache is not None else {}),
            },
            "startup_latency_ms": latency_stats(startup),
            **({"cache": cache_stats(reads.cache)} if reads.cache is not None else {}),
            **({"hedges": reads.hedge_summary()} if reads.hedging else {}),
            **({"late_binding": {"extra": reads.extra, "extra_fragments": reads.late_extra_fragments,
                                 "extra_bytes": reads.late_extra_fragments * w.fragment_bytes}}
               if reads.extra else {}),
        },
        "views": {
            "count": int(reads.n_views),
            "failed": int(tables["views"]["failed"].sum()),
            "bytes_served": int(w.catalog.total_bytes_served.sum()),
        },
        "recovery": {
            "node_failures": int(np.count_nonzero(declared["component"] == "node")),
            "disk_failures": int(np.count_nonzero(failures["component"] == "disk")),
            "transient_failures": int(w.transient_failures),
            "repairs": int(len(repairs)) * w.weight,
            "time_s": time_stats(rec_times),
            "unfinished": int(len(censored)),
            # Per declared failure: detection (failure to declaration), repair (declaration to fully
            # redundant or lost) and their total; recoveries open at the end are censored (lower bounds).
            "detection_s": time_stats(done["detection_s"].to_numpy(dtype=np.float64)),
            "repair_s": time_stats(done["repair_s"].to_numpy(dtype=np.float64)),
            "total_s": time_stats(rec_times),
            # The same split for node failures and for disk failures apart (all above: both).
            "by_component": {part: _recovery_split(declared[declared["component"] == part])
                             for part in ("node", "disk")},
            "censored": int(len(censored)),
            "censored_recoveries": [
                {"failure_id": int(f), "detection_s": _r(d), "repair_s": _r(r), "total_s": _r(x)}
                for f, d, r, x in zip(censored["failure_id"], censored["detection_s"], censored["repair_s"],
                                      censored["recovery_time_s"], strict=False)],
            "repair_bytes_read": int(w.repair.bytes_read),
            "repair_bytes_written": int(w.repair.bytes_written),
            "stale_slots_dropped": int(failures["stale_slots_dropped"].sum()),
            "node_failure_outcomes": failure_outcomes(failures),
            "wasted_repair": wasted_repair(failures, repairs, w.weight),
            "rebuild": rebuild_interference(times, lat, failures, repairs),
        },
        "durability": {
            "chunks_lost": int(losses["chunks"].sum()),
            "bytes_lost": int(losses["bytes"].sum()),
            "unavailable_chunk_seconds": _r(w.state.unavailable_seconds * w.weight, 3),
            "first_loss_s": _r(losses["time_s"].min()) if len(losses) else None,
            # Chunk-seconds spent with 1, 2, ... slots not available, per mode (lost chunks excluded).
            "reduced_redundancy_chunk_seconds": {
                mode: {str(d): _r(w.state.by_missing_seconds[code, d] * w.weight, 3)
                       for d in range(1, int(w.state.mode_width[code]) + 1)}
                for code, mode in enumerate(("replication", "erasure_coding"))},
            "peak_chunks_one_failure_from_loss": int(w.state.peak_critical) * w.weight,
            "peak_chunks_one_failure_from_loss_s": _r(w.state.peak_critical_s) if w.state.peak_critical else None,
            # Chunk-seconds one data-destroying failure from loss, and the losses they imply (exposure.py).
            "exposure": exposure_summary(w.state.exposure, cfg.failures, w.weight, int(losses["chunks"].sum())),
        },
        "migrations": {
            "to_replication": int(np.count_nonzero(migr["to_mode"] == "replication")),
            "to_erasure_coding": int(np.count_nonzero(migr["to_mode"] == "erasure_coding")),
            "bytes_read": int(migr["bytes_read"].sum()),
            "bytes_written": int(migr["bytes_written"].sum()),
            "first_wave": conversion_interference(times, lat, kind == 1, migr,
                                                  cfg.migration.check_interval, sim.migrator.unfinished()),
        },
        # What they cost (conversion_cost.py); 9 decimals: a share of disk bandwidth can be a few 1e-6.
        "conversions": _rounded(conversion_summary(sim, tables), 9),
    }
    # The analytic figure at the run's parameters, and nines, beside the simulated durability (durability_figures.py).
    stripes, dur = stored_chunks(tl, sim.end_time), summary["durability"]
    dur["analytic"] = analytic_block(cfg, (summary["recovery"]["time_s"] or {}).get("mean"), stripes)
    dur["nines"] = nines_block(dur["exposure"], dur["analytic"], stripes, sim.end_time)
    # Dollars at the scenario's prices (dollars.py); 9 decimals: a run's request bill can be a few 1e-6.
    summary["cost"] = _rounded(cost_summary(sim, tables, summary["conversions"]), 9)
    cpu = w.cluster.disks.cpu
    if cpu is not None:             # the daemons' CPU stage (cluster.cpu_cores_per_node > 0)
        used = cpu.utilisation(sim.end_time)
        summary["cpu"] = {"cores_per_node": cpu.cores, "per_op_s": cpu.per_op, "per_byte_s": cpu.per_byte,
                          "busy_s": _r(float(cpu.busy_by(sim.end_time).sum()), 6),
                          "utilisation_mean": _r(float(used.mean()), 6), "utilisation_max": _r(float(used.max()), 6)}
    if w.cluster.arbiter is not None:  # the I/O scheduler held background requests (io.scheduler, budgets)
        summary["io"] = w.cluster.arbiter.summary()
    counters = w.manager.policy_object.counters()
    if counters:                       # what the policy counts of its own decisions (the predictive policy's)
        summary["migrations"]["policy_counters"] = counters
    if sim.lifecycle is not None:      # a living catalog (workload.uploads, workload.deletes)
        summary["uploads"] = {**sim.lifecycle.summary(), "views_dropped": int(reads.views_dropped),
                              "reads_failed_deleted": int(np.count_nonzero(reason == 3)),
                              "stored_videos_end": int(np.count_nonzero(w.video_present))}
    if sim.audit is not None:
        summary["payload_audit"] = sim.audit
    return summary
