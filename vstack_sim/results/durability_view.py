"""A run's losses as the report shows them: the direct count, the exposure estimate and the analytic figure.

The summary's ``durability.exposure`` (``model/exposure.py``) holds the chunk-seconds spent one
data-destroying failure from loss and the losses they imply, with 95 % intervals for both the estimate and the
direct count. These functions word it for the conclusion (:func:`exposure_phrase`, used by
``conclusion.losses_sentence``, which puts the analytic expectation after it), the key numbers
(:func:`durability_rows`) and the short table ``vstack-sim run`` prints (:func:`losses_line`). Summaries
written before the block existed give what they gave before.

The summary's ``durability.analytic`` (``model/durability_figures.py``) is the exact chain's and the Backblaze
model's figure at the run's parameters; :func:`analytic_of` reads it (or computes it the same way for a summary
written before it) and :func:`analytic_phrase` words it. ``durability.nines`` gives both in nines a year per chunk.
"""

from __future__ import annotations

from vstack_sim.model.durability_figures import MODES, analytic_block
from vstack_sim.scenario.units import format_duration


def _g(x: float) -> str:
    return f"{x:.3g}"


def _interval(pair) -> str:
    return f"95 % {_g(pair[0])} to {_g(pair[1])}" if pair else "no interval"


def _nines(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def analytic_of(summary: dict, config) -> dict | None:
    """The run's ``durability.analytic``; for a summary written before it, the same block from the config, the
    mean recovery time and the chunks at ingest. None when no random failure destroys data."""
    d = summary.get("durability") or {}
    if "analytic" in d:
        return d["analytic"]
    start = summary.get("storage_initial") or {}
    mean = ((summary.get("recovery") or {}).get("time_s") or {}).get("mean")
    return analytic_block(config, mean, {mode: float(start.get(key, 0)) for mode, key in MODES})


def analytic_phrase(block: dict) -> str:
    """The exact chain's expected losses over the run, and the repair time it used."""
    if block["expected_chunks_lost"] is None:
        return "the exact chain has no repair time to use (repairs are I/O-timed and no recovery finished)"
    source = ("the scenario's detection timeout + repair.mttr" if block["mttr_source"].startswith("failures.")
              else "the run's mean recovery time")
    return (f"the exact chain expects about {block['expected_chunks_lost']:.2g} chunks lost over "
            f"{format_duration(block['mission_s'])} (independent failures, repair in "
            f"{format_duration(block['mttr_s'])}: {source})")


def weibull_parts(config) -> list[str]:
    """The data-destroying failures of the run whose lifetimes are Weibull (their mean rate is used)."""
    fl = config.failures
    out = []
    if fl.node_mttf > 0 and fl.permanent_fraction > 0 and fl.ttf_distribution == "weibull":
        out.append("nodes")
    if fl.disk_mttf > 0 and fl.disk_ttf_distribution == "weibull":
        out.append("disks")
    return out


def exposure_phrase(summary: dict, config) -> str | None:
    """What the run's exposure implies, for the conclusion; None without the block (an older summary)."""
    x = (summary.get("durability") or {}).get("exposure")
    if x is None:
        return None
    if not x["episodes"]:
        return "the run's exposure implies no loss: no chunk was ever one data-destroying failure from loss"
    seconds = sum(x["one_failure_from_loss_chunk_seconds"].values())
    weibull = weibull_parts(config)
    rate = f", at the mean failure rate of the Weibull {' and '.join(weibull)}" if weibull else ""
    return (f"the run's exposure implies {_g(x['expected_chunks_lost'])} "
            f"({_interval(x['expected_chunks_lost_95'])}; {_g(seconds)} chunk-seconds one data-destroying failure "
            f"from loss over {x['episodes']:,} episodes{rate})")


def counted_phrase(durability: dict) -> str:
    """The direct count with its interval from loss events, when there is one."""
    x = durability.get("exposure") or {}
    lost = durability["chunks_lost"]
    text = f"{lost:,} chunk{'' if lost == 1 else 's'} lost"
    if x.get("chunks_lost_95"):
        text += f" ({_interval(x['chunks_lost_95'])}, by exposure episode)"
    return text


def _estimated(durability: dict) -> dict | None:
    """The exposure block when it has something to say: a data-destroying hazard, exposure or a loss."""
    x = durability.get("exposure")
    if x is None or not (x["slot_hazard_per_s"]["total"] > 0 or x["episodes"] or durability["chunks_lost"]):
        return None
    return x


def losses_line(durability: dict) -> str:
    """The ``chunks lost`` line of the short summary: the count, and the exposure estimate when there is one."""
    x = _estimated(durability)
    text = f"{durability['chunks_lost']:,}"
    if x is not None:
        a = durability.get("analytic") or {}
        chain = f"; chain: {_g(a['expected_chunks_lost'])}" if a.get("expected_chunks_lost") is not None else ""
        text += f" (exposure: {_g(x['expected_chunks_lost'])} expected{chain})"
    return text


def durability_rows(durability: dict) -> list[tuple[str, str, str]]:
    """The key numbers' rows on losses: the direct count, the exposure estimate (when the run has a
    data-destroying hazard, exposure or a loss), unavailability."""
    d = durability
    rows = [("Chunks lost (bytes)", f"{d['chunks_lost']:,} ({d['bytes_lost']:,} B)", "")]
    x = _estimated(d)
    if x is not None:
        if x["chunks_lost_95"]:
            rows.append(("Chunks lost, 95 % interval by exposure episode", _interval(x["chunks_lost_95"]), ""))
        rows.append(("Chunks lost expected from exposure (95 % interval)",
                     f"{_g(x['expected_chunks_lost'])} ({_interval(x['expected_chunks_lost_95'])})" if x["episodes"]
                     else "0 (no chunk was ever one data-destroying failure from loss)", ""))
        seconds = x["one_failure_from_loss_chunk_seconds"]
        rows.append(("Chunk-seconds one data-destroying failure from loss: replication / EC",
                     f"{seconds['replication']:,.0f} / {seconds['erasure_coding']:,.0f}", ""))
    a, n = d.get("analytic"), d.get("nines")
    if a is not None:
        rows.append(("Chunks lost expected from the exact chain (repair time)",
                     f"{_g(a['expected_chunks_lost'])} ({format_duration(a['mttr_s'])}, {a['mttr_source']})"
                     if a["expected_chunks_lost"] is not None else f"n/a ({a['mttr_source']})", ""))
    if n is not None and (a is not None or x is not None):
        shown = _nines(n["exposure"])
        if n["exposure_95"]:
            lo, hi = n["exposure_95"]
            shown += f" (95 % {_nines(lo)} to {'inf' if hi is None else _nines(hi)})"
        rows.append(("Durability, nines of a chunk over a year: exposure / exact chain",
                     f"{shown} / {_nines(n['analytic'])}", ""))
    rows.append(("Unavailable chunk-seconds", f"{d['unavailable_chunk_seconds']:,.0f}", ""))
    return rows
