"""Repair semantics as choices (model/repair_rules.py): repair.restart (restart, resume, complete) shown on one
rebuild whose source fails midway, and repair.exponential_per (job, failure) on many failures."""

import math

import numpy as np
import pytest

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.io_ledger import COLUMNS
from vstack_sim.model.simulation import Simulation

DAY = 86400.0
SIZE = 3001              # one_stripe's chunk: a replica is 3001 bytes
W = 10
DECLARED = DAY + 900     # the default detection timeout
ROUND = SIZE / 100       # a round crosses the 100 B/s stream in 30.01 s; the disk and NIC times are far smaller


def replicated(weight=W, **repair) -> dict:
    """One replicated chunk of W rounds; its rebuild reads placement order (slot 0 first), over a 100 B/s stream."""
    return one_stripe(5, "replication", catalog={"chunk_weight": weight}, codec={"verify_payloads": weight == 1},
                      repair={"bandwidth": "100B/s", "streams_per_node": 0, "source_choice": "primary", **repair})


def rebuild(restart: str, source_fails: str | None = "transient", weight=W, at=100.0):
    """Slot 2's node fails for good at DAY; its rebuild reads slot 0, whose node fails ``source_fails`` ``at`` s
    into the rebuild (transient: back before it is declared, so no other job runs). Returns the one repair's
    row and the repair bytes read and written at the disks (every attempt's, from the I/O ledger)."""
    base = replicated(weight, restart=restart)
    nodes = layout(config(base))
    scheduled = [fail(DAY, nodes[2])]
    if source_fails:
        scheduled.append(fail(DECLARED + at, nodes[0], source_fails, 600 if source_fails == "transient" else None))
    sim = Simulation(config(base, {"failures": {"scheduled": scheduled, "replacement_delay": "30d"}}))
    r = sim.build().start().run().finalize().collect()
    rows = np.asarray(sim.world.cluster.io.rows, dtype=np.int64).sum(axis=0)
    rep = r.repairs[r.repairs["slot"] == 2]
    assert len(rep) == 1 and r.summary["durability"]["chunks_lost"] == 0
    return rep.iloc[0], int(rows[COLUMNS.index("repair_read")]), int(rows[COLUMNS.index("repair_written")]), nodes, r


