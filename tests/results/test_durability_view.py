"""The direct loss count beside the exposure estimate, in the conclusion, the key numbers and the short table."""

from __future__ import annotations

from tests.builders import config
from tests.model.test_exposure import INFLATED
from vstack_sim.model.simulation import simulate
from vstack_sim.results.conclusion import interpret
from vstack_sim.results.durability_view import durability_rows, exposure_phrase, losses_line
from vstack_sim.results.report import format_summary, key_numbers


def test_a_run_with_losses_states_the_count_the_exposure_estimate_and_the_chain_in_that_order():
    run = simulate(config(INFLATED, {"run": {"duration": "3d"}}))
    d = run.summary["durability"]
    x = d["exposure"]
    assert d["chunks_lost"] > 0 and x["episodes"] > 0
    sentence = interpret(run)[-1]
    lo, hi = x["chunks_lost_95"]
    assert sentence.startswith(f"{d['chunks_lost']:,} chunks lost (95 % {lo:.3g} to {hi:.3g}, by exposure episode); "
                               f"the run's exposure implies {x['expected_chunks_lost']:.3g} (95 % ")
    assert sentence.index("the run's exposure implies") < sentence.index("the exact chain expects")
    rows = dict((label, value) for label, value, _ in key_numbers(run))
    assert rows["Chunks lost expected from exposure (95 % interval)"].startswith(f"{x['expected_chunks_lost']:.3g} (")
    assert f"chunks lost               {d['chunks_lost']:,} (exposure: " in format_summary(run.summary)


def test_weibull_lifetimes_are_named_and_no_exposure_is_said_plainly():
    run = simulate(config(INFLATED, {"run": {"duration": "3d"},
                                     "failures": {"disk_ttf_distribution": "weibull"}}))
    assert "at the mean failure rate of the Weibull disks)" in exposure_phrase(run.summary, run.config)
    quiet = simulate(config(INFLATED, {"run": {"duration": "1h"}, "failures": {"node_mttf": "3650d",
                                                                               "disk_mttf": "3650d"}}))
    assert exposure_phrase(quiet.summary, quiet.config) == (
        "the run's exposure implies no loss: no chunk was ever one data-destroying failure from loss")
    assert quiet.summary["durability"]["exposure"]["chunks_lost_95"] is None
    rows = dict((label, value) for label, value, _ in durability_rows(quiet.summary["durability"]))
    assert "Chunks lost, 95 % interval by exposure episode" not in rows          # no loss, no interval
    assert rows["Chunks lost expected from exposure (95 % interval)"] == (
        "0 (no chunk was ever one data-destroying failure from loss)")
    assert losses_line(quiet.summary["durability"]) == "0 (exposure: 0 expected)"
    # Without any data-destroying failure the block has nothing to say: the rows and the line are as before.
    none = simulate(config(INFLATED, {"run": {"duration": "1h"}, "failures": {"node_mttf": 0, "disk_mttf": 0}}))
    assert [label for label, _, _ in durability_rows(none.summary["durability"])] == [
        "Chunks lost (bytes)", "Unavailable chunk-seconds"]
    assert losses_line(none.summary["durability"]) == "0"


def test_a_summary_without_the_block_reads_as_before(fake_result):
    d = fake_result.summary["durability"]
    assert "exposure" not in d
    assert exposure_phrase(fake_result.summary, fake_result.config) is None
    assert [label for label, _, _ in durability_rows(d)] == ["Chunks lost (bytes)", "Unavailable chunk-seconds"]
    assert losses_line(d) == "0"


def test_the_analytic_figure_is_stated_beside_the_count_and_the_exposure_estimate():
    from vstack_sim.results.durability_view import analytic_of

    run = simulate(config(INFLATED, {"run": {"duration": "3d"}}))
    d = run.summary["durability"]
    a, n = d["analytic"], d["nines"]
    sentence = interpret(run)[-1]
    assert (f"the exact chain expects about {a['expected_chunks_lost']:.2g} chunks lost over 3.00 d (independent "
            f"failures, repair in ") in sentence
    assert sentence.endswith(": the run's mean recovery time).")
    rows = dict((label, value) for label, value, _ in key_numbers(run))
    assert rows["Chunks lost expected from the exact chain (repair time)"].startswith(
        f"{a['expected_chunks_lost']:.3g} (") and "recovery.time_s.mean (measured" in rows[
        "Chunks lost expected from the exact chain (repair time)"]
    assert rows["Durability, nines of a chunk over a year: exposure / exact chain"].startswith(
        f"{n['exposure']:.2f} (95 % {n['exposure_95'][0]:.2f} to ")
    assert rows["Durability, nines of a chunk over a year: exposure / exact chain"].endswith(f" / {n['analytic']:.2f}")
    assert losses_line(d) == (f"{d['chunks_lost']:,} (exposure: {d['exposure']['expected_chunks_lost']:.3g} expected; "
                              f"chain: {a['expected_chunks_lost']:.3g})")
    # A summary written before the block: the same figure from its config, recovery time and chunks at ingest.
    old = {**run.summary, "durability": {k: v for k, v in d.items() if k not in ("analytic", "nines")}}
    again = analytic_of(old, run.config)
    assert again["mttr_s"] == a["mttr_s"] and again["mission_s"] == a["mission_s"]
    start = run.summary["storage_initial"]
    assert again["modes"]["replication"]["stripes"] == start["replication_chunks"]


def test_an_io_timed_run_without_a_finished_recovery_says_the_chain_has_no_repair_time():
    quiet = simulate(config(INFLATED, {"run": {"duration": "1h"}, "failures": {"node_mttf": "3650d",
                                                                               "disk_mttf": "3650d"}}))
    assert quiet.summary["recovery"]["time_s"] is None
    assert interpret(quiet)[-1] == (
        "No chunk was lost, and losses are not measurable in this run: the run's exposure implies no loss: no chunk "
        "was ever one data-destroying failure from loss; the exact chain has no repair time to use (repairs are "
        "I/O-timed and no recovery finished).")


def test_exponential_repair_names_the_scenarios_repair_time():
    from tests.model.test_durability_figures import EXPONENTIAL

    run = simulate(config(EXPONENTIAL))
    a = run.summary["durability"]["analytic"]
    assert interpret(run)[-1] == (
        "No chunk was lost, and losses are not measurable in this run: the run's exposure implies no loss: no chunk "
        "was ever one data-destroying failure from loss; the exact chain expects about "
        f"{a['expected_chunks_lost']:.2g} chunks lost over 2.00 d (independent failures, repair in 3.00 h: "
        "the scenario's detection timeout + repair.mttr).")
