"""catalog.sqlite: the design's schema, copy statuses, checksums, times, SQL storage overhead, rebuild."""

from __future__ import annotations

import json
import sqlite3

import google_crc32c
import numpy as np
import pytest

from tests.builders import config, fail
from vstack_sim.cli.main import main
from vstack_sim.model.simulation import Simulation
from vstack_sim.results.catalog_db import CATALOG_FILE, EPOCH, iso_times, node_url, write_catalog
from vstack_sim.results.runner import run_to_folder
from vstack_sim.system.codec import ErasureCoder

# 20 videos x 4 chunks on 8 nodes: node 2 fails for good at 1 h (its copies are rebuilt), node 5 goes down
# at 1 d for 10 d (declared dead, rebuilt elsewhere: its old copies are stale at the end of day 2).
LAYERS = {
    "run": {"duration": "2d", "seed": 11},
    "catalog": {"videos": 20, "chunks_per_video": 4, "chunk_size": 30000, "hot_fraction": 0.2},
    "cluster": {"nodes": 8, "racks": 4},
    "failures": {"scheduled": [fail("1h", 2, "permanent", "2h"), fail("1d", 5, "transient", "10d")]},
}

# The design's CREATE TABLE chunk_fragments / video_stats, as PRAGMA table_info gives them:
# (name, type, notnull, default, pk).
DESIGN_FRAGMENTS = [
    ("fragment_id", "TEXT", 0, None, 1), ("chunk_id", "TEXT", 1, None, 0),
    ("fragment_index", "INTEGER", 1, None, 0), ("node_url", "TEXT", 1, None, 0),
    ("size_bytes", "INTEGER", 1, None, 0), ("checksum", "TEXT", 1, None, 0),
    ("status", "TEXT", 0, "'active'", 0), ("created_at", "TIMESTAMP", 0, "CURRENT_TIMESTAMP", 0)]
DESIGN_VIDEO_STATS = [
    ("video_id", "TEXT", 0, None, 1), ("view_count", "INTEGER", 0, "0", 0),
    ("last_viewed", "TIMESTAMP", 0, None, 0), ("total_bytes_served", "INTEGER", 0, "0", 0)]


def finished(cfg):
    sim = Simulation(cfg).build().start().run().finalize()
    return sim, sim.collect()


def table_info(conn, table):
    return [(r[1], r[2], r[3], r[4], r[5]) for r in conn.execute(f"PRAGMA table_info({table})")]


@pytest.fixture(scope="module")
def verified(tmp_path_factory):
    """A run that carried real bytes, and its catalog."""
    sim, result = finished(config(LAYERS, {"codec": {"verify_payloads": True}}))
    path = write_catalog(tmp_path_factory.mktemp("cat") / CATALOG_FILE, result.catalog, result.tables)
    conn = sqlite3.connect(path)
    yield sim, result, conn
    conn.close()


def test_schema_is_the_designs(verified):
    _, _, conn = verified
    assert table_info(conn, "chunk_fragments") == DESIGN_FRAGMENTS
    assert table_info(conn, "video_stats") == DESIGN_VIDEO_STATS
    chunks = {r[0]: r for r in table_info(conn, "chunks")}
    assert chunks["redundancy_mode"] == ("redundancy_mode", "TEXT", 0, "'replication'", 0)
    assert {"chunk_id", "video_id", "chunk_index", "size_bytes"} <= set(chunks)


