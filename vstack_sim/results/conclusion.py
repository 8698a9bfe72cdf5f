"""What a run's numbers mean: the interpreted conclusion at the top of every report, and its caveats.

:func:`interpret` writes a few sentences computed from the results, never fixed text: what the policy
saved against all-replication and all-EC, which read kind was faster at p50 and p99 (with a block-bootstrap
interval) and why, what recovery time was made of, how node failures ended, and whether the run's failure
rates could show a loss at all (the exposure estimate, then the exact birth-death chain's expectation from the
summary's ``durability.analytic``).

:func:`caveats` applies the rules of :data:`RULES`, each a named test with a threshold that
``docs/results.md`` lists; a caveat appears only when its rule fires on this run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vstack_sim.analysis.interference import quantile_difference
from vstack_sim.results.durability_view import analytic_of, analytic_phrase, counted_phrase, exposure_phrase
from vstack_sim.scenario.reads_schema import effective_failure_detection
from vstack_sim.scenario.units import format_bytes, format_duration, plural

LOW_FILL = 0.05
"""Mean node fill at ingest below which rebuild times say little about production (docs/results.md)."""
DETECTION_SHARE = 0.5
"""Share of the mean recovery time spent detecting above which recovery is 'dominated by detection'."""
FEW_READS = 1000
"""Reads of a kind below which its p99 rests on too few reads to quote alone."""
NOT_MEASURABLE = 0.1
"""Expected chunks lost below which the run's losses are 'not measurable'."""

KINDS = (("replication", "replicated"), ("erasure_coding", "erasure-coded"), ("degraded", "degraded"))


@dataclass(frozen=True)
class Caveat:
    """A rule that fired: ``rule`` is its name in docs/results.md, ``text`` what it says of this run."""

    rule: str
    text: str


def _get(block, *keys):
    for key in keys:
        if not isinstance(block, dict):
            return None
        block = block.get(key)
    return block


def node_fill(run) -> float:
    """Mean node fill at ingest: physical bytes over the cluster's capacity."""
    cl = run.config.cluster
    return run.summary["storage_initial"]["total_physical_bytes"] / (cl.nodes * cl.node_capacity)


def _pct(x: float) -> str:
    return f"{x:.2f} %"


# --------------------------------------------------------------------------- the sentences

def savings_sentence(run) -> str:
    from vstack_sim.results.plots import storage_baselines

    base = storage_baselines(run)
    start, end = run.summary["storage_initial"], run.summary["storage"]
    all_ec = 100.0 * (1.0 - base["all_erasure_coding"] / base["all_replication"])
    policy = run.config.redundancy.policy
    text = (f"The {policy} policy saved {_pct(start['storage_savings_percent'])} of storage against "
            f"all-replication at the start and {_pct(end['storage_savings_percent'])} at the end "
            f"({format_bytes(end['total_physical_bytes'])} for {base['chunks']:,} chunks)")
    gap = all_ec - end["storage_savings_percent"]
    if abs(gap) < 0.005:
        return text + f"; all-EC saves the same {_pct(all_ec)}."
    return text + f"; all-EC would save {_pct(all_ec)}, {abs(gap):.2f} points {'more' if gap > 0 else 'less'}."


def _interval(d: dict) -> str:
    if not math.isfinite(d["low"]):
        return f"{abs(d['diff']):,.2f} ms"
    lo, hi = sorted((abs(d["low"]), abs(d["high"]))) if d["low"] * d["high"] > 0 else (d["low"], d["high"])
    return f"{abs(d['diff']):,.2f} ms [{lo:,.2f}, {hi:,.2f}]"