def test_a_rebuild_whose_source_fails_midway_restarts_resumes_or_completes():
    quiet, quiet_read, quiet_written, nodes, _ = rebuild("restart", None)
    assert quiet_read == quiet_written == W * SIZE
    assert quiet["end_s"] - DECLARED == pytest.approx(W * ROUND, rel=0.01)

    restart, restart_read, restart_written, _, _ = rebuild("restart")
    resume, resume_read, resume_written, _, _ = rebuild("resume")
    complete, complete_read, complete_written, _, _ = rebuild("complete")

    # complete: nothing changes; it reads slot 0 while its node is down (data it could not read) and ends at
    # the time of the run without the second failure, having moved the same bytes.
    assert complete["end_s"] == quiet["end_s"] and complete["start_s"] == DECLARED
    assert complete["source_nodes"] == str(nodes[0])
    assert (complete_read, complete_written) == (W * SIZE, W * SIZE)

    # restart and resume both start again at the failure, from slot 1, on the node's streams just freed.
    for row in (restart, resume):
        assert row["start_s"] == DECLARED + 100 and row["source_nodes"] == str(nodes[1])
    # restart writes all W rounds again (to a new target); the rounds that had reached the first target are
    # written twice. resume writes each round once, on the same target, so it reads exactly those rounds less.
    kept = (restart_written - W * SIZE) // SIZE
    assert kept == 3 == int(100 // ROUND)           # rounds arrived by then: 3 x 30.01 s < 100 s
    assert resume_written == W * SIZE
    assert restart_read - resume_read == kept * SIZE
    assert resume_read > W * SIZE                    # the rounds read and not yet arrived are read again
    # restart takes a whole rebuild after the failure; resume only the W - kept rounds left.
    assert restart["end_s"] - (DECLARED + 100) == pytest.approx(W * ROUND, rel=0.01)
    assert resume["end_s"] - (DECLARED + 100) == pytest.approx((W - kept) * ROUND, rel=0.01)
    # So complete ends first (at the original time), then resume, then restart (100 s later than complete).
    assert complete["end_s"] < resume["end_s"] < restart["end_s"]
    assert restart["end_s"] == pytest.approx(complete["end_s"] + 100, abs=1e-6)


def test_complete_rebuilds_the_real_bytes_from_other_slots_when_its_source_is_destroyed():
    # One round (real bytes need W = 1) of 30 s; slot 0's node is destroyed 10 s in.
    quiet, *_ = rebuild("restart", None, weight=1)
    row, _, _, nodes, r = rebuild("complete", "permanent", weight=1, at=10.0)
    assert row["end_s"] == quiet["end_s"] and row["source_nodes"] == str(nodes[0])
    audit = r.summary["payload_audit"]
    assert audit["repairs_verified"] == len(r.repairs) == 2     # slot 2, then slot 0 once declared
    assert audit["chunks_recovered"] == 1


def test_at_one_round_resume_is_restart():
    a, a_read, a_written, _, _ = rebuild("restart", weight=1)
    b, b_read, b_written, _, _ = rebuild("resume", weight=1)
    assert a.equals(b) and (a_read, a_written) == (b_read, b_written)


def test_resume_forgets_its_rounds_when_its_target_fails_and_starts_over_elsewhere():
    first, *_ = rebuild("resume")
    target = int(first["target_node"])             # kept through the source's failure
    base = replicated(restart="resume")
    nodes = layout(config(base))
    # 100 s in, slot 0's node fails briefly (3 rounds kept on the target); 50 s later the target fails
    # briefly too: what it held is lost to the job, which starts over on another node.
    sched = [fail(DAY, nodes[2]), fail(DECLARED + 100, nodes[0], "transient", 600),
             fail(DECLARED + 150, target, "transient", 600)]
    sim = Simulation(config(base, {"failures": {"replacement_delay": "30d", "scheduled": sched}}))
    r = sim.build().start().run().finalize().collect()
    row = r.repairs[r.repairs["slot"] == 2].iloc[0]
    assert row["target_node"] != target and row["start_s"] == DECLARED + 150
    assert row["end_s"] - (DECLARED + 150) == pytest.approx(W * ROUND, rel=0.01)
    assert not sim.world.repair.resumes.kept


def exponential(per: str, failures: int = 150, seed: int = 3):
    """Uncapped exponential repair (mttr 1 h) of one node at a time: each failure's jobs all start when it is
    declared, and the next failure comes a day later, long after."""
    nodes = 10
    cfg = config({"run": {"seed": seed, "duration": f"{failures + 1}d"},
                  "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0.0},
                  "cluster": {"nodes": nodes, "racks": nodes},
                  "redundancy": {"policy": "erasure_coding"},
                  "repair": {"time_model": "exponential", "mttr": "1h", "streams_per_node": 0,
                             "exponential_per": per},
                  "failures": {"replacement_delay": "1h",
                               "scheduled": [fail((i + 1) * DAY, i % nodes) for i in range(failures)]}})
    return Simulation(cfg).build().start().run().finalize().collect()


def test_exponential_per_failure_ends_every_job_of_a_failure_together_and_recovery_is_one_draw():
    r = exponential("failure")
    f, rep = r.failures, r.repairs
    assert len(f) == 150 and f["declared"].all() and not f["censored"].any()
    assert r.summary["durability"]["chunks_lost"] == 0
    # One drawn time per failure: every job of it ends at the same instant, its recovery's end.
    ends = rep.groupby("failure_id")["end_s"]
    assert (ends.nunique() == 1).all() and (ends.size() > 20).all()
    assert np.allclose(ends.first().to_numpy(), f.set_index("failure_id")["recovery_end_s"].loc[ends.first().index])
    # Its repair time is one Exp(mttr): the mean of n draws lies within the 99 % interval around mttr
    # (z = 2.5758, sd = mttr / sqrt(n) for the exponential); a fixed seed, so this never flakes.
    repair = f["repair_s"].to_numpy()
    mttr, n = 3600.0, len(repair)
    assert abs(repair.mean() - mttr) <= 2.5758 * mttr / math.sqrt(n)


def test_exponential_per_job_makes_recovery_the_longest_of_its_jobs_draws():
    r = exponential("job")
    f, rep = r.failures, r.repairs
    per_failure = rep.groupby("failure_id").size()
    assert (rep.groupby("failure_id")["end_s"].nunique() == per_failure).all()   # a draw per job
    # The longest of m Exp(mttr) draws has mean mttr x H_m; each failure here has m jobs of its own.
    harmonic = per_failure.map(lambda m: sum(1 / i for i in range(1, m + 1)))
    expected = 3600.0 * harmonic.reindex(f["failure_id"]).to_numpy()
    assert f["repair_s"].mean() > 3 * 3600.0
    assert f["repair_s"].mean() == pytest.approx(expected.mean(), rel=0.1)


def test_the_defaults_keep_the_rule_before_issue_26():
    cfg = config({})
    assert cfg.repair.restart == "restart" and cfg.repair.exponential_per == "job"