def test_every_copy_has_a_row_with_its_status(verified):
    sim, result, conn = verified
    w = sim.world
    st = w.state
    repairs, failures = result.tables["repairs"], result.tables["failures"]
    # Nothing was lost and every repair finished: every slot is active, replicas included.
    assert not st.lost.any() and (st.job == 0).all()
    width = st.mode_width[st.mode]
    counts = dict(conn.execute("SELECT status, COUNT(*) FROM chunk_fragments GROUP BY status").fetchall())
    assert counts["active"] == int(width.sum())
    rep_rows = conn.execute("SELECT COUNT(*) FROM chunk_fragments WHERE fragment_id LIKE '%:r%' "
                            "AND status = 'active'").fetchone()[0]
    assert rep_rows == 3 * int(np.count_nonzero(st.mode == 0)) > 0
    # Stale: every slot rebuilt away from node 5, which is still down; they sit on node 5.
    fid5 = int(failures.index[(failures["node"] == 5)][0])
    moved = repairs[repairs["failure_id"] == fid5]
    assert len(moved) > 0 and counts["stale"] == len(moved) == int(w.stale_slots[5])
    urls = {r[0] for r in conn.execute("SELECT node_url FROM chunk_fragments WHERE status = 'stale'")}
    assert urls == {node_url(5, 5 % 4)}
    # Active rows name the node that holds each slot now.
    c, j = 7, 0
    key = f"{c // 4}:{c % 4}"
    url = conn.execute("SELECT node_url FROM chunk_fragments WHERE chunk_id = ? AND fragment_index = ? "
                       "AND status = 'active'", (key, j)).fetchone()[0]
    assert url == node_url(int(st.slot_node[c, j]), int(st.slot_node[c, j]) % 4)


def test_checksums_are_the_real_crc32c_of_the_stored_bytes(verified):
    sim, _, conn = verified
    w = sim.world
    coder = ErasureCoder(data_shards=3, parity_shards=2)
    meta = dict(conn.execute("SELECT key, value FROM catalog_meta"))
    assert meta["checksums"].startswith("crc32c")
    checked = 0
    for c in range(w.catalog.chunks):
        data = w.payloads.original[c]
        key = f"{int(w.catalog.chunk_video[c])}:{int(w.catalog.chunk_index[c])}"
        rows = conn.execute("SELECT fragment_index, checksum FROM chunk_fragments WHERE chunk_id = ? "
                            "AND status = 'active'", (key,)).fetchall()
        if w.state.mode[c] == 0:
            expected = {j: f"{google_crc32c.value(data):08x}" for j in range(3)}
        else:
            expected = {j: f"{google_crc32c.value(bytes(f.data)):08x}" for j, f in enumerate(coder.encode_chunk(data))}
        assert dict(rows) == expected
        checked += 1
    assert checked == w.catalog.chunks


def test_without_payloads_checksums_are_empty_and_said_so(tmp_path):
    _, result = finished(config(LAYERS))
    conn = sqlite3.connect(write_catalog(tmp_path / CATALOG_FILE, result.catalog, result.tables))
    assert {r[0] for r in conn.execute("SELECT DISTINCT checksum FROM chunk_fragments")} == {""}
    note = conn.execute("SELECT value FROM catalog_meta WHERE key = 'checksums'").fetchone()[0]
    assert note.startswith("not computed")


def test_created_at_is_iso_8601_simulated_time(verified):
    _, result, conn = verified
    assert iso_times([0.0, 90.5, np.nan]).tolist() == ["2025-01-01T00:00:00.000Z", "2025-01-01T00:01:30.500Z", None]
    assert EPOCH == "2025-01-01T00:00:00Z"
    repairs = result.tables["repairs"]
    last = repairs.sort_values("end_s").groupby(["chunk_id", "slot"]).tail(1).iloc[0]
    c = int(last["chunk_id"])
    key = f"{c // 4}:{c % 4}"
    got = conn.execute("SELECT created_at FROM chunk_fragments WHERE chunk_id = ? AND fragment_index = ? "
                       "AND status = 'active'", (key, int(last["slot"]))).fetchone()[0]
    assert got == iso_times([last["end_s"]])[0]
    untouched = conn.execute("SELECT COUNT(*) FROM chunk_fragments WHERE created_at = ?",
                             ("2025-01-01T00:00:00.000Z",)).fetchone()[0]
    assert untouched > 0