def reads_sentence(run) -> str:
    """Replicated against erasure-coded (normal) reads at p50 and p99, with 95 % block-bootstrap intervals."""
    reads = run.tables.get("reads") if hasattr(run, "tables") else None
    lat = run.summary["reads"]["latency_ms"]
    if reads is None or not len(reads) or not lat.get("replication") or not lat.get("erasure_coding"):
        have = [label for kind, label in KINDS if lat.get(kind)]
        return (f"Only {' and '.join(have)} reads happened, so the read kinds cannot be compared."
                if have else "No chunk read succeeded, so there is no read latency to compare.")
    seed = run.config.run.seed
    parts, slower_at = [], {}
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        d = quantile_difference(reads, "replication", "erasure_coding", q, seed=seed)
        if d is None:
            continue
        same = math.isfinite(d["low"]) and d["low"] <= 0 <= d["high"]
        faster = "erasure-coded" if d["diff"] < 0 else "replicated"
        # diff = quantile(erasure-coded) - quantile(replicated): positive when erasure-coded reads are slower
        slower_at[name] = None if same else ("erasure-coded" if d["diff"] > 0 else "replicated")
        parts.append(f"at {name} no different ({d['a_ms']:,.2f} against {d['b_ms']:,.2f} ms; the 95 % interval "
                     f"of the difference holds 0)" if same else
                     f"at {name} {faster} reads were faster by {_interval(d)}")
    sample = " (from the reads table, a sample)" if len(reads) < run.summary["reads"]["count"] else ""
    return f"Replicated against erasure-coded reads{sample}: {'; '.join(parts)}. {_mechanism(slower_at)}"


def _mechanism(slower_at: dict) -> str:
    if slower_at.get("p99") == "erasure-coded":
        return ("An erasure-coded read waits for the slowest of its k fragment reads, each paying a positioning, "
                "so the busiest disk of k sets its tail.")
    if slower_at.get("p50") == "replicated" or slower_at.get("p99") == "replicated":
        return ("Erasure-coded reads fetch k fragments of 1/k of the chunk in parallel, so on lightly loaded disks "
                "the slowest of k still finishes before one whole-chunk read; hot replicated videos also meet "
                "more queueing on their few disks.")
    return "Neither layout's mechanism (k parallel positionings against one whole-chunk read) dominates here."


def recovery_sentence(run) -> str:
    rec = run.summary["recovery"]
    total = _get(rec, "time_s", "mean")
    if total is None:
        return "No failure was declared and recovered, so there is no recovery time to explain."
    detection, repair = _get(rec, "detection_s", "mean"), _get(rec, "repair_s", "mean")
    fill = node_fill(run)
    text = f"Recovery took {format_duration(total)} on average"
    if detection is not None and repair is not None:
        text += (f": {format_duration(detection)} of detection (failures.detection_timeout) and "
                 f"{format_duration(repair)} of repair")
    text += f". Nodes were {100 * fill:.2f} % full at ingest"
    if fill < LOW_FILL:
        return text + (", so these rebuilds are far shorter than a production node's; catalog.chunk_weight "
                       "fills nodes to production levels (docs/production-scale.md).")
    return text + "."


def failures_sentence(run) -> str | None:
    rec = run.summary["recovery"]
    outcomes, wasted = rec.get("node_failure_outcomes"), rec.get("wasted_repair")
    if not outcomes:
        return None
    n = sum(outcomes.values())
    if n == 0:
        return None
    were = "was" if outcomes["permanent"] == 1 else "were"
    text = (f"Of {plural(n, 'node failure')}, {outcomes['permanent']:,} {were} permanent, "
            f"{outcomes['transient_declared']:,} transient but declared (rebuilt, then the node came back) "
            f"and {outcomes['transient_undeclared']:,} back within the detection timeout")
    if wasted and wasted["slots"]:
        text += (f"; repairs for nodes that came back rebuilt {wasted['slots']:,} slots for nothing "
                 f"({format_bytes(wasted['bytes_read'])} read, {format_bytes(wasted['bytes_written'])} written)")
    return text + "."


