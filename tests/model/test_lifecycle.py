"""A living catalog: uploads are placed, readable, in their upload mode and counted; deletes free their bytes; the
books (chunk totals, node and disk bytes, the ledger) stay in step through uploads, deletes, failures and
conversions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.builders import config
from vstack_sim.model.lifecycle import UPLOAD_KEY, draw_uploads
from vstack_sim.model.simulation import Simulation
from vstack_sim.system.modes import MODE_ERASURE_CODING, MODE_REPLICATION

BASE = {
    "run": {"seed": 11, "duration": "2d"},
    "catalog": {"videos": 20, "chunks_per_video": 4, "chunk_size": 4096},
    "cluster": {"nodes": 10, "racks": 5, "node_capacity": "1GB"},
    "workload": {"uploads": {"rate": "100/d", "chunks_per_video": 3, "mean_views": 30},
                 "aging": {"preset": "f4"}},
}


def run_until(cfg, t: float) -> Simulation:
    sim = Simulation(cfg).build().start()
    sim.world.env.run(until=t)
    return sim


def books_agree(sim) -> None:
    """Every incremental total equals its recount from the arrays."""
    w = sim.world
    st, cl = w.state, w.cluster
    again = st.recount()
    assert st.existing_slots == again["existing_slots"]
    assert (st.n_short, st.n_unavailable, st.n_lost) == (again["n_short"], again["n_unavailable"], again["n_lost"])
    assert st.n_absent == int(st.absent.sum())
    assert not (st.slot_has_data & st.absent[:, None]).any()
    # Node and disk bytes: live slots, plus stale copies and layouts being converted or repaired.
    slot_bytes = st.mode_slot_bytes[st.mode][:, None] * st.slot_has_data
    per_node = np.bincount(st.slot_node[st.slot_has_data], weights=slot_bytes[st.slot_has_data],
                           minlength=cl.n_nodes)
    assert (cl.used >= per_node - 0.5).all()
    assert int(cl.used.sum()) == w.held_bytes()
    counts = st.counts()
    stored = int((~st.absent).sum())
    assert sum(counts.values()) == stored * w.weight


def test_the_schedule_is_poisson_and_its_videos_follow_the_starting_catalog():
    cfg = config(BASE, {"run": {"duration": "30d"}})
    up = draw_uploads(cfg, 20, np.random.default_rng(1))
    n, mean = len(up), 100 * 30
    assert abs(n - mean) < 4 * mean ** 0.5
    assert (np.diff(up.times) >= 0).all() and up.times.min() >= 0 and up.times.max() < 30 * 86400
    assert (up.chunk_counts == 3).all() and up.first_video == 20
    # Lognormal lifetime views with the configured mean (sigma 1.5: the sample mean is within 10 % at this size).
    assert abs(up.lifetime_views.mean() / 30 - 1) < 0.1


def test_an_upload_is_placed_readable_in_its_upload_mode_and_counted_by_the_ledger():
    cfg = config(BASE, {"workload": {"view_rate": 0}})
    sim = Simulation(cfg).build()
    w = sim.world
    first = w.starting_videos
    t_up = float(w.uploads.times[0])
    chunks = np.arange(w.catalog.first_chunk[first], w.catalog.first_chunk[first] + w.catalog.chunks_per_video[first])
    assert w.state.absent[chunks].all() and not w.video_present[first]
    assert w.catalog.keys()[first] == UPLOAD_KEY.format(0)
    before = w.storage_overhead()
    sim.start()
    w.env.run(until=t_up + 1e-6)
    assert w.video_present[first] and not w.state.absent[chunks].any()
    assert (w.state.mode[chunks] == MODE_REPLICATION).all() and w.video_mode[first] == MODE_REPLICATION
    assert (w.state.exist[chunks] == 3).all() and (w.state.slot_node[chunks, :3] >= 0).all()
    assert w.state.layout_time[chunks].min() == pytest.approx(t_up)
    after = w.storage_overhead()
    assert after["total_logical_bytes"] - before["total_logical_bytes"] == len(chunks) * 4096
    assert after["total_physical_bytes"] - before["total_physical_bytes"] == 3 * len(chunks) * 4096
    # Its slots were written through the disk queues: each disk it went to is busy until after the upload.
    disks = np.unique(w.cluster.disks.slot_disk[chunks, :3])
    assert all(max(w.cluster.disks.free_at[d]) > t_up for d in disks.tolist())
    books_agree(sim)


def test_an_uploaded_video_is_viewed_and_its_reads_succeed():
    sim = Simulation(config(BASE, {"workload": {"view_rate": 0}})).build().start().run().finalize()
    reads = sim.reads
    videos = reads.column("video_id")
    uploaded = videos >= sim.world.starting_videos
    assert uploaded.sum() > 100
    assert (reads.column("kind")[uploaded] != 3).all()
    # No view starts before its video's upload.
    t = reads.column("time_s")[uploaded]
    assert (t >= sim.world.video_uploaded_at[videos[uploaded]]).all()


def test_a_policy_that_only_codes_uploads_them_coded():
    sim = run_until(config(BASE, {"redundancy": {"policy": "erasure_coding"}}), 86400)
    w = sim.world
    stored = np.flatnonzero(w.video_present[w.starting_videos:]) + w.starting_videos
    assert len(stored) and (w.video_mode[stored] == MODE_ERASURE_CODING).all()


def test_an_override_wins_over_the_upload_mode():
    sim = Simulation(config(BASE)).build()
    w = sim.world
    first = w.starting_videos
    w.manager.set_manual_override(first, "erasure_coding")
    sim.start()
    w.env.run(until=float(w.uploads.times[0]) + 1e-6)
    assert w.video_mode[first] == MODE_ERASURE_CODING


def test_a_delete_frees_its_bytes_on_nodes_disks_and_in_the_ledger():
    cfg = config(BASE, {"workload": {"deletes": {"after": "6h"}, "view_rate": 0}})
    sim = Simulation(cfg).build()
    w = sim.world
    first = w.starting_videos
    t_up = float(w.uploads.times[0])
    sim.start()
    w.env.run(until=t_up + 1e-6)
    used_with = int(w.cluster.used.sum())
    disks_with = int(w.cluster.disks.used.sum())
    stored_with = w.storage_overhead()["total_physical_bytes"]
    ups = w.uploads.times
    # Run to just after its deletion, with no other upload or delete in between.
    t_del = t_up + 6 * 3600
    between = ((ups > t_up) & (ups <= t_del + 1e-6)).sum() + ((ups + 6 * 3600 > t_up) & (ups + 6 * 3600 <= t_del)).sum()
    w.env.run(until=t_del + 1e-6)
    assert not w.video_present[first]
    n = int(w.catalog.chunks_per_video[first])
    if between == 1:   # only its own delete
        freed = 3 * n * 4096
        assert used_with - int(w.cluster.used.sum()) == freed
        assert disks_with - int(w.cluster.disks.used.sum()) == freed
        assert stored_with - w.storage_overhead()["total_physical_bytes"] == freed
    books_agree(sim)
    assert sim.lifecycle.deleted >= 1


def test_an_upload_that_does_not_fit_is_refused_counted_and_never_viewed():
    # Room for the starting catalog and a few uploads only.
    cfg = config(BASE, {"cluster": {"node_capacity": 20_000}, "catalog": {"videos": 10, "chunks_per_video": 2},
                        "workload": {"view_rate": 0}, "redundancy": {"policy": "erasure_coding"}})
    sim = Simulation(cfg).build().start().run().finalize()
    lc = sim.lifecycle
    assert lc.refused > 0 and lc.uploaded + lc.refused == len(sim.world.uploads)
    assert (sim.world.cluster.used <= sim.world.cluster.capacity).all()
    summary = sim.collect().summary["uploads"]
    assert summary["refused"] == lc.refused and summary["views_dropped"] > 0
    refused = ~sim.world.video_present[sim.world.starting_videos:]
    videos = sim.reads.column("video_id")
    assert not np.isin(videos, np.flatnonzero(refused) + sim.world.starting_videos).any()


@pytest.mark.parametrize("seed", [1, 2])
def test_the_books_agree_after_uploads_deletes_failures_and_conversions(seed):
    cfg = config(BASE, {
        "run": {"seed": seed, "duration": "3d"},
        "workload": {"view_rate": "0.01/s", "deletes": {"after": "1d", "rate": "20/d"}},
        "failures": {"node_mttf": "2d", "permanent_fraction": 0.5, "replacement_delay": "6h"},
        "migration": {"check_interval": "1h", "popularity_measure": "windowed", "window": "6h"},
        "redundancy": {"popularity_threshold": 3},
    })
    sim = Simulation(cfg).build().start().run().finalize()
    books_agree(sim)
    summary = sim.collect().summary
    up = summary["uploads"]
    assert up["uploaded"] > 100 and up["deleted"] > 50
    assert up["stored_videos_end"] == 20 + up["uploaded"] - up["deleted"]
    assert summary["migrations"]["to_erasure_coding"] > 0


def test_a_run_without_uploads_has_no_uploads_block_and_no_absent_chunks():
    sim = Simulation(config({"run": {"duration": "1h"}})).build().start().run().finalize()
    assert "uploads" not in sim.collect().summary
    assert sim.world.state.n_absent == 0 and sim.world.uploads is None


def test_the_replicated_fraction_under_windowed_counts_reaches_its_hand_computed_steady_state():
    # Unviewed uploads (no views at all), kept 4 days, replicated for a 1-day grace, then coded at the first hourly
    # check after it: each stays replicated G + c/2 on average (plus its conversion, well under a minute here), so in
    # steady state (G + c/2) / R = 24.5 / 96 = 0.2552 of the stored bytes are replicated. Poisson uploads at 200 a
    # day keep about 800 videos stored: the interval of the batch means is the tolerance, at least 0.01.
    cfg = config({
        "run": {"seed": 4, "duration": "16d"},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 65536},
        "cluster": {"nodes": 10, "racks": 5, "node_capacity": "10GB"},
        "redundancy": {"upload_grace": "1d", "popularity_threshold": 10},
        "migration": {"check_interval": "1h", "popularity_measure": "windowed", "window": "6h",
                      "concurrent_videos": 16},
        "workload": {"uploads": {"rate": "200/d", "chunks_per_video": 2, "mean_views": 0},
                     "deletes": {"after": "4d"}},
        "outputs": {"timeline_interval": "1h"},
    })
    summary = Simulation(cfg).build().start().run().finalize().collect().summary
    steady = summary["conversions"]["replicated_fraction"]["steady_state"]
    assert steady["reached"], steady
    expected = (24 + 0.5) / 96
    assert abs(steady["mean"] - expected) < max(3 * (steady["hi"] - steady["lo"]) / 2, 0.01), (steady, expected)
    assert steady["from_s"] < 8 * 86400        # reached once the first uploads are deleted, well within the run
    assert summary["migrations"]["to_erasure_coding"] > 2000 and summary["migrations"]["to_replication"] == 0


def test_the_shipped_living_catalog_converts_both_ways_at_a_tenth_of_its_scale():
    from pathlib import Path

    from vstack_sim.model.simulation import simulate
    from vstack_sim.scenario.files import load_scenario

    path = Path(__file__).resolve().parents[2] / "scenarios" / "living-catalog.yaml"
    cfg = load_scenario(path, {"run.duration": "4d", "catalog.videos": 1000, "workload.uploads.rate": "111/d",
                               "workload.view_rate": "0.005/s", "cluster.nodes": 10, "cluster.racks": 5,
                               "workload.deletes.after": "2d", "outputs.figures": False})
    s = simulate(cfg).summary
    assert s["uploads"]["uploaded"] > 300 and s["uploads"]["deleted"] > 0
    assert s["migrations"]["to_erasure_coding"] > 100          # uploads cooling after their day of grace
    assert s["migrations"]["to_replication"] > 0               # starting videos rising past the threshold
    assert s["conversions"]["bytes_written"] > 0