def test_storage_overhead_reproduced_in_sql_equals_summary(tmp_path):
    folder = run_to_folder(config(LAYERS, {"workload": {"view_rate": 0.01}}), out=tmp_path / "run", quiet=True)
    summary = json.loads((folder / "summary.json").read_text())
    conn = sqlite3.connect(folder / CATALOG_FILE)
    q = conn.execute
    counts = dict(q("SELECT redundancy_mode, COUNT(*) FROM chunks WHERE status = 'active' "
                    "GROUP BY redundancy_mode").fetchall())
    logical = q("SELECT SUM(size_bytes) FROM chunks WHERE status = 'active'").fetchone()[0]
    physical = dict(q("""SELECT c.redundancy_mode, SUM(f.size_bytes) FROM chunk_fragments f
                         JOIN chunks c ON c.chunk_id = f.chunk_id
                         WHERE f.status = 'active' GROUP BY c.redundancy_mode""").fetchall())
    rep, ec = physical["replication"], physical["erasure_coding"]
    baseline = logical * 3
    sql = {"replication_chunks": counts["replication"], "erasure_coded_chunks": counts["erasure_coding"],
           "total_logical_bytes": logical, "total_physical_bytes": rep + ec,
           "storage_savings_percent": round((baseline - rep - ec) / baseline * 100, 2),
           "replication_overhead_bytes": rep, "erasure_overhead_bytes": ec}
    assert sql == summary["storage"]
    assert q("SELECT COUNT(*) FROM chunk_fragments WHERE status = 'stale'").fetchone()[0] > 0


def test_catalog_off_then_built_afterwards_is_identical(tmp_path, capsys):
    on = run_to_folder(config(LAYERS), out=tmp_path / "on", quiet=True)
    off = run_to_folder(config(LAYERS, {"outputs": {"catalog": False}}), out=tmp_path / "off", quiet=True)
    assert not (off / CATALOG_FILE).exists()
    assert main(["catalog", str(off)]) == 0
    dump = {}
    for name, folder in (("on", on), ("off", off)):
        conn = sqlite3.connect(folder / CATALOG_FILE)
        dump[name] = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                      for t in ("chunk_fragments", "video_stats", "chunks", "videos", "nodes")}
        conn.close()
    assert dump["on"] == dump["off"]
    capsys.readouterr()
    assert main(["catalog", str(off)]) == 2                 # never overwrites
    assert "already exists" in capsys.readouterr().err
    assert main(["catalog", str(tmp_path / "nope")]) == 2


