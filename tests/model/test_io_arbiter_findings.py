"""Red-team findings on the I/O scheduler (issue 22) and the continuation-style repairs around it.

Small runs of hdd-loaded (200 videos x 20 chunks, 100 s); each takes well under a second.
"""

from pathlib import Path

import numpy as np

from vstack_sim import load_scenario
from vstack_sim.model.simulation import Simulation

HDD_LOADED = Path(__file__).resolve().parents[2] / "scenarios" / "hdd-loaded.yaml"
SMALL = {"run.duration": "100s", "run.seed": 10, "catalog.videos": 200, "catalog.chunks_per_video": 20,
         "catalog.chunk_weight": 1, "workload.view_rate": "40/s", "cluster.disks_per_node": 1, "cluster.io_slots": 1,
         "repair.io_model": "serial", "migration.check_interval": "40s", "migration.popularity_measure": "windowed",
         "migration.window": "40s", "migration.window_resolution": "10s", "redundancy.popularity_threshold": 20,
         "failures.scheduled": [{"at": "20s", "node": 0, "kind": "permanent"}],
         "failures.detection_timeout": "10s", "failures.replacement_delay": "30d"}


def run(**overrides):
    sim = Simulation(load_scenario(HDD_LOADED, overrides={**SMALL, **overrides})).build()
    sim.start().run().finalize()
    return sim


def reservations_of_running_jobs_only(sim) -> None:
    """Every write reservation a repair holds belongs to a running job, and each disk's bytes are its live slots
    plus those reservations."""
    w = sim.world
    rep, st, dk = w.repair, w.state, w.cluster.disks
    running = {}
    for jobs in rep.jobs.to.values():
        running.update(jobs)
    assert set(rep._write_disk) <= set(running), "a finished job's write reservation was never released"
    want = np.zeros(dk.n_disks, dtype=np.int64)
    for c, j in zip(*np.nonzero(dk.slot_disk >= 0), strict=True):
        if st.slot_has_data[c, j]:
            want[dk.slot_disk[c, j]] += int(st.mode_slot_bytes[st.mode[c]])
    for jid, (disk, token) in rep._write_disk.items():
        if dk.epoch[disk] == token:
            want[disk] += running[jid].slot_bytes
    ok = ~dk.failed
    assert (dk.used[ok] == want[ok]).all()


def test_a_repair_cancelled_by_a_conversion_releases_its_write_reservation():
    # Job 30 (chunk 62) reserves its write on a disk of its target, then the chunk is converted under it: _finish
    # takes the cancelled branch, which returned without _unreserve, so the bytes stayed on the disk for good and
    # later writes to that node picked its disks by a wrong free space. A hold by the I/O scheduler lengthens the
    # time between the reservation and the end, so the same happens more often under priority or a budget.
    reservations_of_running_jobs_only(run())


def test_the_same_under_the_priority_scheduler():
    reservations_of_running_jobs_only(run(**{"io.scheduler": "priority", "cluster.disks_per_node": 3, "run.seed": 3}))
