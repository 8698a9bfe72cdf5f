"""The interpreted conclusion and its caveat rules: each rule fires on a run it describes and not on one it
does not (docs/results.md lists the rules and thresholds)."""

from __future__ import annotations

import copy

from tests.builders import config, fail
from vstack_sim.model.simulation import simulate
from vstack_sim.results.conclusion import DETECTION_SHARE, FEW_READS, LOW_FILL, RULES, caveats, interpret, node_fill
from vstack_sim.scenario.schema import Config

DAY = 86400.0


def fired(run) -> set[str]:
    return {c.rule for c in caveats(run)}


def with_config(run, **sections):
    data = run.config.model_dump()
    for section, values in sections.items():
        data[section] = {**data[section], **values}
    out = copy.copy(run)
    out.config = Config.model_validate(data)
    return out


def test_low_fill_fires_under_5_percent_and_not_above(fake_result):
    assert node_fill(fake_result) < LOW_FILL and "low_fill" in fired(fake_result)
    physical = fake_result.summary["storage_initial"]["total_physical_bytes"]
    full = with_config(fake_result, cluster={"node_capacity": physical // fake_result.config.cluster.nodes * 4})
    assert node_fill(full) > LOW_FILL and "low_fill" not in fired(full)


def test_detection_dominated_fires_when_detection_is_most_of_recovery(fake_result):
    rec = fake_result.summary["recovery"]
    rec["detection_s"] = {"mean": DETECTION_SHARE * 5400.0 + 1}
    assert "detection_dominated" in fired(fake_result)
    rec["detection_s"] = {"mean": 60.0}
    assert "detection_dominated" not in fired(fake_result)


def test_few_reads_fires_below_1000_reads_of_a_kind(fake_result):
    fake_result.summary["reads"]["latency_ms"]["degraded"]["count"] = FEW_READS - 1
    assert "few_reads" in fired(fake_result)
    for kind in ("replication", "erasure_coding", "degraded"):
        fake_result.summary["reads"]["latency_ms"][kind]["count"] = FEW_READS
    assert "few_reads" not in fired(fake_result)


def test_late_events_fire_for_a_flash_crowd_after_the_end_and_not_within(fake_result):
    crowd = {"video": 0, "duration": 3600, "view_rate": 1.0}
    late = with_config(fake_result, workload={"flash_crowds": [{**crowd, "start": 3 * DAY}]})
    assert "late_events" in fired(late)
    assert "a flash crowd on video 0 at 3.00 d" in next(c.text for c in caveats(late) if c.rule == "late_events")
    inside = with_config(fake_result, workload={"flash_crowds": [{**crowd, "start": DAY}]})
    assert "late_events" not in fired(inside)
    assert "late_events" not in fired(with_config(fake_result, failures={"scheduled": [fail(DAY, 1)]}))
    assert "late_events" in fired(with_config(fake_result, failures={"scheduled": [fail(2 * DAY, 1)]}))


def test_replica_oracle_fires_only_with_the_oracle_choice_and_replicated_reads(fake_result):
    oracle = with_config(fake_result, reads={"replica_choice": "oracle"})
    assert "replica_oracle" in fired(oracle)
    assert "replica_oracle" not in fired(with_config(fake_result, reads={"replica_choice": "random"}))
    oracle.summary["reads"]["latency_ms"]["replication"] = None
    assert "replica_oracle" not in fired(oracle)


def test_ec_striped_states_the_layout_when_erasure_coded_reads_happened(fake_result):
    text = next(c.text for c in caveats(fake_result) if c.rule == "ec_striped")
    assert "striped" in text and "3 disk positionings" in text and "contiguous" in text
    for kind in ("erasure_coding", "degraded"):
        fake_result.summary["reads"]["latency_ms"][kind] = None
    assert "ec_striped" not in fired(fake_result)


def test_source_oracle_fires_with_oracle_sources_and_repairs_or_conversions(fake_result):
    oracle = with_config(fake_result, repair={"source_choice": "oracle"})
    assert "source_oracle" in fired(oracle)
    assert "source_oracle" not in fired(with_config(fake_result, repair={"source_choice": "random"}))
    oracle.summary["recovery"]["repairs"] = 0
    assert "source_oracle" in fired(oracle)                      # the fake run's conversion still read sources
    oracle.summary["migrations"]["to_replication"] = 0
    assert "source_oracle" not in fired(oracle)


def test_failures_known_at_once_fires_when_either_delay_is_0_and_a_node_failed(fake_result):
    for timeout, detection in ((0, 0), (0, 20), (5, 0)):
        run = with_config(fake_result, reads={"failure_timeout": timeout, "failure_detection": detection})
        assert "failures_known_at_once" in fired(run), (timeout, detection)
    real = with_config(fake_result, reads={"failure_timeout": 5, "failure_detection": 20})
    assert "failures_known_at_once" not in fired(real)
    # failure_detection is capped by failures.detection_timeout, in the run as here (effective_failure_detection)
    declared_at_once = with_config(real, failures={"detection_timeout": 0})
    assert "failures_known_at_once" in fired(declared_at_once)
    instant = with_config(fake_result, reads={"failure_timeout": 0, "failure_detection": 0})
    instant.summary["recovery"]["node_failures"] = instant.summary["recovery"]["transient_failures"] = 0
    assert "failures_known_at_once" not in fired(instant)


def test_no_cache_fires_when_both_modes_were_read_without_a_cache(fake_result):
    assert "no_cache" in fired(fake_result)
    assert "no_cache" not in fired(with_config(fake_result, cache={"capacity": "1GiB"}))
    fake_result.summary["reads"]["latency_ms"]["replication"] = None
    assert "no_cache" not in fired(fake_result)


def test_every_rule_is_in_docs_results_md():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "results.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in text for name in RULES)


def test_a_run_reports_failure_outcomes_and_the_repair_wasted_on_a_node_that_came_back():
    # Two nodes fail for 2 h with a 30 min detection timeout (declared, rebuilt, then back: stale), one is
    # permanent, one is back in 10 min (never declared).
    sched = [fail(DAY, 0, "transient", "2h"), fail(DAY, 1, "permanent", "1h"), fail(2 * DAY, 2, "transient", "10min")]
    run = simulate(config({"run": {"duration": 3 * DAY},
                           "catalog": {"videos": 20, "chunks_per_video": 4, "chunk_size": "1MiB"},
                           "cluster": {"nodes": 10, "racks": 5},
                           "failures": {"scheduled": sched, "detection_timeout": "30min"}}))
    rec = run.summary["recovery"]
    assert rec["node_failure_outcomes"] == {"permanent": 1, "transient_declared": 1, "transient_undeclared": 1}
    came_back = run.repairs[run.repairs["failure_id"] == 0]
    assert rec["wasted_repair"] == {"failures": 1, "slots": len(came_back),
                                    "bytes_read": int(came_back["bytes_read"].sum()),
                                    "bytes_written": int(came_back["bytes_written"].sum())}
    assert rec["wasted_repair"]["slots"] > 0
    lines = interpret(run)
    assert any(line.startswith("Of 3 node failures, 1 was permanent, 1 transient but declared") for line in lines)
    assert any(f"rebuilt {len(came_back):,} slots for nothing" in line for line in lines)


def test_an_unmeasurable_loss_rate_is_said_and_a_measurable_one_is_quantified():
    base = {"run": {"duration": 2 * DAY}, "catalog": {"videos": 10, "chunks_per_video": 2, "chunk_size": "64KiB"},
            "cluster": {"nodes": 8, "racks": 8}}
    rare = simulate(config(base, {"failures": {"node_mttf": "3650d", "permanent_fraction": 0.2}}))
    assert interpret(rare)[-1].startswith("No chunk was lost, and losses are not measurable in this run")
    none = simulate(config(base))
    assert "no failure destroys data in this scenario" in interpret(none)[-1]


def test_the_default_runs_report_opens_with_the_conclusion_its_split_and_the_fill_caveat(tmp_path):
    import re

    from vstack_sim.results import plots
    from vstack_sim.results.runner import run_to_folder
    from vstack_sim.scenario.files import load_scenario

    folder = run_to_folder(load_scenario(None), out=tmp_path / "default", quiet=True)
    md = (folder / "report.md").read_text(encoding="utf-8").splitlines()
    assert md[2] == "## Conclusion" and md[4].startswith("- The adaptive policy saved 42.22 % of storage")
    text = "\n".join(md)
    assert re.search(r"Recovery took 15\.\d\d min on average: 15\.00 min of detection \(failures\.detection_timeout\) "
                     r"and \d+\.\d\d s of repair\. Nodes were 0\.\d\d % full at ingest", text)
    assert "(`low_fill`)" in text and "(`detection_dominated`)" in text
    assert "rebuilt 12,105 slots for nothing" in text
    # No figure heading is cut mid-sentence: each is its figure's whole first docstring paragraph.
    headings = [line[4:] for line in md if line.startswith("### ")]
    # One declared failure: its recovery is a key-numbers row, not a one-dot distribution (issue 23).
    assert "Left out, with nothing to show: recovery_times: only 1 finished recovery: the key numbers list each." in md
    assert any(line.startswith("| Recovery times, each | 15.") for line in md)
    left = [line for line in md if line.startswith("Left out, with nothing to show: ")]
    assert len(headings) + len(left) == len(plots.FIGURES)
    assert all(h.endswith((".", ")")) for h in headings), headings


def test_hedge_primary_kept_fires_only_when_a_hedge_beat_a_waiting_primary(fake_result):
    assert "hedge_primary_kept" not in fired(fake_result)            # no hedging: no hedges block
    hedges = {"after": "p95", "sent": 10, "won": 4, "lost": 3, "cancelled": 3, "unanswered": 0,
              "primary_not_withdrawn": 0, "extra_bytes": 7, "delay_ms_at_end": 50.0}
    fake_result.summary["reads"]["hedges"] = hedges
    assert "hedge_primary_kept" not in fired(fake_result)
    hedges["primary_not_withdrawn"] = 2
    text = next(c.text for c in caveats(fake_result) if c.rule == "hedge_primary_kept")
    assert text.startswith("2 of the 4 hedges that won")


def test_mclock_approximate_fires_only_under_mclock(fake_result):
    assert "mclock_approximate" not in fired(fake_result)
    fake_result.summary["io"] = {"scheduler": "priority"}
    assert "mclock_approximate" not in fired(fake_result)
    fake_result.summary["io"] = {"scheduler": "mclock"}
    assert "mclock_approximate" in fired(fake_result)


def test_repair_completes_fires_only_when_repairs_ran_under_complete(fake_result):
    assert "repair_completes" not in fired(fake_result)
    assert fake_result.summary["recovery"]["repairs"] > 0
    assert "repair_completes" in fired(with_config(fake_result, repair={"restart": "complete"}))
    assert "repair_completes" not in fired(with_config(fake_result, repair={"restart": "resume"}))
    fake_result.summary["recovery"]["repairs"] = 0
    assert "repair_completes" not in fired(with_config(fake_result, repair={"restart": "complete"}))