def test_catalog_refuses_a_folder_that_does_not_reproduce(tmp_path, capsys):
    off = run_to_folder(config(LAYERS, {"outputs": {"catalog": False}}), out=tmp_path / "off", quiet=True)
    summary = json.loads((off / "summary.json").read_text())
    summary["views"]["count"] += 1
    (off / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    assert main(["catalog", str(off)]) == 2
    assert "does not reproduce" in capsys.readouterr().err
    assert not (off / CATALOG_FILE).exists()


def test_lost_chunks_have_lost_rows(tmp_path):
    # RS(3,2) on 5 nodes, three of them lost for good at once: every chunk is lost.
    cfg = config({"run": {"duration": "1d"}, "catalog": {"videos": 2, "chunks_per_video": 3, "chunk_size": 3000},
                  "cluster": {"nodes": 5, "racks": 5}, "redundancy": {"policy": "erasure_coding"},
                  "failures": {"scheduled": [fail("1h", n, "permanent", "30d") for n in (0, 1, 2)]}})
    _, result = finished(cfg)
    conn = sqlite3.connect(write_catalog(tmp_path / CATALOG_FILE, result.catalog, result.tables))
    assert conn.execute("SELECT DISTINCT status FROM chunk_fragments").fetchall() == [("lost",)]
    assert conn.execute("SELECT COUNT(*) FROM chunk_fragments").fetchone()[0] == 6 * 5
    assert conn.execute("SELECT DISTINCT status FROM chunks").fetchall() == [("lost",)]


def test_batches_write_the_same_rows(verified, tmp_path, monkeypatch):
    import vstack_sim.results.catalog_db as catalog_db

    _, result, conn = verified
    monkeypatch.setattr(catalog_db, "BATCH", 7)     # 80 chunks, 20 videos: many batches and a ragged last one
    small = sqlite3.connect(write_catalog(tmp_path / CATALOG_FILE, result.catalog, result.tables))
    for table in ("chunk_fragments", "video_stats", "chunks", "videos"):
        assert small.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == \
            conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def test_a_full_disk_while_writing_the_catalog_is_one_line(tmp_path, capsys, monkeypatch):
    off = run_to_folder(config(LAYERS, {"outputs": {"catalog": False}}), out=tmp_path / "off", quiet=True)
    real_connect = sqlite3.connect

    def tiny_disk(*args, **kwargs):   # SQLite's own "database or disk is full" (SQLITE_FULL)
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA max_page_count=2")
        return conn

    monkeypatch.setattr(sqlite3, "connect", tiny_disk)
    assert main(["catalog", str(off)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(off / CATALOG_FILE) in err and "full" in err
    assert sorted(p.name for p in off.iterdir() if p.name.startswith(".")) == []


def test_sigterm_to_catalog_removes_its_temporary_file(tmp_path):
    import subprocess
    import sys

    off = run_to_folder(config(LAYERS, {"outputs": {"catalog": False}}), out=tmp_path / "off", quiet=True)
    # SIGTERM arrives while the temporary catalog is being written (on its first batch of rows).
    script = ("import os, signal\n"
              "import vstack_sim.results.catalog_db as c\n"
              "real = c._batches\n"
              "def batches(n):\n"
              "    os.kill(os.getpid(), signal.SIGTERM)\n"
              "    return real(n)\n"
              "c._batches = batches\n"
              "from vstack_sim.cli.main import main\n"
              f"raise SystemExit(main(['catalog', {str(off)!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 128 + 15, proc.stderr
    assert proc.stderr == "vstack-sim: error: interrupted\n"
    assert sorted(p.name for p in off.iterdir() if p.name.startswith(".") or p.name == CATALOG_FILE) == []
    assert main(["run", str(off / "scenario.yaml"), "--quiet", "--out", str(off), "--force"]) == 0


def test_catalog_refuses_an_edited_scenario_that_run_would_refuse_before_rerunning_it(tmp_path, capsys):
    # issue 19: `vstack-sim catalog` reran an edited scenario.yaml without the up-front limits and hung
    import yaml

    off = run_to_folder(config(LAYERS, {"outputs": {"catalog": False}}), out=tmp_path / "off", quiet=True)
    scenario = yaml.safe_load((off / "scenario.yaml").read_text())
    scenario["run"]["duration"] = 10000 * 86400.0
    scenario["workload"]["view_rate"] = 1000.0
    (off / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    assert main(["catalog", str(off)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"vstack-sim: error: {off / 'scenario.yaml'}: workload.view_rate:")
    assert "--allow-huge" in err and not (off / CATALOG_FILE).exists()


def test_a_living_catalog_has_its_uploads_and_marks_deleted_chunks_absent_with_no_copies(tmp_path):
    cfg = config({"run": {"duration": "2d", "seed": 5},
                  "catalog": {"videos": 10, "chunks_per_video": 2, "chunk_size": 3000},
                  "cluster": {"nodes": 6, "racks": 3},
                  "workload": {"uploads": {"rate": "50/d", "chunks_per_video": 2, "mean_views": 5},
                               "deletes": {"after": "12h"}, "view_rate": 0}})
    folder = run_to_folder(cfg, out=tmp_path / "run", quiet=True)
    summary = json.loads((folder / "summary.json").read_text())
    q = sqlite3.connect(folder / CATALOG_FILE).execute
    status = dict(q("SELECT status, COUNT(*) FROM chunks GROUP BY status").fetchall())
    assert status["absent"] == 2 * summary["uploads"]["deleted"]
    assert q("SELECT COUNT(*) FROM chunks c JOIN chunk_fragments f ON f.chunk_id = c.chunk_id "
             "WHERE c.status = 'absent'").fetchone()[0] == 0
    uploads = q("SELECT COUNT(*) FROM videos WHERE video_key LIKE 'upload-%'").fetchone()[0]
    assert uploads == summary["uploads"]["uploaded"]
    # SQL over the stored chunks gives the summary's storage, as for a fixed catalog.
    logical = q("SELECT SUM(size_bytes) FROM chunks WHERE status = 'active'").fetchone()[0]
    assert logical == summary["storage"]["total_logical_bytes"]