def losses_sentence(run) -> str:
    """The direct loss count, what the run's exposure implies, then the analytic figure (durability_view.py)."""
    lost = run.summary["durability"]["chunks_lost"]
    block = analytic_of(run.summary, run.config)
    if block is None:
        return (f"{plural(lost, 'chunk')} lost; no failure destroys data in this scenario (no permanent node or "
                f"disk failures at random), so only scheduled failures could cause a loss.")
    what = analytic_phrase(block)
    exposure = exposure_phrase(run.summary, run.config)
    if exposure:
        what = f"{exposure}; {what}"
    expected = block["expected_chunks_lost"]
    if expected is None:    # no chain figure: the exposure estimate judges alone
        expected = (run.summary["durability"].get("exposure") or {}).get("expected_chunks_lost", 0.0)
    if expected < NOT_MEASURABLE and lost == 0:
        return f"No chunk was lost, and losses are not measurable in this run: {what}."
    return f"{counted_phrase(run.summary['durability'])}; {what}."


def interpret(run) -> list[str]:
    """The conclusion: a few sentences computed from the run's summary, tables and config."""
    out = [savings_sentence(run), reads_sentence(run), recovery_sentence(run), failures_sentence(run),
           losses_sentence(run)]
    return [line for line in out if line]


# --------------------------------------------------------------------------- caveats

def _low_fill(run) -> str | None:
    fill = node_fill(run)
    if fill < LOW_FILL and _get(run.summary, "recovery", "time_s", "mean") is not None:
        return (f"Nodes are {100 * fill:.2f} % full at ingest (under {100 * LOW_FILL:.0f} %): rebuild times are "
                f"not those of production nodes; see catalog.chunk_weight.")
    return None


def _detection_dominated(run) -> str | None:
    total = _get(run.summary, "recovery", "time_s", "mean")
    detection = _get(run.summary, "recovery", "detection_s", "mean")
    if total and detection is not None and detection >= DETECTION_SHARE * total:
        return (f"Recovery is dominated by detection: {format_duration(detection)} of "
                f"{format_duration(total)} on average is failures.detection_timeout, not repair.")
    return None


def _few_reads(run) -> str | None:
    lat = run.summary["reads"]["latency_ms"]
    few = [f"{label} ({lat[kind]['count']:,})" for kind, label in KINDS
           if lat.get(kind) and lat[kind].get("count", FEW_READS) < FEW_READS]
    if few:
        return (f"Fewer than {FEW_READS:,} reads of a kind: {', '.join(few)}; their p99 rests on few reads.")
    return None


def late_events(config) -> list[str]:
    """Scheduled events at or after the end of the run (they never happen)."""
    end = config.run.duration
    out = [f"a flash crowd on video {fc.video} at {format_duration(fc.start)}"
           for fc in config.workload.flash_crowds if fc.start >= end]
    out += [f"a view of video {v.video} at {format_duration(v.at)}" for v in config.workload.scheduled_views
            if v.at >= end]
    out += [f"a scheduled failure at {format_duration(f.at)}" for f in config.failures.scheduled if f.at >= end]
    if config.failures.trace is not None:
        from vstack_sim.scenario.failure_trace import load_trace

        try:
            events = load_trace(config.failures.trace, config.cluster.nodes, config.cluster.racks)
        except ValueError:
            events = ()
        late = sum(1 for e in events if e.at >= end)
        if late:
            out.append(f"{plural(late, 'event')} of failures.trace")
    return out


def _late_events(run) -> str | None:
    late = late_events(run.config)
    if late:
        return (f"Scheduled after the end of the run ({format_duration(run.config.run.duration)}), so never "
                f"happened: {'; '.join(late)}.")
    return None


def _happened(run, kind: str) -> bool:
    """Reads of ``kind`` happened (its latency block is there)."""
    return bool(_get(run.summary, "reads", "latency_ms", kind))


def _ec_striped(run) -> str | None:
    if _happened(run, "erasure_coding") or _happened(run, "degraded"):
        k = run.config.redundancy.data_shards
        return (f"Erasure-coded reads are striped: a chunk is split over its {k} data fragments, so a normal read "
                f"costs {k} disk positionings and waits for the slowest; a contiguous layout (f4, Azure: an object "
                f"inside one data block) costs one. The EC read latencies here are the striped layout's.")
    return None


