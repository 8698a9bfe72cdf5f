"""catalog.source: your own videos file drives the catalog, its keys and the choice of videos viewed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.builders import config
from vstack_sim.cli.main import main
from vstack_sim.model.simulation import Simulation
from vstack_sim.results.runner import run_to_folder
from vstack_sim.scenario.catalog_source import load_videos_csv
from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.reading import SCENARIO_DIR, ScenarioError


def write(tmp_path: Path, text: str, name: str = "videos.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("", "line 1: the file is empty"),
    ("video_id,views,chunks\n", "line 2: no videos"),
    ("video_id,chunks\na,3\n", "line 1, column views: missing column"),
    ("views,chunks\n3,3\n", "line 1, column video_id: missing column"),
    ("video_id,views\na,3\n", "line 1, column chunks: missing column"),
    ("video_id,views,chunks,bytes\na,3,1,10\n", "line 1, column chunks: give chunks or bytes, not both"),
    ("video_id,views,chunks,colour\na,3,1,red\n", "line 1, column colour: unknown column"),
    ("video_id,views,chunks\na,3,2\nb,-4,2\n", "line 3, column views: must be a non-negative integer, got '-4'"),
    ("video_id,views,chunks\na,3,2\nb,2.5,2\n", "line 3, column views: must be a non-negative integer, got '2.5'"),
    ("video_id,views,chunks\na,3,2\nb,many,2\n", "line 3, column views: must be a non-negative integer, got 'many'"),
    ("video_id,views,chunks\na,3,2\nb,,2\n", "line 3, column views: must be a non-negative integer, got ''"),
    ("video_id,views,chunks\na,3,2\nb,4,0\n", "line 3, column chunks: must be an integer >= 1, got '0'"),
    ("video_id,views,chunks\na,3,2\nb,4,1\na,5,1\n", "line 4, column video_id: duplicate id 'a' (first on line 2)"),
    ("video_id,views,chunks\na,3,2\n\nb,4,1\n", "line 3, column video_id: empty id"),
    ("video_id,views,bytes,uploaded_at\na,3,10,2024-01-01T00:00:00Z\nb,4,1,last tuesday\n",
     "line 3, column uploaded_at: not an ISO 8601 time"),
    # Counts are bounded per row (issue 19): nothing is cast to int64, summed or handed to NumPy unchecked.
    ("video_id,views,chunks\na,1,9223372036854775807\nb,1,9223372036854775807\nc,1,4\n",
     "line 2, column chunks: 9223372036854775807 is over the limit of 2,147,483,647"),
    ("video_id,views,chunks\na,1,2\nb,1,2147483648\n", "line 3, column chunks: 2147483648 is over the limit"),
    ("video_id,views,chunks\na,1,2\nb,1,99999999999999999999999\n", "line 3, column chunks: 99999999999999999999999"),
    ("video_id,views,chunks\na,1,2\nb,1,-99999999999999999999999\n", "line 3, column chunks: must be an integer >= 1"),
    ("video_id,views,chunks\na,1,2\nb," + "9" * 5000 + ",1\n", "line 3, column views: must be a non-negative integer, "
     "got '9999999999999999999999999999999999999999... (5,000 characters)'"),
    ("video_id,views,chunks\na,4611686018427387904,1\nb,4611686018427387904,1\nc,4611686018427387904,1\nd,5,1\n",
     "line 2, column views: 4611686018427387904 is over the limit of 9,007,199,254,740,992"),
    ("video_id,views,chunks\na,18446744073709551615,1\n", "line 2, column views: 18446744073709551615 is over"),
    ("video_id,views,chunks\na,9007199254740993,1\n", "line 2, column views: 9007199254740993 is over the limit"),
    ("video_id,views,chunks\na,4503599627370496,1\nb,4503599627370496,1\nc,1,1\n",
     "line 4, column views: the views up to this line add up to more than 9,007,199,254,740,992"),
    ("video_id,views,bytes\na,1,4611686018427387905\n", "line 2, column bytes: 4611686018427387905 is over"),
    ("video_id,views,chunks\na,1,1\n\"b\nc\",1,1\n", "line 3, column video_id: the id 'b\\nc' holds a control "
     "character ('\\n')"),
    ("video_id,views,chunks\na,1,1\nb\x00,1,1\n", "line 3, column video_id: the id 'b\\x00' holds a control"),
])
def test_bad_files_name_the_line_and_column(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as err:
        load_videos_csv(path)
    assert str(err.value).startswith(f"catalog.source: {path} ")
    assert message in str(err.value)


def test_bad_file_through_the_cli_is_one_line_with_the_scenario_line(tmp_path, capsys):
    write(tmp_path, "video_id,views,chunks\na,3,2\nb,-1,2\n")
    scenario = write(tmp_path, "name: x\ncatalog:\n  source: videos.csv\n", "x.yaml")
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 3, column views" in err and "x.yaml:2" in err


def test_ids_views_and_lengths_come_from_the_file(tmp_path):
    path = write(tmp_path, "video_id,views,bytes,size_class\n007,5000,5000,long\nabc,10,1,short\nz z,0,10001,\n")
    src = load_videos_csv(path)
    assert src.keys.tolist() == ["007", "abc", "z z"]           # ids stay text
    assert src.chunk_counts(2500).tolist() == [2, 1, 5]
    cfg = config({"catalog": {"source": str(path), "chunk_size": 2500}, "cluster": {"nodes": 6, "racks": 3}})
    assert cfg.catalog.videos == 3 and cfg.expected_chunks() == 8
    w = Simulation(cfg).build().world
    assert w.catalog.starting_views.tolist() == [5000, 10, 0]
    assert w.video_mode.tolist() == [0, 1, 1]                     # the real manager: 5000 > 1000
    folder = run_to_folder(cfg, out=tmp_path / "run", quiet=True)
    conn = sqlite3.connect(folder / "catalog.sqlite")
    assert conn.execute("SELECT video_id, view_count FROM video_stats ORDER BY video_id").fetchall() == [
        ("007", 5000), ("abc", 10), ("z z", 0)]
    assert conn.execute("SELECT video_key, size_class FROM videos ORDER BY video_id").fetchall() == [
        ("007", "long"), ("abc", "short"), ("z z", "")]
    assert {r[0] for r in conn.execute("SELECT video_id FROM chunks")} == {"007", "abc", "z z"}
    assert conn.execute("SELECT chunk_id FROM chunks WHERE video_id = '007' ORDER BY chunk_index").fetchall() == [
        ("007:0",), ("007:1",)]


def test_views_follow_the_files_popularity(tmp_path):
    # Views 6000 : 3000 : 1000 : 0; 4000 views during the run fall about 60 / 30 / 10 / 0 %.
    path = write(tmp_path, "video_id,views,chunks\na,6000,1\nb,3000,1\nc,1000,1\nd,0,1\n")
    cfg = config({"run": {"duration": "4000s"}, "catalog": {"source": str(path), "chunk_size": 1000},
                  "cluster": {"nodes": 6, "racks": 3}, "workload": {"view_rate": 1.0}})
    sim = Simulation(cfg).build().start().run().finalize()
    cat = sim.world.catalog
    run_views = cat.view_count - cat.starting_views
    n = run_views.sum()
    share = run_views / n
    # Multinomial: 4 standard errors of each share (sd = sqrt(p (1 - p) / n)).
    p = np.array([0.6, 0.3, 0.1, 0.0])
    assert n > 3500
    assert np.all(np.abs(share - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12)
    assert run_views[3] == 0


def test_videos_must_agree_with_the_file(tmp_path):
    path = write(tmp_path, "video_id,views,chunks\na,1,1\nb,2,1\n")
    scenario = write(tmp_path, f"catalog:\n  source: {path.name}\n  videos: 5\n", "s.yaml")
    with pytest.raises(ScenarioError, match="catalog.videos: 5 but catalog.source has 2 videos"):
        load_scenario(scenario)


def test_shipped_example_loads_relative_to_its_scenario():
    cfg = load_scenario(SCENARIO_DIR / "own-catalog.yaml")
    assert Path(cfg.catalog.source) == (SCENARIO_DIR / "examples" / "videos.csv").resolve()
    src = load_videos_csv(cfg.catalog.source)
    assert 200 <= src.videos <= 1000 and cfg.catalog.videos == src.videos
    views = np.sort(src.views)[::-1]
    # Heavy-tailed: the top 5 % of videos hold far more than 5 % of the views.
    assert views[: src.videos // 20].sum() > 0.3 * views.sum()


def test_shipped_own_catalog_ingests_the_files_hot_videos_as_replicas():
    import pandas as pd

    cfg = load_scenario(SCENARIO_DIR / "own-catalog.yaml", ["run.duration=1h", "workload.view_rate=0"])
    sim = Simulation(cfg).build()
    df = pd.read_csv(SCENARIO_DIR / "examples" / "videos.csv", dtype={"video_id": str})
    chunks = -(-df["bytes"] // cfg.catalog.chunk_size)
    storage = sim.storage_initial
    assert storage["replication_chunks"] == int(chunks[df["views"] > 1000].sum()) > 0
    assert storage["erasure_coded_chunks"] == int(chunks[df["views"] <= 1000].sum())
    assert sim.world.catalog.keys().tolist() == df["video_id"].tolist()


def test_counts_at_their_limits_are_exact(tmp_path):
    # Three videos at the per-video chunk limit: their total is summed exactly, past int32 (and an int64 sum of
    # larger rows would have wrapped), so the limits see the true number.
    path = write(tmp_path, "video_id,views,chunks\na,9007199254740992,2147483647\nb,0,2147483647\nc,0,4\n")
    src = load_videos_csv(path)
    assert src.total_chunks(1) == 2 * (2**31 - 1) + 4 and isinstance(src.total_chunks(1), int)
    assert src.total_views() == 2**53


def test_bytes_making_too_many_chunks_name_the_line(tmp_path):
    path = write(tmp_path, "video_id,views,bytes\na,1,10\nb,1,4611686018427387904\n")
    src = load_videos_csv(path)
    with pytest.raises(ValueError, match=r"line 3, column bytes: 4,611,686,018,427,387,904 bytes are "
                                         r"4,398,046,511,104 chunks of 1,048,576 bytes; a video has at most"):
        src.chunk_counts(2**20)
    assert src.chunk_counts(2**32).tolist() == [1, 2**30]


def test_more_chunks_in_all_than_chunk_ids_is_refused_naming_the_file(tmp_path):
    from vstack_sim.scenario.limits import ResourceError, check

    path = write(tmp_path, "video_id,views,chunks\na,1,2147483647\nb,1,2147483647\nc,1,4\n")
    cfg = config({"catalog": {"source": str(path), "chunk_size": 1},
                  "cluster": {"nodes": 8, "racks": 4, "node_capacity": 2**59}})
    assert cfg.expected_chunks() == 2 * (2**31 - 1) + 4
    with pytest.raises(ResourceError, match=f"catalog.source: {path}: 3 videos of 4,294,967,298 chunks in all; "
                                            "chunk ids hold at most 2,147,483,647"):
        check(cfg)


def test_huge_view_counts_up_to_the_limit_keep_popularity_exact(tmp_path):
    # Issue 19: with three videos of 2^62 views and one of 5 the sum wrapped and video d gained 51 views. At the
    # limit (3 x 2^51, within 2^53 in all), d's share is 5 / (3 x 2^51): it gains nothing in ~180 views.
    path = write(tmp_path, "video_id,views,chunks\na,2251799813685248,1\nb,2251799813685248,1\n"
                           "c,2251799813685248,1\nd,5,1\n")
    cfg = config({"run": {"duration": "1h", "seed": 3}, "catalog": {"source": str(path), "chunk_size": 1000},
                  "cluster": {"nodes": 8, "racks": 4}, "workload": {"view_rate": 0.05}})
    sim = Simulation(cfg).build().start().run().finalize()
    cat = sim.world.catalog
    gained = cat.view_count - cat.starting_views
    assert gained.sum() > 100 and gained[3] == 0
    assert np.all(gained >= 0) and cat.starting_views.tolist()[3] == 5
