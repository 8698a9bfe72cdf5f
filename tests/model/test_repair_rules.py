"""Repair semantics as choices (model/repair_rules.py): repair.restart (restart, resume, complete) shown on one
rebuild whose source fails midway, and repair.exponential_per (job, failure) on many failures."""

import math

import numpy as np
import pytest

from tests.builders import config, fail, layout, merge, one_stripe
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


# W = 1 only under complete (its real bytes come from other slots when a source is gone): at W = 1 resume is restart.
@pytest.mark.parametrize("weight, restart", [(1, "complete"), (20, "restart"), (20, "resume"), (20, "complete")])
def test_the_books_balance_under_every_rule_with_node_and_disk_failures(restart, weight, monkeypatch):
    # Random node and disk failures over slow rebuilds (some lose a source midway), conversions running: the
    # bytes each node holds, the state's counts and (W = 1) the real bytes rebuilt all stay right.
    from tests.model.test_repair import CheckedSimulation
    from vstack_sim.model.repair_rules import OnFailure

    hit = []
    sources_failed = OnFailure._sources_failed
    monkeypatch.setattr(OnFailure, "_sources_failed", lambda self, jobs: (hit.extend(jobs), sources_failed(self, jobs)))

    cfg = config({
        "run": {"seed": 11, "duration": "2d"},
        "catalog": {"videos": 30, "chunks_per_video": 4, "chunk_size": 30_000, "hot_fraction": 0.2,
                    "zipf_alpha": 0.3, "chunk_weight": weight},
        "cluster": {"nodes": 10, "racks": 5, "disks_per_node": 2},
        "codec": {"verify_payloads": weight == 1},
        "repair": {"bandwidth": f"{150 * weight}B/s", "restart": restart},
        "migration": {"check_interval": "30min", "popularity_measure": "windowed", "window": "2h",
                      "window_resolution": "30min", "conversion_rate": "20kB/s"},
        "workload": {"view_rate": "0.3/s"},
        "failures": {"node_mttf": "2d", "permanent_fraction": 0.5, "transient_downtime": "2h",
                     "detection_timeout": "20min", "replacement_delay": "3h", "disk_mttf": "6d"},
        "outputs": {"timeline_interval": "10min"},
    })
    sim = CheckedSimulation(cfg).build().start().run().finalize()
    r = sim.collect()
    st = sim.world.state
    again = st.recount()
    assert (st.n_short, st.n_unavailable, st.n_lost) == (again["n_short"], again["n_unavailable"], again["n_lost"])
    assert sim.samples > 250 and len(r.repairs) > 50 and len(hit) > 0
    if weight == 1:
        assert r.summary["payload_audit"]["repairs_verified"] == len(r.repairs)


@pytest.mark.parametrize("restart", ["restart", "resume", "complete"])
def test_a_rebuild_whose_target_disk_fails_starts_over_and_the_node_bytes_stay_right(restart):
    # Before issue 26 the target node lost the job's reserved bytes twice: with the disk, and as the job let go.
    from tests.model.test_repair import CheckedSimulation

    base = merge(replicated(restart=restart), {"run": {"duration": "1.05d"}, "cluster": {"disks_per_node": 2},
                                               "outputs": {"timeline_interval": "10s"}})
    first = [fail(DAY, layout(config(base))[2])]
    probe = Simulation(config(base, {"failures": {"scheduled": first, "replacement_delay": "30d"}})).build().start()
    probe.world.env.run(until=DECLARED + 50)
    (job,) = [j for jobs in probe.world.repair.jobs.to.values() for j in jobs.values()]
    disk = probe.world.repair.write_disk(job) - 2 * job.target          # the write's disk, on its node
    sched = first + [{"at": DECLARED + 100, "node": job.target, "disk": disk}]
    sim = CheckedSimulation(config(base, {"failures": {"scheduled": sched, "replacement_delay": "30d"}}))
    r = sim.build().start().run().finalize().collect()
    assert sim.samples > 500                        # the used invariant held at each (CheckedSimulation)
    row = r.repairs.iloc[0]
    assert row["start_s"] == DECLARED + 100 and row["target_node"] != job.target