def _replica_oracle(run) -> str | None:
    if run.config.reads.replica_choice == "oracle" and _happened(run, "replication"):
        return ("Replicated reads go to the replica whose disk would serve them first (reads.replica_choice: "
                "oracle), knowledge no client has: their latency is an upper bound on what replication achieves.")
    return None


def _source_oracle(run) -> str | None:
    rebuilt = _get(run.summary, "recovery", "repairs") or 0
    converted = (_get(run.summary, "migrations", "to_replication") or 0) + (
        _get(run.summary, "migrations", "to_erasure_coding") or 0)
    if run.config.repair.source_choice == "oracle" and (rebuilt or converted):
        return ("Repairs and conversions read the copies whose disks would start soonest (repair.source_choice: "
                "oracle), knowledge no scheduler has: their times, and the reads they delay, are a best case.")
    return None


def _failures_known_at_once(run) -> str | None:
    rd = run.config.reads
    failed = (_get(run.summary, "recovery", "node_failures") or 0) + (
        _get(run.summary, "recovery", "transient_failures") or 0)
    if ((rd.failure_timeout == 0 or effective_failure_detection(run.config) == 0) and failed
            and _get(run.summary, "reads", "count")):
        return ("Reads that meet a failed node fail over at once (reads.failure_timeout, or reads.failure_detection "
                "capped by failures.detection_timeout, is 0): a node failure costs them no timeout, so its latency "
                "spike does not appear.")
    return None


def _no_cache(run) -> str | None:
    if not run.config.cache.capacity and _happened(run, "replication") and (
            _happened(run, "erasure_coding") or _happened(run, "degraded")):
        return ("No cache is in front of the store (cache.capacity 0): every read, the popular videos' too, reaches "
                "the disks. A video service's CDN or front-end cache would absorb most of the popular reads, which "
                "changes the case for replicating them.")
    return None


def _hedge_primary_kept(run) -> str | None:
    kept = _get(run.summary, "reads", "hedges", "primary_not_withdrawn") or 0
    if kept:
        won = _get(run.summary, "reads", "hedges", "won")
        return (f"{kept:,} of the {won:,} hedges that won answered while their primary still waited at its disk; "
                "a real client would have withdrawn it, but under reads.hedge_withdraw: keep its disk and NIC time "
                "were spent. Hedged replicated latencies are a little pessimistic (exact, the default, withdraws it).")
    return None


def _mclock_approximate(run) -> str | None:
    io = run.summary.get("io") or {}
    if io.get("scheduler") == "mclock":
        return ("The mclock scheduler here is an approximation of dmClock: client reads are never held, and a "
                "background request admitted on its reservation joins the tail of its disk's queue instead of "
                "overtaking client reads already queued (docs/model.md, \"I/O classes at the disks\").")
    return None


def _repair_completes(run) -> str | None:
    if run.config.repair.restart == "complete" and (_get(run.summary, "recovery", "repairs") or 0):
        return ("Rebuilds complete whatever fails under them (repair.restart: complete, SimEDC's rule): a rebuild "
                "whose source failed went on reading data that no longer existed, and ended when it would have. "
                "Repair times and losses are a best case, kept for comparison with peers that assume it.")
    return None


RULES = {
    "low_fill": _low_fill,
    "detection_dominated": _detection_dominated,
    "few_reads": _few_reads,
    "late_events": _late_events,
    "ec_striped": _ec_striped,
    "replica_oracle": _replica_oracle,
    "source_oracle": _source_oracle,
    "failures_known_at_once": _failures_known_at_once,
    "no_cache": _no_cache,
    "hedge_primary_kept": _hedge_primary_kept,
    "mclock_approximate": _mclock_approximate,
    "repair_completes": _repair_completes,
}
"""Each caveat rule by name (docs/results.md gives each its threshold); a rule returns its text, or None."""


def caveats(run) -> list[Caveat]:
    """The caveats that apply to this run, in the order of :data:`RULES`."""
    out = []
    for name, rule in RULES.items():
        text = rule(run)
        if text:
            out.append(Caveat(name, text))
    return out
